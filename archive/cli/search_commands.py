"""`reindex`: rebuild the search index from the database."""
from __future__ import annotations

import time

import click

from archive.cli import current_app_obj

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
    # Imported here so that other commands do not load the search engines.
    from archive.search import reindex as rebuild_index

    app = current_app_obj()
    shown = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - shown[0] >= PROGRESS_SECONDS or done >= total:
            shown[0] = now
            click.echo(f"indexed {done}/{total} comments", err=True)

    with app.app_context():
        count = rebuild_index(app, progress)
    click.echo(f"reindexed {count} comments ({app.config['SEARCH_BACKEND']})")


COMMANDS = [reindex]
