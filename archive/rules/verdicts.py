"""The verdict engine: what one capture means for each comment (DESIGN.md's rules).

Pure: known states and one capture's view in, events and new states out; no
I/O, no database, no clock. archive/capture/ledger.py stores what it decides.

Safety first: a comment is only ever called missing or removed by a *good*
capture whose coverage includes it. Failed, suspect and gone captures change
no comment; a tombstone is the only removal a capture can show directly.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from scrapers.base import CommentRecord, Coverage

Outcome = Literal["good", "unchanged", "failed", "suspect", "gone"]
Status = Literal["visible", "missing", "removed"]
GOOD_OUTCOMES = ("good", "unchanged")

# Event kinds and the status each leaves a comment in (None: status unchanged).
EVENT_STATUS: dict[str, Status | None] = {
    "appeared": "visible",
    "edited": "visible",
    "moved": "visible",
    "reinstated": "visible",
    "missing": "missing",
    "removed": "removed",
    "tombstoned": "removed",
    "api-check": None,
}
THREAD_EVENTS = ("thread-gone", "thread-returned")


def text_hash(text: str) -> str:
    """Whitespace-insensitive hash of a comment's text: reflowed markup is not an edit."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


# Stands for the text of a comment known only by its tombstone: its words were
# never seen. Not a SHA-256, so no real text (not even an empty one) matches it.
NO_TEXT = "tombstone-only"


@dataclass(frozen=True)
class Known:
    """What the archive knows of one comment before a capture."""
    key: str
    status: Status
    text_sha256: str
    parent_key: str | None
    posted_at: datetime | None
    last_seen_at: datetime
    misses: int = 0
    first_missed_at: datetime | None = None
    tombstoned: bool = False


@dataclass(frozen=True)
class Snapshot:
    """One capture as the engine needs it."""
    outcome: Outcome
    at: datetime
    comments: tuple[CommentRecord, ...] = ()
    coverage: Coverage = "none"
    window_after: datetime | None = None
    has_tree: bool = True
    reason: str = ""

    @property
    def is_good(self) -> bool:
        return self.outcome in GOOD_OUTCOMES

    def covers(self, known: Known) -> bool:
        if not self.is_good:
            return False
        if self.coverage == "complete":
            return True
        if self.coverage == "window" and self.window_after is not None:
            # Strictly after: comments sharing the window's oldest time may have
            # been cut off by the window, so they are not judged.
            return known.posted_at is not None and known.posted_at > self.window_after
        return False


@dataclass(frozen=True)
class ThreadState:
    state: Literal["active", "gone"] = "active"
    gone_misses: int = 0


@dataclass(frozen=True)
class EventRecord:
    kind: str
    at: datetime
    key: str | None = None                 # None for thread events
    record: CommentRecord | None = None    # what the capture showed, when it showed it
    window_start: datetime | None = None   # last seen
    window_end: datetime | None = None     # first missed
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Verdict:
    events: list[EventRecord]
    known: dict[str, Known]                # every comment's state after the capture
    thread: ThreadState


def judge(known: dict[str, Known], snap: Snapshot, thread: ThreadState,
          confirm: int = 2) -> Verdict:
    """Apply one capture to what was known. `confirm` >= 1 is CONFIRM_CAPTURES."""
    if confirm < 1:
        raise ValueError("confirm must be at least 1")
    if snap.outcome == "gone":
        return _judge_gone(known, snap, thread, confirm)
    if not snap.is_good:
        return Verdict([], dict(known), thread)

    events: list[EventRecord] = []
    if thread.state == "gone":
        events.append(EventRecord("thread-returned", snap.at))
    thread = ThreadState()
    after = dict(known)
    seen: set[str] = set()
    for record in snap.comments:
        if record.key in seen:
            continue
        seen.add(record.key)
        before = known.get(record.key)
        new_events, state = _seen(before, record, snap)
        events.extend(new_events)
        after[record.key] = state
    for key, before in known.items():
        if key in seen or before.status == "removed" or not snap.covers(before):
            continue
        new_events, state = _absent(before, snap, confirm)
        events.extend(new_events)
        after[key] = state
    return Verdict(events, after, thread)


