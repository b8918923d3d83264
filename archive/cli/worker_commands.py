"""`scheduler` (the dispatcher alone) and `worker` (a Celery worker): capturing on several machines."""
from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import click

from archive.cli import current_context

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@click.command()
def scheduler() -> None:
    """Run the dispatcher alone, with no web server.

    Each ARCHIVE_DISPATCH_SECONDS it queues a job for every due watch and
    feed and every operator's request, queues again the jobs of workers no
    longer heard from, and hands the queued jobs out: to `worker` processes
    through ARCHIVE_BROKER_URL when it is set, else to its own pool of
    ARCHIVE_WORKERS threads. One dispatcher runs per archive: a second one
    says so and stands by, taking over when the first stops. Stops on
    Ctrl-C or SIGTERM.
    """
    from archive.capture.scheduler import start_scheduler

    ctx = current_context()
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per round otherwise
    stop = _stop_on_signals()
    running = start_scheduler(ctx)
    if running is None:
        click.echo("another dispatcher runs for this archive; standing by to take over when it stops")
        while running is None and not stop.wait(ctx.settings.dispatch_seconds):
            running = start_scheduler(ctx)
        if running is None:
            return
    executor = "Celery workers" if ctx.settings.broker_url else f"its own pool of {ctx.settings.workers}"
    click.echo(f"dispatching every {ctx.settings.dispatch_seconds:g} s to {executor} (Ctrl-C to stop)")
    try:
        stop.wait()
    finally:
        apscheduler, dispatcher, lock = running
        apscheduler.shutdown(wait=True)
        dispatcher.shutdown()
        lock.release()
        click.echo("dispatcher stopped")


@click.command()
@click.option("--concurrency", type=click.IntRange(1, 256), default=None,
              help="Jobs run at once by this worker [default: ARCHIVE_WORKERS].")
def worker(concurrency: int | None) -> None:
    """Run a Celery worker: capture jobs from ARCHIVE_BROKER_URL until stopped.

    Start as many as you like, on any machine that reaches the database
    (ARCHIVE_DATABASE_URL), the broker and the evidence store
    (ARCHIVE_BLOB_URL); `serve` or `scheduler` decides what is due. A job is
    acknowledged only once it has run, so a worker that dies mid-capture
    loses nothing: another worker runs the job again and it makes one
    capture. Stops after its current jobs on Ctrl-C or SIGTERM.
    """
    from archive.capture.celery_worker import run_worker

    ctx = current_context()
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    code = run_worker(ctx, concurrency or ctx.settings.workers)
    if code:
        raise SystemExit(code)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop


COMMANDS = [scheduler, worker]
