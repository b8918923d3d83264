"""What pipeline code needs to run: settings, database, evidence store, search.

An `ArchiveContext` is built from `Settings` alone, so a capture worker runs
captures with no Flask app; `create_app` builds one and keeps it in
`app.extensions`, where `archive_context` finds it for request and command code.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from archive.search.engines import SearchIndex, open_search
from archive.search.updates import IndexUpdates
from archive.settings import Settings
from archive.store.blobs import open_blobs
from archive.store.db import Database
from archive.store.evidence import EvidenceStore

if TYPE_CHECKING:
    from flask import Flask

EXTENSION = "archive.context"


@dataclass(frozen=True)
class ArchiveContext:
    settings: Settings
    db: Database
    evidence: EvidenceStore
    search: SearchIndex
    # What captures changed, waiting to be indexed together (archive/search/updates.py).
    index_updates: IndexUpdates = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index_updates", IndexUpdates(self._index_now))

    def _index_now(self, comment_ids: list[int]) -> None:
        from archive.search import index_comments

        with self.db.read_session() as session:
            index_comments(self, session, comment_ids)

    @classmethod
    def open(cls, settings: Settings) -> ArchiveContext:
        """The context of `settings`; an unset secret key becomes the data folder's own."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if not settings.secret_key:
            settings = replace(settings, secret_key=_kept_secret_key(settings.data_dir))
        db = Database(settings.database_url)
        evidence = EvidenceStore(open_blobs(settings.blob_url, settings.data_dir))
        return cls(settings, db, evidence, open_search(settings, db))

    def close(self) -> None:
        self.index_updates.flush()
        self.db.dispose()


def _kept_secret_key(data_dir: Path) -> str:
    # A random key kept in the data folder, so sessions and search links
    # survive restarts without anyone having to invent a secret.
    path = data_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def archive_context(app: Flask | None = None) -> ArchiveContext:
    """The context of `app`, or of the current app in request and command code."""
    # Flask is imported here, not at the top: capture workers import this
    # module and must not load the web framework.
    from flask import current_app

    context: ArchiveContext = (app or current_app).extensions[EXTENSION]
    return context
