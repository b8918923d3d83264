"""Which engine serves this archive (ARCHIVE_SEARCH_BACKEND), and the stale flag.

`whoosh` (default) or `database` (SQLite FTS5 on SQLite, tsvector + GIN on
PostgreSQL). When an index update fails, a flag file
`<DATA_DIR>/index/<backend>.stale` records why; searches still run (and say
they may be out of date) until `reindex` repairs the index and removes it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from whoosh.index import IndexError as WhooshIndexError
from whoosh.index import LockError

from archive.clock import iso, utcnow
from archive.search.base import Engine
from archive.search.postgres_backend import PostgresEngine
from archive.search.sqlite_backend import SqliteEngine
from archive.search.whoosh_backend import WhooshEngine
from archive.settings import Settings, SettingsError
from archive.store.db import Database
from archive.store.models import Comment

# ARCHIVE_SEARCH_BACKEND -> the engine it names.
BACKENDS: dict[str, Callable[[Settings, Database], Engine]] = {
    "whoosh": lambda settings, db: WhooshEngine(db, settings.data_dir / "index"),
    "database": lambda _settings, db: SqliteEngine(db) if db.is_sqlite else PostgresEngine(db),
}
# What an engine raises when its index cannot be read or written (as
# opposed to a bug, which must not be hidden).
ENGINE_FAILURES = (OSError, EOFError, SQLAlchemyError, LockError, WhooshIndexError)


class SearchIndex:
    """The archive's engine, and the flag that says its index is out of date."""

    def __init__(self, engine: Engine, db: Database, stale_flag: Path) -> None:
        self._engine = engine
        self._db = db
        self.stale_flag = stale_flag

    def engine(self, indexing: Sequence[int] = ()) -> Engine:
        """The engine, its index created if there is none. `indexing`: the
        comments the caller is about to index."""
        if self._engine.create_missing_index():
            # A new (or deleted) index is out of date at once if the archive
            # holds comments other than those about to be indexed.
            others = select(Comment.id).limit(1)
            if indexing:
                others = others.where(Comment.id.not_in(indexing))
            with self._db.read_session() as session:
                if session.scalar(others) is not None:
                    self.mark_stale(f"{self._engine.name}: index created over an archive "
                                    "that already has comments")
        return self._engine

    def mark_stale(self, reason: str) -> None:
        self.stale_flag.parent.mkdir(parents=True, exist_ok=True)
        with self.stale_flag.open("a", encoding="utf-8") as out:
            out.write(f"{iso(utcnow())} {reason}\n")

    def is_stale(self) -> bool:
        return self.stale_flag.exists()

    def clear_stale(self) -> None:
        self.stale_flag.unlink(missing_ok=True)


def check_backend(name: str) -> None:
    """SettingsError unless ARCHIVE_SEARCH_BACKEND names an engine."""
    if name not in BACKENDS:
        raise SettingsError(f"ARCHIVE_SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}")


def open_search(settings: Settings, db: Database) -> SearchIndex:
    """The search index ARCHIVE_SEARCH_BACKEND names; SettingsError for an unknown name."""
    check_backend(settings.search_backend)
    make = BACKENDS[settings.search_backend]
    stale_flag = settings.data_dir / "index" / f"{settings.search_backend}.stale"
    return SearchIndex(make(settings, db), db, stale_flag)
