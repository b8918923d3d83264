"""Researchers' commands: `export ...`, `stats`, `dataset`, `verify`."""
from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from archive.cli import current_context
from archive.errors import ArchiveError
from archive.research.dataset import build_dataset
from archive.research.exports import (
    CAPTURE_COLUMNS,
    COMMENT_COLUMNS,
    COMMENT_STATUSES,
    EVENT_COLUMNS,
    FORMATS,
    Column,
    ExportFilter,
    capture_rows,
    comment_rows,
    date_bounds,
    event_rows,
    write_rows,
)
from archive.research.stats_queries import GROUPINGS, build_stats, key_columns, stats_columns
from archive.research.verify import verify_archive
from archive.research.warc import export_warc
from archive.rules.stats import NOTES
from archive.store.models import Thread


@contextmanager
def output_stream(path: str | None, binary: bool = False) -> Iterator[Any]:
    """stdout, or a file that only appears, complete, when writing succeeded."""
    if path is None or path == "-":
        yield sys.stdout.buffer if binary else sys.stdout
        return
    target = Path(path)
    if not target.parent.is_dir():
        raise ArchiveError(f"no such folder: {target.parent}")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with (os.fdopen(fd, "wb") if binary
              else os.fdopen(fd, "w", encoding="utf-8", newline="")) as handle:
            yield handle
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


EXCEL_SAFE = click.option("--excel-safe", is_flag=True,
                          help="CSV for spreadsheets: prefix text cells starting with = + - @ "
                               "(or a tab or CR) with ' so they are not run as formulas.")


def _export(rows: Callable[[Session, ExportFilter], Iterator[dict[str, Any]]],
            columns: tuple[Column, ...], fmt: str, flt: ExportFilter, output: str | None,
            excel_safe: bool) -> None:
    with current_context().db.read_session() as session, output_stream(output) as out:
        count = write_rows(rows(session, flt), columns, fmt, out, excel_safe=excel_safe)
    if output and output != "-":
        click.echo(f"{count} rows written to {output}", err=True)


def filter_options(status_name: str, status_help: str,
                   choices: tuple[str, ...] | None = None) -> Callable[[Callable], Callable]:
    """The filters every export takes: status-like, site, thread, date range."""
    def decorate(func: Callable) -> Callable:
        options = [
            click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv",
                         show_default=True, help="Output format (json: one array)."),
            click.option(f"--{status_name}", "status",
                         type=click.Choice(choices) if choices else str, help=status_help),
            click.option("--site", help="Only this site (host name, e.g. www.example.com)."),
            click.option("--thread", "thread_id", type=int, help="Only this thread id."),
            click.option("--from", "date_from", help="From this date (inclusive, UTC)."),
            click.option("--to", "date_to", help="Up to this date (a bare date: its end)."),
            click.option("--output", "-o", help="File to write (default: stdout)."),
            EXCEL_SAFE,
        ]
        for option in reversed(options):
            func = option(func)
        return func
    return decorate


def make_filter(status: str | None, site: str | None, thread_id: int | None,
                date_from: str | None, date_to: str | None) -> ExportFilter:
    start, end = date_bounds(date_from, date_to)
    return ExportFilter(status=status, site=site, thread_id=thread_id, date_from=start,
                        date_to=end)


@click.group()
def export() -> None:
    """Export comments, events, captures or statistics (CSV, JSON, JSONL), or a WARC file."""


@export.command("comments")
@filter_options("status", "Only comments with this status.", COMMENT_STATUSES)
def export_comments(fmt: str, status: str | None, site: str | None, thread_id: int | None,
                    date_from: str | None, date_to: str | None, output: str | None,
                    excel_safe: bool) -> None:
    """One row per comment (dates bound first_seen_at)."""
    _export(comment_rows, COMMENT_COLUMNS, fmt,
            make_filter(status, site, thread_id, date_from, date_to), output, excel_safe)


@export.command("events")
@filter_options("kind", "Only events of this kind (e.g. removed, reinstated).")
def export_events(fmt: str, status: str | None, site: str | None, thread_id: int | None,
                  date_from: str | None, date_to: str | None, output: str | None,
                  excel_safe: bool) -> None:
    """One row per event: every transition with the capture that caused it."""
    _export(event_rows, EVENT_COLUMNS, fmt,
            make_filter(status, site, thread_id, date_from, date_to), output, excel_safe)


