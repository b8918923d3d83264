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
    comments (a new index starts empty), or when it is flagged out of date.
    """
    # Alembic and the search layer load only for this command.
    from alembic.migration import MigrationContext

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
    if comments and (before != after or ctx.search.is_stale()):
        click.echo(f"rebuilding the search index of {comments} comments ...")
        click.echo(f"search index ready: {reindex(ctx)} comments ({ctx.settings.search_backend})")


COMMANDS = [init]
