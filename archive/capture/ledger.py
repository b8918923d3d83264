"""Writes what the verdict engine decided: comments, versions and events.

The event log is the record; the status columns of `Comment` are a cache of
it, kept in step here and rebuildable with `rebuild_comment`.

Live captures and web-archive snapshots (archive/backfill/) are two chains:
each judges only against what its own chain saw, every event carries its
capture's source, and a snapshot never changes a comment a live capture has
seen (live captures say what the thread shows now). A live capture that
meets a comment known only from snapshots takes it over as a new sighting,
so the seam between the two histories invents no removal.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session, selectinload

from archive.rules.verdicts import (
    EVENT_STATUS,
    NO_TEXT,
    EventRecord,
    Known,
    ThreadState,
    Verdict,
    status_after,
    text_hash,
)
from archive.store.models import Capture, Comment, CommentVersion, Event, Thread
from scrapers.base import CommentRecord

# Bodies longer than this are cut before storing: a hostile page must not
# bloat every later query (the full bytes stay in the evidence store).
MAX_TEXT_CHARS = 100_000


# Ids per statement when updating or loading by id: under SQLite's and
# PostgreSQL's limits on bound parameters, whatever a thread's size.
ID_CHUNK = 5000


@dataclass(frozen=True)
class Stored:
    """Where a stored comment is, the place it had in the thread, and which chain speaks for it."""
    id: int
    position: int
    parent_key: str | None
    source: str


@dataclass(frozen=True)
class ThreadComments:
    """What a capture's verdict needs of a thread's stored comments, by key:
    `known` holds those of one chain (the verdict's memory), `stored` all of them."""
    known: dict[str, Known]
    stored: dict[str, Stored]


def load_thread_comments(session: Session, thread_id: int, source: str = "live") -> ThreadComments:
    """A thread's comments as the verdict sees them: their cached state and the
    hash of their current text, read as plain rows (no texts, no ORM objects)."""
    current = (select(CommentVersion.text_sha256).where(CommentVersion.comment_id == Comment.id)
               .order_by(CommentVersion.seq.desc()).limit(1).correlate(Comment).scalar_subquery())
    rows = session.execute(select(
        Comment.id, Comment.key, Comment.status, Comment.parent_key, Comment.posted_at,
        Comment.last_seen_at, Comment.misses, Comment.removed_before, Comment.position,
        Comment.source, Comment.tombstone_text.is_not(None).label("has_tombstone"),
        current.label("text_sha256"))
        .where(Comment.thread_id == thread_id))
    known: dict[str, Known] = {}
    stored: dict[str, Stored] = {}
    for row in rows:
        stored[row.key] = Stored(row.id, row.position, row.parent_key, row.source)
        if row.source != source:
            continue
        known[row.key] = Known(
            key=row.key, status=row.status, text_sha256=row.text_sha256, parent_key=row.parent_key,
            posted_at=row.posted_at, last_seen_at=row.last_seen_at, misses=row.misses,
            first_missed_at=row.removed_before if row.misses else None,
            tombstoned=bool(row.has_tombstone) and row.status == "removed")
    return ThreadComments(known, stored)


def load_known(session: Session, thread_id: int, source: str = "live") -> dict[str, Known]:
    """What the `source` chain knows of the thread's comments."""
    return load_thread_comments(session, thread_id, source).known


def thread_state(thread: Thread) -> ThreadState:
    return ThreadState(thread.state, thread.gone_misses)  # type: ignore[arg-type]


def apply_verdict(session: Session, thread: Thread, capture: Capture,
                  records: list[CommentRecord], verdict: Verdict, has_tree: bool = True,
                  loaded: ThreadComments | None = None) -> set[int]:
    """Store the verdict of one capture; returns the ids of comments it changed.
    `loaded`: the thread's comments as `load_thread_comments` gave them, if already read.

    Written in bulk: a capture of a large thread changes few comments, so only
    those are loaded as objects; every other comment it saw gets one set-based
    "last seen" update, and a row update only where its place in the thread moved."""
    source = capture.source or "live"
    if loaded is None:
        loaded = load_thread_comments(session, thread.id, source)
    changing = _load_changing(session, loaded, verdict)
    if capture.is_good:
        _record_seen(session, capture, records, has_tree, loaded, changing)
    ids = _insert_new(session, thread, capture, [
        e for e in verdict.events if e.key is not None and e.key not in changing])
    for event in verdict.events:
        if event.key is None or event.key not in changing:
            continue
        comment = changing[event.key]
        if source == "live" and comment.source != "live" and event.kind in ("appeared", "tombstoned"):
            _adopt(comment, event, capture)
        if _owns(source, comment.source):
            _apply(comment, event, capture)
    session.flush()
    ids.update((key, comment.id) for key, comment in changing.items())
    if verdict.events:
        session.execute(insert(Event), [
            {"thread_id": thread.id, "comment_id": ids[e.key] if e.key is not None else None,
             "capture_id": capture.id, "kind": e.kind, "source": source, "at": e.at,
             "window_start": e.window_start,
             "window_end": e.window_end, "details": e.details or None}
            for e in verdict.events])
    if source == "live":
        thread.state = verdict.thread.state
        thread.gone_misses = verdict.thread.gone_misses
    return {ids[e.key] for e in verdict.events if e.key is not None}


def _owns(source: str, comment_source: str) -> bool:
    """May a capture of `source` change a comment's columns? Live captures
    always; snapshots only comments no live capture has seen."""
    return source == "live" or comment_source == source


def _adopt(comment: Comment, event: EventRecord, capture: Capture) -> None:
    """A comment known only from web-archive snapshots, seen by a live capture:
    from now on the live chain speaks for it. Its snapshot events stay."""
    comment.source = "live"
    comment.misses = 0
    comment.last_seen_at = capture.started_at
    comment.last_seen_capture_id = capture.id
    record = event.record
    if record is not None and not record.tombstone and text_hash(record.text) != comment.current.text_sha256:
        _add_version(comment, record, capture)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), ID_CHUNK):
        yield ids[start:start + ID_CHUNK]


