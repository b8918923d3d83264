"""Reading order and pages of a thread (pure)."""
from __future__ import annotations

from datetime import datetime, timedelta

from archive.web.public.thread_tree import MAX_DEPTH, Placed, paginate, reading_order

T0 = datetime(2018, 4, 1)


def _order(rows: list[tuple], dated: bool = False) -> list[tuple[str, int]]:
    """rows: (key, parent, position) or, with dated, (key, parent, position, minutes or None)."""
    keys = [r[0] for r in rows]
    parents = [r[1] for r in rows]
    positions = [r[2] for r in rows]
    posted = [T0 + timedelta(minutes=r[3]) if dated and r[3] is not None else None for r in rows]
    return [(keys[p.index], p.depth) for p in reading_order(keys, parents, positions, posted)]


def test_replies_follow_their_parent_depth_first() -> None:
    rows = [("1", None, 1), ("2", None, 2), ("3", "1", 3), ("4", "3", 4), ("5", "1", 5)]
    assert _order(rows) == [("1", 0), ("3", 1), ("4", 2), ("5", 1), ("2", 0)]


def test_undated_siblings_by_position_whatever_the_input_order() -> None:
    rows = [("b", None, 2), ("c", "a", 9), ("a", None, 1), ("d", "a", 3)]
    assert _order(rows) == [("a", 0), ("d", 1), ("c", 1), ("b", 0)]


def test_removed_comments_stay_in_place_although_their_positions_are_stale() -> None:
    # Captured as A0 B1 C2 D3 E4; B and C were then removed and the next
    # capture numbered A0 D1 E2. Posting times keep B and C where they were.
    rows = [("A", None, 0, 0), ("B", None, 1, 1), ("C", None, 2, 2), ("D", None, 1, 3), ("E", None, 2, 4)]
    assert [k for k, _ in _order(rows, dated=True)] == ["A", "B", "C", "D", "E"]
    # Without times, position then key is the best the archive can do.
    assert [k for k, _ in _order([r[:3] for r in rows])] == ["A", "B", "D", "C", "E"]


def test_undated_comments_follow_dated_ones() -> None:
    rows = [("x", None, 0, None), ("y", None, 5, 10), ("z", None, 9, 5)]
    assert [k for k, _ in _order(rows, dated=True)] == ["z", "y", "x"]


def test_unknown_parent_and_cycles_still_show_every_comment() -> None:
    rows = [("1", "gone", 1), ("x", "y", 2), ("y", "x", 3), ("self", "self", 4)]
    order = _order(rows)
    assert sorted(k for k, _ in order) == ["1", "self", "x", "y"]
    assert ("1", 0) in order and ("self", 0) in order


def test_deep_chains_are_capped_in_depth_and_do_not_recurse() -> None:
    n = 5000
    rows = [(str(i), str(i - 1) if i else None, i) for i in range(n)]
    order = _order(rows)
    assert len(order) == n
    assert order[1] == ("1", 1)
    assert max(depth for _, depth in order) == MAX_DEPTH


def test_pages_end_before_a_top_level_comment() -> None:
    order = [Placed(i, d) for i, d in enumerate([0, 1, 1, 0, 1, 0, 0, 1, 1, 1])]
    # The last conversation is longer than two pages: it is cut at 2 x 2.
    assert paginate(order, 2) == [(0, 3), (3, 5), (5, 9), (9, 10)]


def test_a_huge_conversation_is_split_at_twice_the_page_size() -> None:
    order = [Placed(0, 0)] + [Placed(i, 1) for i in range(1, 10)]
    assert paginate(order, 3) == [(0, 6), (6, 10)]


def test_empty_thread_has_one_empty_page() -> None:
    assert paginate([], 50) == [(0, 0)]
