"""Settings are converted and checked once; a bad value is one line naming its variable."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import config
from archive.cli import cli
from archive.settings import Settings, SettingsError
from config import SETTINGS, Config


def test_every_setting_has_a_typed_field(tmp_path: Path) -> None:
    settings = Settings.from_config(config.TestConfig(DATA_DIR=str(tmp_path / "data"), WORKERS="2",
                                               DEFAULT_INTERVAL="30m"))
    assert set(vars(settings)) == {name.lower() for name in SETTINGS}
    assert settings.data_dir == (tmp_path / "data").resolve()
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'archive.db'}"
    assert (settings.workers, settings.default_interval) == (2, timedelta(minutes=30))
    with pytest.raises(AttributeError):
        settings.workers = 3  # type: ignore[misc]


@pytest.mark.parametrize("env, value, message", [
    ("ARCHIVE_WORKERS", "0", "ARCHIVE_WORKERS must be a whole number of at least 1, not '0'"),
    ("ARCHIVE_WORKERS", "x", "ARCHIVE_WORKERS must be a whole number of at least 1, not 'x'"),
    ("ARCHIVE_CONFIRM_CAPTURES", "1.5", "ARCHIVE_CONFIRM_CAPTURES must be a whole number of at least 1"),
    ("ARCHIVE_FETCH_RETRIES", "-1", "ARCHIVE_FETCH_RETRIES must be a whole number of at least 0"),
    ("ARCHIVE_FETCH_TIMEOUT", "0", "ARCHIVE_FETCH_TIMEOUT must be a finite number of seconds above 0"),
    ("ARCHIVE_FETCH_TIMEOUT", "nan", "ARCHIVE_FETCH_TIMEOUT must be a finite number of seconds above 0"),
    ("ARCHIVE_MIN_HOST_DELAY", "inf", "ARCHIVE_MIN_HOST_DELAY must be a finite number of seconds, 0 or more"),
    ("ARCHIVE_MIN_HOST_DELAY", "-2", "ARCHIVE_MIN_HOST_DELAY must be a finite number of seconds, 0 or more"),
    ("ARCHIVE_MAX_RESPONSE_BYTES", "0", "ARCHIVE_MAX_RESPONSE_BYTES must be a whole number of at least 1"),
    ("ARCHIVE_DEFAULT_INTERVAL", "soon", "ARCHIVE_DEFAULT_INTERVAL must be a duration such as 30m"),
    ("ARCHIVE_DEFAULT_INTERVAL", "9999999999w", "ARCHIVE_DEFAULT_INTERVAL must be a duration such as 30m"),
    ("ARCHIVE_FETCH_TIMEOUT", "inf", "ARCHIVE_FETCH_TIMEOUT must be a finite number of seconds above 0"),
    ("ARCHIVE_FETCH_TIMEOUT", "-1", "ARCHIVE_FETCH_TIMEOUT must be a finite number of seconds above 0"),
    ("ARCHIVE_DATABASE_URL", "nonsense://", "ARCHIVE_DATABASE_URL names an unknown kind of database 'nonsense'"),
    ("ARCHIVE_DATABASE_URL", "not a url", "ARCHIVE_DATABASE_URL is not a SQLAlchemy URL such as"),
    ("ARCHIVE_BLOB_URL", "/srv/blobs", "ARCHIVE_BLOB_URL must be empty (the data folder) or s3://BUCKET[/PREFIX], "
                                       "not '/srv/blobs'"),
    ("ARCHIVE_BLOB_URL", "s3://", "ARCHIVE_BLOB_URL must be empty (the data folder) or s3://BUCKET[/PREFIX]"),
    ("ARCHIVE_BLOB_URL", "s3://Evidence_Bucket", "ARCHIVE_BLOB_URL must be empty"),
    ("ARCHIVE_BLOB_URL", "gs://evidence", "ARCHIVE_BLOB_URL must be empty"),
    ("ARCHIVE_BROWSER_SECONDS", "1", "ARCHIVE_BROWSER_SECONDS must be a finite number of seconds, 5 or more"),
    ("ARCHIVE_BROWSER_MAX_REQUESTS", "0", "ARCHIVE_BROWSER_MAX_REQUESTS must be a whole number of at least 1"),
    ("ARCHIVE_BROWSER_SKIP", "image,script", "ARCHIVE_BROWSER_SKIP must be empty or a comma-separated list of "
                                             "font, image, manifest, media, stylesheet, texttrack, "
                                             "not 'image,script'"),
    ("ARCHIVE_BROWSER", " ", "ARCHIVE_BROWSER must be the path of a Chromium executable"),
])
def test_a_bad_value_is_named_in_one_line(monkeypatch: pytest.MonkeyPatch, env: str, value: str,
                                          message: str) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError) as raised:
        Settings.from_config(Config())
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_browser_skip_takes_a_list_of_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHIVE_BROWSER_SKIP", " Image, font ")
    assert Settings.from_config(Config()).browser_skip == frozenset({"image", "font"})
    monkeypatch.setenv("ARCHIVE_BROWSER_SKIP", "")
    assert Settings.from_config(Config()).browser_skip == frozenset()


def test_the_command_line_prints_a_bad_setting_as_one_error_line(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from click.testing import CliRunner

    monkeypatch.setenv("ARCHIVE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ARCHIVE_SEARCH_BACKEND", "elastic")
    result = CliRunner().invoke(cli, ["watch", "list"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: ARCHIVE_SEARCH_BACKEND must be one of whoosh, database, tantivy, not 'elastic'"]


@pytest.mark.parametrize("value", ["", "s3://evidence", "s3://evidence.example-1/archive/blobs/"])
def test_blob_url_is_empty_or_a_bucket(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ARCHIVE_BLOB_URL", value)
    assert Settings.from_config(Config()).blob_url == value
