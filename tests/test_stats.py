"""The pure statistics: Wilson intervals, quartiles, and the per-group builder."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from archive.rules.stats import StatsBuilder, hours, month_of, quantile, quartiles, wilson_interval


@pytest.mark.parametrize("k, n, low, high", [
    (3, 5, 0.2307, 0.8824),     # textbook values
    (0, 10, 0.0, 0.2775),       # no removals still has an upper bound
    (10, 10, 0.7225, 1.0),
    (1, 100, 0.0018, 0.0545),
])
def test_wilson_interval_known_values(k, n, low, high):
    got = wilson_interval(k, n)
    assert got is not None
    assert got[0] == pytest.approx(low, abs=1e-4)
    assert got[1] == pytest.approx(high, abs=1e-4)


def test_wilson_interval_edges():
    assert wilson_interval(0, 0) is None
    # More successes than trials (month cohorts) are clamped, not a crash.
    assert wilson_interval(7, 5) == wilson_interval(5, 5)


def test_quartiles_interpolate_like_numpy():
    assert quartiles([]) == (None, None, None)
    assert quartiles([5.0]) == (5.0, 5.0, 5.0)
    assert quartiles([12.0, 2.0, 4.0]) == (3.0, 4.0, 8.0)
    assert quartiles([0.0, 1.0, 2.0, 4.0]) == (0.75, 1.5, 2.5)
    assert quantile([1.0, 2.0], 0.0) == 1.0 and quantile([1.0, 2.0], 1.0) == 2.0


def test_hours_and_month():
    assert hours(datetime(2024, 1, 2), datetime(2024, 1, 1, 12)) == 12.0
    # A page clock ahead of ours never gives a negative duration.
    assert hours(datetime(2024, 1, 1), datetime(2024, 1, 1, 1)) == 0.0
    assert month_of(datetime(2024, 2, 29, 23, 59)) == "2024-02"


def test_builder_counts_and_timings():
    b = StatsBuilder()
    t = datetime(2024, 1, 1)
    b.add_comment("a", status="removed", edit_count=0, times_reinstated=0, first_seen_at=t,
                  posted_at=datetime(2023, 12, 31, 22))
    b.add_comment("a", status="visible", edit_count=3, times_reinstated=2, first_seen_at=t,
                  posted_at=None)
    b.add_removal("a", comment_id=1, origin=datetime(2023, 12, 31, 22), window_start=t,
                  window_end=datetime(2024, 1, 1, 12))
    b.add_removal("a", comment_id=2, origin=t, window_start=None, window_end=None)
    b.add_removal("a", comment_id=2, origin=t, window_start=t, window_end=datetime(2024, 1, 3))
    for when, outcome in ((0, "good"), (6, "failed"), (12, "good"), (30, "suspect"),
                          (48, "unchanged")):
        b.add_capture("a", thread_id=9, started_at=datetime(2024, 1, 1) + timedelta(hours=when),
                      outcome=outcome)
    [(key, row)] = b.rows()
    assert key == "a"
    assert row["comments_seen"] == 2 and row["removed"] == 2 and row["removals"] == 3
    assert row["currently_removed"] == 1 and row["edited"] == 1
    assert row["reinstated"] == 1 and row["reinstatements"] == 2
    assert row["removal_rate"] == 1.0
    assert row["removals_timed"] == 2
    assert row["time_to_removal_lower_median_hours"] == 1.0      # [0, 2]
    assert row["time_to_removal_upper_median_hours"] == 31.0     # [14, 48]
    assert row["first_seen_delay_median_hours"] == 2.0
    assert (row["captures_good"], row["captures_failed"], row["captures_suspect"]) == (3, 1, 1)
    assert row["max_gap_hours"] == 36.0


def test_builder_without_data_and_without_captures():
    b = StatsBuilder(with_captures=False)
    b.add_comment("x", status="visible", edit_count=0, times_reinstated=0,
                  first_seen_at=datetime(2024, 1, 1), posted_at=None)
    [(_, row)] = b.rows()
    assert row["removal_rate"] == 0.0 and row["removal_rate_low"] == 0.0
    assert row["time_to_removal_lower_median_hours"] is None
    assert "captures_good" not in row
    assert StatsBuilder().rows() == []


def test_histogram_bins():
    from archive.rules.stats import histogram
    assert histogram([0.0, 0.5, 1.0, 2.9, 3.0, 500.0], (0.0, 1.0, 3.0, 24.0)) == [2, 2, 1, 1]
    assert histogram([], (0.0, 1.0)) == [0, 0]


def test_builder_timings_for_plots():
    b = StatsBuilder()
    t = datetime(2024, 1, 1)
    b.add_removal("s", comment_id=1, origin=t, window_start=t + timedelta(hours=1),
                  window_end=t + timedelta(hours=5))
    lower, upper = b.timings("s")
    assert (list(lower), list(upper)) == ([1.0], [5.0])
    assert [list(a) for a in b.timings("nobody")] == [[], []]
