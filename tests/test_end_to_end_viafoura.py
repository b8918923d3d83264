"""End to end against a Viafoura on loopback (tests/viafoura_server.py): import, capture, moderate, export.

A thread of six top-level comments (two listing pages) with replies, one
thread longer than the listing inlines (read from the replies endpoint).
Captures run; then the moderator deletes a comment with replies (Viafoura
keeps a tombstone), removes a leaf and disables another (both vanish). The
archive must say exactly that through `python -m archive export`, with
CONFIRM_CAPTURES (2) good captures before a vanished comment is `removed`.
Then the platform's count lies, the API fails and the server stops: nothing
new may be called removed.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.context import archive_context
from tests import archive_commands as cli
from tests.conftest import ArchiveRunner
from tests.viafoura_server import SITE, ViafouraServer, comment_object, serving

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "viafoura"
SEED = [
    # (name, author, text, parent name)
    ("wl", "WL", "This is bonkers. I know officers who never see their children.", None),
    ("critic", "Sam", "Cafcass ignored the Parental Conflict Tool in my case entirely.", None),
    ("critic_reply", "Jo", "Same here: no sibling was ever interviewed.", "critic"),
    ("deep_reply", "Kim", "Jo, mine too.", "critic_reply"),
    ("third_reply", "Lee", "Which region was that?", "critic"),      # beyond the 2 inlined
    ("nell", "Nell", "Lets assume they are not seeking to privatise Cafcass then.", None),
    ("leaf", "Bob", "Complaints data shows the opposite of <b>outstanding</b>.", None),
    ("quiet", "Ann", "The inspection never spoke to a single father.", None),
    ("late", "Liz", "Ofsted saw what Cafcass chose to show.", None),
]


@pytest.fixture(scope="module")
def viafoura_module() -> Iterator[ViafouraServer]:
    with serving() as server:
        yield server


@pytest.fixture
def viafoura(viafoura_module: ViafouraServer) -> ViafouraServer:
    viafoura_module.reset()
    return viafoura_module








def _watch(runner: ArchiveRunner, folder: Path, url: str, api: str) -> None:
    """The watch names the section UUID and the (loopback) API; the page gives the container id."""
    cli.watch(runner, folder, url, "viafoura", {"site": SITE, "api": api})


def test_the_server_answers_in_the_fixtures_shapes(viafoura: ViafouraServer) -> None:
    saved = json.loads((FIXTURES / "comments_page1.json").read_text())["contents"]
    root = viafoura.post("Ann", "First!")
    viafoura.post("Bob", "Reply", parent=root)
    served = viafoura.listing(100, 50, None)["contents"]
    assert [set(item) for item in served] == [set(saved[0]), set(saved[1]) - {"parent_actor_uuid"}]
    container = json.loads((FIXTURES / "container.json").read_text())
    assert set(viafoura.container_answer()) == set(container)
    viafoura.tombstone(root)
    assert "content" not in comment_object(viafoura.comments[0], viafoura.container_uuid)


def test_viafoura_moderation_is_detected_and_breakage_is_not(runner: ArchiveRunner, viafoura: ViafouraServer,
                                                             tmp_path: Path) -> None:
    confirm = archive_context(runner.app).settings.confirm_captures
    assert confirm == 2, "this story confirms a removal in the second good capture without it"
    ids: dict[str, str] = {}
    for name, author, text, parent in SEED:
        ids[name] = viafoura.post(author, text, parent=ids[parent] if parent else None)
    url = viafoura.article_url
    _watch(runner, tmp_path, url, viafoura.api_base)

    first = cli.capture(runner, url)
    assert "[good]" in first and f"{len(SEED)} comments" in first, first
    rows = cli.comments(runner)
    assert set(rows) == set(ids.values())
    assert {row["status"] for row in rows.values()} == {"visible"}
    assert rows[ids["deep_reply"]]["parent_id"] == ids["critic_reply"]
    assert rows[ids["third_reply"]]["parent_id"] == ids["critic"]
    assert rows[ids["leaf"]]["text"] == "Complaints data shows the opposite of outstanding."

    # The moderator's afternoon.
    viafoura.tombstone(ids["critic"])      # has replies: Viafoura keeps its place
    viafoura.remove(ids["leaf"])           # deleted: gone from the listing
    viafoura.hide(ids["quiet"])            # disabled: gone from the listing too
    assert "[good]" in cli.capture(runner, url)
    rows = cli.comments(runner)
    assert rows[ids["critic"]]["status"] == "removed", "a tombstone is a removal at once"
    assert rows[ids["leaf"]]["status"] == rows[ids["quiet"]]["status"] == "missing"

    assert "[good]" in cli.capture(runner, url)
    rows = cli.comments(runner)
    removed = {cid for cid, row in rows.items() if row["status"] == "removed"}
    assert removed == {ids["critic"], ids["leaf"], ids["quiet"]}
    for cid in removed:
        assert rows[cid]["times_removed"] == 1
        assert rows[cid]["removed_after"] <= rows[cid]["removed_before"], rows[cid]
    kept = {ids[n] for n in ("wl", "critic_reply", "deep_reply", "third_reply", "nell", "late")}
    assert {rows[c]["status"] for c in kept} == {"visible"}, "replies under a tombstone stay"
    kinds = {(e["comment_id"], e["kind"]) for e in cli.export(runner, "events")}
    assert (ids["critic"], "tombstoned") in kinds and (ids["leaf"], "removed") in kinds

    # The platform's count says more than it lists: suspect, even though a comment went.
    before = cli.comments(runner)
    viafoura.hide(ids["nell"])
    viafoura.miscount = 1
    assert "[suspect]" in cli.capture(runner, url)
    assert cli.comments(runner) == before
    viafoura.unhide(ids["nell"])
    viafoura.miscount = 0

    # The API fails, then the whole server goes: nothing new may be called removed.
    with viafoura.failing():
        for _ in range(2):
            assert "[failed]" in cli.capture(runner, url)
    with viafoura.stopped():
        for _ in range(2):
            assert "[failed]" in cli.capture(runner, url)
    assert cli.comments(runner) == before
    # Back up: the next capture is good and every status is as it was.
    assert "[good]" in cli.capture(runner, url)
    assert {cid: row["status"] for cid, row in cli.comments(runner).items()} == \
        {cid: row["status"] for cid, row in before.items()}
