"""Problems met at start-up or on a full disk are one `error:` line, never a traceback.

Start-up problems run `python -m archive` in a real process with ARCHIVE_*
settings; a full disk is a real one: a small tmpfs mounted for the test.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import func, select

import config
from archive import create_app
from archive.cli import cli
from archive.context import archive_context
from archive.store.blobs import LocalBlobs
from archive.store.models import Blob, Capture, User, Watch

ROOT = Path(__file__).resolve().parent.parent
UNREACHABLE = "postgresql+psycopg://postgres:secret@127.0.0.1:1/x"


def archive(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    full_env.update({"ARCHIVE_DATA_DIR": str(data_dir), **env})
    return subprocess.run([sys.executable, "-m", "archive", *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=120, check=False)


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stderr
    assert done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("error: ")
    return done.stderr.strip()


@pytest.mark.parametrize("command", [["watch", "list"], ["init"], ["serve", "--port", "1"]])
def test_an_unreachable_database_is_one_line(tmp_path: Path, command: list[str]) -> None:
    line = one_error_line(archive(tmp_path, *command, ARCHIVE_DATABASE_URL=UNREACHABLE))
    assert line.startswith("error: cannot use the database postgresql+psycopg://postgres:***@127.0.0.1:1/x "
                           "(ARCHIVE_DATABASE_URL): "), line
    assert "Connection refused" in line and "secret" not in line


@pytest.mark.parametrize("url, env, message", [
    ("nonsense://", {}, "ARCHIVE_DATABASE_URL names an unknown kind of database 'nonsense'"),
    ("not a url", {}, "ARCHIVE_DATABASE_URL is not a SQLAlchemy URL"),
    ("postgresql+psycopg2://u@h/d", {}, "ARCHIVE_DATABASE_URL needs the Python module psycopg2"),
    # An empty PostgreSQL URL means libpq's defaults; PGHOST makes them unreachable here.
    ("postgresql://", {"PGHOST": "/nonexistent"}, "cannot use the database postgresql:// (ARCHIVE_DATABASE_URL): "),
])
@pytest.mark.parametrize("command", [["watch", "list"], ["serve"]])
def test_a_malformed_database_url_is_one_line(tmp_path: Path, command: list[str], url: str,
                                              env: dict[str, str], message: str) -> None:
    line = one_error_line(archive(tmp_path, *command, ARCHIVE_DATABASE_URL=url, **env))
    assert line.startswith(f"error: {message}"), line


@pytest.mark.parametrize("command", [
    ["watch", "list"], ["watch", "add", "http://127.0.0.1:9/a/"], ["capture", "--all"], ["serve"],
    ["user", "add", "alice", "--password", "a long enough password"], ["export", "comments", "--format", "csv"],
    ["demo"],
])
def test_commands_before_init_say_to_run_it_and_create_nothing(tmp_path: Path, command: list[str]) -> None:
    data_dir = tmp_path / "new"
    line = one_error_line(archive(data_dir, *command))
    assert line == f"error: no archive database at {data_dir / 'archive.db'} (ARCHIVE_DATA_DIR): " \
                   "run `python -m archive init` first"
    assert not data_dir.exists(), "a command pointed at the wrong folder must leave nothing there"


def test_init_then_commands_work_and_an_empty_or_older_database_needs_init_too(tmp_path: Path) -> None:
    assert archive(tmp_path, "init").returncode == 0
    listed = archive(tmp_path, "watch", "list")
    assert listed.returncode == 0 and "No watches yet" in listed.stdout
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'a13e4e03f813'")
    line = one_error_line(archive(tmp_path, "watch", "list"))
    assert line.startswith(f"error: the database sqlite:///{tmp_path / 'archive.db'} (ARCHIVE_DATA_DIR) is at "
                           "schema revision a13e4e03f813, not "), line
    assert line.endswith(": run `python -m archive init` to upgrade it")
    empty = tmp_path / "empty.db"
    empty.touch()
    line = one_error_line(archive(tmp_path, "watch", "list", ARCHIVE_DATABASE_URL=f"sqlite:///{empty}"))
    assert line == f"error: the database sqlite:///{empty} (ARCHIVE_DATABASE_URL) holds no archive yet: " \
                   "run `python -m archive init` first"


@pytest.mark.parametrize("env, value, message", [
    ("ARCHIVE_WORKERS", "0", "ARCHIVE_WORKERS must be a whole number of at least 1, not '0'"),
    ("ARCHIVE_FETCH_TIMEOUT", "inf", "ARCHIVE_FETCH_TIMEOUT must be a finite number of seconds above 0, not 'inf'"),
    ("ARCHIVE_FETCH_TIMEOUT", "nan", "ARCHIVE_FETCH_TIMEOUT must be a finite number of seconds above 0, not 'nan'"),
    ("ARCHIVE_FETCH_TIMEOUT", "-1", "ARCHIVE_FETCH_TIMEOUT must be a finite number of seconds above 0, not '-1'"),
    ("ARCHIVE_DEFAULT_INTERVAL", "9999999999w", "ARCHIVE_DEFAULT_INTERVAL must be a duration such as 30m"),
])
@pytest.mark.parametrize("command", [["serve"], ["init"], ["capture", "--all"]])
def test_a_bad_setting_stops_every_command_in_one_line(tmp_path: Path, command: list[str], env: str,
                                                       value: str, message: str) -> None:
    assert one_error_line(archive(tmp_path, *command, **{env: value})).startswith(f"error: {message}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 8 MB file system, so that writes meet a real "no space left on device"."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs (needs root): {done.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "--lazy", str(mount_point)], check=True)


@pytest.fixture
def full_disk_app(small_disk: Path, sqlite_template: Path) -> Iterator[Flask]:
    data_dir = small_disk / "instance"
    data_dir.mkdir()
    shutil.copy(sqlite_template, data_dir / "archive.db")
    app = create_app(config.TestConfig(DATA_DIR=str(data_dir)))
    yield app
    archive_context(app).close()


def fill(disk: Path, leave: int) -> Path:
    """Fill the disk but for `leave` bytes; remove the returned file to free it."""
    filler = disk / "filler"
    with filler.open("wb") as handle:
        handle.write(b"\0" * max(shutil.disk_usage(disk).free - leave, 0))
    return filler


def invoke(app: Flask, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj=app, catch_exceptions=False)


def count(app: Flask, model: type) -> int:
    with archive_context(app).db.read_session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_full_disk_during_a_capture_is_one_line_and_keeps_nothing(full_disk_app, local_server) -> None:
    app = full_disk_app
    url = local_server.url("/article/")
    # Random text does not compress to nothing: its blob needs about 250 kB.
    local_server.route("/article/", os.urandom(250_000).hex()[:330_000])
    assert invoke(app, "watch", "add", url).exit_code == 0
    blobs = archive_context(app).evidence.blobs
    assert isinstance(blobs, LocalBlobs)
    blob_dir = blobs.folder
    filler = fill(blob_dir.parent.parent, leave=64_000)
    result = invoke(app, "capture", url)
    assert result.exit_code == 1
    assert result.output.startswith(f"error: no space left on device while writing {blob_dir}/"), result.output
    assert result.output.count("\n") == 1
    filler.unlink()
    assert (count(app, Capture), count(app, Blob)) == (0, 0)
    assert not [p for p in blob_dir.rglob("*") if p.is_file()], "no half-written blob is left"


@pytest.mark.parametrize("command, model", [
    (["watch", "add", "http://127.0.0.1:9/a/"], Watch),
    (["user", "add", "alice", "--password", "a long enough password"], User),
])
def test_a_full_database_disk_is_one_line_and_keeps_nothing(full_disk_app, command: list[str], model: type,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    app = full_disk_app
    assert invoke(app, "watch", "list").exit_code == 0   # the database is open, as in a running archive
    database = archive_context(app).settings.data_dir / "archive.db"
    filler = fill(database.parent.parent, leave=0)
    result = invoke(app, *command)
    assert (result.exit_code, result.output) == (
        1, f"error: no space left on device while writing the database {database}\n")
    monkeypatch.setenv("ARCHIVE_DEBUG", "1")
    with pytest.raises(Exception, match="database or disk is full"):
        invoke(app, *command)
    filler.unlink()
    assert count(app, model) == 0
