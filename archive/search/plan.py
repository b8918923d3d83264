"""A checked search: the parsed query, filters and where the page starts (pure).

Date-sorted pages continue from a keyset cursor (the last hit's date and id),
so page 600 costs what page 1 costs; relevance pages continue from an offset,
ties broken by comment id so that the order is the same every time.

A query with no words but at least one filter browses: `expr` is None, every
comment matching the filters is a result, and "relevance" (there are no words
to rank by) means newest first.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from archive.clock import to_naive_utc
from archive.search.query import Leaf, Node, parse, positive_leaves
from archive.search.types import SORTS, STATUSES, SearchQuery, SearchQueryError

MAX_PER_PAGE = 100
MAX_OFFSET = 1_000_000


@dataclass(frozen=True)
class Plan:
    # None: no words, the filters alone choose the comments.
    expr: Node | None
    status: str | None
    site: str | None
    thread_id: int | None
    date_from: datetime | None
    date_to: datetime | None
    # "relevance" only when there are words to rank by.
    sort: str
    limit: int
    offset: int
    # Date sorts: continue after this (sort_at, comment_id).
    after: tuple[datetime, int] | None
    fingerprint: str

    @property
    def leaves(self) -> list[Leaf]:
        return [] if self.expr is None else positive_leaves(self.expr)

    def cursor_after(self, offset: int, last: tuple[datetime, int]) -> str:
        """The cursor of the page following one that ended at `last`."""
        state: dict[str, object] = {"f": self.fingerprint}
        if self.sort == "relevance":
            state["o"] = offset
        else:
            state["t"] = last[0].isoformat()
            state["i"] = last[1]
        raw = json.dumps(state, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _fingerprint(query: SearchQuery) -> str:
    key = json.dumps([query.text, query.status, query.site, query.thread_id,
                      query.date_from and query.date_from.isoformat(),
                      query.date_to and query.date_to.isoformat(), query.sort, query.per_page])
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _decode_cursor(cursor: str, fingerprint: str) -> dict[str, Any]:
    bad = SearchQueryError("this page link is out of date: start again from the first page")
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(state, dict) or state.get("f") != fingerprint:
        raise bad
    return state


def _has_filter(query: SearchQuery) -> bool:
    return any(value is not None for value in (query.status, query.site or None, query.thread_id,
                                               query.date_from, query.date_to))


def _expression(query: SearchQuery) -> Node | None:
    text = query.text or ""
    if text.strip():
        return parse(text)
    if not _has_filter(query):
        raise SearchQueryError("type some words to search for, or choose a status, site, thread "
                               "or dates to list every comment that matches them")
    return None


def make_plan(query: SearchQuery) -> Plan:
    """Check `query` and turn it into a plan; SearchQueryError says what is wrong."""
    expr = _expression(query)
    if query.status is not None and query.status not in STATUSES:
        raise SearchQueryError(f"unknown status {query.status!r} (use one of {', '.join(STATUSES)})")
    if query.sort not in SORTS:
        raise SearchQueryError(f"unknown sort {query.sort!r} (use one of {', '.join(SORTS)})")
    if not 1 <= query.per_page <= MAX_PER_PAGE:
        raise SearchQueryError(f"results per page must be between 1 and {MAX_PER_PAGE}")
    if query.page < 1:
        raise SearchQueryError("page numbers start at 1")
    date_from = to_naive_utc(query.date_from) if query.date_from else None
    date_to = to_naive_utc(query.date_to) if query.date_to else None
    if date_from and date_to and date_from > date_to:
        raise SearchQueryError("the start date is after the end date")
    sort = "newest" if expr is None and query.sort == "relevance" else query.sort
    fingerprint = _fingerprint(query)
    offset = (query.page - 1) * query.per_page
    after = None
    if query.cursor:
        state = _decode_cursor(query.cursor, fingerprint)
        try:
            if sort == "relevance":
                offset = int(state["o"])
            else:
                offset = 0
                after = (datetime.fromisoformat(str(state["t"])), int(state["i"]))
        except (KeyError, TypeError, ValueError):
            raise SearchQueryError("this page link is out of date: start again from the first page") from None
    if not 0 <= offset <= MAX_OFFSET:
        raise SearchQueryError(f"that page is too far: narrow the search (at most {MAX_OFFSET} results)")
    return Plan(expr=expr, status=query.status, site=query.site or None, thread_id=query.thread_id,
                date_from=date_from, date_to=date_to, sort=sort, limit=query.per_page,
                offset=offset, after=after, fingerprint=fingerprint)
