"""`init`: create or upgrade the database and the search index."""
from __future__ import annotations

import click
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from archive.store.db import get_db
from archive.store.models import Comment
from archive.store.schema import upgrade
from archive.cli import current_app_obj


@click.command()
def init() -> None:
    """Create or upgrade the database and the search index.

    Safe to run at every start. The search index is rebuilt only when it
    needs to be: after a schema upgrade of an archive that already holds
    comments (a new index starts empty), or when it is flagged out of date.
    """
    from archive.search import reindex
    from archive.search.engines import is_stale

    app = current_app_obj()
    with app.app_context():
        db = get_db()
        with db.writer.connect() as conn:
            before = MigrationContext.configure(conn).get_current_revision()
        upgrade(db.writer)
        with db.writer.connect() as conn:
            after = MigrationContext.configure(conn).get_current_revision()
        click.echo(f"database ready: {db.writer.url.render_as_string(hide_password=True)}")
        with db.read_session() as session:
            comments = session.scalar(select(func.count()).select_from(Comment))
        if comments and (before != after or is_stale(app)):
            click.echo(f"rebuilding the search index of {comments} comments ...")
            click.echo(f"search index ready: {reindex(app)} comments ({app.config['SEARCH_BACKEND']})")


COMMANDS = [init]
