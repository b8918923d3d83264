"""The archive's tables, as typed SQLAlchemy 2 models.

Schema changes go through Alembic (`archive/store/migrations/`): change a model,
then add a revision. Comment statuses are a cache of the event log: the
`events` table is the record, `Comment.status` and its counters can be rebuilt
from it (`archive.ledger.rebuild_comment`).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    select,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from archive.clock import utcnow

# The largest id any table can hold: ids are INTEGER, 32 bits on PostgreSQL,
# which refuses a larger number outright (SQLite allows 64 bits, but one
# archive must answer the same on both).
MAX_ID = 2**31 - 1


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime()}


class Site(Base):
    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    threads: Mapped[list[Thread]] = relationship(back_populates="site")


class Thread(Base):
    """One article's comment section, known by its canonical URL."""
    __tablename__ = "threads"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    title: Mapped[str] = mapped_column(Text, default="")
    adapter: Mapped[str | None] = mapped_column(String(64))
    # The platform's id for the article (WordPress post id), when known.
    platform_id: Mapped[str | None] = mapped_column(String(64))
    # 'active' or 'gone' (404/410 confirmed); see verdict rule 6.
    state: Mapped[str] = mapped_column(String(16), default="active")
    gone_misses: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The capture job in flight, if any (archive/capture/jobs.py): at most one per thread.
    job_token: Mapped[str | None] = mapped_column(String(32))
    job_started_at: Mapped[datetime | None]
    site: Mapped[Site] = relationship(back_populates="threads")
    comments: Mapped[list[Comment]] = relationship(back_populates="thread")
    captures: Mapped[list[Capture]] = relationship(back_populates="thread")


class Feed(Base):
    """A site's article feed, polled to discover new threads to watch."""
    __tablename__ = "feeds"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    title: Mapped[str] = mapped_column(Text, default="")
    interval_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    watch_for_seconds: Mapped[int] = mapped_column(Integer, default=14 * 86400)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    next_due_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_polled_at: Mapped[datetime | None]
    last_outcome: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The schedule of the watches this feed creates; None: archive.feeds' defaults.
    watch_interval_seconds: Mapped[int | None] = mapped_column(Integer)
    watch_early_interval_seconds: Mapped[int | None] = mapped_column(Integer)
    watch_early_seconds: Mapped[int | None] = mapped_column(Integer)
    # An operator's "Poll now", waiting for the dispatcher; the poll job in flight, if any.
    poll_requested_at: Mapped[datetime | None]
    job_token: Mapped[str | None] = mapped_column(String(32))
    job_started_at: Mapped[datetime | None]


