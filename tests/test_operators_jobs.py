"""The health page's job queue: queued, running and failed jobs (paged, newest first),
the worker holding each, every worker with when it was last heard from, lost ones flagged."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import update

from archive.capture.feeds import add_feed
from archive.capture.watches import add_watch
from archive.capture.workers import heard_from
from archive.clock import utcnow
from archive.store.db import get_db
from archive.store.models import CaptureJob
from archive.store.models import Worker as WorkerRow
from tests.operator_support import logged_in

ALIVE, DEAD = "celery@alive:10", "celery@<script>dead</script>:11"


@pytest.fixture
def ops(app):
    return logged_in(app)


def _page(ops, query: str = "") -> str:
    response = ops.get(f"/ops/health{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _job(session, kind: str, target: int, state: str, minutes_ago: int, **values: object) -> None:
    session.add(CaptureJob(kind=kind, target_id=target, reason="schedule", state=state,
                           queued_at=utcnow() - timedelta(minutes=minutes_ago), attempts=1, **values))


def test_empty_queue_and_no_workers_say_so(ops) -> None:
    page = _page(ops)
    assert "No job is queued, running or failed." in page
    assert "No worker has reported yet" in page


def test_jobs_show_their_target_worker_and_a_dead_worker(app: Flask, ops) -> None:
    with get_db(app).write() as session:
        running = add_watch(session, "http://127.0.0.1:9/running/", allow_private=True).id
        orphan = add_watch(session, "http://127.0.0.1:9/orphan/", allow_private=True).id
        finished = add_watch(session, "http://127.0.0.1:9/finished/", allow_private=True).id
        feed = add_feed(session, "http://127.0.0.1:9/feed", allow_private=True, every=timedelta(hours=1),
                        watch_for=timedelta(days=1)).id
        heard_from(session, ALIVE)
        heard_from(session, DEAD)
        session.execute(update(WorkerRow).where(WorkerRow.name == DEAD)
                        .values(last_heard_at=utcnow() - timedelta(hours=1)))
        _job(session, "capture", running, "running", 3, worker=ALIVE, started_at=utcnow())
        _job(session, "capture", orphan, "running", 2, worker=DEAD, started_at=utcnow())
        _job(session, "poll", feed, "failed", 1, worker=ALIVE, error="its watch or feed was removed")
        _job(session, "capture", finished, "done", 4, worker=ALIVE)
        _job(session, "capture", 999, "queued", 0)
    page = _page(ops)
    rows = re.findall(r'<tr class="job job-(\w+)( failing)?"><td>(\d+)</td>', page)
    # Newest first; the finished job is history, not the queue.
    assert [(state, bool(failing), int(job_id)) for state, failing, job_id in rows] == [
        ("queued", False, 5), ("failed", True, 3), ("running", True, 2), ("running", False, 1)]
    assert page.count("worker lost") == 2, "the explanation, and the orphaned job's flag"
    assert f'href="/ops/watches/{running}/edit"' in page and f'href="/ops/feeds/{feed}"' in page
    assert "watch 999 (removed)" in page
    assert "<script>dead" not in page and "&lt;script&gt;dead" in page
    workers = page.split('id="workers"')[1]
    assert re.search(r"celery@alive:10</code> <span class=\"badge worker-alive\">alive", workers)
    assert re.search(r"dead&lt;/script&gt;:11</code> <span class=\"badge worker-lost\">lost", workers)
    only_failed = _page(ops, "?jobs=failed")
    assert re.findall(r'<tr class="job job-(\w+)', only_failed) == ["failed"]


def test_the_queue_is_paged_newest_first(app: Flask, ops) -> None:
    with get_db(app).write() as session:
        for n in range(60):
            _job(session, "capture", n + 1, "queued", 60 - n)
    first, second = _page(ops), _page(ops, "?page=2")
    ids = [int(i) for i in re.findall(r'<tr class="job job-queued"><td>(\d+)</td>', first)]
    assert ids == list(range(60, 10, -1))
    assert [int(i) for i in re.findall(r'<tr class="job job-queued"><td>(\d+)</td>', second)] == list(range(10, 0, -1))
    assert "page 1 of 2" in first and "page=2#jobs" in first
    assert "page=1#jobs" in second
