"""Capture jobs as rows (`capture_jobs`): what is queued, who runs what, what a dead worker left.

A job is queued once per watch or feed at a time: a partial unique index
allows one 'queued' or 'running' job per target, and every insert here is
`ON CONFLICT DO NOTHING`, so the dispatcher, `capture --due` and twenty
operators pressing "Capture now" at once still make one job. Workers report
themselves in `workers` (archive/capture/workers.py); a running job whose
worker has been silent for `LOST_HEARTBEATS` heartbeats belongs to a dead
worker, and `take_over_lost` queues it again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from archive.capture.watches import is_active
from archive.clock import utcnow
from archive.context import ArchiveContext
from archive.settings import Settings
from archive.store.db import dialect_insert
from archive.store.models import CaptureJob, Feed, Thread, Watch
from archive.store.models import Worker as WorkerRow

ACTIVE = ("queued", "running")
FINISHED = ("done", "skipped", "failed")
KINDS = ("capture", "poll")
LOST_HEARTBEATS = 4
# Finished jobs are history for the health page, not evidence: captures keep their job id.
KEEP_FINISHED = timedelta(days=14)
SLICE = 1000


def lost_after(settings: Settings) -> timedelta:
    """How long a worker may stay silent before its running jobs are taken as orphaned."""
    return timedelta(seconds=settings.heartbeat_seconds * LOST_HEARTBEATS)


def worker_alive(cutoff: datetime) -> ColumnElement[bool]:
    """SQL: the job's worker has been heard from since `cutoff`."""
    return exists().where(WorkerRow.name == CaptureJob.worker, WorkerRow.last_heard_at >= cutoff)


def job_host(url: str) -> str:
    """The politeness key of a job: its URL's host name, lower-case, without port
    (the fetcher's per-host delay uses the same key)."""
    return (urlsplit(url).hostname or "").lower()


def enqueue(session: Session, kind: str, targets: list[tuple[int, str]], now: datetime) -> None:
    """Queue a job for each (target id, reason) that has no queued or running job yet."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    if not targets:
        return
    rows = [{"kind": kind, "target_id": target_id, "reason": reason, "state": "queued",
             "queued_at": now, "attempts": 0} for target_id, reason in targets]
    session.execute(dialect_insert(session, CaptureJob).on_conflict_do_nothing(), rows)


def ensure_job(ctx: ArchiveContext, kind: str, target_id: int, reason: str) -> int:
    """The id of the target's queued or running job, queued now if there is none."""
    for _ in range(3):
        # One transaction: on PostgreSQL (read committed) the SELECT sees the row
        # a concurrent insert won with; SQLite's writer sees everything.
        with ctx.db.write() as session:
            enqueue(session, kind, [(target_id, reason)], utcnow())
            found = session.scalar(select(CaptureJob.id).where(
                CaptureJob.kind == kind, CaptureJob.target_id == target_id, CaptureJob.state.in_(ACTIVE)))
        if found is not None:
            return found
    # Three jobs finished between our insert and our read: not a queue that answers sensibly.
    raise RuntimeError(f"could not queue a {kind} job for {target_id}")


def enqueue_due(ctx: ArchiveContext, reason: str, now: datetime | None = None) -> None:
    """Queue a job for each due feed and watch, and each one an operator asked for,
    unless it already has one; operators' requests first."""
    now = now or utcnow()
    no_job = ~exists().where(CaptureJob.target_id == Feed.id, CaptureJob.kind == "poll",
                             CaptureJob.state.in_(ACTIVE))
    with ctx.db.read_session() as session:
        feeds = [(feed_id, "operator" if requested else reason) for feed_id, requested in session.execute(
            select(Feed.id, Feed.poll_requested_at).where(no_job, or_(
                and_(Feed.next_due_at <= now, Feed.paused.is_(False)), Feed.poll_requested_at.is_not(None)))
            .order_by(Feed.poll_requested_at.is_(None), Feed.next_due_at))]
        no_job = ~exists().where(CaptureJob.target_id == Watch.id, CaptureJob.kind == "capture",
                                 CaptureJob.state.in_(ACTIVE))
        watches = session.scalars(select(Watch).where(no_job, or_(
            Watch.next_due_at <= now, Watch.capture_requested_at.is_not(None)))
            .order_by(Watch.capture_requested_at.is_(None), Watch.next_due_at)).all()
        captures = [(w.id, "operator" if w.capture_requested_at else reason) for w in watches
                    if w.capture_requested_at or is_active(w, now)]
    with ctx.db.write() as session:
        enqueue(session, "poll", feeds, now)
        enqueue(session, "capture", captures, now)


