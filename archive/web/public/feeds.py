"""Removal feeds: Atom feeds of what disappeared, so journalists subscribe instead of polling.

One feed for the whole archive, one per site, one per thread and one per
saved search (the search page's query string). Each holds the newest
`ENTRIES` disappearance events (missing, removed, tombstoned, article gone).
The document is built by archive/web/public/atom.py; this module reads the
events and answers conditional GETs: the ETag is the SHA-256 of the document
(a redaction or a status change makes a new one), Last-Modified its newest
event or the last redaction, whichever is later, and a matching
If-None-Match or If-Modified-Since gets a 304.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from flask import Blueprint, Response, request, url_for
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from archive.context import archive_context
from archive.errors import ArchiveError
from archive.search import SearchQuery, SearchQueryError, query_index
from archive.store.db import get_session
from archive.store.models import AuditEntry, Event, Site, Thread
from archive.web.public import queries as q
from archive.web.public.atom import FeedItem, FeedMeta, build_feed
from archive.web.public.search import form_dates, read_form

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

ENTRIES = 50
KINDS = ("missing", "removed", "tombstoned", "thread-gone")
# A saved search's feed follows this many of its newest matching comments per status.
SEARCH_COMMENTS = 100
# The <updated> of a feed with no entry yet: a fixed moment, so its ETag stays put.
NEVER = datetime(2000, 1, 1)
_STATUS_NOW = {"visible": "visible again", "missing": "missing", "removed": "removed"}


def _events(session: Session, *where: ColumnElement[bool]) -> Sequence[Event]:
    return session.scalars(select(Event).where(Event.kind.in_(KINDS), *where)
                           .order_by(Event.at.desc(), Event.id.desc()).limit(ENTRIES)).all()


def _items(session: Session, events: Sequence[Event]) -> list[FeedItem]:
    views = q.comment_views(session, [e.comment_id for e in events if e.comment_id is not None])
    q.fill_bodies(session, list(views.values()))
    threads = {t.id: t for t in session.scalars(
        select(Thread).where(Thread.id.in_({e.thread_id for e in events})))}
    items = []
    for event in events:
        thread = threads[event.thread_id]
        thread_page = url_for("public.thread", thread_id=thread.id, _external=True)
        view = views.get(event.comment_id) if event.comment_id is not None else None
        history = url_for("public.comment", comment_id=view.id, _external=True) if view else None
        items.append(FeedItem(
            event_id=event.id, kind=event.kind, at=event.at, window_start=event.window_start,
            window_end=event.window_end, thread_title=thread.title, article_url=thread.url,
            permalink=f"{history or thread_page}#event-{event.id}",
            thread_page=f"{thread_page}#c{view.id}" if view else thread_page,
            history_page=history))
        if view is not None:
            items[-1] = replace(
                items[-1], author=view.author, text=None if view.redacted else view.plain,
                redaction_reason=view.redaction_reason,
                tombstone_text=None if view.redacted else view.tombstone_text,
                status_now=_STATUS_NOW.get(view.status, view.status))
    return items


def _last_redaction(session: Session) -> datetime | None:
    """When an operator last redacted or unredacted a comment: what a feed says may
    have changed then, with no new event, and a copy from before must not be reused."""
    return session.scalar(select(func.max(AuditEntry.at))
                          .where(AuditEntry.action.in_(("redact", "unredact"))))


def _answer(meta: FeedMeta, events: Sequence[Event]) -> BaseResponse:
    session = get_session()
    body = build_feed(meta, _items(session, events))
    response = Response(body, mimetype="application/atom+xml")
    response.set_etag(hashlib.sha256(body).hexdigest())
    changes = [e.at for e in events] + [meta.empty_updated]
    redacted = _last_redaction(session)
    response.last_modified = max(changes + ([redacted] if redacted else []))
    # Readers may keep it, but must ask again (cheaply, with the validators) before reusing it.
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


def _meta(title: str, subtitle: str, page_url: str, empty_updated: datetime = NEVER,
          self_args: dict[str, object] | None = None) -> FeedMeta:
    """The feed's description; its own URL (and so its id) never depends on stray parameters."""
    self_url = url_for(request.endpoint or "", _external=True, **(request.view_args or {}),
                       **(self_args or {}))  # type: ignore[arg-type]
    return FeedMeta(title=title, subtitle=subtitle, self_url=self_url, page_url=page_url,
                    empty_updated=empty_updated)


def _not_found(what: str) -> BaseResponse:
    return Response(f"There is no {what}.\n", status=404, mimetype="text/plain")


@bp.get("/all.atom")
def everything() -> BaseResponse:
    meta = _meta("Comment archive: what disappeared", "Comments missing or removed from every "
                 "watched thread, newest first.", url_for("public.home", _external=True))
    return _answer(meta, _events(get_session()))


@bp.get("/sites/<int:site_id>.atom")
def site(site_id: int) -> BaseResponse:
    session = get_session()
    found = session.get(Site, site_id)
    if found is None:
        return _not_found(f"site {site_id}")
    name = found.name or found.host
    meta = _meta(f"Comment archive: what disappeared from {name}",
                 f"Comments missing or removed from the watched threads of {found.host}.",
                 url_for("search.search", site=found.host, status="removed", _external=True))
    return _answer(meta, _events(session, Event.thread_id.in_(
        select(Thread.id).where(Thread.site_id == site_id))))


@bp.get("/threads/<int:thread_id>.atom")
def thread(thread_id: int) -> BaseResponse:
    session = get_session()
    found = session.get(Thread, thread_id)
    if found is None:
        return _not_found(f"thread {thread_id}")
    meta = _meta(f"Comment archive: what disappeared from {found.title or found.url}",
                 f"Comments missing or removed from {found.url}.",
                 url_for("public.thread", thread_id=thread_id, show="disappeared", _external=True),
                 found.created_at)
    return _answer(meta, _events(session, Event.thread_id == thread_id))


@bp.get("/search.atom")
def search() -> BaseResponse:
    """The disappearances of the comments a search finds: the search page's own
    query string, so any search can be subscribed to."""
    form, problems = read_form()
    date_from, date_to = form_dates(form, problems)
    if problems or form.is_empty:
        return Response(" ".join(problems) or "A search feed needs words or a filter, as on "
                        "the search page.\n", status=400, mimetype="text/plain")
    # With no status asked, the comments that are missing or removed now; with
    # one, that status's comments (a reinstated comment's disappearances too).
    statuses = [form.status] if form.status else ["missing", "removed"]
    ids: list[int] = []
    try:
        for status in statuses:
            results = query_index(archive_context(), SearchQuery(
                text=form.text, status=status, site=form.site or None, thread_id=form.thread_id,
                date_from=date_from, date_to=date_to, sort="newest", per_page=SEARCH_COMMENTS))
            ids.extend(hit.comment_id for hit in results.hits)
    except SearchQueryError as exc:
        return Response(f"{exc}\n", status=400, mimetype="text/plain")
    except ArchiveError as exc:
        return Response(f"Search is not available right now: {exc}\n", status=503,
                        mimetype="text/plain")
    page_args = form.args(page=None, cursor=None)
    meta = _meta(f"Comment archive: disappearances matching {form.text or 'a search'}",
                 "Disappearances of the comments this search finds (its newest "
                 f"{SEARCH_COMMENTS} per status), newest first.",
                 url_for("search.search", _external=True, **page_args),  # type: ignore[arg-type]
                 self_args=page_args)
    events = _events(get_session(), Event.comment_id.in_(ids)) if ids else []
    return _answer(meta, events)