class FeedEntry(Base):
    """An article a feed has announced; kept so it is watched only once."""
    __tablename__ = "feed_entries"
    __table_args__ = (UniqueConstraint("feed_id", "url"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(Text, default="")
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    watch_id: Mapped[int | None] = mapped_column(ForeignKey("watches.id", ondelete="SET NULL"))


class Watch(Base):
    """An operator's order to capture one thread URL on a schedule."""
    __tablename__ = "watches"
    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    # None: chosen from the page at each capture.
    adapter: Mapped[str | None] = mapped_column(String(64))
    interval_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    # Feed-discovered watches tighten early and loosen later: the first
    # `early_seconds` of the watch use `early_interval_seconds`.
    early_interval_seconds: Mapped[int | None] = mapped_column(Integer)
    early_seconds: Mapped[int | None] = mapped_column(Integer)
    until: Mapped[datetime | None]
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    next_due_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_capture_at: Mapped[datetime | None]
    last_outcome: Mapped[str | None] = mapped_column(String(16))
    last_reason: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"))
    # The adapter's options as its `validate_options` cleaned them (generic-css's selectors, say).
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # An operator's "Capture now", waiting for the dispatcher (cleared when the job starts).
    capture_requested_at: Mapped[datetime | None]
    thread: Mapped[Thread] = relationship()


class Blob(Base):
    """A response body, stored once under its SHA-256 (see archive.evidence)."""
    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    stored_size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Capture(Base):
    """One attempt to read a whole thread, with its outcome.

    outcome: 'good' (every page fetched and recognised), 'unchanged' (a 304:
    good, same bytes as before), 'failed' (fetch error, 4xx/5xx, robots),
    'suspect' (fetched, but the page cannot be trusted), 'gone' (404/410 on
    the thread itself). Only good and unchanged captures are diffed.
    """
    __tablename__ = "captures"
    __table_args__ = (Index("ix_captures_thread_started", "thread_id", "started_at"),
                      # One capture per place in a thread's chain: two writers that both
                      # read the same previous capture cannot both be stored (a fork).
                      # Live captures and web-archive snapshots form two chains, never one.
                      UniqueConstraint("thread_id", "source", "seq", name="uq_captures_thread_source_seq"))
    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"))
    # 'live' (the archive fetched the site) or 'backfill' (a web archive's snapshot).
    source: Mapped[str] = mapped_column(String(16), default="live", server_default="live")
    # 1, 2, 3, ... per thread and source, given at insert by `_number_captures`; the hash chain's order.
    seq: Mapped[int] = mapped_column(Integer)
    watch_id: Mapped[int | None] = mapped_column(ForeignKey("watches.id", ondelete="SET NULL"))
    adapter: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    # 'complete', 'window' or 'none' (nothing seen).
    coverage: Mapped[str] = mapped_column(String(16), default="none")
    # For a window: {"after": iso time} (comments posted strictly after it are covered).
    coverage_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    comments_found: Mapped[int] = mapped_column(Integer, default=0)
    # What the page itself claimed ("6 Responses"), when it says.
    comments_claimed: Mapped[int | None] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    # The job that made it (archive/capture/jobs.py): a job run again after its
    # worker died finds its capture here instead of making a second one.
    job_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    # Hash chain over captures (archive.evidence): tampering is detectable.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    record_hash: Mapped[str | None] = mapped_column(String(64))
    # How it fetched: 'http' (each page the adapter asked for) or 'browser' (the page loaded in Chromium).
    fetch_mode: Mapped[str] = mapped_column(String(8), default="http", server_default="http")
    # A browser capture's secondary evidence (archive/capture/browser_capture.py):
    # the page's final DOM (UTF-8 HTML, hostile) and a PNG screenshot.
    dom_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256", name="fk_captures_dom_sha256"))
    screenshot_sha256: Mapped[str | None] = mapped_column(
        ForeignKey("blobs.sha256", name="fk_captures_screenshot_sha256"))
    thread: Mapped[Thread] = relationship(back_populates="captures")
    exchanges: Mapped[list[Exchange]] = relationship(
        back_populates="capture", order_by="Exchange.seq", cascade="all, delete-orphan")

    @property
    def is_good(self) -> bool:
        return self.outcome in ("good", "unchanged")


@event.listens_for(Session, "before_flush")
def _number_captures(session: Session, _context: object, _instances: object) -> None:
    """Number each new capture after its thread's newest one of the same source,
    in the flushing transaction. A concurrent writer that read the same newest
    capture then fails on uq_captures_thread_source_seq instead of forking the chain."""
    following: dict[tuple[object, str], int] = {}
    for capture in [c for c in session.new if isinstance(c, Capture) and c.seq is None]:
        thread_id = capture.thread_id if capture.thread_id is not None else capture.thread.id
        source = capture.source or "live"
        capture.source = source
        # A thread flushed along with its captures has none stored yet.
        key = (thread_id if thread_id is not None else capture.thread, source)
        if key not in following:
            following[key] = 1 if thread_id is None else (session.scalar(
                select(func.max(Capture.seq)).where(Capture.thread_id == thread_id,
                                                    Capture.source == source)) or 0) + 1
        capture.seq = following[key]
        following[key] += 1


class Exchange(Base):
    """One HTTP request/response a capture needed; the body is a Blob."""
    __tablename__ = "exchanges"
    id: Mapped[int] = mapped_column(primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(8), default="GET")
    url: Mapped[str] = mapped_column(String(2000))
    final_url: Mapped[str] = mapped_column(String(2000), default="")
    status: Mapped[int | None] = mapped_column(Integer)
    request_headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Every line as [name, value], in order (archive/store/headers.py); a mapping in older captures.
    response_headers: Mapped[list[list[str]] | dict[str, Any]] = mapped_column(JSON, default=list)
    # [{"url":..., "status":...}, ...] for each redirect followed.
    redirects: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    body_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    # The body the request carried (a browser capture's POST), when it had one.
    request_body_sha256: Mapped[str | None] = mapped_column(
        ForeignKey("blobs.sha256", name="fk_exchanges_request_body_sha256"))
    # Where a backfilled body came from: {"archive", "snapshot_url", "timestamp", "digest"}.
    provenance: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A 304 reuses the body of the earlier exchange it validated.
    reused_body: Mapped[bool] = mapped_column(Boolean, default=False)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    elapsed_ms: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    capture: Mapped[Capture] = relationship(back_populates="exchanges")


class Comment(Base):
    """A comment as the archive knows it; status fields cache the event log."""
    __tablename__ = "comments"
    __table_args__ = (UniqueConstraint("thread_id", "key"),
                      Index("ix_comments_status", "status"))
    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"))
    # The platform's stable id ('123' for WordPress comment-123), or 'fp:<hash>'.
    key: Mapped[str] = mapped_column(String(128))
    parent_key: Mapped[str | None] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer, default=0)
    author: Mapped[str] = mapped_column(String(512), default="")
    author_url: Mapped[str | None] = mapped_column(String(2000))
    posted_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="visible")
    # 'live' once a live capture has seen it; 'backfill' while only web-archive
    # snapshots have: its status then comes from those snapshots alone.
    source: Mapped[str] = mapped_column(String(16), default="live", server_default="live")
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id"))
    # Consecutive good captures that covered it and did not show it.
    misses: Mapped[int] = mapped_column(Integer, default=0)
    # The removal window (last seen, first missed] of the latest disappearance.
    removed_after: Mapped[datetime | None]
    removed_before: Mapped[datetime | None]
    edit_count: Mapped[int] = mapped_column(Integer, default=0)
    times_removed: Mapped[int] = mapped_column(Integer, default=0)
    times_reinstated: Mapped[int] = mapped_column(Integer, default=0)
    tombstone_text: Mapped[str | None] = mapped_column(Text)
    redacted: Mapped[bool] = mapped_column(Boolean, default=False)
    redaction_reason: Mapped[str | None] = mapped_column(Text)
    thread: Mapped[Thread] = relationship(back_populates="comments")
    versions: Mapped[list[CommentVersion]] = relationship(
        back_populates="comment", order_by="CommentVersion.seq", cascade="all, delete-orphan")

    @property
    def current(self) -> CommentVersion:
        return self.versions[-1]


