"""Which engine serves this archive (ARCHIVE_SEARCH_BACKEND), and the stale flag.

`whoosh` (default), `database` (SQLite FTS5 on SQLite, tsvector + GIN on
PostgreSQL) or `tantivy` (a Tantivy index in <DATA_DIR>/index/tantivy/). When an index update fails, a flag file
`<DATA_DIR>/index/<backend>.stale` records why; searches still run (and say
they may be out of date) until `reindex` repairs the index and removes it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from archive.clock import iso, utcnow
from archive.search.base import Engine
from archive.settings import Settings, SettingsError
from archive.store.db import Database
from archive.store.models import Comment


# Each engine module is imported only when its engine is first used: the
# command line and capture workers start without loading Whoosh or Tantivy.
def _whoosh(settings: Settings, db: Database) -> Engine:
    from archive.search.whoosh_backend import WhooshEngine

    return WhooshEngine(db, settings.data_dir / "index")


def _tantivy(settings: Settings, db: Database) -> Engine:
    from archive.search.tantivy_backend import TantivyEngine

    return TantivyEngine(db, settings.data_dir / "index" / "tantivy")


def _database(settings: Settings, db: Database) -> Engine:
    if db.is_sqlite:
        from archive.search.sqlite_backend import SqliteEngine

        return SqliteEngine(db)
    from archive.search.postgres_backend import PostgresEngine

    return PostgresEngine(db, settings.search_exact_count)


# ARCHIVE_SEARCH_BACKEND -> the engine it names.
BACKENDS: dict[str, Callable[[Settings, Database], Engine]] = {
    "whoosh": _whoosh, "database": _database, "tantivy": _tantivy}
# What any engine raises when its index cannot be read or written (as
# opposed to a bug, which must not be hidden); engines add their own.
BASE_FAILURES: tuple[type[BaseException], ...] = (OSError, EOFError, SQLAlchemyError)


class SearchIndex:
    """The archive's engine, and the flag that says its index is out of date."""

    def __init__(self, make: Callable[[], Engine], db: Database, stale_flag: Path) -> None:
        self._make = make
        self._engine: Engine | None = None
        self._db = db
        self.stale_flag = stale_flag

    def engine(self, indexing: Sequence[int] = ()) -> Engine:
        """The engine, its index created if there is none. `indexing`: the
        comments the caller is about to index."""
        if self._engine is None:
            self._engine = self._make()
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

    @property
    def failures(self) -> tuple[type[BaseException], ...]:
        """What this engine raises when its index cannot be used."""
        return BASE_FAILURES + (self._engine.failures if self._engine is not None else ())

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
    return SearchIndex(lambda: make(settings, db), db, stale_flag)
