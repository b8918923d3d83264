"""Isso comments through Isso's own JSON API (`GET <server>/?uri=<thread uri>`).

Isso (https://isso-comments.de) serves comments from its own server; the
article page carries only the embed script. A watch therefore names its
Isso server in its options, and may name the thread's Isso id:

    {"isso": "https://comments.example.com/", "uri": "/2026/12/a-post/"}

`uri` defaults to the article URL's path, which is what the embed sends when
the page sets no `data-isso-id`. A watch whose URL is itself an Isso API
answer (`.../?uri=...`) needs no options: `detect` recognises the answer.

The whole thread is asked for in one answer (no `limit`, no `nested_limit`):
pages fetched one after another from a live thread shift when a comment is
deleted between them, and a comment skipped that way would look removed. The
fetcher's size cap bounds the answer; a capped answer is a failed capture.

Completeness: the root's `total_replies` counts every public comment and
every tombstone of the thread, replies included (Isso's `reply_count` with
mode 1|4), so the records listed must number exactly that, and no
`hidden_replies` may be left. `POST /count` counts only mode 1 (no
tombstones), so it is not what an answer is compared with.

Isso keeps a deleted comment that has replies as a tombstone (`mode: 4`,
empty text, no author); a deleted leaf, and a tombstone whose last reply
went, disappear. Held comments (`mode: 2`) are never in a public answer.

An empty answer carries no count: Isso answers a uri it does not know (a
wrong `uri` option, a server that lost its database) exactly as an empty
thread, so such an answer cannot confirm that known comments went, and the
core treats every known comment vanishing at once as a suspect capture.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from scrapers.base import Adapter, CommentRecord, Page, PageResult
from scrapers.text import fragment_text

VISIBLE, TOMBSTONE = 1, 4
MAX_URI_LENGTH = 2000
ROOT_KEYS = frozenset({"id", "total_replies", "hidden_replies", "replies"})


def parse_options(options: Mapping[str, Any]) -> tuple[str, str | None]:
    """The Isso server's base URL (ending in "/") and the thread uri, if given; ValueError otherwise."""
    if not isinstance(options, Mapping):
        raise ValueError("isso: options must be a JSON object")
    unknown = sorted(set(options) - {"isso", "uri"})
    if unknown:
        raise ValueError(f"isso: unknown option(s) {', '.join(unknown)} (known: isso, uri)")
    server = options.get("isso")
    if not isinstance(server, str) or not server.strip():
        raise ValueError('isso: the option "isso" (the Isso server\'s URL) is required')
    parts = urlsplit(server.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"isso: {server[:200]!r} is not an http(s) server URL without query or fragment")
    uri = options.get("uri")
    if uri is not None and (not isinstance(uri, str) or not uri.startswith("/")
                            or len(uri) > MAX_URI_LENGTH):
        raise ValueError('isso: the option "uri" must be a path starting with "/"')
    base = parts._replace(path=parts.path if parts.path.endswith("/") else parts.path + "/").geturl()
    return base, uri


def thread_api_url(server: str, uri: str) -> str:
    """The API URL answering every public comment of the thread `uri` at once."""
    return f"{server}?uri={quote(uri, safe='/')}"


def load_answer(page: Page) -> Any:
    """The JSON object of an Isso answer, None when the body is not one; ValueError on bad JSON."""
    if page.body.lstrip()[:1] != b"{":
        return None
    return json.loads(page.body)


def is_answer(data: Any) -> bool:
    """Whether `data` has the shape of Isso's `GET /?uri=` answer (the whole thread or one page of it)."""
    return isinstance(data, dict) and data.keys() >= ROOT_KEYS and isinstance(data["replies"], list)


