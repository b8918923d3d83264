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

The text helpers here (`decode_html`, `fragment_text`, `parse_iso_utc`) are
shared by the REST API and feed adapters so all three agree on a comment's text.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Iterable
from urllib.parse import parse_qs, urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from .base import Adapter, CommentRecord, Page, PageResult

COMMENT_ID = re.compile(r"(?:li-|div-)?comment-(\d{1,19})")
AREA_SELECTORS = (".wp-block-comments", ".comments-area", "#comments", "ol.comment-list",
                  "ol.commentlist", "ul.comment-list", "ul.commentlist",
                  ".wp-block-comment-template", "#respond", "#commentform")
CONTENT_CLASSES_SET = frozenset(("comment-content", "wp-block-comment-content"))
# Elements holding only what the commenter wrote.
CONTENT_SELECTORS = (".comment-content", ".wp-block-comment-content", ".comment-text",
                     ".comment-entry")
# Inside a generic comment body (`.comment-body`, the comment element itself),
# these are the theme's furniture, not what was written.
FURNITURE_CLASSES = frozenset((
    "comment-author", "comment-meta", "commentmetadata", "comment-metadata", "reply",
    "comment-reply-link", "comment-awaiting-moderation", "says", "avatar", "children",
    "wp-block-comment-author-name", "wp-block-comment-date", "wp-block-comment-reply-link",
    "wp-block-comment-edit-link"))
FURNITURE_TAGS = frozenset(("footer", "header", "ol", "ul"))
AUTHOR_SELECTORS = (".comment-author .fn", ".fn", ".wp-block-comment-author-name",
                    ".comment-author-name", ".comment-author", "cite")
DATE_LINK_SELECTORS = (".comment-metadata a", ".commentmetadata a", ".comment-meta a",
                       ".wp-block-comment-date a", ".comment-date a", "a")
COUNT_HEADING = re.compile(
    r"^\s*(\d[\d,.\u00a0 ]*|one|no)\s+(?:responses?|comments?|thoughts?|repl(?:y|ies)|"
    r"reactions?)\b", re.I)
PAGE_PATH = re.compile(r"/comment-page-(\d+)/?$")
TEXT_DATE_FORMATS = ("%B %d %Y %I:%M %p", "%B %d %Y %H:%M", "%d %B %Y %I:%M %p", "%d %B %Y %H:%M",
                     "%b %d %Y %I:%M %p", "%d %b %Y %H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M",
                     "%B %d %Y", "%d %B %Y", "%Y-%m-%d", "%d/%m/%Y")
BLOCK_TAGS = ("p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
              "ul", "ol", "table", "figure", "hr")

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


def fragment_text(html: str) -> str:
    """Plain text of a comment body as a reader sees it: no markup, no script, one line per block."""
    tree = LexborHTMLParser(html)
    tree.strip_tags(["script", "style", "noscript", "template", "iframe"])
    body = tree.body
    if body is None:
        return ""
    for node in body.css("br"):
        node.replace_with("\n")
    for node in body.css(", ".join(BLOCK_TAGS)):
        node.insert_after("\n")
    lines = (" ".join(line.split()) for line in body.text(deep=True, separator="").splitlines())
    return "\n".join(line for line in lines if line)


def parse_iso_utc(value: str | None) -> datetime | None:
    """An ISO 8601 time as naive UTC (naive input is taken as already UTC); None if unreadable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def page_utc_offset(tree: LexborHTMLParser) -> timedelta | None:
    """The site's UTC offset as the page's own machine-readable times show it (post date)."""
    for node in tree.css('meta[property="article:published_time"], time[datetime]'):
        value = node.attributes.get("content") or node.attributes.get("datetime") or ""
        try:
            offset = datetime.fromisoformat(value.strip().replace("Z", "+00:00")).utcoffset()
        except ValueError:
            continue
        if offset is not None:
            return offset
    return None


def parse_text_date(value: str) -> datetime | None:
    """A theme's printed date ("March 29, 2018 at 3:21 pm"), site-local; None if unreadable."""
    cleaned = " ".join(re.sub(r"(?i)\b(at|on)\b|[,@|]|(?<=\d)(st|nd|rd|th)\b", " ", value).split())
    for pattern in TEXT_DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, pattern)
        except ValueError:
            continue
    return None


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