def _load_changing(session: Session, loaded: ThreadComments, verdict: Verdict) -> dict[str, Comment]:
    """The stored comments some event changes, as objects with their versions."""
    ids = sorted({loaded.stored[e.key].id for e in verdict.events
                  if e.key is not None and e.key in loaded.stored})
    found: dict[str, Comment] = {}
    for chunk in _chunks(ids):
        found.update((c.key, c) for c in session.scalars(
            select(Comment).where(Comment.id.in_(chunk)).options(selectinload(Comment.versions))))
    return found


def _record_seen(session: Session, capture: Capture, records: list[CommentRecord], has_tree: bool,
                 loaded: ThreadComments, changing: dict[str, Comment]) -> None:
    """Last seen, place and (newly known) parent of every stored comment a good capture
    showed; each row is written once (PostgreSQL writes a new row version per update)."""
    source = capture.source or "live"
    seen: set[int] = set()
    placed: dict[int, dict[str, object]] = {}
    for record in records:
        stored = loaded.stored.get(record.key)
        if stored is None or record.tombstone or not _owns(source, stored.source):
            continue
        parent = stored.parent_key
        if has_tree and parent is None and record.parent_key is not None:
            # See verdicts._seen: a place in the tree becoming known is no move.
            parent = record.parent_key
        comment = changing.get(record.key)
        if comment is not None:
            # Written by the flush that writes its events' changes.
            comment.last_seen_at = capture.started_at
            comment.last_seen_capture_id = capture.id
            comment.position = record.position
            comment.parent_key = parent
        elif record.position != stored.position or parent != stored.parent_key:
            placed[stored.id] = {"row_id": stored.id, "new_position": record.position, "new_parent": parent}
        else:
            seen.add(stored.id)
    for chunk in _chunks(sorted(seen - placed.keys())):
        session.execute(update(Comment).where(Comment.id.in_(chunk))
                        .values(last_seen_at=capture.started_at, last_seen_capture_id=capture.id)
                        .execution_options(synchronize_session=False))
    if placed:
        # Plain executemany: the ORM's bulk update costs more than the rows.
        session.connection().execute(
            update(Comment).where(Comment.id == bindparam("row_id"))
            .values(position=bindparam("new_position"), parent_key=bindparam("new_parent"),
                    last_seen_at=capture.started_at, last_seen_capture_id=capture.id),
            list(placed.values()))


