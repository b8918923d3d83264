"""Capture jobs: the one way a thread is captured or a feed polled, whoever asks.

Every capture or poll is a `CaptureJob` row (archive/capture/queue.py), run by
`run_job` in whichever process holds it: the scheduler's pool, a Celery
worker, or the command line. `run_job` is idempotent, so a job may be handed
out twice (a broker redelivers it after its worker died, two dispatchers
raced) and still makes at most one capture:

- a job already finished is left alone;
- a job running on a worker still heard from is left to it (`JobRun.holder`);
- a job whose worker is lost is taken over;
- a job whose capture exists (`Capture.job_id`, unique) is marked done, not
  captured again.

A running job then claims its thread (or feed) with one conditional UPDATE:
a thread has at most one capture in flight, even beside older code or a
second watch. The claim token is derived from the job id, so a job run again
after its worker died retakes its own claim. The claim is a row value, not a
held lock or transaction, because a capture fetches for minutes and SQLite
has one writer; a claim older than `CLAIM_LEASE` belongs to a process that
died mid-capture.

Operators' "Capture now" and "Poll now" only mark the watch or feed as
requested; the dispatcher (or `capture --due`) queues a job for it, and the
request is cleared when that job starts.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Update, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.capture.feeds import FeedPollResult, poll_feed
from archive.capture.fetch.fetcher import Fetcher
from archive.capture.pipeline import CaptureSummary, capture_watch
from archive.capture.queue import enqueue_due, ensure_job, lost_after, worker_alive
from archive.capture.watches import is_active, state_filter
from archive.capture.workers import heard_from, job_ended, worker_name
from archive.clock import Clock, utcnow
from archive.context import ArchiveContext
from archive.errors import ArchiveError
from archive.store.models import Capture, CaptureJob, Feed, Thread, Watch
from archive.store.models import Worker as WorkerRow

log = logging.getLogger(__name__)
JOB_REASONS = ("schedule", "operator", "command line")
# Longer than the longest capture (200 pages x 5 s politeness is ~17 minutes,
# plus retries and API checks), so a live job is never taken over.
CLAIM_LEASE = timedelta(hours=1)
SKIPPED = "skipped"


@dataclass
class JobRun:
    """What `run_job` found or did."""
    job_id: int
    state: str                       # the job's state afterwards
    result: CaptureSummary | FeedPollResult | None = None   # set when this call ran it
    holder: str | None = None        # the live worker running it, when another call does
    holder_heard_at: datetime | None = None


def run_job(ctx: ArchiveContext, job_id: int, fetcher: Fetcher, worker: str,
            clock: Clock = utcnow) -> JobRun:
    """Run queued job `job_id` as worker `worker` (a `worker_name`), or say why not.
    `clock` dates a capture (see capture_watch); claims and heartbeats use wall-clock time."""
    job = _take(ctx, job_id, worker)
    if job is None:
        return _found(ctx, job_id)
    try:
        result = _capture(ctx, job, fetcher, clock) if job.kind == "capture" else _poll(ctx, job, fetcher)
    except ArchiveError as exc:  # its watch or feed was removed meanwhile
        _finish(ctx, job, worker, "failed", None, error=str(exc))
        return JobRun(job_id, "failed")
    except BaseException as exc:
        # The archive's own storage failed (or the process is stopping): nothing
        # was stored, so the job is failed, not done; the caller reports it.
        try:
            _finish(ctx, job, worker, "failed", None, error=f"{type(exc).__name__}: {exc}"[:2000])
        except Exception:
            log.exception("job %s: could not record its failure", job_id)
        raise
    state = SKIPPED if result.outcome == SKIPPED else "done"
    capture_id = result.capture_id if isinstance(result, CaptureSummary) else None
    _finish(ctx, job, worker, state, result.outcome, capture_id=capture_id)
    return JobRun(job_id, state, result)


def _take(ctx: ArchiveContext, job_id: int, worker: str) -> CaptureJob | None:
    """The job, now running on `worker`, if it was queued or its worker is lost."""
    now = utcnow()
    with ctx.db.write() as session:
        taken = session.scalar(
            update(CaptureJob).where(CaptureJob.id == job_id, or_(
                CaptureJob.state == "queued",
                (CaptureJob.state == "running") & (CaptureJob.worker != worker)
                & ~worker_alive(now - lost_after(ctx.settings))))
            .values(state="running", worker=worker, started_at=now, attempts=CaptureJob.attempts + 1)
            .returning(CaptureJob.id).execution_options(synchronize_session=False))
        if taken is None:
            heard_from(session, worker)
            return None
        heard_from(session, worker, current_job_id=job_id)
        return session.get_one(CaptureJob, job_id)


def _found(ctx: ArchiveContext, job_id: int) -> JobRun:
    with ctx.db.read_session() as session:
        job = session.get(CaptureJob, job_id)
        if job is None:
            raise ArchiveError(f"no capture job with id {job_id}")
        heard = session.scalar(select(WorkerRow.last_heard_at).where(WorkerRow.name == job.worker))
        return JobRun(job_id, job.state, holder=job.worker if job.state == "running" else None,
                      holder_heard_at=heard)


def _finish(ctx: ArchiveContext, job: CaptureJob, worker: str, state: str, outcome: str | None,
            capture_id: int | None = None, error: str | None = None) -> None:
    """End the job and release its claim in one transaction."""
    table: type[Thread] | type[Feed] = Thread if job.kind == "capture" else Feed
    with ctx.db.write() as session:
        session.execute(update(CaptureJob).where(CaptureJob.id == job.id, CaptureJob.worker == worker)
                        .values(state=state, outcome=outcome, capture_id=capture_id, error=error,
                                finished_at=utcnow()).execution_options(synchronize_session=False))
        session.execute(update(table).where(table.job_token == _token(job.id))
                        .values(job_token=None, job_started_at=None)
                        .execution_options(synchronize_session=False))
        job_ended(session, worker, job.id)


def _token(job_id: int) -> str:
    return f"job-{job_id}"


def _capture(ctx: ArchiveContext, job: CaptureJob, fetcher: Fetcher, clock: Clock) -> CaptureSummary:
    with ctx.db.read_session() as session:
        watch = session.get(Watch, job.target_id)
        if watch is None:
            raise ArchiveError(f"no watch with id {job.target_id}")
        thread_id, url = watch.thread_id, watch.thread.url
        # A backlog can hold a scheduled job past its watch's pause or end.
        stale = job.reason == "schedule" and not is_active(watch, utcnow())
        done = _stored_capture(session, job, url)
    if done is not None:
        return done
    if stale:
        return CaptureSummary(job.target_id, url, SKIPPED, "paused or ended since it was queued")
    done_request = update(Watch).where(Watch.id == job.target_id).values(capture_requested_at=None)
    if not _claim(ctx, Thread, thread_id, _token(job.id), done_request):
        log.info("%s capture of watch %s skipped: already being captured", job.reason, job.target_id)
        return CaptureSummary(job.target_id, url, SKIPPED, "already being captured")
    try:
        return capture_watch(ctx, job.target_id, fetcher, clock, job_id=job.id)
    except IntegrityError:
        # A worker taken for lost stored this job's capture after all (it was
        # only cut off): that capture stands, and this run made none.
        with ctx.db.read_session() as session:
            found = _stored_capture(session, job, url)
        if found is None:
            raise
        return found


def _stored_capture(session: Session, job: CaptureJob, url: str) -> CaptureSummary | None:
    """The summary of the capture this job already made, if a run of it got that far."""
    capture = session.scalar(select(Capture).where(Capture.job_id == job.id))
    if capture is None:
        return None
    log.info("job %s already made capture %s; not capturing again", job.id, capture.id)
    return CaptureSummary(job.target_id, url, capture.outcome, capture.reason or "",
                          capture.comments_found, capture.id)


def _poll(ctx: ArchiveContext, job: CaptureJob, fetcher: Fetcher) -> FeedPollResult:
    with ctx.db.read_session() as session:
        url = session.scalar(select(Feed.url).where(Feed.id == job.target_id))
    if url is None:
        raise ArchiveError(f"no feed with id {job.target_id}")
    done_request = update(Feed).where(Feed.id == job.target_id).values(poll_requested_at=None)
    if not _claim(ctx, Feed, job.target_id, _token(job.id), done_request):
        log.info("%s poll of feed %s skipped: already being polled", job.reason, job.target_id)
        return FeedPollResult(job.target_id, url, SKIPPED, "already being polled")
    return poll_feed(ctx, job.target_id, fetcher)


def _claim(ctx: ArchiveContext, table: type[Thread] | type[Feed], row_id: int, token: str,
           also: Update) -> bool:
    """Whether this job now owns the row (or already did); `also` runs in the same transaction.
    On PostgreSQL a second UPDATE waits for the first and re-checks the condition;
    SQLite's writers run one at a time: either way one claimant wins."""
    now = utcnow()
    with ctx.db.write() as session:
        won = session.scalar(
            update(table).where(table.id == row_id, or_(table.job_token.is_(None), table.job_token == token,
                                                          table.job_started_at < now - CLAIM_LEASE))
            .values(job_token=token, job_started_at=now).returning(table.id)
            .execution_options(synchronize_session=False))
        if won is None:
            return False
        session.execute(also.execution_options(synchronize_session=False))
    return True