class WordPressAdapter(Adapter):
    """Comments read from a WordPress article page and its comment pages."""

    name = "wordpress"
    label = "WordPress (article pages)"

    def detect(self, page: Page) -> int:
        if not looks_like_html(page):
            return 0
        try:
            text = decode_html(page)
            return wordpress_signs(LexborHTMLParser(text), text)
        except Exception:  # hostile bytes: an adapter that cannot read a page does not claim it
            return 0

    def parse(self, page: Page) -> PageResult:
        try:
            return self._parse(page)
        except Exception as exc:  # never raise on hostile input: say so instead
            return PageResult(recognised=False, reason=f"unreadable page: {type(exc).__name__}: {exc}")

    def _parse(self, page: Page) -> PageResult:
        text = decode_html(page)
        tree = LexborHTMLParser(text)
        area = next((node for sel in AREA_SELECTORS if (node := tree.css_first(sel)) is not None), None)
        title, platform_id = title_of(tree), post_id_of(tree)
        if area is None:
            blocked = blocked_reason(tree, text, page.status)
            if blocked:
                return PageResult(recognised=False, reason=blocked, blocked=True, title=title)
            return PageResult(recognised=False, title=title, platform_id=platform_id,
                              reason="no comment area on this page (WordPress shows none when "
                                     "comments are closed and none are published)")
        page_number = _page_number(tree, page.final_url)
        comments = list(_comments(tree, page_number))
        result = PageResult(recognised=True, comments=comments, title=title,
                            platform_id=platform_id, claimed_count=_claimed_count(tree),
                            follow=_follow_links(tree, page.final_url, page_number),
                            comments_open=tree.css_first("#respond, #commentform, .comment-respond")
                            is not None)
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


def _comment_number(node: LexborNode) -> str | None:
    match = COMMENT_ID.fullmatch(node.id or "")  # .id: far cheaper than .attributes
    return match.group(1) if match else None


def _owner(node: LexborNode | None) -> str | None:
    """The id of the comment a node belongs to ("" inside another comment's written body)."""
    start = node
    while node is not None and node.tag not in ("body", "html"):
        number = _comment_number(node)
        if number is not None:
            return number
        if node is not start and not CONTENT_CLASSES_SET.isdisjoint(
                (node.attributes.get("class") or "").split()):
            return ""
        node = node.parent
    return None


def _in_written_body(node: LexborNode) -> bool:
    parent = node.parent
    while parent is not None and parent.tag not in ("body", "html"):
        if _comment_number(parent) is not None:
            return False
        if not CONTENT_CLASSES_SET.isdisjoint((parent.attributes.get("class") or "").split()):
            return True
        parent = parent.parent
    return False


def _owned(outer: LexborNode, key: str, selectors: Iterable[str]) -> LexborNode | None:
    for selector in selectors:
        for node in outer.css(selector):
            if _owner(node) == key:
                return node
    return None


def _comments(tree: LexborHTMLParser, page_number: int) -> Iterable[CommentRecord]:
    offset = page_utc_offset(tree)
    outers: dict[str, LexborNode] = {}
    for node in tree.css('[id^="comment-"], [id^="li-comment-"], [id^="div-comment-"]'):
        key = _comment_number(node)
        # A comment id inside somebody's written body is text, not a comment.
        if key is not None and key not in outers and not _in_written_body(node):
            outers[key] = node
    for index, (key, outer) in enumerate(outers.items()):
        author_node = _owned(outer, key, AUTHOR_SELECTORS)
        author = " ".join(author_node.text().split()) if author_node is not None else ""
        author = re.sub(r"\s*says:?$", "", author)
        link = author_node.css_first("a[href]") if author_node is not None else None
        if author_node is not None and author_node.tag == "a":
            link = author_node
        html = _body_html(outer, key)
        yield CommentRecord(
            key=key, author=author, text=fragment_text(html), html=html,
            posted_at=_posted_at(outer, key, offset), parent_key=_owner(outer.parent) or None,
            author_url=link.attributes.get("href") if link is not None else None,
            position=page_number * 100_000 + index)


