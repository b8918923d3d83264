"""Backfilled history and live captures: two chains that never override each other.

A thread is archived in 2018 (WARC snapshots of a live loopback WordPress),
then watched live; the backfill runs after the first live capture. Snapshots
must not change what live captures say, comments known only from snapshots
keep the snapshots' verdict, and the next live capture invents no removal at
the seam (a comment the last snapshot showed and live captures never saw is
not called missing by them).
"""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select

from archive.store.db import get_db
from archive.store.models import Capture, Comment, Event
from tests.conftest import ArchiveRunner
from tests.snapshot_support import archive_page

pytestmark = pytest.mark.wordpress


@pytest.fixture
def app(sqlite_app):
    return sqlite_app


def _rows(runner: ArchiveRunner) -> dict[str, dict]:
    result = runner.invoke("export", "comments", "--format", "json")
    assert result.exit_code == 0, result.output
    return {row["comment_id"]: row for row in json.loads(result.output)}


def test_snapshots_never_override_live_captures_and_the_seam_invents_nothing(app, runner, wordpress, tmp_path):
    post_id, url = wordpress.add_post("Cafcass rated outstanding", "Ofsted inspectors.")
    ids = {name: wordpress.add_comment(post_id, name.title(), f"Comment of {name}, about Cafcass.")
           for name in ("kept", "held", "trashed", "deleted")}
    key = {name: str(cid) for name, cid in ids.items()}
    warcs = tmp_path / "warcs"
    warcs.mkdir()
    archive_page(wordpress, url, warcs / "1.warc.gz", datetime(2018, 3, 1, 12))
    wordpress.trash_comment(ids["trashed"])
    wordpress.set_comment_status(ids["held"], "hold")
    archive_page(wordpress, url, warcs / "2.warc.gz", datetime(2018, 3, 8, 12))
    archive_page(wordpress, url, warcs / "3.warc.gz", datetime(2018, 3, 15, 12))
    wordpress.set_comment_status(ids["held"], "approve")
    wordpress.delete_comment(ids["deleted"])

    assert runner.invoke("watch", "add", url).exit_code == 0
    first = runner.invoke("capture", url)
    assert "[good]" in first.output and "2 comments" in first.output, first.output

    result = runner.invoke("backfill", url, "--warc", str(warcs))
    assert result.exit_code == 0, result.output
    assert "3 of 3 snapshots judged (3 good)" in result.output, result.output
    rows = _rows(runner)
    # Live captures speak for what they saw: the 2018 hold leaves "held" visible.
    assert (rows[key["held"]]["status"], rows[key["held"]]["source"]) == ("visible", "live")
    assert (rows[key["kept"]]["status"], rows[key["kept"]]["source"]) == ("visible", "live")
    # Known only from snapshots: their verdict, marked as such.
    assert (rows[key["trashed"]]["status"], rows[key["trashed"]]["source"]) == ("removed", "backfill")
    assert rows[key["trashed"]]["removed_after"] == "2018-03-01T12:00:00Z"
    assert rows[key["trashed"]]["removed_before"] == "2018-03-08T12:00:00Z"
    assert (rows[key["deleted"]]["status"], rows[key["deleted"]]["source"]) == ("visible", "backfill")

    second = runner.invoke("capture", url)
    assert "[good]" in second.output and "missing" not in second.output, second.output
    after = _rows(runner)
    for name in ("held", "trashed", "deleted", "kept"):
        assert (after[key[name]]["status"], after[key[name]]["source"]) == (
            rows[key[name]]["status"], rows[key[name]]["source"]), name

    with get_db(app).read_session() as session:
        held = session.scalars(select(Comment).where(Comment.key == key["held"])).one()
        kinds = [(e.source, e.kind) for e in session.scalars(
            select(Event).where(Event.comment_id == held.id).order_by(Event.at, Event.id))]
        assert kinds == [("backfill", "appeared"), ("backfill", "missing"), ("backfill", "removed"),
                         ("live", "appeared")]
        chains = {(c.source, c.seq) for c in session.scalars(select(Capture))}
        assert chains == {("live", 1), ("live", 2), ("backfill", 1), ("backfill", 2), ("backfill", 3)}
    assert runner.invoke("verify").exit_code == 0