def take_over_lost(ctx: ArchiveContext, now: datetime | None = None) -> int:
    """Queue again every running job whose worker is lost; how many there were.
    The job keeps its id, so its next run retakes its own thread claim and finds
    any capture the dead worker managed to store."""
    now = now or utcnow()
    cutoff = now - lost_after(ctx.settings)
    with ctx.db.write() as session:
        lost = session.scalars(
            update(CaptureJob).where(CaptureJob.state == "running", ~worker_alive(cutoff))
            .values(state="queued", sent_at=None, error="its worker was lost; queued again")
            .returning(CaptureJob.id).execution_options(synchronize_session=False)).all()
    return len(lost)


@dataclass(frozen=True)
class QueuedJob:
    id: int
    kind: str
    target_id: int
    host: str
    sent_at: datetime | None


def queued_jobs(ctx: ArchiveContext, limit: int = 50_000) -> list[QueuedJob]:
    """Queued jobs, oldest first, with the host each will fetch from."""
    with ctx.db.read_session() as session:
        captures = session.execute(
            select(CaptureJob.id, CaptureJob.kind, CaptureJob.target_id, Thread.url, CaptureJob.sent_at)
            .join(Watch, and_(CaptureJob.kind == "capture", Watch.id == CaptureJob.target_id))
            .join(Thread, Thread.id == Watch.thread_id)
            .where(CaptureJob.state == "queued").order_by(CaptureJob.id).limit(limit)).all()
        polls = session.execute(
            select(CaptureJob.id, CaptureJob.kind, CaptureJob.target_id, Feed.url, CaptureJob.sent_at)
            .join(Feed, and_(CaptureJob.kind == "poll", Feed.id == CaptureJob.target_id))
            .where(CaptureJob.state == "queued").order_by(CaptureJob.id).limit(limit)).all()
    return sorted((QueuedJob(job_id, kind, target, job_host(url), sent)
                   for job_id, kind, target, url, sent in [*captures, *polls]), key=lambda j: j.id)


def orphaned_jobs_fail(ctx: ArchiveContext, now: datetime | None = None) -> None:
    """Queued jobs whose watch or feed was removed meanwhile end as failed."""
    now = now or utcnow()
    gone_watch = and_(CaptureJob.kind == "capture", ~exists().where(Watch.id == CaptureJob.target_id))
    gone_feed = and_(CaptureJob.kind == "poll", ~exists().where(Feed.id == CaptureJob.target_id))
    with ctx.db.write() as session:
        session.execute(update(CaptureJob).where(CaptureJob.state == "queued", or_(gone_watch, gone_feed))
                        .values(state="failed", finished_at=now, error="its watch or feed was removed")
                        .execution_options(synchronize_session=False))


def mark_sent(ctx: ArchiveContext, job_ids: list[int], now: datetime | None = None) -> None:
    now = now or utcnow()
    with ctx.db.write() as session:
        # In slices: SQLite takes at most 32,766 values in one statement.
        for start in range(0, len(job_ids), SLICE):
            session.execute(update(CaptureJob).where(CaptureJob.id.in_(job_ids[start:start + SLICE]),
                                                     CaptureJob.state == "queued")
                            .values(sent_at=now).execution_options(synchronize_session=False))


def prune(ctx: ArchiveContext, now: datetime | None = None) -> None:
    """Forget finished jobs after `KEEP_FINISHED`, and workers silent that long."""
    before = (now or utcnow()) - KEEP_FINISHED
    with ctx.db.write() as session:
        session.execute(delete(CaptureJob).where(CaptureJob.state.in_(FINISHED), CaptureJob.finished_at < before))
        session.execute(delete(WorkerRow).where(WorkerRow.last_heard_at < before))