def _body_html(outer: LexborNode, key: str) -> str:
    content = _owned(outer, key, CONTENT_SELECTORS)
    if content is not None:
        return (content.inner_html or "").strip()
    # No dedicated content element: take the comment's body minus the furniture.
    generic = _owned(outer, key, (".comment-body",))
    if generic is None:
        inner = [n for n in outer.css('[id^="comment-"], [id^="div-comment-"]')
                 if _comment_number(n) == key]
        generic = inner[-1] if inner else outer
    parts = []
    node = generic.child
    while node is not None:
        if not node.is_element_node or not _is_furniture(node):
            parts.append(node.html or "")
        node = node.next
    return "".join(parts).strip()


def _is_furniture(node: LexborNode) -> bool:
    if node.tag in FURNITURE_TAGS or _comment_number(node) is not None:
        return True
    return not FURNITURE_CLASSES.isdisjoint((node.attributes.get("class") or "").split())


def _posted_at(outer: LexborNode, key: str, offset: timedelta | None) -> datetime | None:
    """From <time datetime>, else the permalink's text, moved to UTC by the page's own offset
    when it shows one (a comment on the other side of a DST change is then an hour out)."""
    stamp = _owned(outer, key, ("time[datetime]",))
    if stamp is not None:
        moment = parse_iso_utc(stamp.attributes.get("datetime"))
        if moment is not None:
            return moment
    for selector in DATE_LINK_SELECTORS:
        for node in outer.css(selector):
            if _owner(node) == key and (node.attributes.get("href") or "").endswith(f"comment-{key}"):
                moment = parse_text_date(node.text())
                if moment is not None:
                    return moment - offset if offset is not None else moment
    return None


def _claimed_count(tree: LexborHTMLParser) -> int | None:
    headings = tree.css(".comments-title, #comments-title, .wp-block-comments-title, "
                        "#comments h2, #comments h3, .comments-area h2, .comments-area h3, "
                        "h2#comments, h3#comments")
    for heading in headings:
        match = COUNT_HEADING.match(heading.text())
        if match:
            number = match.group(1).lower()
            if number in ("one", "no"):
                return 1 if number == "one" else 0
            digits = re.sub(r"\D", "", number)
            if digits:
                return int(digits)
    return None


def _page_number(tree: LexborHTMLParser, url: str) -> int:
    """Which comment page this is: from the URL, else the pagination's current page, else 1."""
    found = _url_page(url)
    if found is not None:
        return found
    current = tree.css_first(".comments-pagination .current, .wp-block-comments-pagination "
                             ".current, .comment-navigation .current, .page-numbers.current")
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


def _follow_links(tree: LexborHTMLParser, url: str, page_number: int) -> list[str]:
    """Every other comment page of this same article linked from this page, in page order."""
    own = _base(url)
    found: dict[int, str] = {}
    for anchor in tree.css("a[href]"):
        href = anchor.attributes.get("href") or ""
        # Most links are permalinks and reply links: skip them before the costly parse.
        if "comment-page-" not in href and "cpage" not in href:
            continue
        target = urljoin(url, href)
        parts = urlsplit(target)
        number = _url_page(target)
        if number is None or number == page_number or parts.scheme not in ("http", "https"):
            continue
        if _base(target) == own and number not in found:
            query = "&".join(p for p in parts.query.split("&") if not p.startswith("replytocom="))
            found[number] = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    return [found[n] for n in sorted(found)]
