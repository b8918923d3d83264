"""What the public pages read from the database, as plain view objects.

Queries are shaped for big threads: the thread's comment rows are read as
columns (no ORM objects), and the texts only for the comments on the page
being shown. Redacted comments never carry their text, author name or
author link out of this module.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy import ColumnElement, Row, and_, case, func, or_, select
from sqlalchemy.orm import Session

from archive.operators.redaction import public_author
from archive.store.models import Capture, Comment, CommentVersion, Event, Thread
from archive.web.sanitize import comment_body

DISAPPEARANCE_KINDS = ("missing", "removed", "tombstoned")
_COMMENT_COLUMNS = (
    Comment.id, Comment.thread_id, Comment.key, Comment.parent_key, Comment.position,
    public_author().label("author"),
    case((Comment.redacted.is_(True), None), else_=Comment.author_url).label("author_url"),
    Comment.posted_at, Comment.status,
    Comment.first_seen_at, Comment.last_seen_at, Comment.misses, Comment.removed_after,
    Comment.removed_before, Comment.edit_count, Comment.times_removed,
    Comment.times_reinstated, Comment.tombstone_text, Comment.redacted,
    Comment.redaction_reason, Comment.source,
)
# Bound parameters per IN list: well under SQLite's oldest limit (999).
_CHUNK = 500


@dataclass
class CommentView:
    id: int
    thread_id: int
    key: str
    parent_key: str | None
    position: int
    author: str
    author_url: str | None
    posted_at: datetime | None
    status: str
    first_seen_at: datetime
    last_seen_at: datetime
    misses: int
    removed_after: datetime | None
    removed_before: datetime | None
    edit_count: int
    times_removed: int
    times_reinstated: int
    tombstone_text: str | None
    redacted: bool
    redaction_reason: str | None
    # 'backfill' while only web-archive snapshots have seen it.
    source: str = "live"
    depth: int = 0
    versions: int = 0
    body: Markup = field(default_factory=Markup)
    plain: str = ""


@dataclass
class Counts:
    comments: int = 0
    visible: int = 0
    missing: int = 0
    removed: int = 0
    reinstated: int = 0
    edited: int = 0


def _view(row: Row) -> CommentView:
    return CommentView(**row._mapping)


@dataclass
class Outline:
    """The little a thread page needs of every comment to place and filter it,
    as parallel columns (no texts, no times, no ORM objects: a thread can have
    thousands of comments)."""
    ids: Sequence[int] = ()
    keys: Sequence[str] = ()
    parent_keys: Sequence[str | None] = ()
    positions: Sequence[int] = ()
    posted: Sequence[datetime | None] = ()
    authors: Sequence[str] = ()
    disappeared: Sequence[bool] = ()


def _disappeared() -> ColumnElement[bool]:
    """Missing or removed now, or ever gone and back: what "only what disappeared" shows."""
    return or_(Comment.status.in_(("missing", "removed")), Comment.times_removed > 0,
               Comment.times_reinstated > 0, Comment.tombstone_text.is_not(None))


def thread_outline(session: Session, thread_id: int) -> Outline:
    rows = session.connection().execute(
        select(Comment.id, Comment.key, Comment.parent_key, Comment.position, Comment.posted_at,
               public_author(),
               case((_disappeared(), True), else_=False))
        .where(Comment.thread_id == thread_id)).all()
    return Outline(*zip(*rows)) if rows else Outline()


def comment_views(session: Session, comment_ids: Iterable[int]) -> dict[int, CommentView]:
    ids = list(dict.fromkeys(comment_ids))
    views: dict[int, CommentView] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        for row in session.connection().execute(select(*_COMMENT_COLUMNS).where(Comment.id.in_(chunk))):
            views[row.id] = _view(row)
    return views


def fill_bodies(session: Session, views: Sequence[CommentView]) -> None:
    """Give each view its latest text (sanitised) and its number of versions."""
    wanted = [v.id for v in views if not v.redacted]
    latest: dict[int, tuple[str, str, int]] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        newest = (select(CommentVersion.comment_id, func.max(CommentVersion.seq).label("seq"),
                         func.count().label("n"))
                  .where(CommentVersion.comment_id.in_(chunk))
                  .group_by(CommentVersion.comment_id).subquery())
        rows = session.connection().execute(
            select(CommentVersion.comment_id, CommentVersion.text, CommentVersion.html, newest.c.n)
            .join(newest, and_(CommentVersion.comment_id == newest.c.comment_id,
                               CommentVersion.seq == newest.c.seq)))
        for comment_id, text, html, n in rows:
            latest[comment_id] = (text, html, n)
    redacted_counts = _version_counts(session, [v.id for v in views if v.redacted])
    for view in views:
        if view.redacted:
            view.versions = redacted_counts.get(view.id, 0)
            continue
        text, html, n = latest.get(view.id, ("", "", 0))
        view.versions = n
        view.plain = text
        view.body = comment_body(html, text)


def _version_counts(session: Session, ids: list[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        counts.update(session.execute(
            select(CommentVersion.comment_id, func.count())
            .where(CommentVersion.comment_id.in_(chunk)).group_by(CommentVersion.comment_id)).all())
    return counts


def _count_columns() -> tuple[ColumnElement[Any], ...]:
    return (func.count(),
            func.sum(case((Comment.status == "visible", 1), else_=0)),
            func.sum(case((Comment.status == "missing", 1), else_=0)),
            func.sum(case((Comment.status == "removed", 1), else_=0)),
            func.sum(case((Comment.times_reinstated > 0, 1), else_=0)),
            func.sum(case((Comment.edit_count > 0, 1), else_=0)))


def total_counts(session: Session) -> Counts:
    row = session.execute(select(*_count_columns())).one()
    return Counts(*(int(v or 0) for v in row))


def thread_counts(session: Session, thread_ids: Sequence[int]) -> dict[int, Counts]:
    if not thread_ids:
        return {}
    rows = session.execute(select(Comment.thread_id, *_count_columns())
                           .where(Comment.thread_id.in_(list(thread_ids)))
                           .group_by(Comment.thread_id))
    return {row[0]: Counts(*(int(v or 0) for v in row[1:])) for row in rows}


def latest_capture_times(session: Session, thread_ids: Sequence[int]) -> dict[int, datetime]:
    if not thread_ids:
        return {}
    return dict(session.execute(select(Capture.thread_id, func.max(Capture.started_at))
                                .where(Capture.thread_id.in_(list(thread_ids)))
                                .group_by(Capture.thread_id)).all())


@dataclass
class Disappearance:
    event: Event
    comment: CommentView
    thread: Thread


def recent_disappearances(session: Session, limit: int = 20) -> list[Disappearance]:
    """The newest disappearance of each recently disappeared comment, across all threads."""
    # A comment that went missing and then removed has two events: over-read, keep its newest.
    recent = session.scalars(select(Event).where(Event.kind.in_(DISAPPEARANCE_KINDS),
                                                 Event.comment_id.is_not(None))
                             .order_by(Event.at.desc(), Event.id.desc()).limit(limit * 4)).all()
    newest: dict[int, Event] = {}
    for event in recent:
        newest.setdefault(event.comment_id, event)  # type: ignore[arg-type]
    events = list(newest.values())[:limit]
    views = comment_views(session, [e.comment_id for e in events if e.comment_id is not None])
    fill_bodies(session, list(views.values()))
    threads = {t.id: t for t in session.scalars(
        select(Thread).where(Thread.id.in_({e.thread_id for e in events})))}
    return [Disappearance(e, views[e.comment_id], threads[e.thread_id])
            for e in events if e.comment_id in views]


def capture_outcome_counts(session: Session, thread_id: int) -> dict[str, int]:
    return dict(session.execute(select(Capture.outcome, func.count())
                                .where(Capture.thread_id == thread_id)
                                .group_by(Capture.outcome)).all())


@dataclass
class Archived:
    """A thread's captures rebuilt from web-archive snapshots (archive/backfill/)."""
    snapshots: int = 0
    first: datetime | None = None
    last: datetime | None = None


def archived_snapshots(session: Session, thread_id: int) -> Archived:
    count, first, last = session.execute(
        select(func.count(), func.min(Capture.started_at), func.max(Capture.started_at))
        .where(Capture.thread_id == thread_id, Capture.source == "backfill")).one()
    return Archived(count or 0, first, last)
