"""The Guardian: comments from its public discussion API (JSON).

    https://discussion.theguardian.com/discussion-api/discussion/p/<id>
        ?page=N&pageSize=100&orderBy=oldest&displayThreaded=true

answers `{"status": "ok", "currentPage", "pages", "discussion": {"key",
"title", "commentCount", "comments": [...]}}`; each top-level comment carries
its `responses` (replies, each with `responseTo.commentId`). When a comment
has more replies than it carries (`metaData.responseCount`), the full list
comes from `.../discussion-api/comment/<id>?displayResponses=true`.
A comment with `status: "blocked"` is the moderator's placeholder ("This
comment was removed by a moderator..."): a tombstone, kept with its text.

A watch may name the article (its page holds the discussion key `/p/<id>`,
which the adapter follows to the API), the short URL
`https://www.theguardian.com/p/<id>`, or the API URL itself. The API lives on
another host than the article: the capture must accept follow links to
`follow_hosts`.
"""
from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from scrapers.base import Adapter, CommentRecord, Page, PageResult, ThreadView, decode_body
from scrapers.text import html_to_text

API_HOST = "discussion.theguardian.com"
API = f"https://{API_HOST}/discussion-api"
PAGE_SIZE = 100
_SHORT_PATH = re.compile(r"^/p/([A-Za-z0-9]+)/?$")
_KEY_IN_PAGE = re.compile(r'(?:"shortUrlId"\s*:\s*"|data-discussion-key=")/p/([A-Za-z0-9]+)"')
_TITLE = re.compile(r'<meta\s+property="og:title"\s+content="([^"]*)"', re.IGNORECASE)


def discussion_url(short_id: str, page: int = 1) -> str:
    return (f"{API}/discussion/p/{short_id}?page={page}&pageSize={PAGE_SIZE}"
            "&orderBy=oldest&displayThreaded=true")


def responses_url(comment_id: str) -> str:
    return f"{API}/comment/{comment_id}?displayResponses=true&displayThreaded=true"


@dataclass
class GuardianPage(PageResult):
    """A page result that also says which part of the discussion it is."""
    kind: str = "article"            # 'article', 'discussion' or 'responses'
    page_number: int = 0
    pages: int = 0
    # Top-level comments whose replies were cut short on this page.
    truncated: list[str] = field(default_factory=list)
    root: str | None = None          # for 'responses': the comment expanded


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _record(item: dict[str, Any], parent: str | None, position: int) -> CommentRecord:
    profile = item.get("userProfile") or {}
    html = str(item.get("body") or "")
    url = profile.get("webUrl")
    return CommentRecord(
        key=str(item["id"]), author=str(profile.get("displayName") or ""), text=html_to_text(html),
        html=html, posted_at=_time(item.get("isoDateTime")), parent_key=parent,
        author_url=url if isinstance(url, str) and url.startswith(("http://", "https://")) else None,
        position=position, tombstone=item.get("status") == "blocked")


def _replies(root: dict[str, Any], start: int) -> list[CommentRecord]:
    records = []
    for offset, reply in enumerate(root.get("responses") or []):
        parent = (reply.get("responseTo") or {}).get("commentId") or root["id"]
        records.append(_record(reply, str(parent), start + offset))
    return records


