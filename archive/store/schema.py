"""Create or upgrade the database schema with Alembic (used by `init`), and
check before any other command that `init` has done so.

To change the schema: edit archive/store/models.py, then
`.venv/bin/python -m archive.schema revision "what changed"` writes a new
revision under archive/store/migrations/versions/ to review and commit.
"""
from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from archive.settings import Settings
from archive.store.problems import StorageError, database_label, database_setting, explain_database, sqlite_path

MIGRATIONS = Path(__file__).parent / "migrations"
INIT = "run `python -m archive init` first"


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


def head_revision() -> str | None:
    """The newest revision, which `upgrade` brings a database to."""
    return ScriptDirectory.from_config(_alembic_config("")).get_current_head()


def require_archive(settings: Settings) -> None:
    """StorageError unless `init` has brought the database to the newest schema.

    Creates nothing: a command run with a mistyped ARCHIVE_DATA_DIR must not
    leave a new, empty archive there (SQLite creates a file on connecting).
    """
    path = sqlite_path(settings)
    if path is not None and not path.exists():
        raise StorageError(f"no archive database at {path} ({database_setting(settings)}): {INIT}")
    engine = create_engine(settings.database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            revision = MigrationContext.configure(conn).get_current_revision()
    except DBAPIError as exc:
        raise StorageError(explain_database(exc, settings)) from exc
    finally:
        engine.dispose()
    if revision is None:
        raise StorageError(f"the database {database_label(settings)} holds no archive yet: {INIT}")
    head = head_revision()
    if revision != head:
        raise StorageError(f"the database {database_label(settings)} is at schema revision {revision}, "
                           f"not {head}: run `python -m archive init` to upgrade it")


def revision(url: str, message: str) -> None:
    command.revision(_alembic_config(url), message=message, autogenerate=True)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m archive.schema revision "message"')
    revision("sqlite:////tmp/archive-autogen.db", sys.argv[2])
