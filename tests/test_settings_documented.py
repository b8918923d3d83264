"""Every setting config.py reads must be documented in the README (Datasette's rule)."""
from pathlib import Path

import pytest

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
    config = Config()
    assert config.CONFIRM_CAPTURES == 3
    assert config.ALLOW_PRIVATE_ADDRESSES is True
    assert config.DATABASE_URL == f"sqlite:///{tmp_path / 'archive.db'}"
