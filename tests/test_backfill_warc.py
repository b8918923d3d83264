"""WARC import: the WARC `export warc` writes of one archive, backfilled into an
empty archive with `backfill --warc`, reproduces the same comment statuses."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import config
from archive import create_app
from archive.context import archive_context
from tests.conftest import ArchiveRunner

pytestmark = pytest.mark.wordpress

SEED = [
    ("wl", "WL", "This is bonkers.", None),
    ("nell", "Nell", "Lets assume they are not seeking to privatise Cafcass then.", None),
    ("critic", "Sam", "Cafcass ignored the Parental Conflict Tool in my case entirely.", None),
    ("critic_reply", "Jo", "Same here: no sibling was ever interviewed.", "critic"),
    ("spam", "Bob", "Complaints data shows the opposite of outstanding.", None),
    ("held", "Ann", "The inspection never spoke to a single father.", None),
]


@pytest.fixture
def app(sqlite_app):
    return sqlite_app


def _statuses(runner: ArchiveRunner) -> dict[str, tuple]:
    result = runner.invoke("export", "comments", "--format", "json")
    assert result.exit_code == 0, result.output
    return {row["comment_id"]: (row["status"], row["edit_count"], row["times_removed"], row["times_reinstated"],
                                row["text"]) for row in json.loads(result.output)}


def _capture(runner: ArchiveRunner, url: str) -> None:
    result = runner.invoke("capture", url)
    assert result.exit_code == 0 and "[good]" in result.output, result.output


def test_an_exported_warc_backfilled_into_an_empty_archive_gives_the_same_statuses(
        runner, wordpress, tmp_path, sqlite_template):
    post_id, url = wordpress.add_post("Cafcass complaints", "Tell us.")
    ids: dict[str, int] = {}
    for name, author, text, parent in SEED:
        ids[name] = wordpress.add_comment(post_id, author, text, parent=ids[parent] if parent else 0)
    assert runner.invoke("watch", "add", url).exit_code == 0
    _capture(runner, url)
    wordpress.trash_comment(ids["critic"])
    wordpress.set_comment_status(ids["spam"], "spam")
    wordpress.set_comment_status(ids["held"], "hold")
    wordpress.edit_comment(ids["nell"], "Lets assume they are not seeking to privatise Cafcass.")
    _capture(runner, url)
    _capture(runner, url)
    wordpress.set_comment_status(ids["held"], "approve")
    _capture(runner, url)
    live = _statuses(runner)
    assert live[str(ids["held"])][0] == "visible" and live[str(ids["spam"])][0] == "removed"

    warc = tmp_path / "live.warc.gz"
    exported = runner.invoke("export", "warc", "--output", str(warc))
    assert exported.exit_code == 0, exported.output

    data = tmp_path / "empty"
    data.mkdir()
    shutil.copy(sqlite_template, data / "archive.db")
    other = create_app(config.TestConfig(DATA_DIR=str(data)))
    try:
        rebuilt_runner = ArchiveRunner(other)
        result = rebuilt_runner.invoke("backfill", url, "--warc", str(warc))
        assert result.exit_code == 0, result.output
        assert "4 of 4 snapshots judged (4 good)" in result.output, result.output
        assert _statuses(rebuilt_runner) == live
    finally:
        archive_context(other).close()


def test_a_missing_warc_is_one_clear_error_and_writes_nothing(app, runner, tmp_path: Path):
    from sqlalchemy import func, select

    from archive.store.db import get_db
    from archive.store.models import BackfillRun, Thread

    result = runner.invoke("backfill", "https://example.org/a/", "--warc", str(tmp_path / "none.warc"))
    assert result.exit_code == 1
    assert result.output.strip().endswith(f"no WARC file or folder at {tmp_path / 'none.warc'}")
    with get_db(app).read_session() as session:
        assert session.scalar(select(func.count()).select_from(Thread)) == 0
        assert session.scalar(select(func.count()).select_from(BackfillRun)) == 0
