"""Removal statistics: facts in, one row of figures per group out. Pure: no database.

`StatsBuilder` is fed one fact at a time (comments, removal events, captures)
so that an archive of millions of comments is summarised without holding
them in memory; only the per-removal and per-comment durations are kept, as
compact float arrays, for the quartiles.

The choices (stated again in `NOTES`, which the page and the CLI print):
- a removal is only known to lie in the window (last seen, first missed], so
  time-to-removal is two distributions: a lower bound (last seen − origin)
  and an upper bound (first missed − origin), origin being the posting time
  when the page showed one, otherwise the first sighting;
- removal_rate = comments with at least one removal / comments seen, with a
  95% Wilson score interval (sound for small groups and rates near 0);
- by month, comment properties (comments_seen, missing, reinstated, edited)
  count in the month the comment was first seen, removals and their timings
  in the month their window ends, captures in the month they started.
"""
from __future__ import annotations

import bisect
import math
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Z_95 = 1.959963984540054
GOOD = ("good", "unchanged")

NOTES = (
    "Detection floor: a comment removed before the archive first captured its thread is never "
    "seen, so every count here is a lower bound on moderation; first_seen_delay_* shows how long "
    "after posting comments were first captured.",
    "Time to removal is an interval: a removal happened after the comment was last seen and no "
    "later than the first good capture without it. The lower and upper bounds are reported "
    "separately (hours after posting, or after the first sighting when the page gave no time).",
    "removal_rate = removed / comments_seen with a 95% Wilson score interval.",
    "By month: comments_seen, missing, reinstated and edited count in the month a comment was "
    "first seen; removed, removals and time to removal in the month the removal window ends; "
    "captures in the month they started. A month's rate therefore mixes cohorts.",
    "Captures: good includes unchanged (HTTP 304); failed and suspect captures are never diffed. "
    "max_gap_hours is the longest time between consecutive good captures of one thread: a quiet "
    "group with small gaps was well watched, one with large gaps may have missed removals.",
)


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval for a binomial proportion; None without trials."""
    if trials <= 0:
        return None
    k = min(max(successes, 0), trials)
    p = k / trials
    z2 = z * z
    denom = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def quantile(ordered: list[float] | array, q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default, R type 7)."""
    n = len(ordered)
    if n == 0:
        return None
    position = (n - 1) * q
    low = math.floor(position)
    high = min(low + 1, n - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def quartiles(values: Iterable[float]) -> tuple[float | None, float | None, float | None]:
    """(first quartile, median, third quartile)."""
    ordered = sorted(values)
    return quantile(ordered, 0.25), quantile(ordered, 0.5), quantile(ordered, 0.75)


def histogram(values: Iterable[float], edges: tuple[float, ...]) -> list[int]:
    """Counts per bin [edges[i], edges[i+1]); the last bin is open-ended."""
    counts = [0] * len(edges)
    for value in values:
        index = bisect.bisect_right(edges, value) - 1
        counts[max(index, 0)] += 1
    return counts


def month_of(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def hours(later: datetime, earlier: datetime) -> float:
    """Hours from earlier to later, never negative (a page's clock can run ahead of ours)."""
    return max(0.0, (later - earlier).total_seconds() / 3600)


@dataclass
class _Group:
    comments_seen: int = 0
    missing: int = 0
    currently_removed: int = 0
    reinstated: int = 0
    reinstatements: int = 0
    edited: int = 0
    removed_comments: set[int] = field(default_factory=set)
    removals: int = 0
    lower: array = field(default_factory=lambda: array("d"))
    upper: array = field(default_factory=lambda: array("d"))
    first_seen_delay: array = field(default_factory=lambda: array("d"))
    captures: dict[str, int] = field(default_factory=dict)
    max_gap: float | None = None
    # What web-archive snapshots (backfill) contributed.
    from_snapshots: int = 0
    removed_in_snapshots: set[int] = field(default_factory=set)
    snapshots: int = 0


class StatsBuilder:
    """Accumulates facts per group key; `rows()` gives the figures."""

    def __init__(self, with_captures: bool = True) -> None:
        self.with_captures = with_captures
        self._groups: dict[str, _Group] = {}
        # Per thread and source: live captures and snapshots are two chains.
        self._last_good: dict[tuple[int, str], datetime] = {}

    def _group(self, key: str) -> _Group:
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group()
        return group

    def add_comment(self, key: str, *, status: str, edit_count: int, times_reinstated: int,
                    first_seen_at: datetime, posted_at: datetime | None, source: str = "live") -> None:
        g = self._group(key)
        g.comments_seen += 1
        g.from_snapshots += source == "backfill"
        g.missing += status == "missing"
        g.currently_removed += status == "removed"
        g.edited += edit_count > 0
        g.reinstated += times_reinstated > 0
        g.reinstatements += times_reinstated
        if posted_at is not None:
            g.first_seen_delay.append(hours(first_seen_at, posted_at))

    def add_removal(self, key: str, *, comment_id: int, origin: datetime,
                    window_start: datetime | None, window_end: datetime | None, source: str = "live") -> None:
        """One removed/tombstoned event; origin = posted_at, else first_seen_at."""
        g = self._group(key)
        g.removals += 1
        g.removed_comments.add(comment_id)
        if source == "backfill":
            g.removed_in_snapshots.add(comment_id)
        if window_start is not None and window_end is not None:
            g.lower.append(hours(window_start, origin))
            g.upper.append(hours(window_end, origin))

    def add_capture(self, key: str, *, thread_id: int, started_at: datetime, outcome: str,
                    source: str = "live") -> None:
        """Captures must arrive in start order within each thread and source."""
        g = self._group(key)
        bucket = "good" if outcome in GOOD else outcome
        g.captures[bucket] = g.captures.get(bucket, 0) + 1
        g.snapshots += source == "backfill"
        if outcome in GOOD:
            previous = self._last_good.get((thread_id, source))
            if previous is not None:
                gap = hours(started_at, previous)
                g.max_gap = gap if g.max_gap is None else max(g.max_gap, gap)
            self._last_good[(thread_id, source)] = started_at

    def timings(self, key: str) -> tuple[array, array]:
        """The group's time-to-removal bounds in hours (lower, upper), for plots."""
        group = self._groups.get(key) or _Group()
        return group.lower, group.upper

    def rows(self) -> list[tuple[str, dict[str, Any]]]:
        """(group key, figures) sorted by key."""
        return [(key, self._figures(self._groups[key])) for key in sorted(self._groups)]

    def _figures(self, g: _Group) -> dict[str, Any]:
        removed = len(g.removed_comments)
        interval = wilson_interval(removed, g.comments_seen)
        row: dict[str, Any] = {
            "comments_seen": g.comments_seen, "removed": removed, "removals": g.removals,
            "currently_removed": g.currently_removed, "missing": g.missing,
            "reinstated": g.reinstated, "reinstatements": g.reinstatements, "edited": g.edited,
            "removal_rate": _round(removed / g.comments_seen, 6) if g.comments_seen else None,
            "removal_rate_low": _round(interval[0], 6) if interval else None,
            "removal_rate_high": _round(interval[1], 6) if interval else None,
            "removals_timed": len(g.lower),
            "comments_from_snapshots": g.from_snapshots,
            "removed_in_snapshots": len(g.removed_in_snapshots),
        }
        for name, values in (("time_to_removal_lower", g.lower),
                             ("time_to_removal_upper", g.upper),
                             ("first_seen_delay", g.first_seen_delay)):
            q1, median, q3 = quartiles(values)
            row[f"{name}_q1_hours"] = _round(q1, 3)
            row[f"{name}_median_hours"] = _round(median, 3)
            row[f"{name}_q3_hours"] = _round(q3, 3)
        if self.with_captures:
            row.update({"captures_good": g.captures.get("good", 0),
                        "captures_failed": g.captures.get("failed", 0),
                        "captures_suspect": g.captures.get("suspect", 0),
                        "captures_gone": g.captures.get("gone", 0),
                        "max_gap_hours": _round(g.max_gap, 3),
                        "captures_from_snapshots": g.snapshots})
        return row


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
