"""`demo`: load the offline Community Care demonstration."""
from __future__ import annotations

from typing import TYPE_CHECKING

import click

from archive.cli import current_context
from archive.errors import ArchiveError

if TYPE_CHECKING:
    from archive.context import ArchiveContext


@click.command()
@click.option("--backfill/--no-backfill", "with_backfill", default=True, show_default=True,
              help="Also rebuild a second (invented) Community Care thread from a local web archive's "
                   "2018 snapshots, as `backfill` does from the Wayback Machine.")
def demo(with_backfill: bool) -> None:
    """Load the offline Community Care demonstration.

    A local WordPress-like site on 127.0.0.1 stands in for each article's real
    site, under its real address, and the real pipeline captures it every few
    hours over the days after the article, on a simulated clock, while its
    comments are moderated, edited and reinstated: the archive has removals
    with windows of hours, edits, failed captures and search results to show,
    with no network. Running it again loads nothing twice.
    """
    from archive.capture.scheduler import DataDirLock
    from archive.demo import LoadedThread, load_demo

    ctx = current_context()
    lock = DataDirLock(ctx.settings.data_dir)
    if not lock.acquire():
        raise ArchiveError("another process is capturing for this data folder (a running `serve`?); "
                           "stop it, run `python -m archive demo`, then start it again")
    try:
        loaded = load_demo(ctx, say=click.echo)
        archived = _load_archived(ctx) if with_backfill else None
    finally:
        lock.release()
    for item in loaded:
        if isinstance(item, LoadedThread) and item.already_loaded:
            click.echo(f"already loaded, nothing changed: {item.title}")
    click.echo("")
    for item in loaded:
        click.echo(item.line())
    click.echo("")
    click.echo("This is a simulation. The sites were served from this machine under their real\n"
               "addresses, and the captures are dated by a simulated clock in the days after each\n"
               "article. Comments by Sarah T, Dave R and Mike's first comment are invented stand-ins\n"
               "for the critical comments the real thread's readers say were moderated out, and so\n"
               "is the moderation; the six comments still on the real page are reproduced as published.")
    if archived is not None:
        click.echo(f"The thread rebuilt from archived snapshots (invented for the demo): /threads/{archived}")
    click.echo("See it: python -m archive serve, then open http://127.0.0.1:5000/ "
               "(try searching for \"marks its own homework\").")


def _load_archived(ctx: ArchiveContext) -> int:
    from archive.demo.archived import load_archived_thread

    return load_archived_thread(ctx, say=click.echo)


COMMANDS = [demo]
