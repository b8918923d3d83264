"""The search module's public types: what callers pass in and get back."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from archive.errors import ArchiveError

STATUSES = ("visible", "missing", "removed", "reinstated", "edited")
SORTS = ("relevance", "newest", "oldest")


class SearchQueryError(ArchiveError):
    """A query the archive cannot run; the message says what to change."""


@dataclass
class SearchQuery:
    """One search: the query text in the archive's small language, and filters.

    text may be empty when a filter is given: every comment the filters
    select is a result, and the "relevance" sort means newest first.
    status: one of STATUSES (reinstated and edited cut across the others).
    date_from/date_to: inclusive bounds on when the comment was posted (or
    first seen, when the page gave no date), naive UTC.
    cursor: the `next_cursor` of the previous page; it wins over `page`.
    """
    text: str = ""
    status: str | None = None
    site: str | None = None
    thread_id: int | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    cursor: str | None = None


@dataclass
class Hit:
    comment_id: int
    score: float
    # Safe HTML: the comment's plain text, escaped, with <mark> around matches.
    highlight: str


@dataclass
class SearchResults:
    # An estimate when total_exact is False (PostgreSQL, above
    # ARCHIVE_SEARCH_EXACT_COUNT): rounded to two significant figures.
    total: int
    hits: list[Hit]
    # {"status": {"visible": n, "missing": n, "removed": n, "reinstated": n,
    #  "edited": n}, "site": {host: n}} over every result, not just this page.
    facets: dict[str, dict[str, int]]
    next_cursor: str | None
    # True when an index update failed since the last `reindex`: results may
    # be out of date until an operator runs it.
    stale: bool = field(default=False)
    # False: `total` and `facets` are estimates, not counts.
    total_exact: bool = True
    # Set when the "relevance" order ranked only this many of the matches.
    ranked_among: int | None = None