def _check_reason(reason: str) -> None:
    if reason not in JOB_REASONS:
        raise ValueError(f"unknown job reason {reason!r}")


def run_capture_job(ctx: ArchiveContext, watch_id: int, fetcher: Fetcher, reason: str,
                    clock: Clock = utcnow) -> CaptureSummary:
    """Capture a watch's thread now in this process, through its job (queued now if it
    has none), or skip (no capture row) if it is already being captured. `clock`
    dates the capture (see capture_watch)."""
    _check_reason(reason)
    with ctx.db.read_session() as session:
        watch = session.get(Watch, watch_id)
        if watch is None:
            raise ArchiveError(f"no watch with id {watch_id}")
        url = watch.thread.url
    run = run_job(ctx, ensure_job(ctx, "capture", watch_id, reason), fetcher, worker_name("embedded"), clock)
    if isinstance(run.result, CaptureSummary):
        return run.result
    return CaptureSummary(watch_id, url, SKIPPED, "already being captured")


def run_feed_job(ctx: ArchiveContext, feed_id: int, fetcher: Fetcher, reason: str) -> FeedPollResult:
    """Poll a feed now in this process, through its job, or skip if it is already being polled."""
    _check_reason(reason)
    with ctx.db.read_session() as session:
        url = session.scalar(select(Feed.url).where(Feed.id == feed_id))
    if url is None:
        raise ArchiveError(f"no feed with id {feed_id}")
    run = run_job(ctx, ensure_job(ctx, "poll", feed_id, reason), fetcher, worker_name("embedded"))
    if isinstance(run.result, FeedPollResult):
        return run.result
    return FeedPollResult(feed_id, url, SKIPPED, "already being polled")


