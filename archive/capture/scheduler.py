"""The dispatcher: one per archive, it turns what is due into jobs and hands them out.

Each round it queues again the jobs of workers that were lost, queues a job
for every due watch and feed (and every operator's request), and hands the
queued jobs to its executor (archive/capture/executors.py): its own pool, or
Celery workers through a broker. The database holds each watch's next due
time and every job, so a restart resumes where it left off.

Exactly one dispatcher runs per archive. On PostgreSQL it holds a session
advisory lock on a connection of its own (`pg_try_advisory_lock`), which
holds across machines and is freed when the process or its connection dies;
on SQLite, and on every database for the data folder, it holds the folder's
lock file. A second `serve` serves pages only, and its "Capture now" buttons
only queue requests; a second `scheduler` stands by and takes over when the
first one stops.
"""
from __future__ import annotations

import fcntl
import logging
import os
import threading
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Connection, text

from archive.backfill.run import run_queued_backfills
from archive.capture.executors import CeleryExecutor, EmbeddedExecutor, Executor
from archive.capture.fetch.fetcher import Fetcher
from archive.capture.queue import enqueue_due, orphaned_jobs_fail, prune, queued_jobs, take_over_lost
from archive.clock import utcnow
from archive.context import ArchiveContext
from archive.store.problems import naming

log = logging.getLogger(__name__)
# The advisory lock's key: any fixed 64-bit number, the same for every dispatcher.
ADVISORY_KEY = 0x636F6D6D656E7473  # "comments"
PRUNE_EVERY = 3600.0


class DataDirLock:
    """An exclusive, non-blocking lock on `<data dir>/capture.lock`, released when the process dies."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / "capture.lock"
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        handle = open(self.path, "a+")  # noqa: SIM115 (held open: the lock lives as long as the file)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        with naming(self.path):
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
        self._file = handle
        return True

    @property
    def held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class DispatcherLock:
    """The data folder's lock, and on PostgreSQL the archive-wide advisory lock."""

    def __init__(self, ctx: ArchiveContext) -> None:
        self.ctx = ctx
        self.folder = DataDirLock(ctx.settings.data_dir)
        self._conn: Connection | None = None

    def acquire(self) -> bool:
        if not self.folder.acquire():
            return False
        if self.ctx.db.is_sqlite or self._advisory():
            return True
        self.folder.release()
        return False

    def _advisory(self) -> bool:
        conn = self.ctx.db.writer.connect()
        try:
            won = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}).scalar())
            conn.commit()
        except Exception:
            conn.close()
            raise
        if not won:
            conn.close()
            return False
        self._conn = conn
        return True

    def held(self) -> bool:
        """Whether the lock is still ours (a PostgreSQL restart ends the session that held it)."""
        if self._conn is None:
            return self.ctx.db.is_sqlite and self.folder.held
        try:
            self._conn.execute(text("SELECT 1")).scalar()
            self._conn.commit()
            return True
        except Exception:
            log.warning("the dispatcher lost its database connection and with it the advisory lock")
            self._drop()
            try:
                return self._advisory()
            except Exception:
                return False

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                # Closed for good, not returned to the pool: a session-level
                # lock must never outlive its holder inside a pooled connection.
                self._conn.invalidate()
                self._conn.close()
            except Exception:
                log.debug("closing a broken connection", exc_info=True)
            self._conn = None

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                self._conn.commit()
            except Exception:
                log.debug("the advisory lock went with its connection", exc_info=True)
            self._drop()
        self.folder.release()


class Dispatcher:
    """One round: take over lost jobs, queue what is due, hand queued jobs to the executor."""

    def __init__(self, ctx: ArchiveContext, executor: Executor, lock: DispatcherLock | None = None) -> None:
        self.ctx = ctx
        self.executor = executor
        self.lock = lock
        self._pruned_at = 0.0
        self._round = threading.Lock()

    def dispatch(self) -> list[Future]:
        with self._round:
            if self.lock is not None and not self.lock.held():
                log.error("not dispatching: this process no longer holds the dispatcher lock")
                return []
            now = utcnow()
            lost = take_over_lost(self.ctx, now)
            if lost:
                log.warning("%d job(s) of lost workers queued again", lost)
            orphaned_jobs_fail(self.ctx, now)
            enqueue_due(self.ctx, "schedule", now)
            if now.timestamp() - self._pruned_at > PRUNE_EVERY:
                prune(self.ctx, now)
                self._pruned_at = now.timestamp()
            return self.executor.send(queued_jobs(self.ctx))

    def shutdown(self) -> None:
        self.executor.shutdown()


def make_executor(ctx: ArchiveContext) -> Executor:
    """Celery when a broker is configured, else the embedded pool (with its heartbeat)."""
    if ctx.settings.broker_url:
        return CeleryExecutor(ctx)
    embedded = EmbeddedExecutor(ctx, Fetcher.from_settings(ctx.settings), ctx.settings.workers)
    embedded.start_heartbeat()
    return embedded


def start_scheduler(ctx: ArchiveContext) -> tuple[BackgroundScheduler, Dispatcher, DispatcherLock] | None:
    """Start dispatching in the background, or return None when another dispatcher already does."""
    lock = DispatcherLock(ctx)
    if not lock.acquire():
        return None
    dispatcher = Dispatcher(ctx, make_executor(ctx), lock)
    scheduler = BackgroundScheduler(timezone="UTC")
    every = ctx.settings.dispatch_seconds
    scheduler.add_job(dispatcher.dispatch, "interval", seconds=every, id="dispatch",
                      # First round at once rather than a round's length after start-up.
                      next_run_time=datetime.now(UTC), jitter=min(5.0, every / 10),
                      misfire_grace_time=max(1, int(every)), coalesce=True, max_instances=1)
    # Operators' queued backfills, one after another, beside the captures (archive/backfill/run.py).
    scheduler.add_job(run_queued_backfills, "interval", args=[ctx], seconds=every, id="backfill",
                      next_run_time=datetime.now(UTC), coalesce=True, max_instances=1)
    scheduler.start()
    return scheduler, dispatcher, lock
