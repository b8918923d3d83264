"""One moderated Isso discussion, and what the archive must say about it, shared by the
end-to-end tests that capture it through Isso's API (tests/test_end_to_end_isso.py) and
through its embedded widget in a browser (tests/test_end_to_end_isso_browser.py).

`seed` posts a threaded discussion with moderation on and publishes all but one
comment; `moderate` is the moderator's afternoon: a comment with replies deleted
(Isso keeps a tombstone), a leaf deleted (gone), one edited, a new one left held.
"""
from __future__ import annotations

from tests.archive_commands import comments, export
from tests.conftest import ArchiveRunner
from tests.isso_server import IssoServer

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
PUBLIC = [name for name, *_ in SEED if name != "held"]










def seed(isso: IssoServer, uri: str) -> dict[str, int]:
    """The discussion, every comment but "held" published; Isso's ids by name."""
    ids: dict[str, int] = {}
    for name, author, text, parent in SEED:
        ids[name] = isso.post(uri, author, text, parent=ids[parent] if parent else None)
    for name in PUBLIC:
        isso.activate(ids[name])
    return ids


def check_first(runner: ArchiveRunner, key: dict[str, str]) -> None:
    rows = comments(runner)
    assert set(rows) == {key[n] for n in PUBLIC}, "a held comment is never public"
    assert {row["status"] for row in rows.values()} == {"visible"}
    assert rows[key["deep_reply"]]["parent_id"] == key["critic"]
    assert rows[key["critic_reply"]]["author"] == "Jo"


def moderate(isso: IssoServer, uri: str, ids: dict[str, int]) -> int:
    """The moderator's afternoon; the id of the late comment left held."""
    isso.delete(ids["critic"])          # has replies: Isso keeps a tombstone (mode 4)
    isso.delete(ids["leaf"])            # a leaf: gone from the answer
    isso.edit(ids["nell"], "Lets assume they are not seeking to privatise Cafcass.")
    late = isso.post(uri, "Liz", "Ofsted saw what Cafcass chose to show.")   # held, never published
    answer = isso.thread(uri)
    # The tombstone counts in the thread's total_replies, not in POST /count.
    assert (answer["total_replies"], isso.count(uri)) == (5, 4)
    return late


def check_after_one_capture(runner: ArchiveRunner, key: dict[str, str], late: int) -> None:
    rows = comments(runner)
    assert rows[key["critic"]]["status"] == "removed", "a tombstone is a removal at once"
    assert rows[key["leaf"]]["status"] == "missing"
    assert rows[key["nell"]]["edit_count"] == 1
    assert rows[key["nell"]]["text"].endswith("privatise Cafcass.")
    assert str(late) not in rows and key["held"] not in rows


def check_after_two_captures(runner: ArchiveRunner, key: dict[str, str]) -> None:
    rows = comments(runner)
    removed = {cid for cid, row in rows.items() if row["status"] == "removed"}
    assert removed == {key["critic"], key["leaf"]}
    for cid in removed:
        assert rows[cid]["times_removed"] == 1
        # The window (last seen, first missed]; export times have whole seconds, and these
        # captures can fall in one second.
        assert rows[cid]["removed_after"] <= rows[cid]["removed_before"], rows[cid]
    visible = {key[n] for n in ("wl", "critic_reply", "deep_reply", "nell")}
    assert {rows[c]["status"] for c in visible} == {"visible"}, "replies under a tombstone stay"
    kinds = {(e["comment_id"], e["kind"]) for e in export(runner, "events")}
    assert (key["critic"], "tombstoned") in kinds and (key["leaf"], "removed") in kinds
    assert (key["nell"], "edited") in kinds