def _insert_new(session: Session, thread: Thread, capture: Capture,
                events: list[EventRecord]) -> dict[str, int]:
    """Insert the comments first seen in this capture (one event each: appeared, or
    tombstoned when first seen as a tombstone) with their first version; their ids by key."""
    if not events:
        return {}
    comments, versions = [], {}
    for event in events:
        record = event.record
        assert record is not None, "a new comment always arrives with the record that showed it"
        tombstoned = event.kind == "tombstoned"
        comments.append({
            "thread_id": thread.id, "key": record.key, "parent_key": record.parent_key,
            "position": record.position, "author": record.author[:512],
            "author_url": (record.author_url or None) and record.author_url[:2000],
            "posted_at": record.posted_at, "first_seen_at": capture.started_at,
            "last_seen_at": capture.started_at, "last_seen_capture_id": capture.id,
            "status": EVENT_STATUS[event.kind], "misses": 0, "edit_count": 0, "times_reinstated": 0,
            "times_removed": 1 if tombstoned else 0, "redacted": False, "source": capture.source or "live",
            # Its words were never seen: the placeholder is kept as tombstone_text.
            "tombstone_text": record.text[:MAX_TEXT_CHARS] if tombstoned else None,
            "removed_after": event.window_start if tombstoned else None,
            "removed_before": event.window_end if tombstoned else None})
        versions[record.key] = {
            "seq": 1, "text": "" if record.tombstone else record.text[:MAX_TEXT_CHARS],
            "html": "" if record.tombstone else record.html[:MAX_TEXT_CHARS],
            "text_sha256": NO_TEXT if record.tombstone else text_hash(record.text),
            "capture_id": capture.id, "seen_at": capture.started_at}
    ids: dict[str, int] = {}
    for start in range(0, len(comments), ID_CHUNK):
        ids.update((key, comment_id) for comment_id, key in session.execute(
            insert(Comment).returning(Comment.id, Comment.key), comments[start:start + ID_CHUNK]))
    session.execute(insert(CommentVersion), [{**version, "comment_id": ids[key]}
                                             for key, version in versions.items()])
    return ids


def _add_version(comment: Comment, record: CommentRecord, capture: Capture,
                 digest: str | None = None) -> None:
    comment.versions.append(CommentVersion(
        seq=len(comment.versions) + 1, text=record.text[:MAX_TEXT_CHARS],
        html=record.html[:MAX_TEXT_CHARS], text_sha256=digest or text_hash(record.text),
        capture_id=capture.id, seen_at=capture.started_at))


def _apply(comment: Comment, event: EventRecord, capture: Capture) -> None:
    kind = event.kind
    if kind == "edited" and event.record is not None:
        _add_version(comment, event.record, capture)
        comment.edit_count += 1
    elif kind == "moved" and event.record is not None:
        comment.parent_key = event.record.parent_key
    elif kind == "reinstated":
        if event.details.get("first_text") and event.record is not None:
            _add_version(comment, event.record, capture)
        comment.times_reinstated += 1
        comment.misses = 0
        comment.tombstone_text = None
    elif kind in ("missing", "removed"):
        comment.misses = int(event.details.get("misses", comment.misses + 1))
        comment.removed_after = event.window_start
        comment.removed_before = event.window_end
        if kind == "removed":
            comment.times_removed += 1
    elif kind == "tombstoned" and event.record is not None:
        comment.tombstone_text = event.record.text[:MAX_TEXT_CHARS]
        comment.removed_after = event.window_start
        comment.removed_before = event.window_end
        comment.times_removed += 1
        comment.misses = 0
    comment.status = EVENT_STATUS.get(kind) or comment.status


@dataclass(frozen=True)
class CachedState:
    """The columns of `Comment` that cache its event log."""
    status: str
    misses: int
    removed_after: datetime | None
    removed_before: datetime | None
    edit_count: int
    times_removed: int
    times_reinstated: int

    @classmethod
    def of(cls, comment: Comment) -> CachedState:
        return cls(comment.status, comment.misses, comment.removed_after, comment.removed_before,
                   comment.edit_count, comment.times_removed, comment.times_reinstated)


def rebuild_state(session: Session, comment_id: int) -> CachedState:
    """Recompute a comment's cached columns from its events alone (the audit path):
    the events of the chain that speaks for it (see `_owns`)."""
    source = select(Comment.source).where(Comment.id == comment_id).scalar_subquery()
    events = session.execute(select(Event.kind, Event.window_start, Event.window_end, Event.details)
                             .where(Event.comment_id == comment_id, Event.source == source)
                             .order_by(Event.id)).all()
    kinds = [e.kind for e in events]
    misses, after, before = 0, None, None
    for kind, window_start, window_end, details in events:
        if kind in ("missing", "removed"):
            misses = int((details or {}).get("misses", misses + 1))
        elif kind in ("reinstated", "tombstoned"):
            misses = 0
        if kind in ("missing", "removed", "tombstoned"):
            after, before = window_start, window_end
    return CachedState(status_after(kinds), misses, after, before, kinds.count("edited"),
                       kinds.count("removed") + kinds.count("tombstoned"), kinds.count("reinstated"))


def rebuild_comment(session: Session, comment: Comment) -> str:
    """Recompute a comment's status from its events alone (the audit path)."""
    return rebuild_state(session, comment.id).status


def record_api_check(session: Session, comment: Comment, capture: Capture, at: datetime,
                     status: int | None, meaning: str, url: str) -> None:
    session.add(Event(thread_id=comment.thread_id, comment_id=comment.id, capture_id=capture.id,
                      kind="api-check", at=at,
                      details={"url": url, "http_status": status, "meaning": meaning}))
