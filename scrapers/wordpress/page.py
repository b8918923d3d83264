"""WordPress article pages: the comments as a reader sees them.

Reads classic themes (html5 markup `li#comment-N > article#div-comment-N`,
xhtml markup `li#comment-N > div#div-comment-N`, old custom callbacks
`li#li-comment-N > div#comment-N`) and block themes (`.wp-block-comments`,
`.wp-block-comment-template li#comment-N`). A comment's key is its WordPress
id N; its parent is the nearest enclosing comment; replies hidden because
their parent was moderated simply do not appear (WordPress hides them).

A page is recognised only when it has a comment area and reads as a whole
page: a page cut off before its end, or one claiming comments of which none
could be read, is not. Maintenance pages, challenge/captcha walls and consent
walls are reported as `blocked`. Dates printed as text (themes without a
<time datetime>) are moved to UTC by the offset of the page's own
machine-readable post date, and left site-local when there is none.

Which element is which comment, and what each says, is read in
scrapers/wordpress/comments.py; the text rules are in scrapers/text.py. The
REST API and feed adapters import the page-level helpers from here
(`decode_html`, `post_id_of`, `title_of`, `blocked_reason`, ...).
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scrapers.base import Page, PageResult
from scrapers.wordpress.comments import COMMENT_ID, read_comments
from scrapers.wordpress.status import WordPressStatusChecks

AREA_SELECTORS = (".wp-block-comments", ".comments-area", "#comments", "ol.comment-list",
                  "ol.commentlist", "ul.comment-list", "ul.commentlist",
                  ".wp-block-comment-template", "#respond", "#commentform")
COUNT_HEADING = re.compile(
    r"^\s*(\d[\d,.\u00a0 ]*|one|no)\s+(?:responses?|comments?|thoughts?|repl(?:y|ies)|"
    r"reactions?)\b", re.I)
PAGE_PATH = re.compile(r"/comment-page-(\d+)/?$")
MAINTENANCE_SIGNS = ("Briefly unavailable for scheduled maintenance",)
# Walls served instead of the page (a challenge, a firewall's block page).
CHALLENGE_SIGNS = ("/cdn-cgi/challenge-platform", "_cf_chl_opt", "cf-browser-verification",
                   'id="challenge-form"', "Attention Required! | Cloudflare", "Just a moment...",
                   "Checking your browser before accessing", "Sucuri WebSite Firewall",
                   "DDoS protection by", "Are you a robot")
# Captcha widgets and consent banners also sit on ordinary pages (comment
# forms, cookie notices): they mean a wall only when the article is absent.
CAPTCHA_SIGNS = ("g-recaptcha", "h-captcha", "cf-turnstile", "verify you are human",
                 "prove you are a human", "solve the captcha")
CONSENT_SIGNS = ("qc-cmp2", "onetrust-consent-sdk", "fc-consent-root", "didomi-popup",
                 "sp_message_container", "cmpbox", "We value your privacy",
                 "Before you continue", "consent-wall")
ARTICLE_SELECTORS = "article, .entry-content, .wp-block-post-content, .post-content"
COUNT_HEADINGS = (".comments-title, #comments-title, .wp-block-comments-title, #comments h2, "
                  "#comments h3, .comments-area h2, .comments-area h3, h2#comments, h3#comments")
PAGINATION_CURRENT = (".comments-pagination .current, .wp-block-comments-pagination .current, "
                      ".comment-navigation .current, .page-numbers.current")
COMMENT_FORM = "#respond, #commentform, .comment-respond"
# Every link that may lead to another comment page.
PAGING_LINKS = 'a[href*="comment-page-"], a[href*="cpage"]'
NAVIGATION = f"{PAGINATION_CURRENT}, {COMMENT_FORM}, {PAGING_LINKS}"


# -- text helpers shared with the API and feed adapters ----------------------------------

def decode_html(page: Page) -> str:
    """The page's text: the header's charset, else a <meta> charset, else UTF-8; never raises."""
    charset = None
    for part in page.headers.get("content-type", "").split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip("\"' ")
    if charset is None:
        meta = re.search(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", page.body[:4096], re.I)
        charset = meta.group(1).decode("ascii") if meta else "utf-8"
    try:
        return page.body.decode(charset, errors="replace")
    except LookupError:
        return page.body.decode("utf-8", errors="replace")


# -- page-level helpers shared with the API and feed adapters ----------------------------

def post_id_of(tree: LexborHTMLParser) -> str | None:
    """The WordPress post id: body class postid-N, the shortlink ?p=N, or article#post-N."""
    body = tree.body
    classes = (body.attributes.get("class") or "") if body is not None else ""
    match = re.search(r"\bpostid-(\d+)\b", classes)
    if match:
        return match.group(1)
    link = tree.css_first('link[rel="shortlink"]')
    if link is not None:
        query = parse_qs(urlsplit(link.attributes.get("href") or "").query)
        if query.get("p", [""])[0].isdigit():
            return query["p"][0]
    article = tree.css_first('article[id^="post-"]')
    if article is not None:
        match = re.fullmatch(r"post-(\d+)", article.attributes.get("id") or "")
        if match:
            return match.group(1)
    return None


