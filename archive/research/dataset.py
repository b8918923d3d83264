"""A dated, citable dataset package for researchers.

One folder (and optionally a zip of it) holding the comments, events,
captures and statistics of a selection as CSV and JSONL, a data dictionary
generated from the same column definitions the exports use, the query that
produced it, citation metadata, and SHA-256 checksums of every file. The
folder is built under a temporary name and renamed into place, so a failed
run leaves nothing half-written.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from archive.clock import iso, utcnow
from archive.context import ArchiveContext
from archive.errors import ArchiveError
from archive.research.exports import (
    CAPTURE_COLUMNS,
    COMMENT_COLUMNS,
    EVENT_COLUMNS,
    Column,
    ExportFilter,
    capture_rows,
    comment_rows,
    event_rows,
    write_rows,
)
from archive.research.stats_queries import build_stats, stats_columns
from archive.rules.stats import NOTES

ROOT = Path(__file__).resolve().parents[2]
STATS_GROUPINGS = ("site", "thread", "month")


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    description: str


@dataclass
class DatasetResult:
    folder: Path
    zip_path: Path | None
    row_counts: dict[str, int]


RowSource = Callable[[Any, ExportFilter], Iterator[dict[str, Any]]]


def _stats_rows(by: str) -> RowSource:
    return lambda session, flt: iter(build_stats(session, by, flt))


def _tables() -> list[tuple[Table, RowSource]]:
    tables: list[tuple[Table, RowSource]] = [
        (Table("comments", COMMENT_COLUMNS, "One row per comment the archive has seen."),
         comment_rows),
        (Table("events", EVENT_COLUMNS, "Every transition of a comment or thread, with the "
               "capture that caused it. Statuses in `comments` are derived from these."),
         event_rows),
        (Table("captures", CAPTURE_COLUMNS, "Every attempt to read a thread, including failed "
               "and suspect ones, with the hash chain that makes tampering detectable."),
         capture_rows),
    ]
    for by in STATS_GROUPINGS:
        tables.append((Table(f"stats_by_{by}", stats_columns(by),
                             f"Removal statistics, one row per {by}."),
                       _stats_rows(by)))
    return tables


def build_dataset(ctx: ArchiveContext, output: Path, flt: ExportFilter, *, title: str, author: str,
                  make_zip: bool = False, excel_safe: bool = False) -> DatasetResult:
    """Write the package to `output` (a new folder); returns what was written."""
    output = output.resolve()
    if output.exists():
        raise ArchiveError(f"{output} already exists: choose a new folder")
    if not output.parent.is_dir():
        raise ArchiveError(f"no such folder: {output.parent}")
    zip_path = output.with_name(output.name + ".zip") if make_zip else None
    if zip_path is not None and zip_path.exists():
        raise ArchiveError(f"{zip_path} already exists")
    created = utcnow().replace(microsecond=0)
    work = Path(tempfile.mkdtemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part"))
    try:
        counts = _write_tables(ctx, work, flt, excel_safe)
        tables = [table for table, _ in _tables()]
        query = _query(ctx, flt, created, counts, excel_safe)
        (work / "query.json").write_text(json.dumps(query, indent=2) + "\n", encoding="utf-8")
        (work / "DATA_DICTIONARY.md").write_text(data_dictionary(tables, excel_safe), encoding="utf-8")
        (work / "CITATION.cff").write_text(citation(title, author, created, flt),
                                           encoding="utf-8")
        (work / "README.md").write_text(readme(title, author, created, flt, counts),
                                        encoding="utf-8")
        _write_checksums(work)
        os.replace(work, output)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    if zip_path is not None:
        _zip(output, zip_path)
    return DatasetResult(output, zip_path, counts)


def _write_tables(ctx: ArchiveContext, folder: Path, flt: ExportFilter,
                  excel_safe: bool) -> dict[str, int]:
    counts: dict[str, int] = {}
    with ctx.db.read_session() as session:
        for table, rows in _tables():
            for fmt in ("csv", "jsonl"):
                with (folder / f"{table.name}.{fmt}").open("w", encoding="utf-8",
                                                           newline="") as out:
                    counts[table.name] = write_rows(rows(session, flt), table.columns, fmt, out,
                                                    excel_safe=excel_safe and fmt == "csv")
    return counts


def archive_version() -> str | None:
    """The source the archive runs, as `git describe` says (None outside a checkout)."""
    try:
        done = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def _schema_revision(ctx: ArchiveContext) -> str | None:
    with ctx.db.reader.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _query(ctx: ArchiveContext, flt: ExportFilter, created: datetime,
           counts: dict[str, int], excel_safe: bool) -> dict[str, Any]:
    return {
        "created_at": iso(created),
        "filters": flt.as_dict(),
        "filter_meaning": "site/thread_id restrict every table; date_from (inclusive) and "
                          "date_to (exclusive) bound comments by first_seen_at, events by at, "
                          "captures by started_at, and statistics as DATA_DICTIONARY.md says.",
        "archive_version": archive_version(),
        "schema_revision": _schema_revision(ctx),
        "row_counts": counts,
        "csv_excel_safe": excel_safe,
    }


EXCEL_SAFE_NOTE = (
    "**The CSV files are excel-safe**: every `str` cell that began with `=`, `+`, `-`, `@`, a "
    "tab or a carriage return has had a `'` put in front of it, so that spreadsheets show it "
    "as text instead of running it as a formula. Remove that one leading `'` from such cells "
    "to get the published text back; the JSON Lines files hold it unchanged.")
VERBATIM_NOTE = (
    "Text is kept exactly as published: a CSV cell may begin with `=`, `+`, `-` or `@`, so "
    "open CSV files in a spreadsheet as text, not formulas (or build the package with "
    "`--excel-safe`).")


def data_dictionary(tables: list[Table], excel_safe: bool) -> str:
    lines = ["# Data dictionary", "",
             "Every table is given twice, as CSV (RFC 4180, UTF-8, header row) and JSON Lines "
             "(one object per line). Times are ISO 8601 UTC ending in `Z`. In CSV an empty cell "
             "means no value (null), booleans are `true`/`false` and `json` cells hold a JSON "
             "object.", "", EXCEL_SAFE_NOTE if excel_safe else VERBATIM_NOTE, ""]
    for table in tables:
        lines += [f"## {table.name}", "", table.description, "",
                  "| column | type | meaning |", "| --- | --- | --- |"]
        for column in table.columns:
            kind = column.kind + (", may be empty" if column.nullable else "")
            lines.append(f"| `{column.name}` | {kind} | {column.doc.replace('|', '/')} |")
        lines.append("")
    lines += ["## How to read the statistics", ""] + [f"- {note}" for note in NOTES] + [""]
    return "\n".join(lines)


def _selection(flt: ExportFilter) -> str:
    parts = [f"{k}={v}" for k, v in flt.as_dict().items() if v is not None]
    return ", ".join(parts) if parts else "the whole archive"


def citation(title: str, author: str, created: datetime, flt: ExportFilter) -> str:
    def quoted(value: str) -> str:
        # A JSON string is a valid YAML double-quoted scalar.
        return json.dumps(value, ensure_ascii=False)
    abstract = ("Comments, moderation events and capture records from a comment-moderation "
                f"transparency archive; selection: {_selection(flt)}.")
    return "\n".join([
        "cff-version: 1.2.0",
        "message: If you use this dataset, please cite it as below.",
        "type: dataset",
        f"title: {quoted(title)}",
        "authors:",
        f"  - name: {quoted(author)}",
        f"date-released: {created:%Y-%m-%d}",
        f"version: {quoted(created.strftime('%Y-%m-%dT%H:%M:%SZ'))}",
        f"abstract: {quoted(abstract)}",
        "keywords:",
        "  - comment moderation",
        "  - web archiving",
        "",
    ])


def readme(title: str, author: str, created: datetime, flt: ExportFilter,
           counts: dict[str, int]) -> str:
    files = "\n".join(f"- `{name}.csv` / `{name}.jsonl`: {n} rows" for name, n in counts.items())
    return f"""# {title}

