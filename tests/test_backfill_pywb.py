"""Backfill end to end: a live loopback WordPress archived at several moments
(warcio's capture_http), served by a real pywb, rebuilt by `python -m archive backfill --cdx`.

Between the moments a moderator trashes a parent comment (its reply is hidden
with it), marks one as spam, edits one, and holds a parent (hiding its reply);
two moments are walls served as 200 (a maintenance page, a challenge page).
The backfill must name exactly the removals, each between the two good
snapshots around it, call the walls suspect and nothing else removed.
"""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select

from archive.store.db import get_db
from archive.store.models import BackfillRun, Capture, Event, Exchange
from tests.conftest import ArchiveRunner
from tests.snapshot_support import archive_page, archive_wall

pytestmark = pytest.mark.wordpress

SEED = [
    ("wl", "WL", "This is bonkers. I know officers who never see their children.", None),
    ("nell", "Nell", "Lets assume they are not seeking to privatise Cafcass then.", None),
    ("critic", "Sam", "Cafcass ignored the Parental Conflict Tool in my case entirely.", None),
    ("critic_reply", "Jo", "Same here: no sibling was ever interviewed.", "critic"),
    ("spam", "Bob", "Complaints data shows the opposite of outstanding.", None),
    ("held", "Ann", "The inspection never spoke to a single father.", None),
    ("held_reply", "Pat", "Nor to any of the grandparents I know.", "held"),
    ("paul", "Paul", "I know of other criticisms of cafcass that have been moderated out.", None),
]
MOMENTS = {name: datetime(2018, 3, day, 12, 0, 0) for name, day in
           (("m1", 1), ("m2", 8), ("maintenance", 10), ("challenge", 12), ("m3", 15), ("m4", 22))}
CHALLENGE = (b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
             b"<div id=\"challenge-form\">Checking your browser before accessing the site.</div></body></html>")


@pytest.fixture
def app(sqlite_app):
    # The live site and pywb are slow to start; the database matrix is covered elsewhere.
    return sqlite_app


def _export(runner: ArchiveRunner) -> dict[str, dict]:
    result = runner.invoke("export", "comments", "--format", "json")
    assert result.exit_code == 0, result.output
    return {row["comment_id"]: row for row in json.loads(result.output)}


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds") + "Z"


def test_backfill_from_pywb_names_exactly_the_removals(app, runner, wordpress, pywb, tmp_path):
    post_id, url = wordpress.add_post("Cafcass rated 'outstanding' for effective leaders",
                                      "Ofsted inspectors find child-focussed practice.")
    ids: dict[str, int] = {}
    for name, author, text, parent in SEED:
        ids[name] = wordpress.add_comment(post_id, author, text, parent=ids[parent] if parent else 0)
    key = {name: str(cid) for name, cid in ids.items()}
    warcs = tmp_path / "warcs"
    warcs.mkdir()

    archive_page(wordpress, url, warcs / "m1.warc.gz", MOMENTS["m1"])
    wordpress.trash_comment(ids["critic"])
    wordpress.set_comment_status(ids["spam"], "spam")
    wordpress.edit_comment(ids["nell"], "Lets assume they are not seeking to privatise Cafcass.")
    archive_page(wordpress, url, warcs / "m2.warc.gz", MOMENTS["m2"])
    wordpress.maintenance(True)
    try:
        maintenance_page = wordpress.get(url).body
    finally:
        wordpress.maintenance(False)
    archive_wall(url, warcs / "maintenance.warc.gz", MOMENTS["maintenance"], maintenance_page)
    archive_wall(url, warcs / "challenge.warc.gz", MOMENTS["challenge"], CHALLENGE)
    wordpress.set_comment_status(ids["held"], "hold")
    archive_page(wordpress, url, warcs / "m3.warc.gz", MOMENTS["m3"])
    archive_page(wordpress, url, warcs / "m4.warc.gz", MOMENTS["m4"])

    collection = pywb.collection("wp")
    pywb.add(collection, *sorted(warcs.iterdir()))
    result = runner.invoke("backfill", url, "--cdx", pywb.cdx_url(collection))
    assert result.exit_code == 0, result.output
    assert "backfill run 1 done: 6 of 6 snapshots judged" in result.output, result.output

    rows = _export(runner)
    removed = {cid for cid, row in rows.items() if row["status"] == "removed"}
    assert removed == {key["critic"], key["critic_reply"], key["spam"], key["held"], key["held_reply"]}
    for name in ("critic", "critic_reply", "spam"):
        row = rows[key[name]]
        assert (row["removed_after"], row["removed_before"]) == (_iso(MOMENTS["m1"]), _iso(MOMENTS["m2"])), row
    for name in ("held", "held_reply"):
        # The walls between m2 and m3 prove nothing: the window spans them.
        row = rows[key[name]]
        assert (row["removed_after"], row["removed_before"]) == (_iso(MOMENTS["m2"]), _iso(MOMENTS["m3"])), row
    assert {rows[key[n]]["status"] for n in ("wl", "nell", "paul")} == {"visible"}
    assert rows[key["nell"]]["edit_count"] == 1
    assert rows[key["nell"]]["text"].endswith("privatise Cafcass.")
    assert {row["source"] for row in rows.values()} == {"backfill"}

    with get_db(app).read_session() as session:
        captures = session.scalars(select(Capture).order_by(Capture.seq)).all()
        assert [(c.started_at, c.outcome, c.source) for c in captures] == [
            (MOMENTS["m1"], "good", "backfill"), (MOMENTS["m2"], "good", "backfill"),
            (MOMENTS["maintenance"], "suspect", "backfill"), (MOMENTS["challenge"], "suspect", "backfill"),
            (MOMENTS["m3"], "good", "backfill"), (MOMENTS["m4"], "good", "backfill")]
        assert "maintenance" in captures[2].reason and "challenge" in captures[3].reason
        first = session.scalars(select(Exchange).where(Exchange.capture_id == captures[0].id)).one()
        provenance = first.provenance or {}
        assert provenance["timestamp"] == "20180301120000"
        assert provenance["snapshot_url"].endswith(f"/{collection}/20180301120000id_/{url}")
        assert provenance["archive"] == f"127.0.0.1:{pywb.port}" and provenance["digest"]
        assert first.url == url and first.status == 200
        assert {e.source for e in session.scalars(select(Event))} == {"backfill"}
        assert session.scalars(select(BackfillRun)).one().state == "done"

    verify = runner.invoke("verify")
    assert verify.exit_code == 0, verify.output

    again = runner.invoke("backfill", url, "--cdx", pywb.cdx_url(collection))
    assert again.exit_code == 0, again.output
    assert "0 of 0 snapshots judged" in again.output and "6 older than the backfilled history skipped" in again.output
    assert _export(runner) == rows
