"""Read queries behind the health page's job queue: queued, running and failed jobs, and the workers.

A running job whose worker has not been heard from for four heartbeats
(archive/capture/queue.py) is shown as "worker lost": the dispatcher queues
it again at its next round.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.store.models import CaptureJob, Feed, Thread, Watch
from archive.store.models import Worker as WorkerRow
from archive.web.paging import clamp, page_count

SHOWN_STATES = ("queued", "running", "failed")
PER_PAGE = 50
MAX_WORKERS = 200


@dataclass
class JobLine:
    job: CaptureJob
    url: str | None          # the watched thread or the feed; None once removed
    worker_lost: bool


@dataclass
class WorkerLine:
    worker: WorkerRow
    lost: bool


@dataclass
class JobQueue:
    jobs: list[JobLine]
    counts: dict[str, int]
    total: int
    page: int
    pages: int
    workers: list[WorkerLine]


def job_queue(session: Session, now: datetime, lost_after: timedelta, page: int = 1, state: str = "") -> JobQueue:
    """The jobs in `SHOWN_STATES` (or one of them), newest first, a page of them; every worker."""
    cutoff = now - lost_after
    states = (state,) if state in SHOWN_STATES else SHOWN_STATES
    counts: dict[str, int] = {s: 0 for s in SHOWN_STATES} | dict(session.execute(
        select(CaptureJob.state, func.count()).where(CaptureJob.state.in_(SHOWN_STATES))
        .group_by(CaptureJob.state)).all())
    total = sum(counts[s] for s in states)
    pages = page_count(total, PER_PAGE)
    page = clamp(page, pages)
    jobs = list(session.scalars(select(CaptureJob).where(CaptureJob.state.in_(states))
                                .order_by(CaptureJob.queued_at.desc(), CaptureJob.id.desc())
                                .offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
    heard = dict(session.execute(select(WorkerRow.name, WorkerRow.last_heard_at).where(
        WorkerRow.name.in_({j.worker for j in jobs if j.worker}))).all())
    urls = _target_urls(session, jobs)
    lines = [JobLine(j, urls.get((j.kind, j.target_id)),
                     j.state == "running" and (heard.get(j.worker or "") or datetime.min) < cutoff) for j in jobs]
    workers = session.scalars(select(WorkerRow).order_by(WorkerRow.last_heard_at.desc()).limit(MAX_WORKERS)).all()
    return JobQueue(lines, counts, total, page, pages,
                    [WorkerLine(w, w.last_heard_at < cutoff) for w in workers])


def _target_urls(session: Session, jobs: list[CaptureJob]) -> dict[tuple[str, int], str]:
    watch_ids = {j.target_id for j in jobs if j.kind == "capture"}
    feed_ids = {j.target_id for j in jobs if j.kind == "poll"}
    found = {("capture", watch_id): url for watch_id, url in session.execute(
        select(Watch.id, Thread.url).join(Thread, Thread.id == Watch.thread_id).where(Watch.id.in_(watch_ids)))}
    found.update({("poll", feed_id): url for feed_id, url in session.execute(
        select(Feed.id, Feed.url).where(Feed.id.in_(feed_ids)))})
    return found
