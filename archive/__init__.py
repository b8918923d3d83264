"""The comment-moderation transparency archive.

`create_app` builds the Flask app (public pages, JSON API, operator pages);
`python -m archive` is the command line (archive/cli/).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from archive.context import ArchiveContext
    from config import Config

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Config | None = None, context: ArchiveContext | None = None) -> Flask:
    """The web app over `context` (the command line's, when it opened one first) or a new one."""
    # Flask loads here, not at import: the command line, capture workers and
    # the pure rules import this package without needing the web app.
    from flask import Flask

    from archive.context import EXTENSION, ArchiveContext
    from archive.settings import Settings
    from archive.store.db import close_session
    from archive.web import init_web
    from config import SETTINGS, Config

    config = config or Config()
    settings = context.settings if context else Settings.from_config(config)
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder=str(Path(__file__).parent / "web" / "static"))
    # Archive settings live in `settings` only; app.config keeps Flask's own keys.
    app.config.from_mapping({k: v for k, v in config.as_dict().items() if k not in SETTINGS})
    context = context or ArchiveContext.open(settings)
    app.config["SECRET_KEY"] = context.settings.secret_key
    app.extensions[EXTENSION] = context
    app.teardown_appcontext(close_session)
    init_web(app)
    return app
