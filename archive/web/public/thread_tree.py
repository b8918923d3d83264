"""Reading order of a comment thread, and its pages. Pure: no I/O.

A thread is shown as readers saw it: each top-level comment followed by its
replies, depth first, siblings in the order they were posted. A comment
whose parent the archive never saw (or a cycle from a broken page) is shown
at the top level, so nothing the archive knows is ever left out.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

# Replies deeper than this are drawn at this depth: a phone has little width.
MAX_DEPTH = 6
_NO_TIME = datetime.min


class Placed(NamedTuple):
    # Shadows tuple.index, which nothing here calls; the views read `p.index`.
    index: int          # type: ignore[assignment]  # index into the columns given to reading_order
    depth: int          # 0 for top level, capped at MAX_DEPTH


def reading_order(keys: Sequence[str], parent_keys: Sequence[str | None],
                  positions: Sequence[int], posted: Sequence[datetime | None]) -> list[Placed]:
    """Every comment once, depth first; siblings by posting time, then position.

    Time first because a comment that disappeared keeps the position it had in
    the last capture that showed it, while the others move up in later ones:
    after several removals positions alone would put it out of its place.
    Undated comments follow the dated ones, by position. The comments come as
    parallel columns (plain sequences read several times faster than rows).
    """
    by_key = dict(zip(keys, range(len(keys))))
    # One sort of plain tuples (compared in C), then grouping keeps that order.
    ranked = sorted(zip([when is None for when in posted], [when or _NO_TIME for when in posted],
                        positions, keys, range(len(keys))))
    children: dict[str | None, list[int]] = {}
    for _undated, _when, _position, key, i in ranked:
        parent = parent_keys[i]
        if parent not in by_key or parent == key:
            parent = None
        children.setdefault(parent, []).append(i)

    placed: list[Placed] = []
    done = [False] * len(keys)

    def walk(roots: list[int]) -> None:
        # An explicit stack: a 5,000-deep reply chain must not hit the recursion limit.
        stack = [(i, 0) for i in reversed(roots)]
        while stack:
            i, depth = stack.pop()
            if done[i]:
                continue
            done[i] = True
            placed.append(Placed(i, depth if depth < MAX_DEPTH else MAX_DEPTH))
            kids = children.get(keys[i])
            if kids:
                stack.extend((child, depth + 1) for child in reversed(kids))

    walk(children.get(None, []))
    # Nodes only reachable through a cycle of parents: show them at the top level.
    walk([row[-1] for row in ranked if not done[row[-1]]])
    return placed


def paginate(order: Sequence[Placed], page_size: int) -> list[tuple[int, int]]:
    """Split a reading order into pages of about `page_size` as (start, end) slices.

    A page ends before a top-level comment so reply chains stay together,
    unless a single conversation is longer than two pages.
    """
    if page_size < 1:
        raise ValueError("page_size must be positive")
    pages: list[tuple[int, int]] = []
    start = 0
    for i, item in enumerate(order):
        size = i - start
        if (size >= page_size and item.depth == 0) or size >= 2 * page_size:
            pages.append((start, i))
            start = i
    if start < len(order) or not pages:
        pages.append((start, len(order)))
    return pages
