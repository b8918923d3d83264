"""Watches as CSV: bulk import and export.

`parse_watch_csv` is pure: it reads the text, checks every row, and reports
each bad row with its line number. `import_watches` stores the rows through
`archive.watches.add_watch`; if any row fails there too (private address,
already watched) it raises with every problem and the caller's transaction is
rolled back: an import is all or nothing.

Columns (header required, order free): url (required), adapter, every,
until, paused, early_every, early_for, options (a JSON object, checked by
the row's adapter). An export also writes the read-only columns id, state,
last_outcome and next_due_at, which an import ignores, so an exported file
can be imported into another archive as it is.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from archive.capture.watches import (
    add_watch,
    canonical_url,
    check_adapter,
    check_interval,
    check_options,
    check_until,
    watch_state,
)
from archive.clock import format_duration, iso, parse_date, parse_duration
from archive.errors import ArchiveError
from archive.store.models import Watch

COLUMNS = ("url", "adapter", "every", "until", "paused", "early_every", "early_for", "options")
READ_ONLY = ("id", "state", "last_outcome", "next_due_at")
MAX_ROWS = 5000
MAX_BYTES = 2_000_000
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"", "0", "false", "no", "n"}


class CsvImportError(ArchiveError):
    """One or more rows are bad; `problems` holds one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = "; ".join(self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"nothing imported: {shown}{more}")


@dataclass(frozen=True)
class WatchRow:
    line: int
    url: str
    adapter: str | None = None
    every: timedelta | None = None
    until: datetime | None = None
    paused: bool = False
    early_every: timedelta | None = None
    early_for: timedelta | None = None
    options: dict[str, Any] | None = None


def _field(row: dict[str, str | None], name: str) -> str:
    return (row.get(name) or "").strip()


def _duration(text: str, name: str) -> timedelta | None:
    if not text:
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _interval(text: str, name: str) -> timedelta | None:
    every = _duration(text, name)
    if every is not None:
        check_interval(every, name)
    return every


def _row(line: int, row: dict[str, str | None], adapters: Iterable[str], now: datetime) -> WatchRow:
    url = _field(row, "url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"url {url!r} is not an http(s) URL" if url else "url is empty")
    adapter = _field(row, "adapter") or None
    check_adapter(adapter, adapters)
    until_text = _field(row, "until")
    until = parse_date(until_text) if until_text else None
    check_until(until, now)
    paused_text = _field(row, "paused").lower()
    if paused_text not in _TRUE | _FALSE:
        raise ValueError(f"paused must be true or false, not {paused_text!r}")
    options_text = _field(row, "options")
    options = None
    if options_text:
        try:
            options = json.loads(options_text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"options is not valid JSON ({exc.msg})") from None
        if not isinstance(options, dict):
            raise ValueError("options must be a JSON object")
    options = check_options(adapter, options)
    return WatchRow(line, url, adapter, _interval(_field(row, "every"), "every"), until,
                    paused_text in _TRUE, _interval(_field(row, "early_every"), "early_every"),
                    _duration(_field(row, "early_for"), "early_for"), options)


def decode_csv(raw: bytes) -> str:
    """A CSV file's bytes as text (UTF-8, a byte-order mark allowed); CsvImportError otherwise."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvImportError(["the file is not UTF-8 text"]) from None


def parse_watch_csv(text: str, adapters: Iterable[str], now: datetime) -> tuple[list[WatchRow], list[str]]:
    """Rows and problems ("line N: ..."); any problem means nothing should be imported."""
    adapters = set(adapters)
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        return [], [f"the file is larger than {MAX_BYTES // 1_000_000} MB"]
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        return [], [f"line 1: {exc}"]
    if "url" not in header:
        return [], ["line 1: the header must name a 'url' column"]
    unknown = [h for h in header if h not in COLUMNS + READ_ONLY]
    if unknown:
        return [], [f"line 1: unknown column(s) {', '.join(unknown)} (known: {', '.join(COLUMNS)})"]
    reader.fieldnames = header
    rows: list[WatchRow] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    try:
        for raw in reader:
            line = reader.line_num
            if len(rows) + len(problems) >= MAX_ROWS:
                problems.append(f"line {line}: more than {MAX_ROWS} rows; split the file")
                break
            if None in raw:
                problems.append(f"line {line}: more fields than columns")
                continue
            if not any((v or "").strip() for v in raw.values()):
                continue
            try:
                parsed = _row(line, raw, adapters, now)
            except (ValueError, ArchiveError) as exc:
                problems.append(f"line {line}: {exc}")
                continue
            key = canonical_url(parsed.url)
            if key in seen:
                problems.append(f"line {line}: same thread as line {seen[key]}")
                continue
            seen[key] = line
            rows.append(parsed)
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: {exc}")
    if not rows and not problems:
        problems.append("the file has no rows")
    return rows, problems


def import_watches(session: Session, rows: Sequence[WatchRow], *, allow_private: bool,
                   default_every: timedelta) -> list[Watch]:
    """Add every row's watch, or raise CsvImportError naming each row that failed.

    On error the caller must roll back (`Database.write()` does) so that
    nothing of the file is kept."""
    created: list[Watch] = []
    problems: list[str] = []
    for row in rows:
        try:
            watch = add_watch(session, row.url, allow_private=allow_private, adapter=row.adapter,
                              every=row.every or default_every, until=row.until,
                              early_every=row.early_every, early_for=row.early_for,
                              options=row.options)
        except ArchiveError as exc:
            problems.append(f"line {row.line}: {exc}")
            continue
        watch.paused = row.paused
        created.append(watch)
    if problems:
        raise CsvImportError(problems)
    return created


def export_watches(watches: Iterable[Watch], now: datetime) -> str:
    """The watches as CSV text, importable by `parse_watch_csv`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS + READ_ONLY)
    for w in watches:
        writer.writerow([
            w.url, w.adapter or "", format_duration(w.interval_seconds),
            iso(w.until) or "", "true" if w.paused else "false",
            format_duration(w.early_interval_seconds) if w.early_interval_seconds else "",
            format_duration(w.early_seconds) if w.early_seconds else "",
            json.dumps(w.options, sort_keys=True) if w.options else "",
            w.id, watch_state(w, now), w.last_outcome or "", iso(w.next_due_at) or "",
        ])
    return out.getvalue()
