"""`backfill`: rebuild a thread's past from web-archive snapshots."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from archive.cli import current_context
from archive.cli.watch_commands import date_option
from archive.errors import ArchiveError


@click.command()
@click.argument("url")
@click.option("--from", "date_from", metavar="DATE", callback=date_option,
              help="Only snapshots from this date (YYYY-MM-DD).")
@click.option("--to", "date_to", metavar="DATE", callback=date_option,
              help="Only snapshots up to this date (YYYY-MM-DD).")
@click.option("--cdx", "cdx_url", metavar="CDX_URL",
              help="A CDX server to ask instead of the Wayback Machine, e.g. a pywb "
                   "collection's http://HOST:PORT/COLL/cdx (replayed from the same server).")
@click.option("--warc", "warc_path", metavar="PATH", type=click.Path(path_type=Path),
              help="Read a local WARC file, or every .warc/.warc.gz in a folder, instead.")
def backfill(url: str, date_from: datetime | None, date_to: datetime | None,
             cdx_url: str | None, warc_path: Path | None) -> None:
    """Rebuild a thread's past from web-archive snapshots (default: the Wayback Machine).

    Lists the successful snapshots of URL, drops repeated digests, fetches
    each one's original bytes (kept as evidence with the archive, snapshot
    address, timestamp and digest) and judges them in time order with the
    same adapters and verdict rules as live captures, each at its
    snapshot's own time. A removal found this way happened after one
    snapshot and before the next; nothing is known about the gap between.

    Backfilled captures are marked 'backfill' and form their own chain: they
    never change what live captures say. Requests to a web archive are
    paced at ARCHIVE_BACKFILL_RATE a minute; a 429 answer stops the run,
    and running the same command again resumes where it stopped.
    """
    from archive.backfill.queue import claim, request_backfill
    from archive.backfill.run import open_source, run_backfill

    if cdx_url and warc_path:
        raise click.UsageError("give --cdx or --warc, not both")
    ctx = current_context()
    kind = "warc" if warc_path else "cdx"
    source = str(warc_path.resolve()) if warc_path else (cdx_url or ctx.settings.backfill_cdx_url)
    if cdx_url and not cdx_url.startswith(("http://", "https://")):
        raise click.BadParameter("the CDX address must start with http:// or https://", param_hint="--cdx")
    # A source that cannot be read is refused before anything is written.
    opened = open_source(ctx.settings, kind, source)
    with ctx.db.write() as session:
        run = request_backfill(session, url, kind=kind, source=source, date_from=date_from,
                               date_to=date_to, requested_by="command line")
        run_id, resumed = run.id, run.cursor is not None
    if not claim(ctx, run_id):
        raise ArchiveError(f"backfill run {run_id} of this thread is already running in another process")
    click.echo(f"backfill run {run_id}{' resumed' if resumed else ''}: {url} from {source}", err=True)
    report = run_backfill(ctx, run_id, lambda line: click.echo(line, err=True), opened)
    click.echo(report.line())
    if report.state == "failed":
        raise ArchiveError(report.message)


COMMANDS = [backfill]
