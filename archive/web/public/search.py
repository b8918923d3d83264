"""The public search page: form, filters, counts per status and site, results.

Only `archive.search` knows the search engine; this page turns the query
string into a `SearchQuery` and the hits into comments from the database.
A malformed query or filter is a friendly message (HTTP 400), never a 500.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Blueprint, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.clock import parse_date
from archive.context import archive_context
from archive.errors import ArchiveError
from archive.search import SearchQuery, SearchQueryError, SearchResults, query_index
from archive.store.db import get_session
from archive.store.models import Site, Thread
from archive.web.inputs import parse_id
from archive.web.paging import page_arg, page_count
from archive.web.public import queries as q
from archive.web.sanitize import clean_highlight, isolate

bp = Blueprint("search", __name__)

STATUSES = ("visible", "missing", "removed", "reinstated", "edited")
SORTS = {"relevance": "most relevant", "newest": "newest first", "oldest": "oldest first"}
PER_PAGE = 20
# Numbered page links stop here; deeper pages are reached with the cursor.
MAX_PAGE_LINKS = 10
MAX_QUERY_CHARS = 500


@dataclass
class Form:
    text: str
    status: str
    site: str
    thread_id: int | None
    date_from: str
    date_to: str
    sort: str
    page: int
    cursor: str

    @property
    def is_empty(self) -> bool:
        # Words, or filters alone (every comment they select), make a search;
        # an order alone does not.
        return not (self.text or self.status or self.site or self.thread_id is not None
                    or self.date_from or self.date_to)

    @property
    def newest_for_relevance(self) -> bool:
        """Filters without words: there is nothing to rank by, so newest first."""
        return not self.text and self.sort == "relevance"

    def args(self, **changes: object) -> dict[str, object]:
        """Query-string arguments of this search with some changed (for links)."""
        values: dict[str, object] = {
            "q": self.text, "status": self.status, "site": self.site, "thread": self.thread_id,
            "from": self.date_from, "to": self.date_to,
            "sort": self.sort if self.sort != "relevance" else "",
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}


def read_form() -> tuple[Form, list[str]]:
    args = request.args
    problems: list[str] = []
    text = args.get("q", "").strip()
    if len(text) > MAX_QUERY_CHARS:
        problems.append(f"The search text is longer than {MAX_QUERY_CHARS} characters.")
        text = text[:MAX_QUERY_CHARS]
    status = args.get("status", "")
    if status and status not in STATUSES:
        problems.append(f"Unknown status “{isolate(status)}”: choose one of {', '.join(STATUSES)}.")
        status = ""
    sort = args.get("sort", "relevance") or "relevance"
    if sort not in SORTS:
        problems.append(f"Unknown sort order “{isolate(sort)}”.")
        sort = "relevance"
    thread_id = parse_id(args.get("thread", ""))
    if args.get("thread") and thread_id is None:
        problems.append("The thread filter must be a thread number.")
    form = Form(text, status, args.get("site", "").strip(), thread_id,
                args.get("from", "").strip(), args.get("to", "").strip(), sort, page_arg(),
                args.get("cursor", "").strip())
    return form, problems


def form_dates(form: Form, problems: list[str]) -> tuple[datetime | None, datetime | None]:
    found: list[datetime | None] = []
    for label, raw in (("From", form.date_from), ("To", form.date_to)):
        try:
            found.append(parse_date(raw) if raw else None)
        except ValueError as exc:
            problems.append(f"{label} date: {isolate(str(exc))}.")
            found.append(None)
    date_from, date_to = found
    # The bounds are inclusive: a bare "to" date means up to the end of that day.
    if date_to is not None and len(form.date_to) <= 10:
        date_to = date_to + timedelta(days=1) - timedelta(microseconds=1)
    if date_from and date_to and date_from > date_to:
        problems.append("The “from” date must be before the “to” date.")
    return date_from, date_to


@bp.get("/search")
def search() -> tuple[str, int] | str:
    session = get_session()
    form, problems = read_form()
    date_from, date_to = form_dates(form, problems)
    sites = session.scalars(select(Site).order_by(Site.host)).all()
    thread = session.get(Thread, form.thread_id) if form.thread_id else None
    context = dict(form=form, sites=sites, site_names={s.host: s.name or s.host for s in sites},
                   thread=thread, statuses=STATUSES, sorts=SORTS,
                   results=None, hits=[], page_links=[], problems=problems)
    if form.thread_id and thread is None:
        problems.append(f"There is no thread {form.thread_id}.")
    if problems:
        return render_template("public/search.html", **context), 400
    if form.is_empty:
        return render_template("public/search.html", **context)
    query = SearchQuery(text=form.text, status=form.status or None, site=form.site or None,
                        thread_id=form.thread_id, date_from=date_from, date_to=date_to,
                        sort=form.sort, page=form.page, per_page=PER_PAGE,
                        cursor=form.cursor or None)
    try:
        results = query_index(archive_context(), query)
    except SearchQueryError as exc:
        problems.append(str(exc))
        return render_template("public/search.html", **context), 400
    except ArchiveError as exc:
        # The query was fine; the index is not (an operator must rebuild it).
        problems.append(f"Search is not available right now: {exc}")
        return render_template("public/search.html", **context), 503
    context.update(results=results, hits=_hits(session, results),
                   page_links=_page_links(results, form))
    return render_template("public/search.html", **context)


@dataclass
class ShownHit:
    comment: q.CommentView
    thread: Thread
    highlight: str


def _hits(session: Session, results: SearchResults) -> list[ShownHit]:
    views = q.comment_views(session, [h.comment_id for h in results.hits])
    q.fill_bodies(session, list(views.values()))
    threads = {t.id: t for t in session.scalars(
        select(Thread).where(Thread.id.in_({v.thread_id for v in views.values()})))}
    shown = []
    for hit in results.hits:
        view = views.get(hit.comment_id)
        if view is None:
            continue    # the index is ahead of or behind the database: show only what exists
        # The index keeps no text of a redacted comment, so a hit on one came
        # from the thread's title or a filter: it is listed, its text is not.
        highlight = "" if view.redacted else clean_highlight(hit.highlight or "")
        shown.append(ShownHit(view, threads[view.thread_id], highlight))
    return shown


def _page_links(results: SearchResults, form: Form) -> list[int]:
    if form.cursor:
        return []
    pages = page_count(results.total, PER_PAGE)
    return list(range(1, min(pages, MAX_PAGE_LINKS) + 1)) if pages > 1 else []
