"""Example-based tests of the pure verdict engine, one per DESIGN.md verdict rule and edge.

Every test builds a short capture history by hand and checks the events and
final states the engine derives from it; no database, no clock.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import pytest

from archive.rules.verdicts import (
    EVENT_STATUS,
    EventRecord,
    Known,
    Outcome,
    Snapshot,
    ThreadState,
    judge,
    replay,
    status_after,
    text_hash,
)
from scrapers.base import CommentRecord

T0 = datetime(2024, 3, 1, 12, 0)


def at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


def rec(key: str, text: str | None = None, *, parent: str | None = None,
        posted: datetime | None = T0 - timedelta(days=1), tombstone: bool = False) -> CommentRecord:
    return CommentRecord(key=key, author=f"author {key}", text=text if text is not None else f"text of {key}",
                         posted_at=posted, parent_key=parent, tombstone=tombstone)


def good(hours: int, *records: CommentRecord, has_tree: bool = True) -> Snapshot:
    return Snapshot("good", at(hours), tuple(records), "complete", has_tree=has_tree)


def window(hours: int, after: datetime, *records: CommentRecord) -> Snapshot:
    # Feeds are the windowed source, and feeds do not know the reply tree.
    return Snapshot("good", at(hours), tuple(records), "window", window_after=after, has_tree=False)


def bad(hours: int, outcome: Outcome = "failed") -> Snapshot:
    return Snapshot(outcome, at(hours), (), "none", reason=f"{outcome} for the test")


def kinds(events: Iterable[EventRecord], key: str | None = None) -> list[str]:
    return [e.kind for e in events if key is None or e.key == key]


# Rule 7: the appeared / unchanged baseline.

def test_first_sighting_is_appeared_and_visible() -> None:
    v = replay([good(0, rec("1"), rec("2"))])
    assert kinds(v.events) == ["appeared", "appeared"]
    assert {k: s.status for k, s in v.known.items()} == {"1": "visible", "2": "visible"}
    assert v.known["1"].last_seen_at == at(0)
    assert v.events[0].record == rec("1")


def test_unchanged_comment_makes_no_event_and_advances_last_seen() -> None:
    v = replay([good(0, rec("1")), good(1, rec("1")), good(2, rec("1"))])
    assert kinds(v.events) == ["appeared"]
    assert v.known["1"].last_seen_at == at(2)
    assert v.known["1"].status == "visible"


def test_http_304_unchanged_outcome_is_good_and_judged() -> None:
    # "unchanged" (304) is a good outcome: what it carries is diffed like a 200.
    v = replay([good(0, rec("1"), rec("2")),
                Snapshot("unchanged", at(1), (rec("1"), rec("2")), "complete")])
    assert kinds(v.events) == ["appeared", "appeared"]
    assert v.known["2"].last_seen_at == at(1)


def test_unchanged_outcome_without_coverage_changes_nothing() -> None:
    v = replay([good(0, rec("1")), Snapshot("unchanged", at(1))], confirm=1)
    assert kinds(v.events) == ["appeared"]
    assert v.known["1"].status == "visible"


# Rule 2: missing, then removed after CONFIRM consecutive good captures.

@pytest.mark.parametrize("confirm", [1, 2, 3])
def test_removed_after_confirm_consecutive_good_misses(confirm: int) -> None:
    snaps = [good(0, rec("1"), rec("2"))] + [good(h, rec("2")) for h in range(1, confirm + 1)]
    v = replay(snaps, confirm=confirm)
    one = [e for e in v.events if e.key == "1"]
    assert kinds(one) == ["appeared"] + ["missing"] * (confirm - 1) + ["removed"]
    assert v.known["1"].status == "removed"
    assert v.known["1"].misses == confirm
    assert v.known["2"].status == "visible"
    # One capture short of confirm leaves it missing, never removed.
    short = replay(snaps[:-1], confirm=confirm)
    assert short.known["1"].status == ("visible" if confirm == 1 else "missing")
    assert "removed" not in kinds(short.events)


def test_one_good_miss_is_missing_not_removed_with_default_confirm() -> None:
    v = replay([good(0, rec("1")), good(1)])
    assert kinds(v.events, "1") == ["appeared", "missing"]
    assert v.known["1"].status == "missing"


def test_removal_window_is_last_seen_to_first_missed() -> None:
    v = replay([good(0, rec("1")), good(1, rec("1")), good(2), good(3), good(4)], confirm=3)
    removed = [e for e in v.events if e.kind == "removed"]
    assert len(removed) == 1
    # (last seen, first missed]: both ends kept, the confirming capture is not the end.
    assert (removed[0].window_start, removed[0].window_end) == (at(1), at(2))
    assert removed[0].at == at(4)
    assert removed[0].details == {"misses": 3, "confirm": 3}
    for missing in (e for e in v.events if e.kind == "missing"):
        assert (missing.window_start, missing.window_end) == (at(1), at(2))
    assert v.known["1"].first_missed_at == at(2)


def test_removed_comment_is_not_judged_again() -> None:
    v = replay([good(0, rec("1")), good(1), good(2), good(3), good(4)], confirm=2)
    assert kinds(v.events, "1") == ["appeared", "missing", "removed"]
    assert v.known["1"].misses == 2


def test_confirm_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        judge({}, good(0), ThreadState(), confirm=0)


# Rule 1: failed and suspect captures never change a comment.

@pytest.mark.parametrize("outcome", ["failed", "suspect"])
def test_failed_or_suspect_capture_changes_nothing(outcome: Outcome) -> None:
    before = replay([good(0, rec("1"), rec("2"))])
    step = judge(before.known, bad(1, outcome), before.thread)
    assert step.events == []
    assert step.known == before.known
    assert step.thread == before.thread


def test_failed_capture_showing_comments_is_still_ignored() -> None:
    # A suspect page may parse a few comments (a partial page): none of it counts.
    before = replay([good(0, rec("1"), rec("2"))])
    partial = Snapshot("suspect", at(1), (rec("1", "changed"), rec("3")), "complete")
    step = judge(before.known, partial, before.thread, confirm=1)
    assert step.events == []
    assert step.known == before.known


@pytest.mark.parametrize("outcome", ["failed", "suspect"])
def test_failed_capture_between_misses_keeps_the_count(outcome: Outcome) -> None:
    # The count is of consecutive *good* captures missing it: a failure neither
    # resets nor advances it.
    v = replay([good(0, rec("1")), good(1), bad(2, outcome), bad(3, outcome), good(4)], confirm=2)
    assert kinds(v.events, "1") == ["appeared", "missing", "removed"]
    removed = v.events[-1]
    assert (removed.at, removed.window_start, removed.window_end) == (at(4), at(0), at(1))


def test_failed_captures_alone_never_remove() -> None:
    broken: list[Outcome] = ["failed", "suspect"] * 5
    v = replay([good(0, rec("1"))] + [bad(h, o) for h, o in enumerate(broken, 1)], confirm=1)
    assert kinds(v.events) == ["appeared"]
    assert v.known["1"].status == "visible"


# Rule 4: reinstatement, and removals are never erased.

def test_reinstated_from_missing() -> None:
    v = replay([good(0, rec("1")), good(1), good(2, rec("1"))])
    assert kinds(v.events, "1") == ["appeared", "missing", "reinstated"]
    reinstated = v.events[-1]
    assert reinstated.details == {"from": "missing", "absent_since": at(1).isoformat()}
    state = v.known["1"]
    assert (state.status, state.misses, state.first_missed_at, state.last_seen_at) == ("visible", 0, None, at(2))


def test_reinstated_from_removed_keeps_the_removed_event() -> None:
    v = replay([good(0, rec("1")), good(1), good(2), good(3, rec("1"))])
    assert kinds(v.events, "1") == ["appeared", "missing", "removed", "reinstated"]
    assert v.events[-1].details["from"] == "removed"
    assert v.known["1"].status == "visible"


def test_miss_count_restarts_after_reinstatement() -> None:
    v = replay([good(0, rec("1")), good(1), good(2, rec("1")), good(3)], confirm=2)
    assert kinds(v.events, "1") == ["appeared", "missing", "reinstated", "missing"]
    last = v.events[-1]
    assert (last.window_start, last.window_end, last.details["misses"]) == (at(2), at(3), 1)


def test_removed_twice_counts_twice() -> None:
    v = replay([good(0, rec("1")), good(1), good(2, rec("1")), good(3)], confirm=1)
    assert kinds(v.events, "1") == ["appeared", "removed", "reinstated", "removed"]
    assert [(e.window_start, e.window_end) for e in v.events if e.kind == "removed"] == [
        (at(0), at(1)), (at(2), at(3))]


# Rule 5: edits, reflow and moves are not removals.

def test_edit_is_a_new_version_not_a_removal() -> None:
    v = replay([good(0, rec("1", "first words")), good(1, rec("1", "second words"))], confirm=1)
    assert kinds(v.events, "1") == ["appeared", "edited"]
    record = v.events[-1].record
    assert record is not None and record.text == "second words"
    assert v.known["1"].text_sha256 == text_hash("second words")
    assert v.known["1"].status == "visible"


def test_whitespace_reflow_is_not_an_edit() -> None:
    v = replay([good(0, rec("1", "a comment\nover  two lines")),
                good(1, rec("1", "  a comment over\ttwo\n\nlines "))])
    assert kinds(v.events) == ["appeared"]


def test_words_added_to_an_empty_comment_are_an_edit() -> None:
    v = replay([good(0, rec("1", "   ")), good(1, rec("1", "now with words"))])
    assert kinds(v.events, "1") == ["appeared", "edited"]
    assert v.known["1"].text_sha256 == text_hash("now with words")


def test_edit_while_missing_is_reinstated_and_edited() -> None:
    v = replay([good(0, rec("1", "old")), good(1), good(2, rec("1", "new"))])
    assert kinds(v.events, "1") == ["appeared", "missing", "reinstated", "edited"]


def test_moved_is_not_a_removal() -> None:
    # The parent vanished and the reply was re-attached to the top level.
    v = replay([good(0, rec("1"), rec("2", parent="1")), good(1, rec("2", parent=None))], confirm=1)
    assert kinds(v.events, "2") == ["appeared", "moved"]
    moved = next(e for e in v.events if e.kind == "moved")
    assert moved.details == {"from_parent": "1", "to_parent": None}
    assert v.known["2"].status == "visible"
    assert v.known["2"].parent_key is None
    assert kinds(v.events, "1") == ["appeared", "removed"]


def test_capture_without_tree_never_emits_moved() -> None:
    feed = Snapshot("good", at(1), (rec("2", parent=None),), "window",
                    window_after=T0 - timedelta(days=2), has_tree=False)
    v = replay([good(0, rec("1"), rec("2", parent="1")), feed, good(2, rec("1"), rec("2", parent="1"))])
    assert "moved" not in kinds(v.events)
    assert v.known["2"].parent_key == "1"


def test_first_seen_in_feed_then_placed_in_tree_is_not_moved() -> None:
    feed = window(0, T0 - timedelta(days=2), rec("2", posted=T0 - timedelta(hours=1)))
    page = good(1, rec("1", posted=T0 - timedelta(hours=2)), rec("2", parent="1", posted=T0 - timedelta(hours=1)))
    v = replay([feed, page])
    assert kinds(v.events, "2") == ["appeared"]
    assert v.known["2"].parent_key == "1"


# Rule 3: tombstones.

def test_tombstone_of_known_comment_is_a_removal_with_evidence() -> None:
    stone = rec("1", "This comment was deleted.", tombstone=True)
    v = replay([good(0, rec("1"), rec("2", parent="1")), good(1, rec("1"), rec("2", parent="1")),
                good(2, stone, rec("2", parent="1"))])
    assert kinds(v.events, "1") == ["appeared", "tombstoned"]
    assert kinds(v.events, "2") == ["appeared"]
    event = v.events[-1]
    assert event.record == stone                       # the placeholder is the evidence
    assert (event.window_start, event.window_end) == (at(1), at(2))
    state = v.known["1"]
    assert (state.status, state.tombstoned) == ("removed", True)
    assert status_after(kinds(v.events, "1")) == "removed"


def test_tombstone_seen_again_adds_nothing() -> None:
    stone = rec("1", "[deleted]", tombstone=True)
    v = replay([good(0, rec("1")), good(1, stone), good(2, stone), good(3)])
    assert kinds(v.events, "1") == ["appeared", "tombstoned"]


def test_tombstone_of_unknown_comment() -> None:
    stone = rec("9", "This comment was deleted.", tombstone=True)
    v = replay([good(0, stone)])
    assert kinds(v.events) == ["tombstoned"]
    event = v.events[0]
    assert (event.window_start, event.window_end) == (None, at(0))   # never seen alive
    assert event.details == {"first_seen_as_tombstone": True}
    assert v.known["9"].status == "removed"


def test_tombstone_that_shows_text_again_is_reinstated() -> None:
    v = replay([good(0, rec("1", "kept words")), good(1, rec("1", "deleted", tombstone=True)),
                good(2, rec("1", "kept words"))])
    assert kinds(v.events, "1") == ["appeared", "tombstoned", "reinstated"]
    assert v.events[-1].details["from"] == "tombstone"
    state = v.known["1"]
    assert (state.status, state.tombstoned) == ("visible", False)


def test_tombstone_of_missing_comment() -> None:
    v = replay([good(0, rec("1")), good(1), good(2, rec("1", "deleted", tombstone=True))], confirm=3)
    assert kinds(v.events, "1") == ["appeared", "missing", "tombstoned"]
    assert v.known["1"].status == "removed"


def test_unknown_tombstone_that_shows_text_is_reinstated_not_edited() -> None:
    v = replay([good(0, rec("9", "This comment was deleted.", tombstone=True)), good(1, rec("9", "real words"))])
    assert kinds(v.events, "9") == ["tombstoned", "reinstated"]


# Coverage: windows judge only what they include.

def test_window_judges_only_comments_posted_strictly_after_its_start() -> None:
    edge = T0 - timedelta(hours=5)
    old = rec("old", posted=edge - timedelta(hours=1))
    same = rec("same", posted=edge)
    new = rec("new", posted=edge + timedelta(minutes=1))
    unknown = rec("unknown", posted=None)
    snaps = [good(0, old, same, new, unknown), window(1, edge), window(2, edge)]
    v = replay(snaps, confirm=2)
    assert kinds(v.events, "new") == ["appeared", "missing", "removed"]
    for key in ("old", "same", "unknown"):
        assert kinds(v.events, key) == ["appeared"], key
        assert v.known[key].status == "visible"


def test_window_shows_old_comment_and_updates_last_seen() -> None:
    edge = T0 - timedelta(hours=5)
    old = rec("old", posted=edge - timedelta(hours=1))
    v = replay([good(0, old), window(1, edge, old)])
    assert v.known["old"].last_seen_at == at(1)
    assert kinds(v.events) == ["appeared"]


def test_window_without_start_or_coverage_none_judges_nothing() -> None:
    snaps = [good(0, rec("1"), rec("2", posted=None)),
             Snapshot("good", at(1), (), "window", window_after=None),
             Snapshot("good", at(2), (), "none"),
             Snapshot("good", at(3), (), "none")]
    v = replay(snaps, confirm=1)
    assert kinds(v.events) == ["appeared", "appeared"]
    assert {s.status for s in v.known.values()} == {"visible"}


def test_coverage_none_still_records_what_it_shows() -> None:
    v = replay([good(0, rec("1")), good(1), Snapshot("good", at(2), (rec("1"),), "none")])
    assert kinds(v.events, "1") == ["appeared", "missing", "reinstated"]


def test_non_covering_good_capture_neither_resets_nor_advances_misses() -> None:
    edge = T0 - timedelta(hours=5)
    old = rec("1", posted=edge - timedelta(hours=1))
    v = replay([good(0, old), good(1), window(2, edge), good(3)], confirm=2)
    assert kinds(v.events, "1") == ["appeared", "missing", "removed"]
    assert v.events[-1].at == at(3)


# Rule 6: a thread gone as a whole.

@pytest.mark.parametrize("status_reason", ["404", "410"])
def test_thread_gone_over_confirm_captures_is_one_article_event(status_reason: str) -> None:
    gone = [Snapshot("gone", at(h), reason=f"HTTP {status_reason}") for h in (1, 2, 3, 4)]
    v = replay([good(0, rec("1"), rec("2"))] + gone, confirm=2)
    assert kinds(v.events) == ["appeared", "appeared", "thread-gone"]
    event = v.events[-1]
    assert (event.key, event.at, event.details) == (None, at(2), {"reason": f"HTTP {status_reason}", "misses": 2})
    assert v.thread == ThreadState("gone", 2)
    assert {s.status for s in v.known.values()} == {"visible"}


def test_single_gone_capture_is_not_yet_thread_gone() -> None:
    v = replay([good(0, rec("1")), Snapshot("gone", at(1), reason="HTTP 404")], confirm=2)
    assert kinds(v.events) == ["appeared"]
    assert v.thread == ThreadState("active", 1)


def test_good_capture_resets_the_gone_count() -> None:
    snaps = [good(0, rec("1")), Snapshot("gone", at(1)), good(2, rec("1")), Snapshot("gone", at(3))]
    v = replay(snaps, confirm=2)
    assert "thread-gone" not in kinds(v.events)
    assert v.thread == ThreadState("active", 1)


def test_failed_capture_between_gone_captures_keeps_the_gone_count() -> None:
    snaps = [good(0, rec("1")), Snapshot("gone", at(1)), bad(2), Snapshot("gone", at(3))]
    v = replay(snaps, confirm=2)
    assert kinds(v.events)[-1] == "thread-gone"


def test_gone_then_good_is_thread_returned_and_comments_judged_again() -> None:
    gone = [Snapshot("gone", at(h)) for h in (1, 2)]
    v = replay([good(0, rec("1"), rec("2"))] + gone + [good(3, rec("1"))], confirm=2)
    assert kinds(v.events) == ["appeared", "appeared", "thread-gone", "thread-returned", "missing"]
    returned = v.events[3]
    assert (returned.key, returned.at) == (None, at(3))
    assert v.thread == ThreadState()
    missing = v.events[-1]
    assert (missing.key, missing.window_start, missing.window_end) == ("2", at(0), at(3))


# Duplicates, and statuses derived from events.

def test_duplicate_keys_in_one_capture_count_once() -> None:
    v = replay([good(0, rec("1", "first copy"), rec("1", "second copy")), good(1, rec("1", "first copy"))])
    assert kinds(v.events) == ["appeared"]
    assert v.known["1"].text_sha256 == text_hash("first copy")


def test_status_after_follows_event_kinds() -> None:
    assert status_after([]) == "visible"
    assert status_after(["appeared", "missing"]) == "missing"
    assert status_after(["appeared", "missing", "removed", "reinstated", "edited"]) == "visible"
    assert status_after(["appeared", "tombstoned", "api-check"]) == "removed"
    assert status_after(["api-check"], start="missing") == "missing"
    assert set(EVENT_STATUS) >= {"appeared", "edited", "missing", "removed", "reinstated", "tombstoned"}


def test_status_is_derivable_from_events_over_a_mixed_history() -> None:
    edge = T0 - timedelta(hours=5)
    snaps = [
        good(0, rec("a"), rec("b", parent="a"), rec("c", posted=edge + timedelta(hours=1)), rec("d")),
        good(1, rec("a", "edited a"), rec("b"), rec("d")),
        bad(2, "suspect"),
        good(3, rec("b"), rec("d", "gone", tombstone=True)),
        window(4, edge),
        good(5, rec("a", "edited a"), rec("b"), rec("e")),
        Snapshot("gone", at(6)),
        good(7, rec("b"), rec("e")),
    ]
    v = replay(snaps, confirm=2)
    assert {k: s.status for k, s in v.known.items()} == {
        "a": "missing", "b": "visible", "c": "removed", "d": "removed", "e": "visible"}
    for key, state in v.known.items():
        assert status_after(kinds(v.events, key)) == state.status, key


def test_judge_does_not_mutate_its_inputs() -> None:
    known = {"1": Known("1", "visible", text_hash("x"), None, None, at(0))}
    copy = dict(known)
    judge(known, good(1), ThreadState(), confirm=1)
    assert known == copy