def title_of(tree: LexborHTMLParser) -> str:
    for selector in ('meta[property="og:title"]', "h1.entry-title", ".wp-block-post-title",
                     "title"):
        node = tree.css_first(selector)
        if node is not None:
            text = node.attributes.get("content") if node.tag == "meta" else node.text()
            if text and text.strip():
                return " ".join(text.split())
    return ""


def looks_like_html(page: Page) -> bool:
    if page.content_type:
        return page.content_type in ("text/html", "application/xhtml+xml")
    return page.body.lstrip()[:200].lower().startswith((b"<!doctype html", b"<html"))


def blocked_reason(tree: LexborHTMLParser, text: str, status: int) -> str | None:
    """Why this page is a wall rather than the article, judged on a page with no comment area."""
    if any(sign in text for sign in MAINTENANCE_SIGNS) or (status == 503 and 'id="error-page"' in text):
        return f"WordPress maintenance page (HTTP {status})"
    lowered = text.lower()
    no_article = tree.css_first(ARTICLE_SELECTORS) is None
    if any(sign.lower() in lowered for sign in CHALLENGE_SIGNS) or (
            no_article and any(sign in lowered for sign in CAPTCHA_SIGNS)):
        return f"challenge or captcha page instead of the article (HTTP {status})"
    if no_article and any(sign.lower() in lowered for sign in CONSENT_SIGNS):
        return f"consent wall instead of the article (HTTP {status})"
    return None


def wordpress_signs(tree: LexborHTMLParser, text: str) -> int:
    """Score 0-100 of how clearly a page comes from WordPress."""
    score = 0
    generator = tree.css_first('meta[name="generator"]')
    if generator is not None and "wordpress" in (generator.attributes.get("content") or "").lower():
        score += 40
    if "/wp-content/" in text or "/wp-includes/" in text:
        score += 20
    if tree.css_first('link[rel="https://api.w.org/"]') is not None:
        score += 20
    if tree.css_first(".wp-block-comments") is not None or any(
            COMMENT_ID.fullmatch(n.attributes.get("id") or "") for n in tree.css('[id*="comment-"]')):
        score += 20
    if tree.css_first("#respond, #commentform") is not None:
        score += 10
    return min(score, 100)


# -- the adapter ---------------------------------------------------------------------------

class WordPressAdapter(WordPressStatusChecks):
    """Comments read from a WordPress article page and its comment pages."""

    name = "wordpress"
    label = "WordPress (article pages)"

    def detect(self, page: Page) -> int:
        if not looks_like_html(page):
            return 0
        text = decode_html(page)
        return wordpress_signs(LexborHTMLParser(text), text)

    def read(self, page: Page) -> PageResult:
        text = decode_html(page)
        tree = LexborHTMLParser(text)
        # Any of them will do, so one pass finding the first in the page is enough.
        area = tree.css_first(", ".join(AREA_SELECTORS))
        title, platform_id = title_of(tree), post_id_of(tree)
        if area is None:
            blocked = blocked_reason(tree, text, page.status)
            if blocked:
                return PageResult(recognised=False, reason=blocked, blocked=True, title=title)
            return PageResult(recognised=False, title=title, platform_id=platform_id,
                              reason="no comment area on this page (WordPress shows none when "
                                     "comments are closed and none are published)")
        current, form, hrefs = _navigation(tree)
        page_number = _page_number(current, page.final_url)
        comments = read_comments(tree, page_number)
        result = PageResult(recognised=True, comments=comments, title=title,
                            platform_id=platform_id, claimed_count=_claimed_count(tree),
                            follow=_follow_links(hrefs, page.final_url, page_number),
                            comments_open=form)
        end = max(text.rfind("</html"), text.rfind("</body"))
        # Comments come in document order: the last one marks how far the list got.
        last = text.rfind(f'comment-{comments[-1].key}"') if comments else -1
        if end < 0 or end < last:
            result.recognised = False
            result.reason = (f"the page ends before </html> (cut off after {len(comments)} "
                             "comments): truncated")
        elif result.claimed_count and not comments:
            result.recognised = False
            result.reason = (f"the page says {result.claimed_count} comments but none could be "
                             "read: comment layout not recognised")
        return result


