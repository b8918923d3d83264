"""Database engines and sessions; for the web, a read session per request.

SQLite gets WAL, `synchronous=NORMAL`, a busy timeout and foreign keys. Its
writers start with `BEGIN IMMEDIATE`: a deferred transaction that reads and
then writes fails at once with "database is locked" when another writer is
active, while an immediate one waits its turn. Readers stay deferred so they
never block on writers.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from flask import Flask

BUSY_TIMEOUT_MS = 30_000


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000,
                                              "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Autocommit at the driver level so that SQLAlchemy's "begin" below
        # decides how each transaction starts.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """A reader engine and a writer engine over one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.reader = _sqlite_engine(url, immediate=False)
            self.writer = _sqlite_engine(url, immediate=True)
        else:
            # A web request holds a read session and may open a write one: 15
            # connections (the default) deadlock under twenty simultaneous
            # operator actions. Connections above `pool_size` close when returned.
            self.reader = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=45)
            self.writer = self.reader
        self._read = sessionmaker(self.reader, expire_on_commit=False)
        self._write = sessionmaker(self.writer, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def read_session(self) -> Session:
        return self._read()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session for one unit of work: committed on success, rolled back on error."""
        session = self._write()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.reader.dispose()
        if self.writer is not self.reader:
            self.writer.dispose()


def dialect_insert(session: Session, model: type[Any]) -> Any:
    """INSERT for `model` in the session's SQL dialect, which has ON CONFLICT
    (PostgreSQL and SQLite spell it the same way; SQLAlchemy needs the dialect)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(model)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(model)


# Flask is imported inside the web helpers below: capture workers use
# `Database` from this module without loading the web framework.
def get_db(app: Flask | None = None) -> Database:
    """The database of `app`, or of the current app in request and command code."""
    from archive.context import archive_context

    return archive_context(app).db


def get_session() -> Session:
    """The request's read session (closed when the app context ends)."""
    from flask import g

    if "db_session" not in g:
        g.db_session = get_db().read_session()
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    from flask import g

    session = g.pop("db_session", None)
    if session is not None:
        session.close()
