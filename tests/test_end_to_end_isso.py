"""End to end against a live Isso on loopback, through its JSON API: seed, moderate, capture, export.

A threaded discussion is posted through Isso's public API with moderation
on; the moderator publishes all but one comment, captures run, then the
moderator deletes a comment with replies (Isso keeps a tombstone), deletes
a leaf (gone), edits one, and leaves one held. The archive must say exactly
that through `python -m archive export`. Then Isso stops and nothing new may
be called removed.
"""
from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path

from tests.conftest import ArchiveRunner
from tests.isso_server import IssoServer
from tests.local_server import LocalServer

SEED = [
    # (name, author, text, parent name)
    ("wl", "WL", "This is bonkers. I know officers who never see their children.", None),
    ("critic", "Sam", "Cafcass ignored the Parental Conflict Tool in my case entirely.", None),
    ("critic_reply", "Jo", "Same here: no sibling was ever interviewed.", "critic"),
    ("deep_reply", "Kim", "Jo, mine too.", "critic_reply"),     # Isso flattens it under Sam's
    ("nell", "Nell", "Lets assume they are not seeking to privatise Cafcass then.", None),
    ("leaf", "Bob", "Complaints data shows the opposite of outstanding.", None),
    ("held", "Ann", "The inspection never spoke to a single father.", None),
]


def _export(runner: ArchiveRunner, what: str = "comments") -> list[dict]:
    result = runner.invoke("export", what, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _comments(runner: ArchiveRunner) -> dict[str, dict]:
    return {row["comment_id"]: row for row in _export(runner)}


def _capture(runner: ArchiveRunner, url: str) -> str:
    result = runner.invoke("capture", url)
    assert result.exit_code == 0, result.output
    return result.output


def _watch(runner: ArchiveRunner, folder: Path, url: str, server: str) -> None:
    """The watch names its Isso server in its options; the thread uri is the article's path."""
    path = folder / "watches.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["url", "adapter", "options"])
        writer.writerow([url, "isso", json.dumps({"isso": server})])
    result = runner.invoke("watch", "import", str(path))
    assert result.exit_code == 0, result.output


def test_isso_moderation_is_detected_and_breakage_is_not(runner: ArchiveRunner, isso: IssoServer,
                                                         local_server: LocalServer, tmp_path: Path) -> None:
    uri = f"/2026/12/cafcass-{uuid.uuid4().hex[:8]}/"
    # The article lives on another origin and embeds Isso's widget; the capture asks Isso itself.
    local_server.route(uri, f'<html><script data-isso="{isso.base_url}" src="{isso.base_url}js/embed.min.js">'
                            '</script><section id="isso-thread"></section></html>')
    url = local_server.url(uri)
    ids: dict[str, int] = {}
    for name, author, text, parent in SEED:
        ids[name] = isso.post(uri, author, text, parent=ids[parent] if parent else None)
    for name in ids:
        if name != "held":
            isso.activate(ids[name])
    key = {name: str(cid) for name, cid in ids.items()}

    _watch(runner, tmp_path, url, isso.base_url)
    first = _capture(runner, url)
    assert "[good]" in first and f"{len(SEED) - 1} comments" in first, first
    rows = _comments(runner)
    assert set(rows) == {key[n] for n in key if n != "held"}, "a held comment is never public"
    assert {row["status"] for row in rows.values()} == {"visible"}
    assert rows[key["deep_reply"]]["parent_id"] == key["critic"]
    assert rows[key["critic_reply"]]["author"] == "Jo"

    # The moderator's afternoon.
    isso.delete(ids["critic"])          # has replies: Isso keeps a tombstone (mode 4)
    isso.delete(ids["leaf"])            # a leaf: gone from the answer
    isso.edit(ids["nell"], "Lets assume they are not seeking to privatise Cafcass.")
    late = isso.post(uri, "Liz", "Ofsted saw what Cafcass chose to show.")   # held, never published
    answer = isso.thread(uri)
    # The tombstone counts in the thread's total_replies, not in POST /count.
    assert (answer["total_replies"], isso.count(uri)) == (5, 4)

    assert "[good]" in _capture(runner, url)
    rows = _comments(runner)
    assert rows[key["critic"]]["status"] == "removed", "a tombstone is a removal at once"
    assert rows[key["leaf"]]["status"] == "missing"
    assert rows[key["nell"]]["edit_count"] == 1
    assert rows[key["nell"]]["text"].endswith("privatise Cafcass.")
    assert str(late) not in rows and key["held"] not in rows

    assert "[good]" in _capture(runner, url)
    rows = _comments(runner)
    removed = {cid for cid, row in rows.items() if row["status"] == "removed"}
    assert removed == {key["critic"], key["leaf"]}
    for cid in removed:
        assert rows[cid]["times_removed"] == 1
        # The window (last seen, first missed]; export times have whole seconds, and these
        # captures can fall in one second.
        assert rows[cid]["removed_after"] <= rows[cid]["removed_before"], rows[cid]
    visible = {key[n] for n in ("wl", "critic_reply", "deep_reply", "nell")}
    assert {rows[c]["status"] for c in visible} == {"visible"}, "replies under a tombstone stay"
    kinds = {(e["comment_id"], e["kind"]) for e in _export(runner, "events")}
    assert (key["critic"], "tombstoned") in kinds and (key["leaf"], "removed") in kinds
    assert (key["nell"], "edited") in kinds

    # Isso goes down: nothing new may be called removed.
    before = _comments(runner)
    with isso.stopped():
        for _ in range(2):
            assert "[failed]" in _capture(runner, url)
    assert _comments(runner) == before
    # Back up: the next capture is good and every status is as it was.
    assert "[good]" in _capture(runner, url)
    assert {cid: row["status"] for cid, row in _comments(runner).items()} == \
        {cid: row["status"] for cid, row in before.items()}
