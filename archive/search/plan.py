"""A checked search: the parsed query, filters and where the page starts (pure).

Date-sorted pages continue from a keyset cursor (the last hit's date and id),
so page 600 costs what page 1 costs; relevance pages continue from an offset,
ties broken by comment id so that the order is the same every time. Cursors
are signed with the archive's secret key (archive/search/cursor.py).

A query with no words but at least one filter browses: `expr` is None, every
comment matching the filters is a result, and "relevance" (there are no words
to rank by) means newest first.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from archive.clock import to_naive_utc
from archive.search import cursor as cursors
from archive.search.query import Leaf, Node, exact, has_stems, parse, positive_leaves
from archive.search.types import SORTS, STATUSES, SearchQuery, SearchQueryError

MAX_PER_PAGE = 100
MAX_OFFSET = 1_000_000
# Added to the score of a comment that matches the words as typed: more than
# any engine's own score of a query of at most 32 words, so those come first.
EXACT_BONUS = 1_000_000.0


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
    # What a cursor must belong to: the query, filters, sort and page size.
    cursor_scope: str
    secret: str = field(repr=False)

    @property
    def exact_expr(self) -> Node | None:
        """For a relevance sort of words that stemming widened: the words as
        typed. Engines rank the comments matching it first, then the rest by
        score (each engine adds EXACT_BONUS to their score)."""
        if self.expr is None or self.sort != "relevance" or not has_stems(self.expr):
            return None
        return exact(self.expr)

    @property
    def leaves(self) -> list[Leaf]:
        return [] if self.expr is None else positive_leaves(self.expr)

    def cursor_after(self, offset: int, last: tuple[datetime, int]) -> str:
        """The cursor of the page following one that ended at `last`."""
        position = cursors.Position(offset=offset) if self.sort == "relevance" else cursors.Position(after=last)
        return cursors.sign(self.secret, self.cursor_scope, position)


def _cursor_scope(query: SearchQuery) -> str:
    return json.dumps([query.text, query.status, query.site, query.thread_id,
                       query.date_from and query.date_from.isoformat(),
                       query.date_to and query.date_to.isoformat(), query.sort, query.per_page])


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


def make_plan(query: SearchQuery, secret: str) -> Plan:
    """Check `query` and turn it into a plan; SearchQueryError says what is wrong.
    `secret` signs and checks cursors (the archive's secret key)."""
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
    scope = _cursor_scope(query)
    offset = (query.page - 1) * query.per_page
    after = None
    if query.cursor:
        position = cursors.read(secret, scope, query.cursor, keyset=sort != "relevance")
        offset, after = position.offset, position.after
    if not 0 <= offset <= MAX_OFFSET:
        raise SearchQueryError(f"that page is too far: narrow the search (at most {MAX_OFFSET} results)")
    return Plan(expr=expr, status=query.status, site=query.site or None, thread_id=query.thread_id,
                date_from=date_from, date_to=date_to, sort=sort, limit=query.per_page,
                offset=offset, after=after, cursor_scope=scope, secret=secret)
