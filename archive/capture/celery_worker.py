"""The Celery side of capture jobs: the app, its one task, and `python -m archive worker`.

A message carries only a job id; everything else is read from the database.
Tasks are acknowledged late (`acks_late`, `reject_on_worker_lost`): a worker
killed mid-capture never acknowledged its message, so the broker hands it
to another worker (RabbitMQ as soon as the connection drops, Redis after
`ARCHIVE_BROKER_VISIBILITY_TIMEOUT`). The new worker finds the job still
"running" on the dead one; it tries again until that worker has been silent
for four heartbeats, then takes the job over (archive/capture/jobs.py), so
the job makes one capture. The app is built per process from the settings:
no module-level Celery app.
"""
from __future__ import annotations

import logging

from celery import Celery, Task

from archive.capture.fetch.fetcher import Fetcher
from archive.capture.jobs import CLAIM_LEASE, run_job
from archive.capture.queue import lost_after
from archive.capture.workers import Heartbeat, worker_name
from archive.clock import utcnow
from archive.context import ArchiveContext
from archive.errors import ArchiveError
from archive.settings import Settings

log = logging.getLogger(__name__)
TASK = "archive.run_job"


def celery_app(settings: Settings) -> Celery:
    if not settings.broker_url:
        raise ArchiveError("no broker: set ARCHIVE_BROKER_URL to redis://HOST:6379/0 or "
                           "amqp://USER:PASSWORD@HOST:5672// (without one, `serve` or `scheduler` "
                           "runs the captures itself)")
    app = Celery("archive", broker=settings.broker_url, set_as_current=False)
    visibility = settings.broker_visibility_timeout
    # kombu sweeps Redis for messages whose worker died only every 100 s by
    # default (10 s x a throttle of 10): sweep every tenth of the timeout instead.
    options: dict[str, object] = {"visibility_timeout": visibility, "unacked_restore_throttle": 1,
                                  "unacked_restore_interval": max(1, min(60, int(visibility / 10)))}
    if settings.broker_url.startswith(("redis", "rediss")):
        # Every key of this archive under its own prefix: archives (and test runs)
        # sharing one Redis never see each other's messages or unacknowledged sets.
        options["global_keyprefix"] = f"{settings.broker_queue}:"
    app.conf.update(
        task_default_queue=settings.broker_queue, task_acks_late=True, task_reject_on_worker_lost=True,
        task_ignore_result=True, worker_prefetch_multiplier=1, worker_enable_remote_control=False,
        worker_send_task_events=False, broker_connection_retry_on_startup=True,
        broker_transport_options=options, worker_hijack_root_logger=False,
        broker_connection_timeout=10)
    return app


def send_job(app: Celery, settings: Settings, job_id: int) -> None:
    app.send_task(TASK, args=[job_id], queue=settings.broker_queue)


def add_job_task(app: Celery, ctx: ArchiveContext, fetcher: Fetcher, worker: str) -> None:
    """Register the task that runs one job in this worker process."""
    patience = lost_after(ctx.settings)

    @app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True,
              max_retries=int(CLAIM_LEASE / patience) + 2)
    def run(task: Task, job_id: int) -> None:
        try:
            done = run_job(ctx, job_id, fetcher, worker)
        except ArchiveError as exc:
            log.warning("job %s: %s", job_id, exc)
            return
        if done.result is not None:
            log.info("job %s: %s", job_id, done.result.line())
        elif done.state in ("queued", "running"):
            # Another worker holds it: done soon, or lost once silent for `patience`.
            heard = done.holder_heard_at or utcnow()
            wait = max(1.0, (heard + patience - utcnow()).total_seconds() + 1)
            log.info("job %s is running on %s; looking again in %.0f s", job_id, done.holder, wait)
            raise task.retry(countdown=wait)
        else:
            log.info("job %s is already %s; nothing to do", job_id, done.state)


def run_worker(ctx: ArchiveContext, concurrency: int) -> int:
    """Run a Celery worker in this process until it is stopped; its exit code."""
    app = celery_app(ctx.settings)
    name = worker_name("celery")
    with Fetcher.from_settings(ctx.settings) as fetcher:
        add_job_task(app, ctx, fetcher, name)
        heartbeat = Heartbeat(ctx, name).start()
        try:
            # Threads, not forked processes: captures mostly wait on sites and
            # politeness; for more CPU run more worker processes.
            worker = app.Worker(pool="threads", concurrency=concurrency, queues=[ctx.settings.broker_queue],
                                without_gossip=True, without_mingle=True, without_heartbeat=True,
                                hostname=name, loglevel="INFO", quiet=True)
            worker.start()
            return int(worker.exitcode or 0)
        finally:
            heartbeat.stop()
            app.close()