class IssoAdapter(Adapter):
    """Every public comment and tombstone of one Isso thread."""

    name = "isso"
    label = "Isso (JSON API)"

    def __init__(self) -> None:
        self.server: str | None = None
        self.uri: str | None = None
        self.problem = ""

    @classmethod
    def validate_options(cls, options: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The server (ending in "/") and the uri, if given; None when there are none (a watch
        on an Isso API answer needs none); ValueError (one line) naming what is wrong."""
        if not options:
            return None
        server, uri = parse_options(options)
        return {"isso": server} if uri is None else {"isso": server, "uri": uri}

    def configure(self, options: Mapping[str, Any]) -> None:
        """Take the watch's options; bad ones make every page unrecognised, never an exception
        (as generic-css does: the core builds adapters in places that do not expect one)."""
        try:
            (self.server, self.uri), self.problem = parse_options(options), ""
        except ValueError as exc:
            self.server, self.uri, self.problem = None, None, str(exc)

    def first_url(self, thread_url: str) -> str:
        if self.server is None:
            return thread_url
        return thread_api_url(self.server, self.uri or urlsplit(thread_url).path or "/")

    def detect(self, page: Page) -> int:
        # Hostile bytes may raise here: `score` turns that into 0.
        return 90 if is_answer(load_answer(page)) and "config" in json.loads(page.body) else 0

    def read(self, page: Page) -> PageResult:
        if self.problem:
            return PageResult(recognised=False, reason=self.problem)
        try:
            data = load_answer(page)
        except ValueError as exc:
            return PageResult(recognised=False, reason=f"Isso answered invalid JSON: {exc}")
        if not is_answer(data):
            reason = ('the isso adapter needs the watch option "isso" (the Isso server\'s URL)'
                      if self.server is None else "the answer is not an Isso thread")
            return PageResult(recognised=False, reason=reason)
        total, hidden = data["total_replies"], data["hidden_replies"]
        if not isinstance(total, int) or not isinstance(hidden, int):
            return PageResult(recognised=False, reason="Isso's answer has no comment count")
        comments: list[CommentRecord] = []
        for item in data["replies"]:
            problem = _add_thread(item, comments)
            if problem:
                return PageResult(recognised=False, reason=problem, claimed_count=total)
        # Isso answers a uri it has no thread for exactly like an empty thread, so an empty
        # answer confirms no count: known comments all vanishing at once stays suspect.
        result = PageResult(recognised=True, comments=comments,
                            claimed_count=total if comments or hidden else None)
        if hidden:
            result.recognised, result.reason = False, f"Isso left out {hidden} top-level comments"
        elif len(comments) != total:
            result.recognised = False
            result.reason = f"Isso counts {total} comments but listed {len(comments)}"
        return result


def _add_thread(item: Any, out: list[CommentRecord]) -> str:
    """Append a top-level comment and its replies in reading order; the problem, or ""."""
    record = comment_record(item, None, len(out))
    if record is None:
        return f"unexpected comment object at position {len(out)}"
    out.append(record)
    replies, hidden = item.get("replies", []), item.get("hidden_replies", 0)
    if not isinstance(replies, list) or not isinstance(hidden, int):
        return f"unexpected replies of comment {record.key}"
    if hidden:
        return f"Isso left out {hidden} replies of comment {record.key}"
    for reply in replies:
        child = comment_record(reply, record.key, len(out))
        if child is None:
            return f"unexpected reply of comment {record.key} at position {len(out)}"
        out.append(child)
    return ""


def comment_record(item: Any, parent_key: str | None, position: int) -> CommentRecord | None:
    """One Isso comment object as a record, or None when it is not what Isso sends."""
    if not isinstance(item, dict):
        return None
    comment_id, mode, created, html = item.get("id"), item.get("mode"), item.get("created"), item.get("text")
    parent = item.get("parent")
    if (not isinstance(comment_id, int) or mode not in (VISIBLE, TOMBSTONE) or not isinstance(html, str)
            or not isinstance(created, int | float) or not (parent is None or isinstance(parent, int))):
        return None
    if parent_key is not None and str(parent) != parent_key:
        return None
    author, website = item.get("author"), item.get("website")
    tombstone = mode == TOMBSTONE
    return CommentRecord(
        key=str(comment_id),
        author="" if tombstone or not isinstance(author, str) else author,
        text="" if tombstone else fragment_text(html),
        html="" if tombstone else html,
        posted_at=datetime.fromtimestamp(created, UTC).replace(tzinfo=None),
        parent_key=parent_key,
        author_url=website if isinstance(website, str) and website and not tombstone else None,
        position=position,
        tombstone=tombstone)
