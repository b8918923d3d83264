"""Which engine serves this app (ARCHIVE_SEARCH_BACKEND), and the stale flag.

`whoosh` (default) or `database` (SQLite FTS5 on SQLite, tsvector + GIN on
PostgreSQL). When an index update fails, a flag file
`<DATA_DIR>/index/<backend>.stale` records why; searches still run (and say
they may be out of date) until `reindex` repairs the index and removes it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from whoosh.index import IndexError as WhooshIndexError
from whoosh.index import LockError

from archive.clock import iso, utcnow
from archive.store.db import get_db
from archive.errors import ArchiveError
from archive.store.models import Comment
from archive.search.base import Engine
from archive.search.postgres_backend import PostgresEngine
from archive.search.sqlite_backend import SqliteEngine
from archive.search.whoosh_backend import WhooshEngine, WhooshState

BACKENDS = ("whoosh", "database")
# What an engine raises when its index cannot be read or written (as
# opposed to a bug, which must not be hidden).
ENGINE_FAILURES = (OSError, EOFError, SQLAlchemyError, LockError, WhooshIndexError)


def backend_name(app: Flask) -> str:
    name = str(app.config.get("SEARCH_BACKEND") or "whoosh").strip().lower()
    if name not in BACKENDS:
        raise ArchiveError(f"ARCHIVE_SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}")
    return name


def _flag(app: Flask) -> Path:
    return Path(app.config["DATA_DIR"]) / "index" / f"{backend_name(app)}.stale"


def mark_stale(app: Flask, reason: str) -> None:
    flag = _flag(app)
    flag.parent.mkdir(parents=True, exist_ok=True)
    with flag.open("a", encoding="utf-8") as out:
        out.write(f"{iso(utcnow())} {reason}\n")


def is_stale(app: Flask) -> bool:
    return _flag(app).exists()


def clear_stale(app: Flask) -> None:
    _flag(app).unlink(missing_ok=True)


def get_engine(app: Flask, indexing: Sequence[int] = ()) -> Engine:
    """The app's engine. `indexing`: the comments the caller is about to index."""
    if backend_name(app) == "database":
        return SqliteEngine(app) if get_db(app).is_sqlite else PostgresEngine(app)
    state = app.extensions.setdefault("archive.search.whoosh", WhooshState())
    engine = WhooshEngine(app, state)
    if not engine.exists():
        # A new (or deleted) index is out of date at once if the archive
        # holds comments other than those about to be indexed.
        engine.create()
        others = select(Comment.id).limit(1)
        if indexing:
            others = others.where(Comment.id.not_in(indexing))
        with get_db(app).read_session() as session:
            if session.scalar(others) is not None:
                mark_stale(app, "whoosh: index created over an archive that already has comments")
    return engine
