"""Changing a test app's settings: what a restart with other ARCHIVE_* values would do."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from flask import Flask

from archive.context import EXTENSION, ArchiveContext, archive_context
from archive.search.engines import open_search
from archive.store.blobs import LocalBlobs
from archive.store.evidence import EvidenceStore


def with_settings(app: Flask, **changes: Any) -> ArchiveContext:
    """Give `app` a context with these settings changed (lower-case field
    names), sharing its database and evidence store; returns the new context."""
    old = archive_context(app)
    settings = dataclasses.replace(old.settings, **changes)
    ctx = dataclasses.replace(old, settings=settings, search=open_search(settings, old.db))
    app.extensions[EXTENSION] = ctx
    return ctx


def blob_file(app: Flask, sha256: str) -> Path:
    """The file of a body in a test app's local blob folder."""
    blobs = archive_context(app).evidence.blobs
    assert isinstance(blobs, LocalBlobs)
    return blobs.path(EvidenceStore.name(sha256))
