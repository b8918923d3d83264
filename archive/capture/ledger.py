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

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
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


def load_comments(session: Session, thread_id: int) -> dict[str, Comment]:
    """A thread's comments by key, with their versions: read once per capture."""
    return {c.key: c for c in session.scalars(
        select(Comment).where(Comment.thread_id == thread_id)
        .options(selectinload(Comment.versions))).all()}


def load_known(session: Session, thread_id: int,
               comments: dict[str, Comment] | None = None, source: str = "live") -> dict[str, Known]:
    """What the `source` chain knows of the thread's comments."""
    if comments is None:
        comments = load_comments(session, thread_id)
    return {key: _known(c) for key, c in comments.items() if c.source == source}


def _known(comment: Comment) -> Known:
    return Known(
        key=comment.key, status=comment.status,  # type: ignore[arg-type]
        text_sha256=comment.current.text_sha256, parent_key=comment.parent_key,
        posted_at=comment.posted_at, last_seen_at=comment.last_seen_at,
        misses=comment.misses,
        first_missed_at=comment.removed_before if comment.misses else None,
        tombstoned=comment.tombstone_text is not None and comment.status == "removed")


def thread_state(thread: Thread) -> ThreadState:
    return ThreadState(thread.state, thread.gone_misses)  # type: ignore[arg-type]


def apply_verdict(session: Session, thread: Thread, capture: Capture,
                  records: list[CommentRecord], verdict: Verdict, has_tree: bool = True,
                  comments: dict[str, Comment] | None = None) -> set[int]:
    """Store the verdict of one capture; returns the ids of comments it changed.
    `comments` are the thread's comments as `load_comments` gave them, if already read."""
    by_key = dict(comments) if comments is not None else load_comments(session, thread.id)
    changed: set[int] = set()
    source = capture.source or "live"
    if capture.is_good:
        for record in records:
            comment = by_key.get(record.key)
            if comment is not None and not record.tombstone and _owns(source, comment):
                comment.last_seen_at = capture.started_at
                comment.last_seen_capture_id = capture.id
                comment.position = record.position
                if has_tree and comment.parent_key is None and record.parent_key is not None:
                    # See verdicts._seen: a place in the tree becoming known is no move.
                    comment.parent_key = record.parent_key
    for event in verdict.events:
        if event.key is None:
            session.add(Event(thread_id=thread.id, capture_id=capture.id, kind=event.kind,
                              at=event.at, details=event.details or None))
            continue
        comment = by_key.get(event.key)
        if comment is None:
            comment = _new_comment(thread, capture, event)
            session.add(comment)
            by_key[event.key] = comment
        elif source == "live" and comment.source != "live" and event.kind in ("appeared", "tombstoned"):
            _adopt(comment, event, capture)
        if _owns(source, comment):
            _apply(comment, event, capture)
        session.flush()
        session.add(Event(thread_id=thread.id, comment_id=comment.id, capture_id=capture.id,
                          kind=event.kind, source=source, at=event.at, window_start=event.window_start,
                          window_end=event.window_end, details=event.details or None))
        changed.add(comment.id)
    if source == "live":
        thread.state = verdict.thread.state
        thread.gone_misses = verdict.thread.gone_misses
    return changed


def _owns(source: str, comment: Comment) -> bool:
    """May a capture of `source` change this comment's columns? Live captures
    always; snapshots only comments no live capture has seen."""
    return source == "live" or comment.source == source


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


def _new_comment(thread: Thread, capture: Capture, event: EventRecord) -> Comment:
    record = event.record
    assert record is not None, "a new comment always arrives with the record that showed it"
    comment = Comment(thread=thread, key=record.key, parent_key=record.parent_key,
                      position=record.position, author=record.author[:512],
                      author_url=(record.author_url or None) and record.author_url[:2000],
                      posted_at=record.posted_at, first_seen_at=capture.started_at,
                      last_seen_at=capture.started_at, last_seen_capture_id=capture.id,
                      status="visible", source=capture.source or "live")
    if record.tombstone:
        # Its words were never seen: the placeholder is kept as tombstone_text.
        _add_version(comment, replace(record, text="", html=""), capture, NO_TEXT)
    else:
        _add_version(comment, record, capture)
    return comment


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


def rebuild_comment(session: Session, comment: Comment) -> str:
    """Recompute a comment's status from its events alone (the audit path):
    the events of the chain that speaks for it (see `_owns`)."""
    kinds = session.scalars(select(Event.kind).where(Event.comment_id == comment.id,
                                                     Event.source == comment.source)
                            .order_by(Event.id)).all()
    return status_after(kinds)


def record_api_check(session: Session, comment: Comment, capture: Capture, at: datetime,
                     status: int | None, meaning: str, url: str) -> None:
    session.add(Event(thread_id=comment.thread_id, comment_id=comment.id, capture_id=capture.id,
                      kind="api-check", at=at,
                      details={"url": url, "http_status": status, "meaning": meaning}))
