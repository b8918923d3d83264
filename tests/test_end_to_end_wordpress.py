"""End to end against a live WordPress on loopback: seed, moderate, capture, export.

The Community Care thread is rebuilt on a real WordPress; a moderator then
trashes, spams, holds, permanently deletes and edits comments, and the
archive must say exactly what happened, through `python -m archive export`.
Then the site breaks (maintenance mode, server down) and the archive must
not call anything new removed; finally a held comment is approved again and
must come back as reinstated.
"""
from __future__ import annotations

import json

import pytest

from tests.conftest import ArchiveRunner

pytestmark = pytest.mark.wordpress

SEED = [
    # (name, author, text, parent name)
    ("wl", "WL", "This is bonkers. I know officers who never see their children, have supervision "
                 "rarely and don't undertake assessment.", None),
    ("cha", "Cha", "This is fantastic, we'll done.", None),
    ("nell", "Nell", "Lets assume they are not seeking to privatise Cafcass then.", None),
    ("paul1", "Paul", "one can only speak of one's own experience. The CAFCASS officer said in her "
                      "report that she had read a report from a previous cafcass officer.", None),
    ("paul2", "Paul", "As a sidenote, I observe that i know of other criticisms of cafcass that have "
                      "been posted here and moderated out.", None),
    ("mike", "Mike", "Absolutely right Paul this is clearly not the place for honesty and integrity. "
                     "My comment was removed.", "paul2"),
    ("critic", "Sam", "Cafcass ignored the Parental Conflict Tool in my case entirely.", None),
    ("critic_reply", "Jo", "Same here: no sibling was ever interviewed.", "critic"),
    ("held", "Ann", "The inspection never spoke to a single father.", None),
    ("spam", "Bob", "Complaints data shows the opposite of outstanding.", None),
]


def _export(runner: ArchiveRunner) -> dict[str, dict]:
    result = runner.invoke("export", "comments", "--format", "json")
    assert result.exit_code == 0, result.output
    return {row["comment_id"]: row for row in json.loads(result.output)}


def _capture(runner: ArchiveRunner, url: str) -> str:
    result = runner.invoke("capture", url)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def app(sqlite_app):
    # The live site is slow to start; the database matrix is covered elsewhere.
    return sqlite_app


def test_moderation_is_detected_and_breakage_is_not(runner, wordpress):
    post_id, url = wordpress.add_post("Cafcass rated 'outstanding' for effective leaders",
                                      "Ofsted inspectors find child-focussed practice.")
    ids: dict[str, int] = {}
    for name, author, text, parent in SEED:
        ids[name] = wordpress.add_comment(post_id, author, text, parent=ids[parent] if parent else 0)
    key = {name: str(cid) for name, cid in ids.items()}

    assert runner.invoke("watch", "add", url).exit_code == 0
    first = _capture(runner, url)
    assert "[good]" in first and f"{len(SEED)} comments" in first, first
    rows = _export(runner)
    assert {rows[key[n]]["status"] for n in key} == {"visible"}
    assert rows[key["mike"]]["author"] == "Mike"

    # The moderator's afternoon.
    wordpress.trash_comment(ids["critic"])          # a parent with a reply: the reply is hidden too
    wordpress.set_comment_status(ids["spam"], "spam")
    wordpress.set_comment_status(ids["held"], "hold")
    wordpress.delete_comment(ids["paul2"])          # WordPress re-parents Mike's reply
    wordpress.edit_comment(ids["nell"], "Lets assume they are not seeking to privatise Cafcass.")
    new_id = wordpress.add_comment(post_id, "Liz", "Ofsted saw what Cafcass chose to show.")

    assert "[good]" in _capture(runner, url)
    rows = _export(runner)
    for name in ("critic", "spam", "held", "paul2"):
        assert rows[key[name]]["status"] == "missing", (name, rows[key[name]])
    assert rows[key["nell"]]["status"] == "visible"
    assert rows[key["nell"]]["edit_count"] == 1
    assert rows[key["nell"]]["text"].endswith("privatise Cafcass.")
    assert rows[str(new_id)]["status"] == "visible"
    assert rows[key["mike"]]["status"] == "visible", "a re-parented reply is not a removal"

    assert "[good]" in _capture(runner, url)
    rows = _export(runner)
    removed = {cid for cid, row in rows.items() if row["status"] == "removed"}
    assert removed == {key["critic"], key["critic_reply"], key["spam"], key["held"], key["paul2"]}
    for cid in removed:
        row = rows[cid]
        assert row["times_removed"] == 1
        assert row["removed_after"] < row["removed_before"], row
    assert rows[key["critic_reply"]]["removed_before"] == rows[key["critic"]]["removed_before"]
    untouched = {key[n] for n in ("wl", "cha", "paul1", "mike")} | {str(new_id), key["nell"]}
    assert {rows[c]["status"] for c in untouched} == {"visible"}

    # The site breaks: nothing new may be called removed.
    before = _export(runner)
    wordpress.maintenance(True)
    try:
        out = _capture(runner, url)
        assert "[failed]" in out or "[suspect]" in out, out
    finally:
        wordpress.maintenance(False)
    wordpress.stop()
    try:
        assert "[failed]" in _capture(runner, url)
    finally:
        wordpress.start()
    assert _export(runner) == before

    # The held comment is approved again.
    wordpress.set_comment_status(ids["held"], "approve")
    assert "[good]" in _capture(runner, url)
    rows = _export(runner)
    assert rows[key["held"]]["status"] == "visible"
    assert rows[key["held"]]["times_reinstated"] == 1
    assert rows[key["held"]]["times_removed"] == 1, "a reinstatement never erases the removal"
    assert rows[key["spam"]]["status"] == "removed"


def test_rest_api_says_why_a_comment_went_missing(app, runner, wordpress):
    from sqlalchemy import select

    from archive.store.db import get_db
    from archive.store.models import Comment, Event

    post_id, url = wordpress.add_post("Cafcass complaints data", "Tell us about your complaint.")
    held = wordpress.add_comment(post_id, "Ann", "My complaint was never answered.")
    gone = wordpress.add_comment(post_id, "Bob", "Nor was mine.")
    wordpress.add_comment(post_id, "Cat", "Mine was, eventually.")
    assert runner.invoke("watch", "add", url).exit_code == 0
    _capture(runner, url)
    wordpress.set_comment_status(held, "hold")
    wordpress.delete_comment(gone)
    _capture(runner, url)
    with get_db(app).read_session() as session:
        checks = {
            key: details["meaning"]
            for key, details in session.execute(
                select(Comment.key, Event.details).join(Event, Event.comment_id == Comment.id)
                .where(Event.kind == "api-check"))
        }
    assert checks == {str(held): "exists but hidden", str(gone): "deleted"}
