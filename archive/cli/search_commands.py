"""`reindex`: rebuild the search index from the database."""
from __future__ import annotations

import time
from collections.abc import Callable

import click

from archive.cli import current_context
from archive.search import reindex as rebuild_index

# Progress lines at most this often, so a large rebuild prints a few dozen.
PROGRESS_SECONDS = 2.0


def progress_printer(seconds: float = PROGRESS_SECONDS) -> Callable[[int, int], None]:
    """A reindex progress callback printing, at most every `seconds` and at the end,
    comments done out of the total, the rate and the time left (on stderr)."""
    started = time.monotonic()
    shown = [started]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - shown[0] < seconds and done < total:
            return
        shown[0] = now
        rate = done / max(now - started, 1e-6)
        left = f", about {(total - done) / rate:.0f} s left" if done < total and rate > 0 else ""
        click.echo(f"indexed {done}/{total} comments ({done * 100 // max(total, 1)}%, "
                   f"{rate:,.0f} comments/s{left})", err=True)
    return progress


@click.command()
def reindex() -> None:
    """Rebuild the search index from the database.

    Rebuilds the index of the engine ARCHIVE_SEARCH_BACKEND chooses (tantivy,
    whoosh, or database: SQLite FTS5 / PostgreSQL full-text) from the comments
    alone, a batch at a time, printing progress: an index that was complete
    keeps answering searches meanwhile. Run it after switching engines (a
    search on an engine whose index was never built says so). Also clears the
    "index is out of date" flag a failed index update leaves.
    """
    ctx = current_context()
    count = rebuild_index(ctx, progress_printer())
    click.echo(f"reindexed {count} comments ({ctx.settings.search_backend})")


COMMANDS = [reindex]
