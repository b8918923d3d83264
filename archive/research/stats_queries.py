"""Loads what the statistics need from the database, streamed, and names the columns.

The arithmetic lives in archive/rules/stats.py; this module only decides which
group each fact belongs to and feeds it in, one row at a time.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.operators.redaction import WITHHELD_AUTHOR, public_author
from archive.research.exports import Column, ExportFilter, apply_filter, stream_rows
from archive.rules.stats import StatsBuilder, month_of
from archive.store.models import Capture, Comment, Event, Site, Thread

GROUPINGS = ("site", "thread", "month", "site-month", "author", "all")
REMOVAL_KINDS = ("removed", "tombstoned")

_KEY_COLUMNS: dict[str, tuple[Column, ...]] = {
    "site": (Column("site", "str", "Host name of the site."),),
    "thread": (Column("thread_url", "str", "Canonical URL of the thread."),
               Column("thread_id", "int", "The archive's id for the thread."),
               Column("site", "str", "Host name of the site.")),
    "month": (Column("month", "str", "YYYY-MM (UTC); see the note on months."),),
    "site-month": (Column("site", "str", "Host name of the site."),
                   Column("month", "str", "YYYY-MM (UTC); see the note on months.")),
    "author": (Column("author", "str", "Author name as pages showed it (empty: anonymous; "
                      f"{WITHHELD_AUTHOR}: redacted comments)."),),
    "all": (Column("group", "str", "`all`: the whole selection."),),
}

_FIGURE_COLUMNS: tuple[Column, ...] = (
    Column("comments_seen", "int", "Comments the archive saw at least once."),
    Column("removed", "int", "Comments with at least one removal (removed or tombstoned event)."),
    Column("removals", "int", "Removal events (a comment removed, reinstated and removed again "
           "counts twice)."),
    Column("currently_removed", "int", "Comments whose status is removed now."),
    Column("missing", "int", "Comments absent from a good capture, not yet confirmed removed."),
    Column("reinstated", "int", "Comments that came back at least once after going missing "
           "or removed."),
    Column("reinstatements", "int", "Sum of times comments came back."),
    Column("edited", "int", "Comments with at least one edit."),
    Column("removal_rate", "float", "removed / comments_seen.", True),
    Column("removal_rate_low", "float", "Lower end of the 95% Wilson score interval.", True),
    Column("removal_rate_high", "float", "Upper end of the 95% Wilson score interval.", True),
    Column("removals_timed", "int", "Removals with a known window (used for the timings)."),
    Column("comments_from_snapshots", "int", "Of comments_seen, those known only from web-archive "
           "snapshots (source backfill)."),
    Column("removed_in_snapshots", "int", "Of removed, comments whose removal was found between two "
           "archived snapshots (after one, before the next; the gap between proves nothing)."),
) + tuple(
    Column(f"{name}_{stat}_hours", "float", f"{label}: {stat_label}, in hours.", True)
    for name, label in (
        ("time_to_removal_lower", "Time to removal, lower bound (last seen − posted)"),
        ("time_to_removal_upper", "Time to removal, upper bound (first missed − posted)"),
        ("first_seen_delay", "Delay from posting to first capture (the detection floor)"))
    for stat, stat_label in (("q1", "first quartile"), ("median", "median"),
                             ("q3", "third quartile"))
)

_CAPTURE_COLUMNS: tuple[Column, ...] = (
    Column("captures_good", "int", "Good captures (including unchanged, HTTP 304)."),
    Column("captures_failed", "int", "Failed captures (fetch errors, HTTP errors, robots)."),
    Column("captures_suspect", "int", "Captures fetched but not trusted (walls, unknown layout, "
           "contradicted counts)."),
    Column("captures_gone", "int", "Captures that found the thread itself gone (404/410)."),
    Column("max_gap_hours", "float", "Longest time between consecutive good captures of one "
           "thread (live captures and archived snapshots counted as two chains).", True),
    Column("captures_from_snapshots", "int", "Of the captures counted above, archived snapshots "
           "read by a backfill (source backfill)."),
)


def key_columns(by: str) -> tuple[Column, ...]:
    return _KEY_COLUMNS[by]


def stats_columns(by: str) -> tuple[Column, ...]:
    """The columns of a stats row for one grouping (authors have no captures)."""
    captures = () if by == "author" else _CAPTURE_COLUMNS
    return _KEY_COLUMNS[by] + _FIGURE_COLUMNS + captures


def _key(by: str, host: str, thread_id: int, author: str | None, moment: Any) -> str:
    if by == "site":
        return host
    if by == "thread":
        return str(thread_id)
    if by == "month":
        return month_of(moment)
    if by == "site-month":
        return f"{host}\t{month_of(moment)}"
    if by == "author":
        return author or ""
    return "all"


def collect(session: Session, groupings: tuple[str, ...],
            flt: ExportFilter = ExportFilter()) -> dict[str, StatsBuilder]:
    """One pass over the archive feeding a builder per grouping."""
    unknown = set(groupings) - set(GROUPINGS)
    if unknown:
        raise ValueError(f"unknown grouping {sorted(unknown)}")
    builders = {by: StatsBuilder(with_captures=by != "author") for by in groupings}
    comments = (select(Site.host, Thread.id, public_author(), Comment.first_seen_at,
                       Comment.posted_at, Comment.status, Comment.edit_count,
                       Comment.times_reinstated, Comment.source)
                .join(Thread, Comment.thread_id == Thread.id).join(Site, Thread.site_id == Site.id)
                .order_by(Comment.id))
    for host, thread_id, author, first_seen, posted, status, edits, reinstated, source in stream_rows(
            session, apply_filter(comments, flt, Comment.first_seen_at)):
        for by, builder in builders.items():
            builder.add_comment(_key(by, host, thread_id, author, first_seen), status=status,
                                edit_count=edits, times_reinstated=reinstated,
                                first_seen_at=first_seen, posted_at=posted, source=source)
    # The removal window's end, or the event time for an event without a window.
    removal_time = func.coalesce(Event.window_end, Event.at)
    removals = (select(Site.host, Thread.id, public_author(), Comment.id, Comment.posted_at,
                       Comment.first_seen_at, Event.window_start, Event.window_end, removal_time,
                       Event.source)
                .join(Comment, Event.comment_id == Comment.id)
                .join(Thread, Comment.thread_id == Thread.id).join(Site, Thread.site_id == Site.id)
                .where(Event.kind.in_(REMOVAL_KINDS)).order_by(Event.id))
    for host, thread_id, author, comment_id, posted, first_seen, start, end, when, source in stream_rows(
            session, apply_filter(removals, flt, removal_time)):
        for by, builder in builders.items():
            builder.add_removal(_key(by, host, thread_id, author, when), comment_id=comment_id,
                                origin=posted or first_seen, window_start=start, window_end=end,
                                source=source)
    with_captures = [(by, b) for by, b in builders.items() if b.with_captures]
    if with_captures:
        captures = (select(Site.host, Thread.id, Capture.started_at, Capture.outcome, Capture.source)
                    .join(Thread, Capture.thread_id == Thread.id)
                    .join(Site, Thread.site_id == Site.id)
                    .order_by(Capture.thread_id, Capture.started_at, Capture.id))
        for host, thread_id, started, outcome, source in stream_rows(
                session, apply_filter(captures, flt, Capture.started_at)):
            for by, builder in with_captures:
                builder.add_capture(_key(by, host, thread_id, None, started), thread_id=thread_id,
                                    started_at=started, outcome=outcome, source=source)
    return builders


def build_stats(session: Session, by: str = "site",
                flt: ExportFilter = ExportFilter()) -> list[dict[str, Any]]:
    """One row per group: the group's key columns, then the figures."""
    return keyed_rows(session, by, collect(session, (by,), flt)[by])


def keyed_rows(session: Session, by: str, builder: StatsBuilder) -> list[dict[str, Any]]:
    """The builder's rows, each headed by its grouping's key columns."""
    rows = []
    threads: dict[int, tuple[str, str]] = {}
    if by == "thread":
        threads = {tid: (url, host) for tid, url, host in session.execute(
            select(Thread.id, Thread.url, Site.host).join(Site, Thread.site_id == Site.id))}
    for key, figures in builder.rows():
        if by == "thread":
            url, host = threads[int(key)]
            head: dict[str, Any] = {"thread_url": url, "thread_id": int(key), "site": host}
        elif by == "site-month":
            host, month = key.split("\t")
            head = {"site": host, "month": month}
        else:
            head = {_KEY_COLUMNS[by][0].name: key}
        rows.append(head | figures)
    if by == "thread":
        rows.sort(key=lambda r: r["thread_id"])
    return rows
