"""Every setting config.py reads must be documented in the README (Datasette's rule)."""
from pathlib import Path

import pytest

from archive.settings import Settings
from config import SETTINGS, Config

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_setting_is_in_readme_table(name):
    env = SETTINGS[name][0]
    assert f"| `{env}` |" in README, f"{env} is missing from the README's settings table"


def test_environment_overrides_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("ARCHIVE_CONFIRM_CAPTURES", "3")
    monkeypatch.setenv("ARCHIVE_ALLOW_PRIVATE_ADDRESSES", "1")
    monkeypatch.setenv("ARCHIVE_DATA_DIR", str(tmp_path))
    settings = Settings.from_config(Config())
    assert settings.confirm_captures == 3
    assert settings.allow_private_addresses is True
    assert settings.database_url == f"sqlite:///{tmp_path / 'archive.db'}"
