"""Researchers' exports: one row per comment, event or capture, streamed.

Each export kind is a list of `Column`s (name, type, meaning): the same list
drives the row builders, the CSV/JSON/JSONL writers, the reader that turns
an export back into rows, and the data dictionary of a dataset package.

Rows are read with `yield_per` and written as they arrive, so memory stays
flat however large the archive is (PostgreSQL streams them from a
server-side cursor). Times are ISO 8601 UTC with a `Z`.

Text is exported exactly as published, so a CSV cell may start like a
spreadsheet formula (`=HYPERLINK(...)` in a commenter's name). `excel_safe`
CSV prefixes such text cells with `'`, which spreadsheets read as "this is
text"; it is off by default because it changes the data.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, TextIO

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from archive.clock import iso, parse_date
from archive.errors import ArchiveError
from archive.store.models import Capture, Comment, CommentVersion, Event, Exchange, Site, Thread

Format = Literal["csv", "json", "jsonl"]
FORMATS: tuple[Format, ...] = ("csv", "json", "jsonl")
COMMENT_STATUSES = ("visible", "missing", "removed")
BATCH = 1000
# What makes a spreadsheet evaluate a cell (OWASP's CSV injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    """One exported field. kind: str, int, float, bool, time or json."""
    name: str
    kind: str
    doc: str
    nullable: bool = False


COMMENT_COLUMNS: tuple[Column, ...] = (
    Column("comment_id", "str", "The platform's own comment key (WordPress `123` for `comment-123`), "
           "or `fp:<hash>` where the platform has none. Unique within a thread only."),
    Column("archive_id", "int", "The archive's id for the comment; unique across the archive."),
    Column("thread_id", "int", "The archive's id for the thread."),
    Column("thread_url", "str", "Canonical URL of the article whose comment section this is."),
    Column("site", "str", "Host name of the site."),
    Column("parent_id", "str", "`comment_id` of the comment this one replies to.", True),
    Column("author", "str", "Author name as the page showed it; empty when redacted."),
    Column("posted_at", "time", "Posting time the page claimed, when it showed one.", True),
    Column("text", "str", "Plain text of the current (latest) version; empty when redacted."),
    Column("status", "str", "visible, missing (absent from a good capture, not yet confirmed) "
           "or removed (absent from consecutive good captures, or tombstoned)."),
    Column("first_seen_at", "time", "Start of the first good capture that showed the comment."),
    Column("last_seen_at", "time", "Start of the latest good capture that showed the comment."),
    Column("removed_after", "time", "Latest disappearance happened after this time (last seen).",
           True),
    Column("removed_before", "time", "... and no later than this time (first good capture "
           "without it).", True),
    Column("edit_count", "int", "Number of edits seen (versions minus one)."),
    Column("times_removed", "int", "Removals and tombstonings recorded for the comment."),
    Column("times_reinstated", "int", "Times the comment came back after being missing or removed."),
    Column("redacted", "bool", "true when an operator hid the text and author name from the public "
           "archive."),
    Column("redaction_reason", "str", "The operator's stated reason for redacting.", True),
    Column("source", "str", "live once a live capture has seen the comment; backfill while only "
           "web-archive snapshots have (its status then comes from those snapshots)."),
)

EVENT_COLUMNS: tuple[Column, ...] = (
    Column("event_id", "int", "The archive's id for the event; events of one comment are "
           "in id order."),
    Column("kind", "str", "appeared, edited, moved, missing, removed, reinstated, tombstoned, "
           "thread-gone, thread-returned or api-check."),
    Column("at", "time", "When the capture that caused the event ran."),
    Column("thread_id", "int", "The archive's id for the thread."),
    Column("thread_url", "str", "Canonical URL of the thread."),
    Column("site", "str", "Host name of the site."),
    Column("comment_id", "str", "Platform key of the comment (empty for thread events).", True),
    Column("archive_comment_id", "int", "The archive's id for the comment.", True),
    Column("capture_id", "int", "The capture that caused the event (see the captures export).",
           True),
    Column("window_start", "time", "For missing/removed/tombstoned: last time the comment was "
           "seen.", True),
    Column("window_end", "time", "For missing/removed/tombstoned: first good capture "
           "without it.", True),
    Column("details", "json", "Event-specific details as a JSON object.", True),
    Column("source", "str", "live (a capture by the archive) or backfill (a web-archive snapshot)."),
)

CAPTURE_COLUMNS: tuple[Column, ...] = (
    Column("capture_id", "int", "The archive's id for the capture; in start order per thread."),
    Column("thread_id", "int", "The archive's id for the thread."),
    Column("thread_url", "str", "Canonical URL of the thread."),
    Column("site", "str", "Host name of the site."),
    Column("adapter", "str", "Adapter that parsed the pages.", True),
    Column("started_at", "time", "When the capture started."),
    Column("finished_at", "time", "When the capture finished.", True),
    Column("outcome", "str", "good, unchanged (HTTP 304: good), failed, suspect or gone. "
           "Only good and unchanged captures take part in diffs."),
    Column("reason", "str", "Why a capture failed or is suspect."),
    Column("coverage", "str", "complete (every comment page), window (e.g. a feed's newest N) "
           "or none."),
    Column("coverage_detail", "json", "For a window: {\"after\": time}.", True),
    Column("comments_found", "int", "Comments the adapter found."),
    Column("comments_claimed", "int", "Comment count the page itself claimed.", True),
    Column("pages", "int", "Comment pages fetched."),
    Column("exchanges", "int", "HTTP exchanges kept as evidence."),
    Column("prev_hash", "str", "record_hash of the thread's previous capture (hash chain).", True),
    Column("record_hash", "str", "SHA-256 over this capture's record and prev_hash.", True),
    Column("source", "str", "live (the archive fetched the site) or backfill (a web archive's "
           "snapshot, started_at being the snapshot's time; its own hash chain)."),
)


@dataclass(frozen=True)
class ExportFilter:
    """What to export. Dates bound first_seen_at (comments), at (events) or
    started_at (captures): `date_from` inclusive, `date_to` exclusive."""
    status: str | None = None
    site: str | None = None
    thread_id: int | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "site": self.site, "thread_id": self.thread_id,
                "date_from": iso(self.date_from), "date_to": iso(self.date_to)}


def date_bounds(date_from: str | None, date_to: str | None) -> tuple[datetime | None,
                                                                      datetime | None]:
    """Parse --from/--to; a bare date as --to means the end of that day."""
    try:
        start = parse_date(date_from) if date_from else None
        end = parse_date(date_to) if date_to else None
    except ValueError as exc:
        raise ArchiveError(str(exc)) from None
    if end is not None and date_to and len(date_to.strip()) == 10:
        end += timedelta(days=1)
    if start and end and end <= start:
        raise ArchiveError("--to must be after --from")
    return start, end


def apply_filter(stmt: Select, flt: ExportFilter, time_col: Any) -> Select:
    if flt.site:
        stmt = stmt.where(Site.host == flt.site.strip().lower())
    if flt.thread_id is not None:
        stmt = stmt.where(Thread.id == flt.thread_id)
    if flt.date_from is not None:
        stmt = stmt.where(time_col >= flt.date_from)
    if flt.date_to is not None:
        stmt = stmt.where(time_col < flt.date_to)
    return stmt


def stream_rows(session: Session, stmt: Select) -> Iterator[Any]:
    """Rows in batches from the session's connection (plain Core rows: no ORM
    bookkeeping per row; a server-side cursor on PostgreSQL)."""
    yield from session.connection().execute(stmt.execution_options(yield_per=BATCH))


def _comments_select(flt: ExportFilter) -> Select:
    current_text = (select(CommentVersion.text).where(CommentVersion.comment_id == Comment.id)
                    .order_by(CommentVersion.seq.desc()).limit(1)
                    .correlate(Comment).scalar_subquery())
    stmt = (select(Comment.key, Comment.id, Comment.thread_id, Thread.url, Site.host,
                   Comment.parent_key, Comment.author, Comment.posted_at, current_text,
                   Comment.status, Comment.first_seen_at, Comment.last_seen_at,
                   Comment.removed_after, Comment.removed_before, Comment.edit_count,
                   Comment.times_removed, Comment.times_reinstated, Comment.redacted,
                   Comment.redaction_reason, Comment.source)
            .join(Thread, Comment.thread_id == Thread.id).join(Site, Thread.site_id == Site.id)
            .order_by(Comment.id))
    if flt.status:
        stmt = stmt.where(Comment.status == flt.status)
    return apply_filter(stmt, flt, Comment.first_seen_at)


_COMMENT_NAMES = [c.name for c in COMMENT_COLUMNS]
_COMMENT_TIMES = ("posted_at", "first_seen_at", "last_seen_at", "removed_after", "removed_before")


def _comment_record(row: Any) -> dict[str, Any]:
    record = dict(zip(_COMMENT_NAMES, row))
    for name in _COMMENT_TIMES:
        record[name] = iso(record[name])
    record["redacted"] = bool(record["redacted"])
    if record["redacted"]:
        record["text"] = record["author"] = ""
    else:
        record["text"] = record["text"] or ""
        record["redaction_reason"] = None
    return record


def _events_select(flt: ExportFilter) -> Select:
    stmt = (select(Event.id, Event.kind, Event.at, Event.thread_id, Thread.url, Site.host,
                   Comment.key, Event.comment_id, Event.capture_id, Event.window_start,
                   Event.window_end, Event.details, Event.source)
            .join(Thread, Event.thread_id == Thread.id).join(Site, Thread.site_id == Site.id)
            .outerjoin(Comment, Event.comment_id == Comment.id).order_by(Event.id))
    if flt.status:
        stmt = stmt.where(Event.kind == flt.status)
    return apply_filter(stmt, flt, Event.at)


_EVENT_NAMES = [c.name for c in EVENT_COLUMNS]


def _event_record(row: Any) -> dict[str, Any]:
    record = dict(zip(_EVENT_NAMES, row))
    for name in ("at", "window_start", "window_end"):
        record[name] = iso(record[name])
    return record


def _captures_select(flt: ExportFilter) -> Select:
    exchanges = (select(func.count(Exchange.id)).where(Exchange.capture_id == Capture.id)
                 .correlate(Capture).scalar_subquery())
    stmt = (select(Capture.id, Capture.thread_id, Thread.url, Site.host, Capture.adapter,
                   Capture.started_at, Capture.finished_at, Capture.outcome, Capture.reason,
                   Capture.coverage, Capture.coverage_detail, Capture.comments_found,
                   Capture.comments_claimed, Capture.pages, exchanges, Capture.prev_hash,
                   Capture.record_hash, Capture.source)
            .join(Thread, Capture.thread_id == Thread.id).join(Site, Thread.site_id == Site.id)
            .order_by(Capture.id))
    if flt.status:
        stmt = stmt.where(Capture.outcome == flt.status)
    return apply_filter(stmt, flt, Capture.started_at)


_CAPTURE_NAMES = [c.name for c in CAPTURE_COLUMNS]


def _capture_record(row: Any) -> dict[str, Any]:
    record = dict(zip(_CAPTURE_NAMES, row))
    record["started_at"] = iso(record["started_at"])
    record["finished_at"] = iso(record["finished_at"])
    return record


@dataclass(frozen=True)
class RowSource:
    """One export kind: its columns, its query and how a database row becomes a record.
    `status` in the filter means the comment status, event kind or capture outcome."""
    columns: tuple[Column, ...]
    select: Callable[[ExportFilter], Select]
    record: Callable[[Any], dict[str, Any]]
    id_column: Any

    def rows(self, session: Session, flt: ExportFilter = ExportFilter()) -> Iterator[dict[str, Any]]:
        """Every matching record in id order, streamed."""
        for row in stream_rows(session, self.select(flt)):
            yield self.record(row)

    def page(self, session: Session, flt: ExportFilter, after: int,
             limit: int) -> list[dict[str, Any]]:
        """Up to `limit` records with ids above `after` (keyset pagination)."""
        return self.matching(session, self.id_column > after, flt=flt, limit=limit)

    def matching(self, session: Session, *criteria: Any, flt: ExportFilter = ExportFilter(),
                 limit: int | None = None) -> list[dict[str, Any]]:
        """The records that also meet `criteria` (SQLAlchemy conditions), in id order."""
        stmt = self.select(flt).where(*criteria).limit(limit)
        return [self.record(row) for row in session.connection().execute(stmt)]


COMMENTS = RowSource(COMMENT_COLUMNS, _comments_select, _comment_record, Comment.id)
EVENTS = RowSource(EVENT_COLUMNS, _events_select, _event_record, Event.id)
CAPTURES = RowSource(CAPTURE_COLUMNS, _captures_select, _capture_record, Capture.id)
comment_rows = COMMENTS.rows
event_rows = EVENTS.rows
capture_rows = CAPTURES.rows


# --- writers and reader -------------------------------------------------------

def _csv_cell(value: Any, column: Column) -> str:
    if value is None:
        return ""
    if column.kind == "bool":
        return "true" if value else "false"
    if column.kind == "json":
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def excel_safe_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def write_rows(rows: Iterable[dict[str, Any]], columns: tuple[Column, ...], fmt: str,
               out: TextIO, *, excel_safe: bool = False) -> int:
    """Write rows as they come; returns how many were written. `excel_safe`
    (CSV only) neutralises text cells a spreadsheet would run as formulas."""
    names = [c.name for c in columns]
    count = 0
    if excel_safe and fmt != "csv":
        raise ArchiveError("excel-safe output is for CSV only")
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(names)
        # csv writes None as "" and numbers as text by itself; only these need help.
        # Numbers are never prefixed: -3 is a number, not a formula.
        special = [(i, c) for i, c in enumerate(columns) if c.kind in ("bool", "json")]
        texts = [i for i, c in enumerate(columns) if c.kind == "str"] if excel_safe else []
        for row in rows:
            cells = [row[n] for n in names]
            for i, column in special:
                cells[i] = _csv_cell(cells[i], column)
            for i in texts:
                if cells[i]:
                    cells[i] = excel_safe_cell(cells[i])
            writer.writerow(cells)
            count += 1
    elif fmt == "jsonl":
        for row in rows:
            out.write(json.dumps({n: row[n] for n in names}, ensure_ascii=False) + "\n")
            count += 1
    elif fmt == "json":
        out.write("[")
        for row in rows:
            out.write(",\n" if count else "\n")
            out.write(json.dumps({n: row[n] for n in names}, ensure_ascii=False))
            count += 1
        out.write("\n]\n" if count else "]\n")
    else:
        raise ArchiveError(f"unknown format {fmt!r} (use csv, json or jsonl)")
    return count


def _from_csv(cell: str, column: Column) -> Any:
    if cell == "" and (column.nullable or column.kind not in ("str",)):
        return None
    if column.kind == "int":
        return int(cell)
    if column.kind == "float":
        return float(cell)
    if column.kind == "bool":
        return cell == "true"
    if column.kind == "json":
        return json.loads(cell)
    return cell


def read_rows(source: TextIO, columns: tuple[Column, ...], fmt: str) -> Iterator[dict[str, Any]]:
    """Read an export back into the rows that were written (CSV cells typed by column)."""
    if fmt == "csv":
        reader = csv.reader(source)
        header = next(reader, None)
        if header != [c.name for c in columns]:
            raise ArchiveError(f"unexpected CSV header: {header}")
        for cells in reader:
            yield {c.name: _from_csv(cell, c) for c, cell in zip(columns, cells)}
    elif fmt == "jsonl":
        for line in source:
            if line.strip():
                yield json.loads(line)
    elif fmt == "json":
        yield from json.load(source)
    else:
        raise ArchiveError(f"unknown format {fmt!r} (use csv, json or jsonl)")
