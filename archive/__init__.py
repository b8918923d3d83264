"""The comment-moderation transparency archive.

`create_app` builds the Flask app (public pages, JSON API, operator pages);
`python -m archive` is the command line (archive/cli/).
"""
from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask

from config import Config

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
    config = config or Config()
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder=str(Path(__file__).parent / "web" / "static"))
    app.config.from_object(config)
    data_dir = Path(app.config["DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(data_dir)

    from . import db
    from .web import init_web

    db.init_app(app)
    init_web(app)
    return app