@export.command("captures")
@filter_options("outcome", "Only captures with this outcome.",
                ("good", "unchanged", "failed", "suspect", "gone"))
def export_captures(fmt: str, status: str | None, site: str | None, thread_id: int | None,
                    date_from: str | None, date_to: str | None, output: str | None,
                    excel_safe: bool) -> None:
    """One row per capture, with its outcome, reason, coverage and hash chain."""
    _export(capture_rows, CAPTURE_COLUMNS, fmt,
            make_filter(status, site, thread_id, date_from, date_to), output, excel_safe)


def _stats_rows(by: str, flt: ExportFilter) -> list[dict[str, Any]]:
    with current_context().db.read_session() as session:
        return build_stats(session, by, flt)


def _table(rows: list[dict[str, Any]], by: str) -> str:
    """A readable summary: the key figures only (csv/json carry every column)."""
    keys = [c.name for c in key_columns(by)]
    headers = ["/".join(keys), "seen", "removed", "rate", "95% CI", "missing", "reinst.", "edited",
               "ttr low med h", "ttr high med h"]
    if by != "author":
        headers += ["good", "failed", "suspect", "max gap h"]
    lines = [headers]
    for r in rows:
        rate = "-" if r["removal_rate"] is None else f"{r['removal_rate']:.1%}"
        ci = ("-" if r["removal_rate_low"] is None
              else f"{r['removal_rate_low']:.1%}-{r['removal_rate_high']:.1%}")
        label = " ".join(str(r[k]) for k in keys) or "(anonymous)"
        cells = [label, r["comments_seen"], r["removed"], rate, ci,
                 r["missing"], r["reinstated"], r["edited"],
                 r["time_to_removal_lower_median_hours"], r["time_to_removal_upper_median_hours"]]
        if by != "author":
            cells += [r["captures_good"], r["captures_failed"], r["captures_suspect"],
                      r["max_gap_hours"]]
        lines.append(["-" if c is None else str(c) for c in cells])
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip()
                     for line in lines)


def stats_filter_options(func: Callable) -> Callable:
    for option in reversed([
            click.option("--by", type=click.Choice(GROUPINGS), default="site", show_default=True,
                         help="One row per site, thread, month, site and month, author, or all together."),
            click.option("--site", help="Only this site (host name)."),
            click.option("--thread", "thread_id", type=int, help="Only this thread id."),
            click.option("--from", "date_from", help="From this date (inclusive, UTC)."),
            click.option("--to", "date_to", help="Up to this date (a bare date: its end)."),
    ]):
        func = option(func)
    return func


@click.command()
@stats_filter_options
@click.option("--format", "fmt", type=click.Choice(("table", *FORMATS)), default="table",
              show_default=True, help="table for reading; csv/json/jsonl carry every column.")
@click.option("--output", "-o", help="File to write (default: stdout).")
def stats(by: str, site: str | None, thread_id: int | None, date_from: str | None,
          date_to: str | None, fmt: str, output: str | None) -> None:
    """Removal statistics, one row per group, with the detection floor stated.

    removal_rate = removed / comments_seen with a 95% Wilson interval;
    time to removal is given as lower and upper bounds (the removal lies
    between the last capture that showed a comment and the first without it).
    """
    rows = _stats_rows(by, make_filter(None, site, thread_id, date_from, date_to))
    with output_stream(output) as out:
        if fmt == "table":
            out.write((_table(rows, by) if rows else "no comments or captures in this selection")
                      + "\n\n" + "\n".join(f"* {note}" for note in NOTES) + "\n")
        else:
            write_rows(iter(rows), stats_columns(by), fmt, out)
    if fmt != "table":
        # The notes go to stderr so that the data stays machine-readable.
        click.echo(NOTES[0], err=True)


@export.command("stats")
@stats_filter_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True,
              help="Output format (json: one array).")
@click.option("--output", "-o", help="File to write (default: stdout).")
@EXCEL_SAFE
def export_stats(by: str, site: str | None, thread_id: int | None, date_from: str | None,
                 date_to: str | None, fmt: str, output: str | None, excel_safe: bool) -> None:
    """Removal statistics as data, one row per group (see `stats --help`)."""
    rows = _stats_rows(by, make_filter(None, site, thread_id, date_from, date_to))
    with output_stream(output) as out:
        count = write_rows(iter(rows), stats_columns(by), fmt, out, excel_safe=excel_safe)
    if output and output != "-":
        click.echo(f"{count} rows written to {output}", err=True)


