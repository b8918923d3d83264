"""Capture jobs as rows (archive/capture/queue.py, jobs.py, scheduler.py), in one process, both databases.

Operators' bursts, racing dispatchers, dead workers and re-run jobs: each
makes one job and one capture, the chain stays linear and `verify` clean.
Real threads, real loopback HTTP, real web requests through the test client.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from archive.capture.executors import EmbeddedExecutor
from archive.capture.fetch.fetcher import Fetcher
from archive.capture.jobs import run_job
from archive.capture.pipeline import CaptureSummary
from archive.capture.queue import ensure_job, take_over_lost
from archive.capture.scheduler import Dispatcher, DispatcherLock
from archive.capture.watches import add_watch
from archive.capture.workers import heard_from, worker_name
from archive.clock import utcnow
from archive.context import ArchiveContext, archive_context
from archive.research.verify import verify_archive
from archive.store.db import get_db
from archive.store.models import Capture, CaptureJob, Thread, Watch
from archive.store.models import Worker as WorkerRow
from tests.context_support import with_settings
from tests.local_server import LocalServer
from tests.operator_support import csrf_token, logged_in
from tests.wordpress_markup import C, wp_page

BURST = 20
PATIENCE = 30.0
DEAD = "celery@elsewhere:1"


def _watched(app: Flask, server: LocalServer) -> int:
    url = server.url("/article/")
    server.route("/article/", wp_page([C(1, "WL", "A comment")], base=url))
    with_settings(app, fetch_retries=0)
    with get_db(app).write() as session:
        watch_id = add_watch(session, url, allow_private=True, adapter="wordpress").id
        # Not due by schedule: only the operators' requests make jobs here.
        session.get_one(Watch, watch_id).next_due_at = utcnow() + timedelta(hours=1)
    return watch_id


def _jobs(app: Flask) -> list[tuple[str, int, int | None]]:
    with get_db(app).read_session() as session:
        return [(j.state, j.attempts, j.capture_id)
                for j in session.scalars(select(CaptureJob).order_by(CaptureJob.id))]


def _captures(app: Flask) -> list[tuple[int, int | None, str | None, str | None]]:
    with get_db(app).read_session() as session:
        return [(c.seq, c.job_id, c.prev_hash, c.record_hash)
                for c in session.scalars(select(Capture).order_by(Capture.id))]


def _clean(app: Flask) -> None:
    ctx = archive_context(app)
    with get_db(app).read_session() as session:
        report = verify_archive(session, ctx.evidence)
        assert report.ok, report.problems
        assert session.scalars(select(Thread.job_token)).all() == [None], "no claim is left behind"


def test_twenty_simultaneous_capture_now_make_one_capture_per_burst(app: Flask, local_server: LocalServer) -> None:
    """Twenty operators press "Capture now" at once while two dispatchers (as if the
    dispatcher lock had failed) tick at the same moment: one job, one capture, per burst."""
    ctx = archive_context(app)
    watch_id = _watched(app, local_server)
    ops = logged_in(app)
    token = csrf_token(ops, "/ops/watches")  # kept in the session: read the cookie after it
    cookie = ops.get_cookie("session")
    assert cookie is not None
    clients = []
    for _ in range(BURST):
        client = app.test_client()
        client.set_cookie("session", cookie.value)
        clients.append(client)
    fetchers = [Fetcher.from_settings(ctx.settings) for _ in range(2)]
    dispatchers = [Dispatcher(ctx, EmbeddedExecutor(ctx, fetcher, 2)) for fetcher in fetchers]
    try:
        with ThreadPoolExecutor(max_workers=BURST + 2) as pool:
            for _ in range(3):
                presses = [pool.submit(c.post, f"/ops/watches/{watch_id}/capture", data={"csrf_token": token})
                           for c in clients]
                assert [p.result(PATIENCE).status_code for p in presses] == [302] * BURST
                ticks = [pool.submit(d.dispatch) for d in dispatchers]
                _, pending = wait([f for tick in ticks for f in tick.result(PATIENCE)], timeout=PATIENCE)
                assert not pending
    finally:
        for dispatcher, fetcher in zip(dispatchers, fetchers, strict=True):
            dispatcher.shutdown()
            fetcher.close()
    jobs = _jobs(app)
    assert [(state, attempts) for state, attempts, _ in jobs] == [("done", 1)] * 3
    chain = _captures(app)
    assert [seq for seq, *_ in chain] == [1, 2, 3]
    with get_db(app).read_session() as session:
        made = session.execute(select(CaptureJob.id, CaptureJob.capture_id).order_by(CaptureJob.id)).all()
        stored = session.execute(select(Capture.job_id, Capture.id).order_by(Capture.id)).all()
    assert [tuple(row) for row in made] == [tuple(row) for row in stored], "each job names its one capture"
    assert [prev for _, _, prev, _ in chain] == [None, chain[0][3], chain[1][3]]
    _clean(app)


def test_a_job_of_a_lost_worker_is_queued_again_and_makes_one_capture(app: Flask, local_server: LocalServer) -> None:
    ctx = archive_context(app)
    watch_id = _watched(app, local_server)
    job_id = _running_on_dead_worker(ctx, watch_id)
    assert run_job(ctx, job_id, Fetcher.from_settings(ctx.settings), worker_name("embedded")).result is None, \
        "a worker heard from a moment ago still holds it"
    _silence(ctx, DEAD)
    assert take_over_lost(ctx) == 1
    assert _jobs(app) == [("queued", 1, None)]
    with Fetcher.from_settings(ctx.settings) as fetcher:
        run = run_job(ctx, job_id, fetcher, worker_name("embedded"))
        assert run.result is not None and run.result.outcome == "good"
        # Handed out once more (a broker redelivering it): nothing happens.
        again = run_job(ctx, job_id, fetcher, worker_name("embedded"))
    assert again.state == "done" and again.result is None
    assert _jobs(app) == [("done", 2, 1)]
    assert [job for _, job, *_ in _captures(app)] == [job_id]
    _clean(app)


def test_a_job_whose_capture_was_stored_is_done_without_capturing_again(
        app: Flask, local_server: LocalServer) -> None:
    """The worker died after storing the capture, before marking its job done."""
    ctx = archive_context(app)
    watch_id = _watched(app, local_server)
    job_id = _running_on_dead_worker(ctx, watch_id)
    with get_db(app).write() as session:
        thread_id = session.get_one(Watch, watch_id).thread_id
        session.add(Capture(thread_id=thread_id, watch_id=watch_id, outcome="good", job_id=job_id,
                            started_at=utcnow()))
    _silence(ctx, DEAD)
    with Fetcher.from_settings(ctx.settings) as fetcher:
        run = run_job(ctx, job_id, fetcher, worker_name("celery"))
    assert run.state == "done" and isinstance(run.result, CaptureSummary) and run.result.capture_id == 1
    assert local_server.count("/article/") == 0, "nothing was fetched again"
    assert _jobs(app) == [("done", 2, 1)]
    with get_db(app).read_session() as session:
        assert session.scalar(select(func.count()).select_from(Capture)) == 1
        assert session.scalars(select(Thread.job_token)).all() == [None]


def test_one_target_has_one_queued_or_running_job(app: Flask) -> None:
    ctx = archive_context(app)
    with get_db(app).write() as session:
        watch_id = add_watch(session, "http://127.0.0.1:9/a/", allow_private=True).id
    first = ensure_job(ctx, "capture", watch_id, "operator")
    assert ensure_job(ctx, "capture", watch_id, "schedule") == first
    assert ensure_job(ctx, "poll", watch_id, "schedule") != first, "a feed of the same id is another target"
    with get_db(app).write() as session:
        session.execute(update(CaptureJob).where(CaptureJob.id == first).values(state="done"))
    assert ensure_job(ctx, "capture", watch_id, "schedule") != first, "a finished job does not block the next"


def test_one_dispatcher_per_postgresql_archive_whatever_its_data_folder(app: Flask, tmp_path: Path) -> None:
    ctx = archive_context(app)
    if ctx.db.is_sqlite:
        pytest.skip("on SQLite the data folder's lock is the dispatcher lock (tests/test_scheduler_lock.py)")
    # A second machine: the same database, another data folder.
    elsewhere = with_settings(app, data_dir=tmp_path / "other-machine")
    elsewhere.settings.data_dir.mkdir()
    first, second = DispatcherLock(ctx), DispatcherLock(elsewhere)
    assert first.acquire()
    try:
        assert not second.acquire(), "the advisory lock holds across data folders"
        assert first.held()
    finally:
        first.release()
    assert second.acquire(), "free once its holder let go"
    second.release()


def _running_on_dead_worker(ctx: ArchiveContext, watch_id: int) -> int:
    """A job a worker elsewhere took, with the thread claim it left."""
    job_id = ensure_job(ctx, "capture", watch_id, "schedule")
    with ctx.db.write() as session:
        heard_from(session, DEAD, current_job_id=job_id)
        session.execute(update(CaptureJob).where(CaptureJob.id == job_id)
                        .values(state="running", worker=DEAD, started_at=utcnow(), attempts=1))
        thread_id = session.get_one(Watch, watch_id).thread_id
        session.execute(update(Thread).where(Thread.id == thread_id)
                        .values(job_token=f"job-{job_id}", job_started_at=utcnow()))
    return job_id


def _silence(ctx: ArchiveContext, name: str) -> None:
    with ctx.db.write() as session:
        session.execute(update(WorkerRow).where(WorkerRow.name == name)
                        .values(last_heard_at=utcnow() - timedelta(hours=1)))


def test_a_worker_without_a_broker_says_so_in_one_line(runner) -> None:
    result = runner.invoke("worker")
    assert result.exit_code == 1
    assert result.output.startswith("error: no broker: set ARCHIVE_BROKER_URL") and result.output.count("\n") == 1


def test_the_command_line_reports_itself_while_it_captures_and_leaves_no_worker_behind(
        app: Flask, runner, local_server: LocalServer) -> None:
    watch_id = _watched(app, local_server)
    result = runner.invoke("capture", local_server.url("/article/"))
    assert result.exit_code == 0, result.output
    with get_db(app).read_session() as session:
        job = session.scalars(select(CaptureJob)).one()
        assert (job.kind, job.target_id, job.reason, job.state) == ("capture", watch_id, "command line", "done")
        assert job.worker == worker_name("embedded")
        assert session.scalars(select(WorkerRow.name)).all() == [], "a stopped worker is not shown as lost"


def test_a_scheduled_job_of_a_watch_paused_meanwhile_captures_nothing(app: Flask, local_server: LocalServer) -> None:
    ctx = archive_context(app)
    watch_id = _watched(app, local_server)
    job_id = ensure_job(ctx, "capture", watch_id, "schedule")
    with get_db(app).write() as session:
        session.get_one(Watch, watch_id).paused = True
    with Fetcher.from_settings(ctx.settings) as fetcher:
        run = run_job(ctx, job_id, fetcher, worker_name("embedded"))
    assert run.state == "skipped" and run.result is not None and "paused" in run.result.line()
    assert local_server.count("/article/") == 0 and _captures(app) == []