def _queued(ctx: ArchiveContext, kind: str) -> list[int]:
    with ctx.db.read_session() as session:
        return list(session.scalars(select(CaptureJob.target_id).where(
            CaptureJob.kind == kind, CaptureJob.state == "queued").order_by(CaptureJob.id)))


def due_watches(ctx: ArchiveContext, reason: str, now: datetime | None = None) -> list[int]:
    """Queue a job for each due watch (and each an operator asked for), and return
    the ids of the watches whose jobs are queued, oldest job first."""
    enqueue_due(ctx, reason, now)
    return _queued(ctx, "capture")


def poll_due_feeds(ctx: ArchiveContext, fetcher: Fetcher, reason: str,
                   now: datetime | None = None) -> list[FeedPollResult]:
    """Poll every due, unpaused feed and every feed an operator asked to poll, once, here."""
    enqueue_due(ctx, reason, now)
    return [run_feed_job(ctx, feed_id, fetcher, reason) for feed_id in _queued(ctx, "poll")]


def capture_round(ctx: ArchiveContext, fetcher: Fetcher,
                  progress: Callable[[int, int, CaptureSummary], None] | None = None,
                  now: datetime | None = None, *, every_active: bool = False) -> list[CaptureSummary]:
    """Poll due feeds, then capture every due watch once, one after another, here;
    with `every_active`, capture every active watch instead, due or not, and
    leave the feeds alone. One fetcher serves the whole round, so each host
    still gets its delay between requests. `progress(done, total, summary)`
    is called after each capture."""
    reason = "command line"
    if every_active:
        with ctx.db.read_session() as session:
            watch_ids = list(session.scalars(
                select(Watch.id).where(*state_filter("active", now or utcnow())).order_by(Watch.id)))
    else:
        poll_due_feeds(ctx, fetcher, reason, now)
        watch_ids = due_watches(ctx, reason, now)
    summaries = []
    for done, watch_id in enumerate(watch_ids, start=1):
        summary = run_capture_job(ctx, watch_id, fetcher, reason)
        summaries.append(summary)
        if progress:
            progress(done, len(watch_ids), summary)
    return summaries