def _claimed_count(tree: LexborHTMLParser) -> int | None:
    # The count is nearly always the first heading: look further (the whole page) if not.
    first = tree.css_first(COUNT_HEADINGS)
    count = _heading_count(first) if first is not None else None
    if count is not None:
        return count
    for heading in tree.css(COUNT_HEADINGS):
        count = _heading_count(heading)
        if count is not None:
            return count
    return None


def _heading_count(heading: LexborNode) -> int | None:
    match = COUNT_HEADING.match(heading.text())
    if match:
        number = match.group(1).lower()
        if number in ("one", "no"):
            return 1 if number == "one" else 0
        digits = re.sub(r"\D", "", number)
        if digits:
            return int(digits)
    return None


def _navigation(tree: LexborHTMLParser) -> tuple[LexborNode | None, bool, list[str]]:
    """The pagination's current page, whether the comment form is there, and the links that
    may lead to other comment pages (in page order): one pass over the page finds all three."""
    current, form, hrefs = None, False, []
    # The pass lists an element once per selector it matches, which changes nothing here.
    for node in tree.css(NAVIGATION):
        attributes = node.attributes
        href = attributes.get("href") or ""
        if node.tag == "a" and ("comment-page-" in href or "cpage" in href):
            hrefs.append(href)
        # Only an element whose id or class names one can be the current page or the form;
        # the selectors judge those few (on a quirks-mode page they ignore case, for one).
        names = f"{attributes.get('id') or ''} {attributes.get('class') or ''}".lower()
        if current is None and "current" in names and _matches(node, PAGINATION_CURRENT):
            current = node
        if not form and ("respond" in names or "commentform" in names) \
                and _matches(node, COMMENT_FORM):
            form = True
    return current, form, hrefs


def _matches(node: LexborNode, selector: str) -> bool:
    found = node.css_first(selector)  # the node itself comes first when it matches
    return found is not None and found.mem_id == node.mem_id


def _page_number(current: LexborNode | None, url: str) -> int:
    """Which comment page this is: from the URL, else the pagination's current page, else 1."""
    found = _url_page(url)
    if found is not None:
        return found
    if current is not None:
        digits = re.sub(r"\D", "", current.text())
        if digits:
            return int(digits[:6])
    return 1


def _url_page(url: str) -> int | None:
    parts = urlsplit(url)
    match = PAGE_PATH.search(parts.path)
    if match:
        return int(match.group(1)[:6])
    cpage = parse_qs(parts.query).get("cpage", [""])[0]
    return int(cpage[:6]) if cpage.isdigit() else None


def _base(url: str) -> tuple[str, str, str]:
    """(host, article path, query without cpage) identifying one article's comment pages."""
    parts = urlsplit(url)
    path = PAGE_PATH.sub("/", parts.path)
    query = "&".join(f"{k}={v[0]}" for k, v in sorted(parse_qs(parts.query).items()) if k != "cpage")
    return parts.netloc.lower(), path.rstrip("/"), query


def _follow_links(hrefs: list[str], url: str, page_number: int) -> list[str]:
    """Every other comment page of this same article among these links, in page order."""
    own = _base(url)
    found: dict[int, str] = {}
    for href in hrefs:
        target = urljoin(url, href)
        parts = urlsplit(target)
        number = _url_page(target)
        if number is None or number == page_number or parts.scheme not in ("http", "https"):
            continue
        if _base(target) == own and number not in found:
            query = "&".join(p for p in parts.query.split("&") if not p.startswith("replytocom="))
            found[number] = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    return [found[n] for n in sorted(found)]
