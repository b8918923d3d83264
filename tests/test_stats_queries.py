"""Statistics over a small archive built through the models, against hand-computed answers.

Site a.example: thread T1 (captures 00:00 good, 06:00 failed, 12:00 good,
Jan 2 12:00 suspect, Jan 3 00:00 unchanged) and T2; site b.example: T3,
whose comment k6 is removed, reinstated and removed again across a month end.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

import pytest
from flask import Flask

from archive.research.exports import ExportFilter, read_rows
from archive.research.stats_queries import build_stats, stats_columns
from archive.store.db import get_db
from archive.store.models import Capture, Comment, CommentVersion, Event, Site, Thread


def D(day: int, hour: int = 0, month: int = 1) -> datetime:
    return datetime(2024, month, day, hour)


def build(app: Flask) -> dict[str, int]:
    with get_db(app).write() as s:
        a, b = Site(host="a.example"), Site(host="b.example")
        t1 = Thread(site=a, url="https://a.example/1/")
        t2 = Thread(site=a, url="https://a.example/2/")
        t3 = Thread(site=b, url="https://b.example/3/")
        s.add_all([a, b, t1, t2, t3])
        for thread, times in ((t1, [(D(1), "good"), (D(1, 6), "failed"), (D(1, 12), "good"),
                                    (D(2, 12), "suspect"), (D(3), "unchanged")]),
                              (t2, [(D(5), "good"), (D(5, 1), "good")]),
                              (t3, [(D(31, 12), "good"), (D(1, 2, 2), "failed"),
                                    (D(1, 10, 2), "good"), (D(1, 20, 2), "good")])):
            s.add_all(Capture(thread=thread, started_at=at, outcome=outcome) for at, outcome in times)

        def comment(thread: Thread, key: str, author: str, posted: datetime | None, first: datetime, status: str,
                    edits: int = 0, reinstated: int = 0) -> Comment:
            c = Comment(thread=thread, key=key, author=author, posted_at=posted,
                        first_seen_at=first, last_seen_at=first, status=status,
                        edit_count=edits, times_reinstated=reinstated,
                        versions=[CommentVersion(seq=1, text=key, text_sha256=key)])
            s.add(c)
            return c

        k1 = comment(t1, "k1", "Ann", D(31, 22, month=12).replace(year=2023), D(1), "removed")
        k2 = comment(t1, "k2", "Bob", None, D(1), "visible", edits=2, reinstated=1)
        k3 = comment(t1, "k3", "Cy", D(1, 11), D(1, 12), "missing")
        comment(t1, "k4", "", D(1), D(1), "visible")
        k5 = comment(t2, "k5", "", D(4, 20), D(5), "removed")
        k6 = comment(t3, "k6", "Dee", D(31), D(31, 12), "removed", reinstated=1)
        comment(t3, "k7", "Ann", D(1, 5, 2), D(1, 10, 2), "visible")
        s.flush()

        def event(c: Comment, kind: str, at: datetime, start: datetime | None = None,
                  end: datetime | None = None) -> None:
            s.add(Event(thread_id=c.thread_id, comment_id=c.id, kind=kind, at=at,
                        window_start=start, window_end=end))

        event(k1, "missing", D(1, 12), D(1), D(1, 12))
        event(k1, "removed", D(3), D(1), D(1, 12))
        event(k2, "removed", D(3), D(1, 12), D(3))
        event(k2, "reinstated", D(4))
        event(k3, "missing", D(3), D(1, 12), D(3))
        event(k5, "tombstoned", D(5, 1), D(5), D(5, 1))
        event(k6, "removed", D(1, 10, 2), D(31, 12), D(1, 10, 2))
        event(k6, "reinstated", D(1, 15, 2))
        event(k6, "removed", D(1, 20, 2), D(1, 10, 2), D(1, 20, 2))
        return {"t1": t1.id, "t2": t2.id, "t3": t3.id}


def stats(app: Flask, by: str, flt: ExportFilter = ExportFilter()) -> list[dict[str, Any]]:
    with get_db(app).read_session() as session:
        return build_stats(session, by, flt)


def test_by_site(app):
    build(app)
    a, b = stats(app, "site")
    assert a["site"] == "a.example" and b["site"] == "b.example"
    assert {k: a[k] for k in ("comments_seen", "removed", "removals", "currently_removed",
                              "missing", "reinstated", "reinstatements", "edited")} == {
        "comments_seen": 5, "removed": 3, "removals": 3, "currently_removed": 2, "missing": 1,
        "reinstated": 1, "reinstatements": 1, "edited": 1}
    assert a["removal_rate"] == 0.6
    assert a["removal_rate_low"] == pytest.approx(0.2307, abs=1e-4)
    assert a["removal_rate_high"] == pytest.approx(0.8824, abs=1e-4)
    # Lower bounds: k1 2h (posted 22:00, last seen 00:00), k2 12h (no posting time:
    # from first seen), k5 4h. Upper bounds: 14h, 48h, 5h.
    assert (a["time_to_removal_lower_q1_hours"], a["time_to_removal_lower_median_hours"],
            a["time_to_removal_lower_q3_hours"]) == (3.0, 4.0, 8.0)
    assert (a["time_to_removal_upper_q1_hours"], a["time_to_removal_upper_median_hours"],
            a["time_to_removal_upper_q3_hours"]) == (9.5, 14.0, 31.0)
    assert (a["first_seen_delay_q1_hours"], a["first_seen_delay_median_hours"],
            a["first_seen_delay_q3_hours"]) == (0.75, 1.5, 2.5)
    assert (a["captures_good"], a["captures_failed"], a["captures_suspect"],
            a["captures_gone"], a["max_gap_hours"]) == (5, 1, 1, 0, 36.0)
    # b: k6 removed twice (12h..34h, then 34h..44h after posting), reinstated once.
    assert (b["comments_seen"], b["removed"], b["removals"], b["reinstated"],
            b["removal_rate"]) == (2, 1, 2, 1, 0.5)
    assert b["time_to_removal_lower_median_hours"] == 23.0
    assert b["time_to_removal_upper_median_hours"] == 39.0
    assert (b["captures_good"], b["captures_failed"], b["max_gap_hours"]) == (3, 1, 22.0)


def test_by_month_splits_cohorts_and_removals(app):
    build(app)
    jan, feb = stats(app, "month")
    assert (jan["month"], jan["comments_seen"], jan["removed"], jan["removals"],
            jan["currently_removed"], jan["missing"], jan["reinstated"], jan["edited"]) == (
        "2024-01", 6, 3, 3, 3, 1, 2, 1)
    # k6's removals end in February although it was first seen in January.
    assert (feb["month"], feb["comments_seen"], feb["removed"], feb["removals"],
            feb["removal_rate"]) == ("2024-02", 1, 1, 2, 1.0)
    assert (jan["captures_good"], jan["captures_failed"], jan["captures_suspect"],
            jan["max_gap_hours"]) == (6, 1, 1, 36.0)
    assert (feb["captures_good"], feb["captures_failed"], feb["max_gap_hours"]) == (2, 1, 22.0)


def test_by_thread_author_and_all(app):
    ids = build(app)
    t1, t2, t3 = stats(app, "thread")
    assert (t1["thread_id"], t1["thread_url"], t1["site"]) == (
        ids["t1"], "https://a.example/1/", "a.example")
    assert (t1["comments_seen"], t1["removed"], t1["missing"], t1["max_gap_hours"]) == (
        4, 2, 1, 36.0)
    assert (t2["removal_rate"], t2["max_gap_hours"]) == (1.0, 1.0)
    assert t3["comments_seen"] == 2
    authors = {r["author"]: r for r in stats(app, "author")}
    assert set(authors) == {"", "Ann", "Bob", "Cy", "Dee"}
    assert (authors["Ann"]["comments_seen"], authors["Ann"]["removed"]) == (2, 1)
    assert (authors[""]["comments_seen"], authors[""]["removed"]) == (2, 1)
    assert "captures_good" not in authors["Ann"]
    per_site_month = {(r["site"], r["month"]): r for r in stats(app, "site-month")}
    assert sorted(per_site_month) == [("a.example", "2024-01"), ("b.example", "2024-01"),
                                      ("b.example", "2024-02")]
    assert per_site_month[("b.example", "2024-02")]["removals"] == 2
    assert per_site_month[("b.example", "2024-01")]["comments_seen"] == 1
    [total] = stats(app, "all")
    assert (total["group"], total["comments_seen"], total["removed"], total["removals"],
            total["captures_good"]) == ("all", 7, 4, 5, 8)


def test_filters(app):
    ids = build(app)
    [only] = stats(app, "site", ExportFilter(site="b.example"))
    assert only["comments_seen"] == 2
    [t1] = stats(app, "thread", ExportFilter(thread_id=ids["t1"]))
    assert t1["removals"] == 2
    [feb] = stats(app, "month", ExportFilter(date_from=D(1, month=2)))
    assert (feb["comments_seen"], feb["removals"], feb["captures_good"]) == (1, 2, 2)


def test_empty_archive(app, runner):
    assert stats(app, "site") == []
    result = runner.invoke("stats")
    assert result.exit_code == 0
    assert "no comments or captures" in result.output
    assert "Detection floor" in result.output


def test_stats_command_formats(app, runner):
    build(app)
    table = runner.invoke("stats", "--by", "site")
    assert table.exit_code == 0, table.output
    assert "a.example" in table.stdout and "60.0%" in table.stdout
    assert "23.1%-88.2%" in table.stdout and "Detection floor" in table.stdout
    data = json.loads(runner.invoke("stats", "--by", "month", "--format", "json").stdout)
    assert [r["month"] for r in data] == ["2024-01", "2024-02"]
    text = runner.invoke("stats", "--by", "thread", "--format", "csv").stdout
    rows = list(read_rows(io.StringIO(text), stats_columns("thread"), "csv"))
    assert rows == stats(app, "thread")
    table = runner.invoke("stats", "--by", "site-month").stdout
    assert "site/month" in table and "b.example 2024-02" in table
    exported = runner.invoke("export", "stats", "--by", "author", "--format", "csv").stdout
    header = next(csv.reader(io.StringIO(exported)))
    assert header[:4] == ["author", "comments_seen", "removed", "removals"]
