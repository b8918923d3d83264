"""Where queued capture jobs run: two executors behind one interface.

`EmbeddedExecutor` (the default, no extra service) runs them in the
scheduler's own thread pool: one task per host runs that host's jobs one
after another (politeness), different hosts in parallel. `CeleryExecutor`
(when `ARCHIVE_BROKER_URL` is set) sends each job's id to the broker, and
`python -m archive worker` processes on any machine run them
(archive/capture/celery_worker.py). Either way the job row is the truth and
`run_job` is idempotent, so a job handed out twice still makes one capture.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Protocol

from archive.capture.fetch.fetcher import Fetcher
from archive.capture.jobs import run_job
from archive.capture.queue import QueuedJob, mark_sent
from archive.capture.workers import Heartbeat, worker_name
from archive.clock import utcnow
from archive.context import ArchiveContext

log = logging.getLogger(__name__)


class Executor(Protocol):
    name: str

    def send(self, jobs: list[QueuedJob]) -> list[Future]:
        """Hand out the queued jobs this executor is not already running."""

    def shutdown(self) -> None: ...


class EmbeddedExecutor:
    """The scheduler's in-process pool, reporting itself as one worker."""

    name = "embedded"

    def __init__(self, ctx: ArchiveContext, fetcher: Fetcher, workers: int) -> None:
        self.ctx = ctx
        self.fetcher = fetcher
        self.worker = worker_name("embedded")
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="capture")
        self._heartbeat: Heartbeat | None = None
        self._busy_hosts: set[str] = set()
        self._lock = threading.Lock()

    def start_heartbeat(self) -> None:
        self._heartbeat = Heartbeat(self.ctx, self.worker).start()

    def send(self, jobs: list[QueuedJob]) -> list[Future]:
        by_host: dict[str, list[int]] = {}
        for job in jobs:
            by_host.setdefault(job.host, []).append(job.id)
        futures = []
        with self._lock:
            for host, ids in by_host.items():
                if host in self._busy_hosts:
                    continue  # its jobs stay queued for a later round
                self._busy_hosts.add(host)
                mark_sent(self.ctx, ids)
                futures.append(self.pool.submit(self._run_host, host, ids))
        return futures

    def _run_host(self, host: str, job_ids: list[int]) -> None:
        try:
            for job_id in job_ids:
                try:
                    run = run_job(self.ctx, job_id, self.fetcher, self.worker)
                    if run.result is not None:
                        log.info("%s", run.result.line())
                except Exception:
                    # A capture records its own failures; this is what it could
                    # not record (the database down, the watch gone meanwhile).
                    log.exception("job %s could not be recorded", job_id)
        finally:
            with self._lock:
                self._busy_hosts.discard(host)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self._heartbeat is not None:
            self._heartbeat.stop()


class CeleryExecutor:
    """Sends job ids to the broker; workers elsewhere run them."""

    name = "celery"

    def __init__(self, ctx: ArchiveContext) -> None:
        from archive.capture.celery_worker import celery_app

        self.ctx = ctx
        self.app = celery_app(ctx.settings)
        # A message not run within this long was lost with a broker that keeps
        # nothing on disk, or with its worker: send it again (a duplicate is harmless).
        self.resend_after = timedelta(seconds=ctx.settings.broker_visibility_timeout)

    def send(self, jobs: list[QueuedJob]) -> list[Future]:
        from archive.capture.celery_worker import send_job

        now = utcnow()
        sent = []
        try:
            for job in jobs:
                if job.sent_at is None or job.sent_at < now - self.resend_after:
                    send_job(self.app, self.ctx.settings, job.id)
                    sent.append(job.id)
        except Exception:  # the broker is down: what is not sent stays queued for the next round
            log.exception("could not send capture jobs to the broker")
        finally:
            mark_sent(self.ctx, sent, now)
        return []

    def shutdown(self) -> None:
        self.app.close()
