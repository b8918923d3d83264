"""A backfill run: list a thread's archived snapshots, then judge them one by one in time order.

Whoever asks (the `backfill` command, or an operator's "Backfill" on the
watch page, queued for the dispatcher), the work is a `BackfillRun` row. A
run asked for again with the same source and dates resumes after its cursor;
a run stopped by a 429, an interruption or a dead process loses nothing but
the snapshot it was reading. A new run of a thread goes on from the thread's
backfilled history: snapshots older than its last one are skipped (the chain
only moves forward in time).
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.backfill.cdx import plan_snapshots, same_page
from archive.backfill.chain import ChainState, load_chain
from archive.backfill.queue import claim
from archive.backfill.replay import Bodies, backfill_snapshot
from archive.backfill.sources import ArchiveBusy, CdxSource, SnapshotSource, SourceError, WarcSource
from archive.capture.fetch.fetcher import Fetcher
from archive.clock import utcnow
from archive.context import ArchiveContext
from archive.search import index_comments
from archive.settings import Settings
from archive.store.models import BackfillRun

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class RunReport:
    run_id: int
    state: str = "running"
    message: str = ""
    listed: int = 0
    judged: int = 0
    skipped_older: int = 0
    outcomes: Counter = field(default_factory=Counter)
    events: Counter = field(default_factory=Counter)

    def line(self) -> str:
        outcomes = ", ".join(f"{n} {k}" for k, n in sorted(self.outcomes.items())) or "none"
        events = ", ".join(f"{n} {k}" for k, n in sorted(self.events.items())) or "no changes"
        older = f"; {self.skipped_older} older than the backfilled history skipped" if self.skipped_older else ""
        end = f": {self.message}" if self.message else ""
        return (f"backfill run {self.run_id} {self.state}: {self.judged} of {self.listed} snapshots judged "
                f"({outcomes}); {events}{older}{end}")


def open_source(settings: Settings, kind: str, source: str) -> SnapshotSource:
    """The snapshots of a CDX server (paced at ARCHIVE_BACKFILL_RATE) or of local WARC files."""
    if kind == "warc":
        return WarcSource(Path(source), settings.max_response_bytes)
    fetcher = Fetcher(user_agent=settings.user_agent, min_host_delay=60.0 / settings.backfill_rate,
                      timeout=settings.fetch_timeout, max_bytes=settings.max_response_bytes,
                      retries=settings.fetch_retries, allow_private=settings.allow_private_addresses)
    return CdxSource(fetcher, source)


def run_backfill(ctx: ArchiveContext, run_id: int, progress: Progress = lambda _line: None,
                 source: SnapshotSource | None = None) -> RunReport:
    """Run (or resume) one claimed backfill run to its end, or until the archive asks us to stop."""
    report = RunReport(run_id)
    changed: set[int] = set()
    try:
        _run(ctx, run_id, progress, source, report, changed)
        report.state = "done"
    except ArchiveBusy as exc:
        report.state, report.message = "stopped", str(exc)
    except KeyboardInterrupt:
        report.state, report.message = "stopped", "interrupted; run it again to resume"
        raise
    except (SourceError, ValueError) as exc:
        report.state, report.message = "failed", str(exc)
    except Exception as exc:
        log.exception("backfill run %s", run_id)
        report.state, report.message = "failed", f"stopped on an error: {type(exc).__name__}: {exc}"
    finally:
        _finish(ctx, report, changed)
    return report


def _run(ctx: ArchiveContext, run_id: int, progress: Progress, source: SnapshotSource | None,
         report: RunReport, changed: set[int]) -> None:
    with ctx.db.read_session() as session:
        run = session.get_one(BackfillRun, run_id)
        url, kind, where = run.thread.url, run.source_kind, run.source
        date_from, date_to, cursor = run.date_from, run.date_to, run.cursor
        chain = load_chain(run.chain_state if run.chain_state else _latest_chain(session, run))
    source = source or open_source(ctx.settings, kind, where)
    progress(f"listing the snapshots of {url} in {source.name}")
    listed = source.snapshots(url, date_from, date_to, progress)
    rows = [row for row in listed if same_page(row.url, url)]
    if len(rows) < len(listed):
        progress(f"{len(listed) - len(rows)} listed snapshots are of another address: not read")
    planned = plan_snapshots(rows, after=cursor)
    if cursor is None and chain.last_at is not None:
        fresh = [p for p in planned if p.row.at > chain.last_at]
        report.skipped_older = len(planned) - len(fresh)
        planned = fresh
    report.listed = len(planned)
    with ctx.db.write() as session:
        session.get_one(BackfillRun, run_id).snapshots_listed = len(rows)
    progress(f"{len(rows)} snapshots listed, {len(planned)} to judge"
             + (f" (resuming after {cursor.split('|')[0]})" if cursor else ""))
    bodies: Bodies = {}
    state: ChainState = chain
    for number, item in enumerate(planned, 1):
        summary, state = backfill_snapshot(ctx, run_id, source, item, state, bodies)
        report.judged += 1
        report.outcomes[summary.outcome] += 1
        report.events.update(summary.events)
        changed |= summary.changed
        progress(f"[{number}/{len(planned)}] {summary.line()}")


def _latest_chain(session: Session, run: BackfillRun) -> dict[str, Any] | None:
    """The thread's backfill chain as its newest run with a state left it."""
    return session.scalar(select(BackfillRun.chain_state).where(
        BackfillRun.thread_id == run.thread_id, BackfillRun.chain_state.is_not(None))
        .order_by(BackfillRun.heartbeat_at.desc(), BackfillRun.id.desc()).limit(1))


def _finish(ctx: ArchiveContext, report: RunReport, changed: set[int]) -> None:
    with ctx.db.write() as session:
        run = session.get_one(BackfillRun, report.run_id)
        run.state, run.message = report.state, report.message[:2000]
        run.finished_at = run.heartbeat_at = utcnow()
    if changed:
        with ctx.db.read_session() as session:
            index_comments(ctx, session, changed)


def _logger(run_id: int) -> Progress:
    return lambda line: log.info("backfill run %s: %s", run_id, line)


def run_queued_backfills(ctx: ArchiveContext) -> list[RunReport]:
    """The dispatcher's part: run every queued backfill, oldest first, one after another."""
    reports: list[RunReport] = []
    while True:
        with ctx.db.read_session() as session:
            run_id = session.scalar(select(BackfillRun.id).where(BackfillRun.state == "queued")
                                    .order_by(BackfillRun.id).limit(1))
        if run_id is None or not claim(ctx, run_id):
            return reports
        report = run_backfill(ctx, run_id, _logger(run_id))
        log.info("%s", report.line())
        reports.append(report)