Created {iso(created)} from a comment-moderation transparency archive.
Selection: {_selection(flt)} (exactly as in `query.json`).

## How to cite

{author} ({created:%Y}). *{title}* [Data set], version {created:%Y-%m-%dT%H:%M:%SZ}.
Machine-readable citation metadata is in `CITATION.cff`.

## Files

{files}
- `DATA_DICTIONARY.md`: every column of every file, and how to read the statistics.
- `query.json`: the filters, the archive's version and schema revision, row counts.
- `SHA256SUMS`: checksums of every other file; check them with `sha256sum -c SHA256SUMS`.

## Limits

Removals are detected only between captures: a comment removed before its thread was
first captured is never seen, and each removal is known only to lie between the last
capture that showed it and the first good capture without it. The raw captures behind
every row can be exported as WARC (`python -m archive export warc`) and checked with
`python -m archive verify`.
"""


def _write_checksums(folder: Path) -> None:
    lines = []
    for path in sorted(folder.iterdir()):
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        lines.append(f"{digest.hexdigest()}  {path.name}\n")
    (folder / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")


def _zip(folder: Path, zip_path: Path) -> None:
    handle, temp = tempfile.mkstemp(dir=zip_path.parent, prefix=f".{zip_path.name}.",
                                    suffix=".part")
    os.close(handle)
    try:
        with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.iterdir()):
                archive.write(path, f"{folder.name}/{path.name}")
        os.replace(temp, zip_path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
