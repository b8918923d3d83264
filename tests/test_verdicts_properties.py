"""Property-based tests of the verdict engine over random capture histories.

Hypothesis draws histories over a small pool of comment keys: good complete
captures, good window captures (feeds: no tree), good captures that cover
nothing, failed / suspect / gone captures, with random subsets shown, random
edits (some only whitespace), random reparenting, tombstones and duplicate
keys. Each history runs through `judge` one capture at a time and is checked
against the safety rules of DESIGN.md and against a small reference model
written here from the rules, not from the engine.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from hypothesis import given, settings
from hypothesis import strategies as st

from archive.rules.verdicts import EventRecord, Outcome, Snapshot, ThreadState, Verdict, judge, replay, status_after
from scrapers.base import CommentRecord

T0 = datetime(2024, 3, 1, 12, 0)
KEYS = ("k0", "k1", "k2", "k3", "k4")
# Empty and blank texts included: a comment's first words after an empty body
# are an edit, not a tombstone-only comment revealed
# (test_words_added_to_an_empty_comment_are_an_edit).
TEXTS = ("alpha", " alpha\n", "alpha  beta", "alpha beta", "gamma", "", "  ")
# Posted times sit before every capture; window starts are drawn from the same
# grid so that "strictly after" and "at the edge" both occur.
POSTED_GRID = tuple(T0 - timedelta(hours=h) for h in (40, 30, 20, 10))
REMOVALS = ("missing", "removed")
GOOD = ("good", "unchanged")   # DESIGN.md rule 1, restated so the test does not trust the engine's own

# What a drawn capture is; the last three are also its outcome.
CaptureKind = Literal["complete", "unchanged", "window", "none", "failed", "suspect", "gone"]
CAPTURE_KINDS: tuple[CaptureKind, ...] = ("complete", "complete", "complete", "unchanged", "window",
                                          "none", "failed", "suspect", "gone")


@dataclass(frozen=True)
class History:
    confirm: int
    posted: dict[str, datetime | None]
    snapshots: tuple[Snapshot, ...]


@st.composite
def records(draw: st.DrawFn, posted: dict[str, datetime | None],
            tree: bool = True) -> tuple[CommentRecord, ...]:
    # Repeats in the drawn list are duplicate keys within one capture; sources
    # without a tree (feeds) give no parents.
    keys = draw(st.lists(st.sampled_from(KEYS), max_size=7))
    parents = (None,) + KEYS if tree else (None,)
    return tuple(
        CommentRecord(key=key, author=f"author {key}", text=draw(st.sampled_from(TEXTS)),
                      posted_at=posted[key], parent_key=draw(st.sampled_from(parents)),
                      tombstone=draw(st.integers(0, 9)) == 0)
        for key in keys)


@st.composite
def histories(draw: st.DrawFn) -> History:
    posted = {key: draw(st.sampled_from(POSTED_GRID + (None,))) for key in KEYS}
    steps = []
    for index in range(draw(st.integers(1, 14))):
        when = T0 + timedelta(hours=index)     # strictly increasing capture times
        kind = draw(st.sampled_from(CAPTURE_KINDS))
        if kind == "complete" or kind == "unchanged":
            outcome: Outcome = "good" if kind == "complete" else "unchanged"
            steps.append(Snapshot(outcome, when, draw(records(posted)), "complete"))
        elif kind == "window":
            after = draw(st.sampled_from(POSTED_GRID + (None,)))
            steps.append(Snapshot("good", when, draw(records(posted, tree=False)), "window",
                                  window_after=after, has_tree=False))
        elif kind == "none":
            steps.append(Snapshot("good", when, draw(records(posted)), "none"))
        else:
            # A broken capture may still carry a partial parse: it must not count.
            shown = draw(records(posted)) if kind != "gone" else ()
            steps.append(Snapshot(kind, when, shown, "complete", reason=kind))
    return History(draw(st.integers(1, 3)), posted, tuple(steps))


Steps = list[Verdict]   # the engine's verdict after each capture of a history


def run(history: History) -> Steps:
    """The engine one capture at a time: the verdict after each step."""
    verdicts = []
    verdict = Verdict([], {}, ThreadState())
    for snap in history.snapshots:
        verdict = judge(verdict.known, snap, verdict.thread, history.confirm)
        verdicts.append(verdict)
    return verdicts


def first_shown(snap: Snapshot) -> dict[str, CommentRecord]:
    """What a capture shows per key: the first record of a key wins."""
    shown: dict[str, CommentRecord] = {}
    for record in snap.comments:
        shown.setdefault(record.key, record)
    return shown


def covered(snap: Snapshot, posted_at: datetime | None) -> bool:
    """DESIGN.md coverage, restated: complete covers all, a window only what is strictly after its start."""
    if snap.outcome not in GOOD:
        return False
    if snap.coverage == "complete":
        return True
    return (snap.coverage == "window" and snap.window_after is not None
            and posted_at is not None and posted_at > snap.window_after)


@dataclass
class ModelComment:
    status: str
    parent: str | None
    text: str | None = None        # last words shown, whitespace-normalised; None: only a tombstone seen
    misses: int = 0
    tombstoned: bool = False


@dataclass(frozen=True)
class ModelStep:
    statuses: dict[str, str]
    events: dict[str, set[str]]    # event kind -> keys that got it at this step


def reference_model(history: History) -> list[ModelStep]:
    """An independent model of rules 1-5: per step, every status and which keys got which event."""
    model: dict[str, ModelComment] = {}
    out = []
    for snap in history.snapshots:
        events: dict[str, set[str]] = {}
        if snap.outcome in GOOD:
            shown = first_shown(snap)
            for key, record in shown.items():
                for kind in _seen_in_model(model, key, record, snap.has_tree):
                    events.setdefault(kind, set()).add(key)
            for key, comment in model.items():
                if key in shown or comment.status == "removed" or not covered(snap, history.posted[key]):
                    continue
                comment.misses += 1
                comment.status = "removed" if comment.misses >= history.confirm else "missing"
                events.setdefault(comment.status, set()).add(key)
        out.append(ModelStep({key: c.status for key, c in model.items()}, events))
    return out


def _seen_in_model(model: dict[str, ModelComment], key: str, record: CommentRecord,
                   has_tree: bool) -> list[str]:
    comment = model.get(key)
    words = " ".join(record.text.split())
    if comment is None:
        if record.tombstone:
            model[key] = ModelComment("removed", record.parent_key, None, tombstoned=True)
            return ["tombstoned"]
        model[key] = ModelComment("visible", record.parent_key, words)
        return ["appeared"]
    if record.tombstone:
        if comment.tombstoned:
            return []
        comment.status, comment.tombstoned, comment.misses = "removed", True, 0
        return ["tombstoned"]
    kinds = []
    if comment.status != "visible":
        kinds.append("reinstated")
    if comment.text is not None and words != comment.text:
        kinds.append("edited")
    # A reply re-attached elsewhere is a move; a comment whose parent was not
    # known (or was top level) getting one is its place becoming known.
    if has_tree and comment.parent is not None and record.parent_key != comment.parent:
        kinds.append("moved")
    if has_tree:
        comment.parent = record.parent_key
    comment.status, comment.text, comment.misses, comment.tombstoned = "visible", words, 0, False
    return kinds


def comment_events(verdict: Verdict) -> list[EventRecord]:
    return [e for e in verdict.events if e.key is not None]


def check_a_good_capture_never_removes_what_it_shows(history: History, stepwise: Steps) -> None:
    for snap, verdict in zip(history.snapshots, stepwise):
        shown = set(first_shown(snap)) if snap.outcome in GOOD else set()
        for event in verdict.events:
            if event.kind in REMOVALS:
                assert event.key not in shown, (event, snap)


def check_after_a_good_capture_what_it_shows_alive_is_visible(history: History, stepwise: Steps) -> None:
    for snap, verdict in zip(history.snapshots, stepwise):
        if snap.outcome not in GOOD:
            continue
        for key, record in first_shown(snap).items():
            if not record.tombstone:
                assert verdict.known[key].status == "visible", (key, snap)


def check_removal_windows_are_last_seen_to_first_covering_miss(history: History, stepwise: Steps) -> None:
    snaps = history.snapshots
    for index, verdict in enumerate(stepwise):
        for event in verdict.events:
            if event.kind not in REMOVALS:
                continue
            key = event.key
            assert key is not None, event
            # The last good capture before this one that showed the comment alive...
            seen = [i for i in range(index) if snaps[i].outcome in GOOD and key in first_shown(snaps[i])
                    and not first_shown(snaps[i])[key].tombstone]
            assert seen, event
            last_seen = seen[-1]
            # ...and the first later good capture that covered it and did not show it.
            misses = [i for i in range(last_seen + 1, index + 1)
                      if covered(snaps[i], history.posted[key]) and key not in first_shown(snaps[i])]
            assert misses, event
            assert event.window_start == snaps[last_seen].at
            assert event.window_end == snaps[misses[0]].at
            assert event.window_start < event.window_end <= event.at
            # No good capture in between showed it in any form.
            assert not any(snaps[i].outcome in GOOD and key in first_shown(snaps[i])
                           for i in range(last_seen + 1, index + 1)), event


def check_events_and_statuses_match_the_reference_model(history: History, stepwise: Steps) -> None:
    # Among others: removed only after `confirm` consecutive good covering misses.
    for step, (verdict, expected) in enumerate(zip(stepwise, reference_model(history))):
        assert {key: s.status for key, s in verdict.known.items()} == expected.statuses, step
        got: dict[str, set[str]] = {}
        for event in comment_events(verdict):
            assert event.key is not None
            got.setdefault(event.kind, set()).add(event.key)
        assert got == expected.events, step
        for event in verdict.events:
            if event.kind == "removed":
                assert event.details["misses"] == history.confirm


def check_failed_suspect_and_gone_captures_change_no_comment(history: History, stepwise: Steps) -> None:
    previous = Verdict([], {}, ThreadState())
    for snap, verdict in zip(history.snapshots, stepwise):
        if snap.outcome not in GOOD:
            assert comment_events(verdict) == [], snap
            assert verdict.known == previous.known, snap
            assert all(e.kind == "thread-gone" for e in verdict.events)
            if snap.outcome != "gone":
                assert verdict.thread == previous.thread
        previous = verdict


def check_moved_only_from_captures_that_know_the_tree(history: History, stepwise: Steps) -> None:
    for snap, verdict in zip(history.snapshots, stepwise):
        if not snap.has_tree:
            assert "moved" not in [e.kind for e in verdict.events]


def check_replay_is_deterministic_and_statuses_derive_from_events(history: History, stepwise: Steps) -> None:
    first = replay(history.snapshots, history.confirm)
    second = replay(history.snapshots, history.confirm)
    assert first.events == second.events
    assert first.known == second.known
    assert first.events == [e for v in stepwise for e in v.events]
    by_key: dict[str, list[str]] = {}
    for verdict in stepwise:
        for event in comment_events(verdict):
            assert event.key is not None
            by_key.setdefault(event.key, []).append(event.kind)
        # Derivable after every step, not only at the end.
        for key, state in verdict.known.items():
            assert status_after(by_key[key]) == state.status, (key, by_key[key])
    assert set(by_key) == set(first.known)


CHECKS = (
    check_a_good_capture_never_removes_what_it_shows,
    check_after_a_good_capture_what_it_shows_alive_is_visible,
    check_removal_windows_are_last_seen_to_first_covering_miss,
    check_events_and_statuses_match_the_reference_model,
    check_failed_suspect_and_gone_captures_change_no_comment,
    check_moved_only_from_captures_that_know_the_tree,
    check_replay_is_deterministic_and_statuses_derive_from_events,
)


# Drawing a history costs far more than judging it, so every rule is checked
# on each drawn history; the count keeps the file to well under a minute.
@settings(max_examples=600, deadline=None)
@given(histories())
def test_verdict_rules_hold_on_random_histories(history: History) -> None:
    stepwise = run(history)
    for check in CHECKS:
        check(history, stepwise)
