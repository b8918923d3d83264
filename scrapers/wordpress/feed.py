"""WordPress per-post comments feed (`<post-url>/feed/`): a window of the newest comments.

The feed lists only the newest `posts_per_rss` approved comments (10 by
default), so a capture covers a *window*: comments posted strictly after the
oldest one in the feed. Anything older is not judged, and an empty feed
covers nothing. Since WordPress 5.4 a reply's content starts with a paragraph
"In reply to <a href="…#comment-N">Author</a>." (translated on other sites):
it gives the parent key and is removed from the text, so the text matches
what the article page and the REST API show. The feed cannot show replies
hidden by a moderated parent apart from others, so the view has no tree.

Invariant used by `combine`: the article page result always follows the feed
URL; a feed result never follows anything.
"""
from __future__ import annotations

import re
from calendar import timegm
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import feedparser
from selectolax.lexbor import LexborHTMLParser

from scrapers.base import CommentRecord, Page, PageResult, ThreadView
from scrapers.text import fragment_text
from scrapers.wordpress.page import blocked_reason, decode_html, looks_like_html, post_id_of, title_of
from scrapers.wordpress.status import WordPressStatusChecks

COMMENT_ANCHOR = re.compile(r"#comment-(\d{1,19})$")
REPLY_PARAGRAPH = re.compile(
    r"^\s*<p>(?P<lead>[^<]{0,80})<a href=\"[^\"]*#comment-(?P<parent>\d{1,19})\"[^>]*>[^<]{0,250}</a>"
    r"[^<]{0,20}</p>\s*", re.S)


def comments_feed_url(tree: LexborHTMLParser, page_url: str) -> str:
    """The article's own comments feed: its alternate RSS link (under the article's path, or
    `?p=N&feed=...` on plain permalinks), else `<url>/feed/` (`&feed=rss2` on plain ones)."""
    article = urlsplit(page_url.split("#")[0])
    own_path = article.path.rstrip("/") + "/feed"
    own_post = parse_qs(article.query).get("p")
    for link in tree.css('link[rel="alternate"][href]'):
        kind = (link.attributes.get("type") or "").lower()
        parts = urlsplit(urljoin(page_url, link.attributes.get("href") or ""))
        if kind != "application/rss+xml" or parts.netloc != article.netloc:
            continue
        query = parse_qs(parts.query)
        if parts.path.rstrip("/") == own_path or (own_post and query.get("p") == own_post
                                                   and "feed" in query):
            return parts.geturl()
    if own_post:
        return f"{article.scheme}://{article.netloc}{article.path}?p={own_post[0]}&feed=rss2"
    return f"{article.scheme}://{article.netloc}{article.path.rstrip('/')}/feed/"


def _is_feed(page: Page) -> bool:
    if page.content_type:
        return ("rss" in page.content_type or "atom" in page.content_type
                or page.content_type in ("application/xml", "text/xml"))
    return page.body.lstrip()[:100].startswith((b"<?xml", b"<rss", b"<feed"))


class WordPressFeedAdapter(WordPressStatusChecks):
    """The newest comments of a post, read from its comments feed."""

    name = "wordpress-feed"
    label = "WordPress (comments feed, newest comments only)"

    def detect(self, page: Page) -> int:
        if _is_feed(page):
            parsed = feedparser.parse(page.body)
            return 80 if parsed.entries and all(
                COMMENT_ANCHOR.search(e.get("id") or e.get("link") or "") for e in parsed.entries) else 0
        if looks_like_html(page):
            tree = LexborHTMLParser(decode_html(page))
            # Below the HTML and API adapters on the same article page.
            return 40 if post_id_of(tree) and comments_feed_url(tree, page.final_url) else 0
        return 0

    def read(self, page: Page) -> PageResult:
        return self._parse_feed(page) if _is_feed(page) else self._parse_article(page)

    def _parse_article(self, page: Page) -> PageResult:
        text = decode_html(page)
        tree = LexborHTMLParser(text)
        post_id, title = post_id_of(tree), title_of(tree)
        blocked = blocked_reason(tree, text, page.status) if post_id is None else None
        if blocked:
            return PageResult(recognised=False, blocked=True, reason=blocked, title=title)
        return PageResult(recognised=True, follow=[comments_feed_url(tree, page.final_url)],
                          title=title, platform_id=post_id)

    def _parse_feed(self, page: Page) -> PageResult:
        parsed = feedparser.parse(page.body, sanitize_html=False, resolve_relative_uris=False,
                                  response_headers={"content-type": page.headers.get(
                                      "content-type", "application/rss+xml")})
        if parsed.bozo and not isinstance(parsed.bozo_exception, feedparser.CharacterEncodingOverride):
            return PageResult(recognised=False, reason=f"malformed feed: {parsed.bozo_exception}")
        if not parsed.get("version"):
            return PageResult(recognised=False, reason="not an RSS or Atom feed")
        comments = []
        for index, entry in enumerate(parsed.entries):
            record = _record(entry, index)
            if isinstance(record, str):
                return PageResult(recognised=False, reason=record)
            comments.append(record)
        return PageResult(recognised=True, comments=comments, title=parsed.feed.get("title", ""))

    def join(self, results: Sequence[PageResult]) -> ThreadView:
        seen: dict[str, CommentRecord] = {}
        for result in results:
            for record in result.comments:
                seen.setdefault(record.key, record)
        reasons = [r.reason for r in results if r.reason]
        recognised = bool(results) and all(r.recognised and not r.blocked for r in results)
        if recognised and not any(not r.follow for r in results):
            recognised = False
            reasons.append("the comments feed was not read")
        ordered = sorted(seen.values(), key=lambda r: (r.posted_at or datetime.min, int(r.key)))
        oldest = ordered[0].posted_at if ordered else None
        first = results[0] if results else PageResult(recognised=False)
        return ThreadView(
            recognised=recognised, reason="; ".join(reasons),
            comments=[replace(record, position=position) for position, record in enumerate(ordered)],
            coverage="window" if recognised else "none",
            window_after=oldest if recognised else None, has_tree=False, title=first.title,
            platform_id=next((r.platform_id for r in results if r.platform_id), None))


def _record(entry: Any, index: int) -> CommentRecord | str:
    """One feed item as a record, or the reason it cannot be one."""
    anchor = COMMENT_ANCHOR.search(entry.get("id") or "") or COMMENT_ANCHOR.search(entry.get("link") or "")
    if anchor is None:
        return f"feed item {index} has no #comment-N id: not a WordPress comments feed"
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    if stamp is None:
        return f"feed item {index} (comment {anchor.group(1)}) has no date"
    contents = entry.get("content") or []
    html = contents[0].get("value", "") if contents else entry.get("summary", "")
    parent = None
    reply = REPLY_PARAGRAPH.match(html)
    if reply is not None:
        parent, html = reply.group("parent"), html[reply.end():]
    return CommentRecord(
        key=anchor.group(1), author=str(entry.get("author") or ""), text=fragment_text(html),
        html=html.strip(), parent_key=parent, position=index,
        posted_at=datetime.fromtimestamp(timegm(stamp), tz=UTC).replace(tzinfo=None))
