"""`reindex`: rebuild the search index from the database."""
from __future__ import annotations

import time

import click

from archive.cli import current_context
from archive.search import reindex as rebuild_index

# Progress lines at most this often, so a large rebuild prints a few dozen.
PROGRESS_SECONDS = 2.0


@click.command()
def reindex() -> None:
    """Rebuild the search index from the database.

    Rebuilds the index of the engine ARCHIVE_SEARCH_BACKEND chooses (whoosh,
    or database: SQLite FTS5 / PostgreSQL full-text) from the comments alone,
    a batch at a time: searches keep working meanwhile. Also clears the
    "index is out of date" flag a failed index update leaves.
    """
    ctx = current_context()
    shown = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - shown[0] >= PROGRESS_SECONDS or done >= total:
            shown[0] = now
            click.echo(f"indexed {done}/{total} comments", err=True)

    count = rebuild_index(ctx, progress)
    click.echo(f"reindexed {count} comments ({ctx.settings.search_backend})")


COMMANDS = [reindex]
