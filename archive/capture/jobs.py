"""Capture jobs: the one way a thread is captured or a feed polled, whoever asks.

A job first claims its thread (or feed) with one conditional UPDATE, and
gives up at once when another job, in this process or any other sharing the
database, holds the claim: a thread has at most one capture in flight. The
claim is a row value, not a held lock or transaction, because a capture
fetches for minutes and SQLite has one writer. A claim older than
`CLAIM_LEASE` is taken to belong to a process that died mid-capture.

Operators' "Capture now" and "Poll now" only mark the watch or feed as
requested; the dispatcher (or `capture --due`) treats it as due, and the
request is cleared when a job starts.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import uuid4

from sqlalchemy import Update, or_, select, update

from archive.capture.feeds import FeedPollResult, due_feed_ids, poll_feed
from archive.capture.fetch.fetcher import Fetcher
from archive.capture.pipeline import CaptureSummary, capture_watch
from archive.capture.watches import is_active, state_filter
from archive.clock import Clock, utcnow
from archive.context import ArchiveContext
from archive.errors import ArchiveError
from archive.store.models import Feed, Thread, Watch

log = logging.getLogger(__name__)
JOB_REASONS = ("schedule", "operator", "command line")
# Longer than the longest capture (200 pages x 5 s politeness is ~17 minutes,
# plus retries and API checks), so a live job is never taken over.
CLAIM_LEASE = timedelta(hours=1)
SKIPPED = "skipped"


def run_capture_job(ctx: ArchiveContext, watch_id: int, fetcher: Fetcher, reason: str,
                    clock: Clock = utcnow) -> CaptureSummary:
    """Capture a watch's thread now, or skip (no capture row) if it is already being captured.
    `clock` dates the capture (see capture_watch); the claim's lease is always wall-clock time."""
    _check_reason(reason)
    with ctx.db.read_session() as session:
        watch = session.get(Watch, watch_id)
        if watch is None:
            raise ArchiveError(f"no watch with id {watch_id}")
        thread_id, url = watch.thread_id, watch.thread.url
    done_request = update(Watch).where(Watch.id == watch_id).values(capture_requested_at=None)
    token = _claim(ctx, Thread, thread_id, done_request)
    if token is None:
        log.info("%s capture of watch %s skipped: already being captured", reason, watch_id)
        return CaptureSummary(watch_id, url, SKIPPED, "already being captured")
    try:
        return capture_watch(ctx, watch_id, fetcher, clock)
    finally:
        _release(ctx, Thread, thread_id, token)


def run_feed_job(ctx: ArchiveContext, feed_id: int, fetcher: Fetcher, reason: str,
                 now: datetime | None = None) -> FeedPollResult:
    """Poll a feed now, or skip if it is already being polled."""
    _check_reason(reason)
    with ctx.db.read_session() as session:
        url = session.scalar(select(Feed.url).where(Feed.id == feed_id))
    if url is None:
        raise ArchiveError(f"no feed with id {feed_id}")
    done_request = update(Feed).where(Feed.id == feed_id).values(poll_requested_at=None)
    token = _claim(ctx, Feed, feed_id, done_request)
    if token is None:
        log.info("%s poll of feed %s skipped: already being polled", reason, feed_id)
        return FeedPollResult(feed_id, url, SKIPPED, "already being polled")
    try:
        return poll_feed(ctx, feed_id, fetcher, now)
    finally:
        _release(ctx, Feed, feed_id, token)


def _check_reason(reason: str) -> None:
    if reason not in JOB_REASONS:
        raise ValueError(f"unknown job reason {reason!r}")


def _claim(ctx: ArchiveContext, table: type[Thread] | type[Feed], row_id: int, also: Update) -> str | None:
    """A token if this job now owns the row, else None; `also` runs in the same transaction.
    On PostgreSQL a second UPDATE waits for the first and re-checks the condition;
    SQLite's writers run one at a time: either way one claimant wins."""
    token, now = uuid4().hex, utcnow()
    with ctx.db.write() as session:
        won = session.scalar(
            update(table).where(table.id == row_id, or_(table.job_token.is_(None),
                                                          table.job_started_at < now - CLAIM_LEASE))
            .values(job_token=token, job_started_at=now).returning(table.id)
            .execution_options(synchronize_session=False))
        if won is None:
            return None
        session.execute(also.execution_options(synchronize_session=False))
    return token


def _release(ctx: ArchiveContext, table: type[Thread] | type[Feed], row_id: int, token: str) -> None:
    with ctx.db.write() as session:
        session.execute(update(table).where(table.id == row_id, table.job_token == token)
                        .values(job_token=None, job_started_at=None)
                        .execution_options(synchronize_session=False))


def due_watches(ctx: ArchiveContext, reason: str, now: datetime | None = None) -> list[tuple[int, str]]:
    """(watch id, reason) for each active watch whose time has come, and each watch
    an operator asked to capture (paused or not: they asked), requests first."""
    now = now or utcnow()
    with ctx.db.read_session() as session:
        watches = session.scalars(select(Watch).where(or_(
            Watch.next_due_at <= now, Watch.capture_requested_at.is_not(None)))
            .order_by(Watch.capture_requested_at.is_(None), Watch.next_due_at)).all()
        return [(w.id, "operator" if w.capture_requested_at else reason) for w in watches
                if w.capture_requested_at or is_active(w, now)]


def poll_due_feeds(ctx: ArchiveContext, fetcher: Fetcher, reason: str,
                   now: datetime | None = None) -> list[FeedPollResult]:
    """Poll every due, unpaused feed and every feed an operator asked to poll, once."""
    now = now or utcnow()
    return [run_feed_job(ctx, feed_id, fetcher, "operator" if requested else reason, now)
            for feed_id, requested in due_feed_ids(ctx, now)]


def capture_round(ctx: ArchiveContext, fetcher: Fetcher,
                  progress: Callable[[int, int, CaptureSummary], None] | None = None,
                  now: datetime | None = None, *, every_active: bool = False) -> list[CaptureSummary]:
    """Poll due feeds, then capture every due watch once, one after another;
    with `every_active`, capture every active watch instead, due or not, and
    leave the feeds alone. One fetcher serves the whole round, so each host
    still gets its delay between requests. `progress(done, total, summary)`
    is called after each capture."""
    reason = "command line"
    if every_active:
        with ctx.db.read_session() as session:
            jobs = [(watch_id, reason) for watch_id in session.scalars(
                select(Watch.id).where(*state_filter("active", now or utcnow())).order_by(Watch.id))]
    else:
        poll_due_feeds(ctx, fetcher, reason, now)
        jobs = due_watches(ctx, reason, now)
    summaries = []
    for done, (watch_id, why) in enumerate(jobs, start=1):
        summary = run_capture_job(ctx, watch_id, fetcher, why)
        summaries.append(summary)
        if progress:
            progress(done, len(jobs), summary)
    return summaries
