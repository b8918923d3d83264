"""Shared fixtures: `app`, `ctx`, `client`, `runner` on every available database.

Every test that uses `app` runs on SQLite and, when PostgreSQL answers (the
`ARCHIVE_TEST_POSTGRES_URL`, or the local server on its standard port), on
PostgreSQL too. In CI (CI=true) a missing PostgreSQL is an error, not a skip.
"""
from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from archive import create_app
from archive.cli import cli
from archive.context import ArchiveContext, archive_context
from archive.store.db import get_db
from archive.store.models import Base
from archive.store.schema import upgrade
from config import TestConfig

pytest_plugins = ["tests.local_server", "tests.wordpress_site", "tests.s3_server", "tests.pywb_server",
                  "tests.isso_server"]

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
IN_CI = os.environ.get("CI") == "true"


def _postgres_admin_url() -> str | None:
    url = os.environ.get("ARCHIVE_TEST_POSTGRES_URL", LOCAL_POSTGRES)
    try:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return url
    except Exception:
        if IN_CI:
            raise
        return None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """A fresh PostgreSQL database for this test session, migrated once."""
    admin = _postgres_admin_url()
    if admin is None:
        yield None
        return
    name = f"archive_test_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.rsplit("/", 1)[0] + "/" + name
    migrated = create_engine(url)
    upgrade(migrated)
    migrated.dispose()
    yield url
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating each time is slow)."""
    path = tmp_path_factory.mktemp("template") / "archive.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _truncate(app: Flask) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with get_db(app).writer.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[Flask]:
    data_dir = tmp_path / "instance"
    data_dir.mkdir()
    if request.param == "sqlite":
        shutil.copy(sqlite_template, data_dir / "archive.db")
        url = ""
    else:
        url = request.getfixturevalue("postgres_url")
        if url is None:
            pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432 (set ARCHIVE_TEST_POSTGRES_URL)")
    app = create_app(TestConfig(DATA_DIR=str(data_dir), DATABASE_URL=url))
    if request.param == "postgresql":
        _truncate(app)
    yield app
    archive_context(app).close()


@pytest.fixture
def ctx(app: Flask) -> ArchiveContext:
    """The app's archive context, for pipeline code."""
    return archive_context(app)


@pytest.fixture
def sqlite_app(tmp_path: Path, sqlite_template: Path) -> Iterator[Flask]:
    """SQLite only: for tests of SQLite-specific behaviour."""
    data_dir = tmp_path / "instance"
    data_dir.mkdir()
    shutil.copy(sqlite_template, data_dir / "archive.db")
    app = create_app(TestConfig(DATA_DIR=str(data_dir)))
    yield app
    archive_context(app).close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class ArchiveRunner:
    """Runs `python -m archive ...` commands in-process against the test app."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.runner = CliRunner()

    def invoke(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(cli, list(args), obj=self.app, input=input, catch_exceptions=False)


@pytest.fixture
def runner(app: Flask) -> ArchiveRunner:
    return ArchiveRunner(app)
