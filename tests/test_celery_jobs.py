"""Capture jobs through Celery on real brokers (Redis and RabbitMQ), real worker
processes (`python -m archive worker`) and PostgreSQL, and the one-dispatcher rule
between real `scheduler` processes.

Two workers (one job at a time each) are started once per broker and killed
at the end. Nothing here asserts a timing: waits end as soon as the database
shows the expected state, and time out only when a rule is broken.
"""
from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.capture.celery_worker import celery_app, send_job
from archive.capture.queue import ensure_job
from archive.capture.watches import add_watch
from archive.clock import utcnow
from archive.research.verify import verify_archive
from archive.store.models import Capture, CaptureJob, Thread, Watch
from tests.fleet_support import Fleet, broker_url
from tests.local_server import LocalServer
from tests.wordpress_markup import C, wp_page

# Long enough never to end a wait early that working code will end: a dead
# worker is taken over after its redelivery (Redis: 8 s visibility timeout)
# and four missed heartbeats.
PATIENCE = 60.0
WORKERS = 2


@pytest.fixture(scope="module", params=["redis", "amqp"])
def fleet(request: pytest.FixtureRequest, postgres_url: str | None,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    if postgres_url is None:
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432 (set ARCHIVE_TEST_POSTGRES_URL)")
    fleet = Fleet(tmp_path_factory.mktemp(f"fleet-{request.param}"), postgres_url, broker_url(request.param))
    try:
        yield fleet
    finally:
        fleet.close()


@pytest.fixture
def workers(fleet: Fleet) -> Fleet:
    """The fleet emptied, with WORKERS live workers, one job at a time each."""
    fleet.empty()
    while len(fleet.alive("worker")) < WORKERS:
        fleet.start("worker", "--concurrency", "1", ready="ready.")
    return fleet


def _watch(fleet: Fleet, server: LocalServer) -> int:
    url = server.url("/article/")
    server.route("/article/", wp_page([C(1, "WL", "A comment")], base=url))
    with fleet.ctx.db.write() as session:
        return add_watch(session, url, allow_private=True, adapter="wordpress").id


def _job(fleet: Fleet, job_id: int) -> CaptureJob:
    with fleet.ctx.db.read_session() as session:
        return session.get_one(CaptureJob, job_id)


def _one_clean_capture(fleet: Fleet, job_id: int) -> None:
    with fleet.ctx.db.read_session() as session:
        assert session.scalars(select(Capture.job_id)).all() == [job_id], "one capture, made by the job"
        assert session.scalars(select(Thread.job_token)).all() == [None], "no claim left behind"
        report = verify_archive(session, fleet.ctx.evidence)
    assert report.ok, report.problems


def test_two_workers_given_the_same_job_make_one_capture(workers: Fleet, local_server: LocalServer) -> None:
    watch_id = _watch(workers, local_server)
    # Slow enough that the second message usually arrives while the first is capturing.
    local_server.route("/article/", wp_page([C(1, "WL", "A comment")], base=local_server.url("/article/")),
                       delay=1.0)
    job_id = ensure_job(workers.ctx, "capture", watch_id, "operator")
    app = celery_app(workers.ctx.settings)
    try:
        for _ in range(2):
            send_job(app, workers.ctx.settings, job_id)
    finally:
        app.close()
    # The duplicate ends either at once (the job done) or after looking again
    # while the other worker still held it: both say so in the log.
    workers.wait_for(lambda: f"job {job_id} is already done" in workers.output(), PATIENCE,
                     "the second message to be handled")
    job = _job(workers, job_id)
    assert (job.state, job.outcome, job.attempts) == ("done", "good", 1)
    assert local_server.count("/article/") == 1, "the thread was fetched once"
    _one_clean_capture(workers, job_id)


def test_a_worker_killed_mid_capture_its_job_runs_again_once(workers: Fleet, local_server: LocalServer) -> None:
    watch_id = _watch(workers, local_server)
    # The first fetch of the article hangs until its worker is killed; later ones answer.
    local_server.push("/article/", "never sent", delay=PATIENCE * 2)
    job_id = ensure_job(workers.ctx, "capture", watch_id, "operator")
    app = celery_app(workers.ctx.settings)
    try:
        send_job(app, workers.ctx.settings, job_id)
    finally:
        app.close()
    workers.wait_for(lambda: local_server.count("/article/") == 1, PATIENCE, "the capture to be fetching")
    first = _job(workers, job_id)
    assert first.state == "running" and first.worker is not None
    pid = int(first.worker.rsplit(":", 1)[1])
    assert pid in [p.pid for p in workers.alive("worker")]
    os.kill(pid, signal.SIGKILL)
    workers.wait_for(lambda: _job(workers, job_id).state == "done", PATIENCE, "the job to run again")
    job = _job(workers, job_id)
    assert (job.outcome, job.attempts) == ("good", 2)
    assert job.worker != first.worker, "another worker finished it"
    _one_clean_capture(workers, job_id)


def test_the_dispatcher_hands_due_watches_and_requests_to_the_workers(
        workers: Fleet, local_server: LocalServer) -> None:
    watch_id = _watch(workers, local_server)
    dispatcher = workers.start("scheduler", ready="dispatching every")
    try:
        workers.wait_for(lambda: _captures(workers) == 1, PATIENCE, "the due watch's capture")
        # "Capture now" while it is not due.
        with workers.ctx.db.write() as session:
            session.get_one(Watch, watch_id).capture_requested_at = utcnow()
        workers.wait_for(lambda: _captures(workers) == 2, PATIENCE, "the requested capture")
    finally:
        dispatcher.send_signal(signal.SIGTERM)
        dispatcher.wait(timeout=PATIENCE)
    with workers.ctx.db.read_session() as session:
        jobs = session.scalars(select(CaptureJob).order_by(CaptureJob.id)).all()
        assert [(j.reason, j.state, j.outcome) for j in jobs] == [("schedule", "done", "good"),
                                                                  ("operator", "done", "good")]
        assert all((j.worker or "").startswith("celery@") for j in jobs), "run by the workers, not the dispatcher"
        assert session.get_one(Watch, watch_id).capture_requested_at is None


def test_a_second_scheduler_does_not_dispatch_until_the_first_stops(
        postgres_url: str | None, tmp_path: Path, local_server: LocalServer) -> None:
    """Two `scheduler` processes on one PostgreSQL archive, each with its own data
    folder (two machines): one dispatches, the other stands by, then takes over."""
    if postgres_url is None:
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432 (set ARCHIVE_TEST_POSTGRES_URL)")
    machines = [Fleet(tmp_path / name, postgres_url, None) for name in ("one", "two")]
    for machine in machines:
        machine.data_dir.mkdir(exist_ok=True)
    one, two = machines
    try:
        one.empty()
        watch_id = _watch(one, local_server)
        first = one.start("scheduler", ready="dispatching every")
        second = two.start("scheduler", ready="standing by")
        one.wait_for(lambda: _captures(one) == 1, PATIENCE, "the first dispatcher's capture")
        with one.ctx.db.read_session() as session:
            workers = session.scalars(select(CaptureJob.worker)).all()
        assert workers == [f"embedded@{socket.gethostname()}:{first.pid}"], "only the first one ran jobs"
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=PATIENCE)
        two.wait_for(lambda: "dispatching every" in two.output(second), PATIENCE, "the second to take over")
        with one.ctx.db.write() as session:
            session.get_one(Watch, watch_id).next_due_at = utcnow() - timedelta(minutes=1)
        one.wait_for(lambda: _captures(one) == 2, PATIENCE, "the second dispatcher's capture")
        assert "dispatcher stopped" in one.output(first)
    finally:
        for machine in machines:
            machine.close()


def _captures(fleet: Fleet) -> int:
    with fleet.ctx.db.read_session() as session:
        return session.scalar(select(func.count()).select_from(Capture)) or 0

