"""Which engine serves this archive (ARCHIVE_SEARCH_BACKEND), and whether its index can be used.

`tantivy` (default: a Tantivy index in <DATA_DIR>/index/tantivy/), `whoosh`
(a Whoosh index in <DATA_DIR>/index/) or `database` (SQLite FTS5 on SQLite,
tsvector + GIN on PostgreSQL).

Two flag files in <DATA_DIR>/index/ say what state an engine's index is in:

- `<backend>.ready` (holding documents.DOCUMENT_FORMAT): the index holds
  every comment. `reindex` writes it; so does the first use of an engine on an
  archive with no comments yet. An index update made by another engine
  removes it (this engine's index missed that update), and so does creating
  an index over comments it lacks. Without it searches refuse, saying to run
  `reindex`, rather than show wrong or empty results: switching engines, or
  upgrading to a release that indexes differently, needs a `reindex` (`init`
  runs it).
  PostgreSQL's `database` index is the exception, always taken as ready: it
  lives in a database that web processes on several machines share, each
  with a data folder of its own, so no one folder's flag can speak for it.
- `<backend>.stale`: an index update failed, and why; searches still run (and
  say they may be out of date) until `reindex` repairs the index and removes it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from archive.clock import iso, utcnow
from archive.search.base import Engine
from archive.search.documents import DOCUMENT_FORMAT
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
    """The archive's engine, and the flags that say whether its index is complete."""

    def __init__(self, make: Callable[[], Engine], db: Database, backend: str, flags: Path,
                 tracked: bool = True) -> None:
        self._make = make
        self._engine: Engine | None = None
        self._db = db
        self.backend = backend
        # False: the index is not this data folder's to vouch for (see above).
        self.tracked = tracked
        self.stale_flag = flags / f"{backend}.stale"
        self.ready_flag = flags / f"{backend}.ready"

    def engine(self, indexing: Sequence[int] = ()) -> Engine:
        """The engine, its index created if there is none. `indexing`: the
        comments the caller is about to index."""
        if self._engine is None:
            self._engine = self._make()
        created = self._engine.create_missing_index()
        if created or not self.is_ready():
            # An index lacks nothing if the archive holds no comments other
            # than those about to be indexed; a new (or lost) one over other
            # comments lacks them all.
            others = select(Comment.id).limit(1)
            if indexing:
                others = others.where(Comment.id.not_in(indexing))
            with self._db.read_session() as session:
                complete = session.scalar(others) is None
            if complete:
                self.mark_ready()
            elif created:
                self.ready_flag.unlink(missing_ok=True)
        return self._engine

    def is_ready(self) -> bool:
        """Whether the index holds every comment, in this release's format."""
        if not self.tracked:
            return True
        try:
            return self.ready_flag.read_text(encoding="utf-8").split(" ", 1)[0] == str(DOCUMENT_FORMAT)
        except FileNotFoundError:
            return False

    def mark_ready(self) -> None:
        self.ready_flag.parent.mkdir(parents=True, exist_ok=True)
        self.ready_flag.write_text(f"{DOCUMENT_FORMAT} {iso(utcnow())}\n", encoding="utf-8")

    def others_miss_updates(self) -> None:
        """Called before this engine's index is updated: no other engine's index
        gets the update, so none of them holds every comment any more."""
        for flag in self.ready_flag.parent.glob("*.ready"):
            if flag != self.ready_flag:
                flag.unlink(missing_ok=True)

    def not_ready_message(self) -> str:
        return (f"the search index of this archive has not been built for the {self.backend} engine "
                "(or was built by an older release, or by another engine since): an operator should run "
                "`python -m archive reindex`")

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
    tracked = settings.search_backend != "database" or db.is_sqlite
    return SearchIndex(lambda: make(settings, db), db, settings.search_backend, settings.data_dir / "index",
                       tracked)
