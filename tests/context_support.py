"""Changing a test app's settings: what a restart with other ARCHIVE_* values would do."""
from __future__ import annotations

import dataclasses
from typing import Any

from flask import Flask

from archive.context import EXTENSION, ArchiveContext, archive_context
from archive.search.engines import open_search


def with_settings(app: Flask, **changes: Any) -> ArchiveContext:
    """Give `app` a context with these settings changed (lower-case field
    names), sharing its database and evidence store; returns the new context."""
    old = archive_context(app)
    settings = dataclasses.replace(old.settings, **changes)
    ctx = dataclasses.replace(old, settings=settings, search=open_search(settings, old.db))
    app.extensions[EXTENSION] = ctx
    return ctx