class CommentVersion(Base):
    """One distinct text of a comment; an edit adds a version."""
    __tablename__ = "comment_versions"
    __table_args__ = (UniqueConstraint("comment_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    # The comment's HTML as the page served it: hostile, sanitise before display.
    html: Mapped[str] = mapped_column(Text, default="")
    text_sha256: Mapped[str] = mapped_column(String(64))
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id"))
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    comment: Mapped[Comment] = relationship(back_populates="versions")


class Event(Base):
    """A transition: appeared, edited, moved, missing, removed, reinstated,
    tombstoned, thread-gone, thread-returned, api-check."""
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_kind_at", "kind", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id"))
    kind: Mapped[str] = mapped_column(String(24))
    # The chain that decided it: 'live' or 'backfill' (the capture's source).
    source: Mapped[str] = mapped_column(String(16), default="live", server_default="live")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # For missing/removed: the window (last seen, first missed].
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    password_hash: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    # Carried in each login session; bumping it (logout, password change) ends them all.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AuditEntry(Base):
    """Every operator action: who, what, when, why."""
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(256), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class CaptureJob(Base):
    """One request to capture a watch's thread or poll a feed, from queueing to its end.

    kind: 'capture' (target_id is a watch id) or 'poll' (a feed id).
    state: 'queued', 'running', 'done', 'skipped' (the target was already
    being worked on) or 'failed' (the job itself broke; a failed capture is
    still a 'done' job with outcome 'failed'). A running job whose worker has
    not been heard from lately belongs to a dead worker.
    """
    __tablename__ = "capture_jobs"
    __table_args__ = (
        Index("ix_capture_jobs_state_target", "state", "kind", "target_id"),
        # At most one queued or running job per watch or feed, whoever queues it.
        Index("uq_capture_jobs_active", "kind", "target_id", unique=True,
              postgresql_where=sql_text("state IN ('queued', 'running')"),
              sqlite_where=sql_text("state IN ('queued', 'running')")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # The worker (Worker.name) running it, or that ran it last.
    worker: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id", ondelete="SET NULL"))
    # When a dispatcher last handed it to an executor (a Celery message, the
    # embedded pool); None while it waits for one.
    sent_at: Mapped[datetime | None]


class Worker(Base):
    """A process that runs capture jobs, as it last reported itself (heartbeats)."""
    __tablename__ = "workers"
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    # 'embedded' (the scheduler's pool) or 'celery'.
    executor: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_heard_at: Mapped[datetime] = mapped_column(default=utcnow)
    current_job_id: Mapped[int | None] = mapped_column(Integer)


class HostSlot(Base):
    """Fleet-wide politeness without a broker: the earliest time the next
    request to a host may start, reserved atomically by whichever worker asks."""
    __tablename__ = "host_slots"
    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    next_at: Mapped[datetime] = mapped_column()


class BackfillRun(Base):
    """One request to rebuild a thread's past from a web archive (archive/backfill/).

    state: 'queued' (an operator asked; the dispatcher runs it), 'running',
    'done', 'stopped' (the archive asked us to wait, or the run was cut short:
    running it again resumes after `cursor`) or 'failed' (with `message`).
    `chain_state` is the backfill chain's verdict state after its last stored
    snapshot, so a resumed run goes on judging where it stopped.
    """
    __tablename__ = "backfill_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), index=True)
    # 'cdx' (a CDX server and its replay) or 'warc' (a local file or folder).
    source_kind: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(2000))
    date_from: Mapped[datetime | None]
    date_to: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16), default="queued")
    requested_by: Mapped[str] = mapped_column(String(128), default="")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    # Touched after each stored snapshot: a 'running' run that stays silent was left by a dead process.
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    snapshots_listed: Mapped[int] = mapped_column(Integer, default=0)
    snapshots_done: Mapped[int] = mapped_column(Integer, default=0)
    # The order key of the last snapshot stored (archive/backfill/cdx.py).
    cursor: Mapped[str | None] = mapped_column(String(128))
    chain_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    message: Mapped[str] = mapped_column(Text, default="")
    thread: Mapped[Thread] = relationship()
