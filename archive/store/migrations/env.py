"""Alembic environment: the URL comes from archive.schema, never from an ini file."""
from alembic import context
from sqlalchemy import Connection, create_engine, pool

from archive.store.models import Base
from archive.store.schema import include_name

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic: no connection given and no sqlalchemy.url set")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


def _run(connection: Connection) -> None:
    # SQLite cannot ALTER most things in place: batch mode copies the table.
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      include_name=include_name)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
