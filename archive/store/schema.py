"""Create or upgrade the database schema with Alembic (used by `init`).

To change the schema: edit archive/store/models.py, then
`.venv/bin/python -m archive.schema revision "what changed"` writes a new
revision under archive/store/migrations/versions/ to review and commit.
"""
from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic's filter of what autogenerate compares (migrations/env.py; tests/test_migrations.py):
    the search index tables (revision 0003, archive/search/) have no models,
    so autogenerate must not propose dropping them."""
    return not (type_ == "table" and name is not None and name.startswith("search_"))


def _alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the database behind `engine` to the newest revision."""
    cfg = _alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def revision(url: str, message: str) -> None:
    command.revision(_alembic_config(url), message=message, autogenerate=True)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m archive.schema revision "message"')
    revision("sqlite:////tmp/archive-autogen.db", sys.argv[2])
