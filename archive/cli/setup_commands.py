"""`init`: create or upgrade the database and the search index."""
from __future__ import annotations

import click

from ..db import get_db
from ..schema import upgrade
from . import current_app_obj


@click.command()
def init() -> None:
    """Create or upgrade the database and the search index."""
    app = current_app_obj()
    with app.app_context():
        db = get_db()
        upgrade(db.writer)
        click.echo(f"database ready: {db.writer.url.render_as_string(hide_password=True)}")


COMMANDS = [init]