class GuardianAdapter(Adapter):
    name = "guardian"
    label = "The Guardian (discussion API)"
    follow_hosts: ClassVar[frozenset[str]] = frozenset({API_HOST})

    def first_url(self, thread_url: str) -> str:
        parts = urlsplit(thread_url)
        host = (parts.hostname or "").lower()
        short = _SHORT_PATH.match(parts.path)
        if host.endswith("theguardian.com") and short:
            return discussion_url(short.group(1))
        if host == API_HOST and parts.path.startswith("/discussion-api/discussion/p/"):
            return discussion_url(parts.path.rsplit("/", 1)[-1])
        return thread_url

    def detect(self, page: Page) -> int:
        host = (urlsplit(page.final_url or page.url).hostname or "").lower()
        if host == API_HOST:
            return 100
        if host == "theguardian.com" or host.endswith(".theguardian.com"):
            return 90 if _KEY_IN_PAGE.search(decode_body(page)) else 60
        return 0

    def read(self, page: Page) -> PageResult:
        text = decode_body(page)
        if page.content_type != "application/json" and not text.lstrip().startswith("{"):
            return self._article(text)
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise TypeError("not an object")
            if data.get("status") != "ok":
                reason = data.get("errorCode") or data.get("message") or data.get("status")
                return GuardianPage(recognised=False, reason=f"the discussion API answered {reason!r}")
            if isinstance(data.get("discussion"), dict):
                return self._discussion(data)
            if isinstance(data.get("comment"), dict):
                return self._responses(data["comment"])
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            return GuardianPage(recognised=False, reason=f"unexpected discussion API answer ({exc})")
        return GuardianPage(recognised=False, reason="the API answer holds no discussion or comment")

    @staticmethod
    def _article(text: str) -> GuardianPage:
        key = _KEY_IN_PAGE.search(text)
        title = _TITLE.search(text)
        if key is None:
            return GuardianPage(recognised=False, title=title.group(1) if title else "",
                                reason="no discussion key on the article page (comments not enabled?)")
        return GuardianPage(recognised=True, kind="article", title=title.group(1) if title else "",
                            platform_id=f"/p/{key.group(1)}", follow=[discussion_url(key.group(1))])

    @staticmethod
    def _discussion(data: dict[str, Any]) -> GuardianPage:
        discussion = data["discussion"]
        number, pages = int(data.get("currentPage") or 1), int(data.get("pages") or 1)
        records: list[CommentRecord] = []
        truncated = []
        for root in discussion.get("comments") or []:
            records.append(_record(root, None, len(records)))
            replies = _replies(root, len(records))
            records.extend(replies)
            claimed_replies = int((root.get("metaData") or {}).get("responseCount") or 0)
            if claimed_replies > len(replies):
                truncated.append(str(root["id"]))
        key = str(discussion.get("key") or "")
        short = key.rsplit("/", 1)[-1]
        follow = [responses_url(cid) for cid in truncated]
        if number < pages and short:
            follow.append(discussion_url(short, number + 1))
        count = discussion.get("commentCount")
        return GuardianPage(recognised=True, kind="discussion", page_number=number, pages=pages,
                            comments=records, follow=follow, truncated=truncated,
                            title=str(discussion.get("title") or ""), platform_id=key or None,
                            claimed_count=int(count) if count is not None else None)

    @staticmethod
    def _responses(comment: dict[str, Any]) -> GuardianPage:
        root = str(comment["id"])
        return GuardianPage(recognised=True, kind="responses", root=root,
                            comments=_replies(comment, 0))

    def join(self, results: Sequence[PageResult]) -> ThreadView:
        pages = [r for r in results if isinstance(r, GuardianPage)]
        failed = [r.reason for r in results if not r.recognised]
        discussion = sorted((p for p in pages if p.kind == "discussion"), key=lambda p: p.page_number)
        expanded = {p.root: p.comments for p in pages if p.kind == "responses"}
        title = next((p.title for p in pages if p.title), "")
        if failed or not discussion:
            return ThreadView(False, "; ".join(failed) or "the discussion API was not read",
                              [], "none", title=title)
        want = max(p.pages for p in discussion)
        read = {p.page_number for p in discussion}
        missing = [n for n in range(1, want + 1) if n not in read]
        cut = [cid for p in discussion for cid in p.truncated if cid not in expanded]
        if missing or cut:
            reason = (f"discussion page(s) {missing} of {want} not read" if missing
                      else f"replies of comment(s) {', '.join(cut)} not read")
            return ThreadView(False, reason, [], "none", title=title)
        ordered: list[CommentRecord] = []
        for page in discussion:
            # A page lists each top-level comment followed by its replies.
            root: str | None = None
            for record in page.comments:
                if record.parent_key is None:
                    root = record.key
                    ordered.append(record)
                    ordered.extend(expanded.get(root, []))
                elif root not in expanded:
                    ordered.append(record)
        unique: dict[str, CommentRecord] = {}
        for record in ordered:
            unique.setdefault(record.key, dataclasses.replace(record, position=len(unique)))
        first = discussion[0]
        return ThreadView(True, "", list(unique.values()), "complete", title=first.title or title,
                          claimed_count=first.claimed_count, platform_id=first.platform_id)

