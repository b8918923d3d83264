"""What is asked of the backfill: runs requested (by the command line or an
operator), and the claim that lets one process run a run at a time.

No fetching here: the web side queues runs through this module alone.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from archive.capture.watches import thread_for
from archive.clock import utcnow
from archive.context import ArchiveContext
from archive.errors import ArchiveError
from archive.store.models import BackfillRun

# A 'running' run silent for this long was left by a process that died: it may be taken over.
STALE_RUN = timedelta(minutes=10)
UNFINISHED = ("queued", "running", "stopped", "failed")


def request_backfill(session: Session, url: str, *, kind: str, source: str,
                     date_from: datetime | None, date_to: datetime | None, requested_by: str) -> BackfillRun:
    """The thread's unfinished run with this source and these dates (to resume), or a new queued one."""
    if kind not in ("cdx", "warc"):
        raise ArchiveError(f"unknown backfill source kind {kind!r}")
    if date_from and date_to and date_from > date_to:
        raise ArchiveError("--from is after --to")
    thread = thread_for(session, url)
    run = session.scalar(select(BackfillRun).where(
        BackfillRun.thread_id == thread.id, BackfillRun.source_kind == kind, BackfillRun.source == source,
        _same(BackfillRun.date_from, date_from), _same(BackfillRun.date_to, date_to),
        BackfillRun.state.in_(UNFINISHED)).order_by(BackfillRun.id.desc()).limit(1))
    if run is None:
        run = BackfillRun(thread=thread, source_kind=kind, source=source[:2000], date_from=date_from,
                          date_to=date_to, state="queued", requested_by=requested_by[:128],
                          snapshots_listed=0, snapshots_done=0, message="")
        session.add(run)
        session.flush()
    return run


def _same(column: InstrumentedAttribute[datetime | None], value: datetime | None) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def claim(ctx: ArchiveContext, run_id: int) -> bool:
    """Mark the run running unless a live process is running it."""
    now = utcnow()
    with ctx.db.write() as session:
        taken = session.execute(update(BackfillRun).where(
            BackfillRun.id == run_id,
            or_(BackfillRun.state.in_(("queued", "stopped", "failed")),
                (BackfillRun.state == "running") & (BackfillRun.heartbeat_at < now - STALE_RUN)))
            .values(state="running", started_at=now, heartbeat_at=now, message=""))
        return bool(taken.rowcount)  # type: ignore[attr-defined]
