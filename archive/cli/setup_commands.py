"""`init`: create or upgrade the database and the search index."""
from __future__ import annotations

import click
from sqlalchemy import func, select

from archive.cli import current_context
from archive.store.models import Comment


@click.command()
def init() -> None:
    """Create or upgrade the database and the search index.

    Safe to run at every start. The search index is rebuilt only when it
    needs to be: after a schema upgrade of an archive that already holds
    comments (a new index starts empty), when the configured engine's index
    was never built (a new engine, or a release that indexes differently), or
    when it is flagged out of date.
    """
    # Alembic and the search layer load only for this command.
    from alembic.migration import MigrationContext

    from archive.cli.search_commands import progress_printer
    from archive.search import reindex
    from archive.store.schema import upgrade

    ctx = current_context(new_archive_ok=True)
    db = ctx.db
    with db.writer.connect() as conn:
        before = MigrationContext.configure(conn).get_current_revision()
    upgrade(db.writer)
    with db.writer.connect() as conn:
        after = MigrationContext.configure(conn).get_current_revision()
    click.echo(f"database ready: {db.writer.url.render_as_string(hide_password=True)}")
    with db.read_session() as session:
        comments = session.scalar(select(func.count()).select_from(Comment))
    # Creates a missing index; an archive with no comments has a complete one.
    ctx.search.engine()
    if comments and (before != after or ctx.search.is_stale() or not ctx.search.is_ready()):
        click.echo(f"rebuilding the search index of {comments} comments ({ctx.settings.search_backend}) ...")
        done = reindex(ctx, progress_printer())
        click.echo(f"search index ready: {done} comments ({ctx.settings.search_backend})")


COMMANDS = [init]
