"""`capture` (one round now) and `serve` (web app + scheduler)."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click
from sqlalchemy import func, select

from archive.capture.watches import canonical_url
from archive.cli import cli, current_app_obj, current_context
from archive.errors import ArchiveError
from archive.store.models import Thread, Watch

if TYPE_CHECKING:
    from archive.capture.fetch.fetcher import Fetcher
    from archive.capture.pipeline import CaptureSummary
    from archive.context import ArchiveContext

# The capture pipeline and the scheduler are imported inside the commands
# that use them: every other command starts faster without them.


def _print_summaries(summaries: Sequence[CaptureSummary], nothing: str) -> None:
    by_outcome: dict[str, int] = {}
    for s in summaries:
        by_outcome[s.outcome] = by_outcome.get(s.outcome, 0) + 1
    parts = ", ".join(f"{n} {k}" for k, n in sorted(by_outcome.items())) or nothing
    click.echo(f"captured {len(summaries)} thread(s): {parts}")


@click.command()
@click.argument("url", required=False)
@click.option("--due", is_flag=True, help="Capture the due watches and poll the due feeds.")
@click.option("--all", "every_active", is_flag=True,
              help="Capture every active watch now, due or not (feeds are not polled).")
def capture(url: str | None, due: bool, every_active: bool) -> None:
    """Run one capture round now, synchronously.

    With --due, the watches whose time has come are captured and the due
    feeds polled (what the scheduler does each minute); with --all, every
    active (not paused, not ended) watch is captured whatever its schedule;
    with URL, that watched thread is captured. Captures run one after
    another, waiting ARCHIVE_MIN_HOST_DELAY between requests to one host.
    Exits 0 even when some fetches fail, and prints a line per capture and
    a summary.
    """
    from archive.capture.fetch.fetcher import Fetcher
    from archive.capture.scheduler import DataDirLock
    from archive.capture.workers import reporting

    if [bool(url), due, every_active].count(True) != 1:
        raise click.UsageError("give one of --due, --all or a URL")
    ctx = current_context()
    lock = DataDirLock(ctx.settings.data_dir)
    if not lock.acquire():
        raise ArchiveError("another process is capturing for this data folder "
                           "(a running `serve`?); it captures due watches itself")
    fetcher = Fetcher.from_settings(ctx.settings)
    try:
        with reporting(ctx):
            _capture_now(ctx, fetcher, url, every_active)
    finally:
        fetcher.close()
        lock.release()


def _capture_now(ctx: ArchiveContext, fetcher: Fetcher, url: str | None, every_active: bool) -> None:
    from archive.capture.jobs import capture_round, run_capture_job

    if url is None:
        def progress(done: int, total: int, summary: CaptureSummary) -> None:
            click.echo(f"({done}/{total}) {summary.line()}")
        _print_summaries(capture_round(ctx, fetcher, progress, every_active=every_active),
                         "no active watch" if every_active else "nothing was due")
        return
    with ctx.db.read_session() as session:
        watch_id = session.scalar(select(Watch.id).join(Thread).where(Thread.url == canonical_url(url)))
    if watch_id is None:
        raise ArchiveError(f"not watched: {url} (add it with: python -m archive watch add URL)")
    summary = run_capture_job(ctx, watch_id, fetcher, "command line")
    click.echo(summary.line())
    _print_summaries([summary], "")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--no-scheduler", is_flag=True, help="Serve pages only; capture nothing.")
def serve(host: str, port: int, no_scheduler: bool) -> None:
    """Serve the web archive and run the dispatcher.

    The dispatcher queues what is due as jobs and runs them in its own pool,
    or hands them to `worker` processes when ARCHIVE_BROKER_URL is set. Only
    one dispatcher runs per archive; a second `serve` serves pages only.
    When the archive holds no thread yet and ARCHIVE_DEMO_ON_EMPTY is on
    (the default), the offline Community Care demo is loaded first.
    """
    from waitress import serve as waitress_serve

    from archive.capture.scheduler import start_scheduler

    app, ctx = current_app_obj(), current_context()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per round otherwise
    with ctx.db.read_session() as session:
        # Threads, not watches: the demo's finished threads keep no watch.
        empty = not session.scalar(select(func.count()).select_from(Thread))
    root = click.get_current_context().find_root()
    demo = cli.commands.get("demo")
    if empty and ctx.settings.demo_on_empty and demo is not None:
        click.echo("the archive is empty: loading the offline Community Care demo first")
        root.invoke(demo)
    running = None if no_scheduler else start_scheduler(ctx)
    if not no_scheduler and running is None:
        click.echo("another process captures for this data folder; serving pages only")
    click.echo(f"serving the archive on http://{host}:{port}/ (Ctrl-C to stop)")
    try:
        waitress_serve(app, host=host, port=port, threads=8, ident="comment-archive")
    finally:
        if running:
            scheduler, dispatcher, lock = running
            scheduler.shutdown(wait=False)
            dispatcher.shutdown()
            lock.release()


COMMANDS = [capture, serve]
