"""WordPress comments through the REST API (`/wp-json/wp/v2/comments?post=ID`).

A capture starts at the article page, which gives the API root (its
`<link rel="https://api.w.org/">`) and the post id; the adapter then follows
the API's comment pages up to X-WP-TotalPages. Unlike the HTML page, the API
also lists approved replies whose parent was moderated (WordPress hides those
from the page), and it gives exact GMT dates. It lists comments only, not
pingbacks or trackbacks.

Invariant used by `combine`: every API page result carries X-WP-Total as its
`claimed_count`; the article page result never does.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser

from scrapers.base import CommentRecord, Page, PageResult, ThreadView
from scrapers.text import fragment_text, parse_iso_utc
from scrapers.wordpress.page import blocked_reason, decode_html, looks_like_html, post_id_of, title_of
from scrapers.wordpress.status import WordPressStatusChecks

PER_PAGE = 100


def comments_url(api_root: str, post_id: str, page: int = 1) -> str:
    """The API URL of one page of a post's comments, for pretty and plain (?rest_route=) roots."""
    parts = urlsplit(api_root)
    query = dict(parse_qsl(parts.query))
    params = {"post": post_id, "per_page": str(PER_PAGE), "page": str(page)}
    if "rest_route" in query:
        route = query["rest_route"].rstrip("/") + "/wp/v2/comments"
        return urlunsplit((parts.scheme, parts.netloc, parts.path,
                           urlencode({"rest_route": route, **params}, quote_via=quote, safe="/"), ""))
    root = api_root if api_root.endswith("/") else api_root + "/"
    return urljoin(root, "wp/v2/comments?" + urlencode(params))


def _with_page(url: str, page: int) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "page"]
    query.append(("page", str(page)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path,
                       urlencode(query, quote_via=quote, safe="/"), ""))


def _header_int(page: Page, name: str) -> int | None:
    value = page.headers.get(name, "").strip()
    return int(value) if value.isdigit() else None


def _is_json(page: Page) -> bool:
    if page.content_type:
        return page.content_type == "application/json" or page.content_type.endswith("+json")
    return page.body.lstrip()[:1] in (b"[", b"{")


class WordPressApiAdapter(WordPressStatusChecks):
    """Every approved comment of a post, read from the WordPress REST API."""

    name = "wordpress-api"
    label = "WordPress (REST API)"

    def detect(self, page: Page) -> int:
        if _is_json(page):
            items = json.loads(page.body)
            ok = isinstance(items, list) and all(
                isinstance(i, dict) and {"id", "post", "content"} <= i.keys() for i in items)
            return 80 if ok and page.headers.get("x-wp-total") else 0
        if looks_like_html(page):
            tree = LexborHTMLParser(decode_html(page))
            # Below the HTML adapter's score for the same article page: it wins ties.
            has_api = tree.css_first('link[rel="https://api.w.org/"]') is not None
            return 50 if has_api and post_id_of(tree) else 0
        return 0

    def read(self, page: Page) -> PageResult:
        return self._parse_json(page) if _is_json(page) else self._parse_article(page)

    def _parse_article(self, page: Page) -> PageResult:
        text = decode_html(page)
        tree = LexborHTMLParser(text)
        post_id, title = post_id_of(tree), title_of(tree)
        if post_id is None:
            blocked = blocked_reason(tree, text, page.status)
            return PageResult(recognised=False, blocked=blocked is not None, title=title,
                              reason=blocked or "no WordPress post id on the article page")
        link = tree.css_first('link[rel="https://api.w.org/"]')
        root = urljoin(page.final_url, (link.attributes.get("href") or "") if link else "/wp-json/")
        return PageResult(recognised=True, follow=[comments_url(root, post_id)], title=title,
                          platform_id=post_id)

    def _parse_json(self, page: Page) -> PageResult:
        try:
            items: Any = json.loads(page.body)
        except ValueError as exc:
            return PageResult(recognised=False, reason=f"the API answered invalid JSON: {exc}")
        if isinstance(items, dict):
            code, message = items.get("code"), items.get("message")
            return PageResult(recognised=False, reason=f"the API answered an error: {code}: {message}")
        if not isinstance(items, list):
            return PageResult(recognised=False, reason="the API answer is not a list of comments")
        total, total_pages = _header_int(page, "x-wp-total"), _header_int(page, "x-wp-totalpages")
        if total is None:
            return PageResult(recognised=False,
                              reason="no X-WP-Total header: completeness cannot be checked")
        query = dict(parse_qsl(urlsplit(page.final_url).query))
        number = int(query["page"]) if query.get("page", "").isdigit() else 1
        per_page = int(query["per_page"]) if query.get("per_page", "").isdigit() else 10
        comments = []
        for index, item in enumerate(items):
            record = _record(item, (number - 1) * per_page + index)
            if record is None:
                return PageResult(recognised=False, claimed_count=total,
                                  reason=f"unexpected comment object at index {index}")
            comments.append(record)
        follow = [_with_page(page.final_url, number + 1)] if total_pages and number < total_pages else []
        post = query.get("post") or (str(items[0].get("post")) if items else None)
        return PageResult(recognised=True, comments=comments, follow=follow, claimed_count=total,
                          platform_id=post)

    def join(self, results: Sequence[PageResult]) -> ThreadView:
        seen: dict[str, CommentRecord] = {}
        for result in results:
            for record in result.comments:
                seen.setdefault(record.key, record)
        api_pages = [r for r in results if r.claimed_count is not None]
        reasons = [r.reason for r in results if r.reason]
        recognised = bool(results) and all(r.recognised and not r.blocked for r in results)
        claimed = max((r.claimed_count or 0 for r in api_pages), default=None)
        if recognised and not api_pages:
            recognised = False
            reasons.append("no REST API comment page was read")
        elif recognised and claimed is not None and len(seen) < claimed:
            recognised = False
            reasons.append(f"the API reported X-WP-Total={claimed} but gave {len(seen)} comments")
        ordered = sorted(seen.values(), key=lambda r: (r.posted_at or datetime.min, int(r.key)))
        first = results[0] if results else PageResult(recognised=False)
        return ThreadView(
            recognised=recognised, reason="; ".join(reasons),
            comments=[replace(record, position=position) for position, record in enumerate(ordered)],
            coverage="complete" if recognised else "none", title=first.title,
            claimed_count=claimed,
            platform_id=next((r.platform_id for r in results if r.platform_id), None))


def _record(item: Any, position: int) -> CommentRecord | None:
    """One API comment object as a record, or None when it lacks what WordPress always sends."""
    if not isinstance(item, dict):
        return None
    content = item.get("content")
    html = content.get("rendered") if isinstance(content, dict) else None
    comment_id, parent = item.get("id"), item.get("parent", 0)
    if not isinstance(comment_id, int) or not isinstance(parent, int) or not isinstance(html, str):
        return None
    author_url = item.get("author_url")
    return CommentRecord(
        key=str(comment_id), author=str(item.get("author_name") or ""), text=fragment_text(html),
        html=html, posted_at=parse_iso_utc(item.get("date_gmt")),
        parent_key=str(parent) if parent else None,
        author_url=author_url if isinstance(author_url, str) and author_url else None,
        position=position)