def _seen(before: Known | None, record: CommentRecord, snap: Snapshot) -> tuple[list[EventRecord], Known]:
    digest = text_hash(record.text)
    if before is None:
        parent = record.parent_key if snap.has_tree else None
        state = Known(record.key, "visible", digest, parent, record.posted_at, snap.at)
        if record.tombstone:
            # Deleted before any capture saw its text: the placeholder is the evidence.
            state = replace(state, status="removed", tombstoned=True, text_sha256=NO_TEXT)
            return [EventRecord("tombstoned", snap.at, record.key, record, None, snap.at,
                                {"first_seen_as_tombstone": True})], state
        return [EventRecord("appeared", snap.at, record.key, record)], state

    if record.tombstone:
        if before.tombstoned:
            return [], before
        state = replace(before, status="removed", tombstoned=True, misses=0, first_missed_at=None)
        return [EventRecord("tombstoned", snap.at, record.key, record, before.last_seen_at, snap.at)], state

    events: list[EventRecord] = []
    first_text = before.text_sha256 == NO_TEXT
    if before.status != "visible" or before.tombstoned:
        details: dict[str, Any] = {
            "from": "tombstone" if before.tombstoned else before.status,
            "absent_since": before.first_missed_at.isoformat() if before.first_missed_at else None}
        if first_text:
            details["first_text"] = True
        events.append(EventRecord("reinstated", snap.at, record.key, record, details=details))
    if digest != before.text_sha256 and not first_text:
        events.append(EventRecord("edited", snap.at, record.key, record))
    parent = before.parent_key
    if snap.has_tree and before.parent_key is None and record.parent_key is not None:
        # Known only from a source without a tree (a feed), or top level: platforms
        # re-parent replies upwards when a parent goes, never a comment downwards,
        # so this is the comment's place becoming known, not a move.
        parent = record.parent_key
    elif snap.has_tree and record.parent_key != before.parent_key:
        events.append(EventRecord("moved", snap.at, record.key, record, details={
            "from_parent": before.parent_key, "to_parent": record.parent_key}))
        parent = record.parent_key
    state = Known(record.key, "visible", digest, parent, before.posted_at or record.posted_at, snap.at)
    return events, state


def _absent(before: Known, snap: Snapshot, confirm: int) -> tuple[list[EventRecord], Known]:
    misses = before.misses + 1
    first_missed = before.first_missed_at or snap.at
    status: Status = "removed" if misses >= confirm else "missing"
    state = replace(before, status=status, misses=misses, first_missed_at=first_missed)
    event = EventRecord(status, snap.at, before.key, None, before.last_seen_at, first_missed,
                        {"misses": misses, "confirm": confirm})
    return [event], state


def _judge_gone(known: dict[str, Known], snap: Snapshot, thread: ThreadState, confirm: int) -> Verdict:
    if thread.state == "gone":
        return Verdict([], dict(known), thread)
    misses = thread.gone_misses + 1
    if misses >= confirm:
        event = EventRecord("thread-gone", snap.at, details={"reason": snap.reason, "misses": misses})
        return Verdict([event], dict(known), ThreadState("gone", misses))
    return Verdict([], dict(known), ThreadState("active", misses))


def replay(snapshots: Iterable[Snapshot], confirm: int = 2) -> Verdict:
    """Run a whole capture history through the engine: the audit path."""
    verdict = Verdict([], {}, ThreadState())
    for snap in snapshots:
        step = judge(verdict.known, snap, verdict.thread, confirm)
        verdict = Verdict(verdict.events + step.events, step.known, step.thread)
    return verdict


def status_after(events: Iterable[str], start: Status = "visible") -> Status:
    """A comment's status derived from its event kinds, in order."""
    status = start
    for kind in events:
        status = EVENT_STATUS.get(kind) or status
    return status
