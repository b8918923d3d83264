"""The scheduler: one dispatcher job picks due watches from the database.

The database holds each watch's next due time, so a restart resumes where it
left off. APScheduler 3 cannot share a job store between processes, and the
Flask reloader or several server workers would each start their own, so only
the process holding the data folder's lock schedules anything: a second
`serve` on the same folder serves pages, and its "Capture now" buttons
only queue requests, which this dispatcher takes as due at its next tick.
Each capture runs as a job (archive/capture/jobs.py), so even captures
started elsewhere (the command line, another machine) never overlap on a thread.
One host's due watches run one after another in one task (politeness);
different hosts run in parallel on a small pool.
"""
from __future__ import annotations

import fcntl
import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from apscheduler.schedulers.background import BackgroundScheduler

from archive.backfill.run import run_queued_backfills
from archive.capture.fetch.fetcher import Fetcher
from archive.capture.jobs import due_watches, poll_due_feeds, run_capture_job
from archive.context import ArchiveContext
from archive.store.models import Watch
from archive.store.problems import naming

log = logging.getLogger(__name__)
DISPATCH_SECONDS = 60


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

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class Dispatcher:
    """Hands due watches to a worker pool, one task per host, never twice at once."""

    def __init__(self, ctx: ArchiveContext, fetcher: Fetcher, workers: int) -> None:
        self.ctx = ctx
        self.fetcher = fetcher
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="capture")
        self._busy_hosts: set[str] = set()
        self._lock = threading.Lock()

    def dispatch(self) -> list[Future]:
        try:
            poll_due_feeds(self.ctx, self.fetcher, "schedule")
        except Exception:  # a broken feed must not stop the captures
            log.exception("feed polling failed")
        by_host: dict[str, list[tuple[int, str]]] = {}
        with self.ctx.db.read_session() as session:
            for watch_id, reason in due_watches(self.ctx, "schedule"):
                url = session.get_one(Watch, watch_id).url
                by_host.setdefault(urlsplit(url).netloc, []).append((watch_id, reason))
        futures = []
        with self._lock:
            for host, ids in by_host.items():
                if host in self._busy_hosts:
                    continue
                self._busy_hosts.add(host)
                futures.append(self.pool.submit(self._run_host, host, ids))
        return futures

    def _run_host(self, host: str, jobs: list[tuple[int, str]]) -> None:
        try:
            for watch_id, reason in jobs:
                try:
                    summary = run_capture_job(self.ctx, watch_id, self.fetcher, reason)
                    log.info("%s", summary.line())
                except Exception:
                    # A capture records its own failures; this is what it could
                    # not record (the database down, the watch gone meanwhile).
                    log.exception("capture of watch %s could not be recorded", watch_id)
        finally:
            with self._lock:
                self._busy_hosts.discard(host)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def start_scheduler(ctx: ArchiveContext) -> tuple[BackgroundScheduler, Dispatcher, DataDirLock] | None:
    """Start capturing in the background, or return None when another process already does."""
    lock = DataDirLock(ctx.settings.data_dir)
    if not lock.acquire():
        return None
    fetcher = Fetcher.from_settings(ctx.settings)
    dispatcher = Dispatcher(ctx, fetcher, ctx.settings.workers)
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(dispatcher.dispatch, "interval", seconds=DISPATCH_SECONDS, id="dispatch",
                      # First round at once rather than a minute after start-up.
                      next_run_time=datetime.now(UTC), jitter=5, misfire_grace_time=DISPATCH_SECONDS,
                      coalesce=True, max_instances=1)
    # Operators' queued backfills, one after another, beside the captures (archive/backfill/run.py).
    scheduler.add_job(run_queued_backfills, "interval", args=[ctx], seconds=DISPATCH_SECONDS, id="backfill",
                      next_run_time=datetime.now(UTC), coalesce=True, max_instances=1)
    scheduler.start()
    return scheduler, dispatcher, lock