@click.command()
@click.option("--output", "-o", required=True, help="New folder to create for the package.")
@click.option("--zip", "make_zip", is_flag=True, help="Also pack the folder as FOLDER.zip.")
@click.option("--site", help="Only this site (host name).")
@click.option("--thread", "thread_id", type=int, help="Only this thread id.")
@click.option("--from", "date_from", help="From this date (inclusive, UTC).")
@click.option("--to", "date_to", help="Up to this date (a bare date: its end).")
@click.option("--title", default="Comment moderation archive dataset", show_default=True,
              help="Title to cite the package by.")
@click.option("--author", default="Comment-moderation transparency archive", show_default=True,
              help="Who to credit (person or organisation) in CITATION.cff.")
@EXCEL_SAFE
def dataset(output: str, make_zip: bool, site: str | None, thread_id: int | None,
            date_from: str | None, date_to: str | None, title: str, author: str,
            excel_safe: bool) -> None:
    """Write a dated, citable dataset package: comments, events, captures and
    statistics as CSV and JSONL, DATA_DICTIONARY.md, query.json, CITATION.cff,
    README.md and SHA256SUMS. With --excel-safe the CSV files are neutralised
    for spreadsheets (the data dictionary says so); JSONL keeps the text as is."""
    flt = make_filter(None, site, thread_id, date_from, date_to)
    result = build_dataset(current_context(), Path(output), flt, title=title, author=author,
                           make_zip=make_zip, excel_safe=excel_safe)
    counts = ", ".join(f"{n} {name}" for name, n in result.row_counts.items())
    click.echo(f"dataset written to {result.folder} ({counts})")
    if result.zip_path:
        click.echo(f"zip: {result.zip_path}")


class _Progress:
    """Progress lines on stderr, at most one every few seconds, for long runs."""

    def __init__(self, every: float = 5.0) -> None:
        self.every = every
        self.last = time.monotonic()

    def __call__(self, what: str, done: int, total: int | None = None) -> None:
        now = time.monotonic()
        if now - self.last >= self.every or done == total:
            self.last = now
            click.echo(f"{what}: {done}" + (f"/{total}" if total else ""), err=True)


@export.command("warc")
@click.option("--thread", "thread_id", type=int, help="Only this thread id.")
@click.option("--output", "-o", required=True, help="WARC file to write (.warc.gz).")
def export_warc_command(thread_id: int | None, output: str) -> None:
    """The captures as a standard gzip WARC file: request/response (or revisit)
    records with the original status, headers and bodies, and a metadata record
    per capture with its outcome, coverage and hash chain."""
    ctx = current_context()
    with ctx.db.read_session() as session:
        if thread_id is not None and session.get(Thread, thread_id) is None:
            raise ArchiveError(f"no thread with id {thread_id}")
        with output_stream(output, binary=True) as out:
            progress = _Progress()
            summary = export_warc(session, ctx.evidence, out, thread_id,
                                  progress=lambda n: progress("captures written", n))
    resources = f", {summary.resources} browser DOMs and screenshots" if summary.resources else ""
    click.echo(f"{summary.captures} captures, {summary.responses} responses, "
               f"{summary.revisits} revisits{resources} written to {output}", err=True)
    if summary.unreadable_bodies:
        raise ArchiveError(f"{summary.unreadable_bodies} bodies could not be read and are "
                           "missing from the WARC (run `verify`)")


@click.command()
def verify() -> None:
    """Check every stored blob against its SHA-256 and every thread's capture
    hash chain; prints each mismatch on its own line and exits 1 on any.
    Kept copies that captures found damaged are listed too, repaired or not."""
    ctx = current_context()
    with ctx.db.read_session() as session:
        report = verify_archive(session, ctx.evidence,
                                on_problem=lambda line: click.echo(f"MISMATCH {line}"),
                                progress=_Progress())
    for line in report.notes:
        click.echo(line)
    click.echo(f"{report.blobs} blobs and {report.captures} captures checked: "
               f"{len(report.problems) or 'no'} mismatches")
    if not report.ok:
        raise click.exceptions.Exit(1)


COMMANDS = [export, stats, dataset, verify]
