"""The comment-moderation transparency archive.

`create_app` builds the Flask app (public pages, JSON API, operator pages);
`python -m archive` is the command line (archive/cli/).
"""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from config import Config

if TYPE_CHECKING:
    from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def _secret_key(data_dir: Path) -> str:
    # A random key kept in the data folder, so sessions survive restarts
    # without anyone having to invent a secret.
    path = data_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(config: Config | None = None) -> Flask:
    # Flask loads here, not at import: the command line, capture workers and
    # the pure rules import this package without needing the web app.
    from flask import Flask

    config = config or Config()
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder=str(Path(__file__).parent / "web" / "static"))
    app.config.from_object(config)
    data_dir = Path(app.config["DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(data_dir)

    from archive.store import db
    from archive.web import init_web

    db.init_app(app)
    init_web(app)
    return app
