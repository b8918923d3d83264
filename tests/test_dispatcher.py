"""The dispatcher (archive/capture/scheduler.py) with the embedded executor: real threads,
real captures, loopback HTTP.

Every job goes through `Captures`, which wraps the real `run_job` to count
the captures in progress per host and can hold one or make several meet.
The tests thus put the dispatcher in front of a busy host, or prove two
hosts overlapped, by construction: no assertion rests on how long anything
took, and the PATIENCE time-outs are only reached when a rule is broken.
"""
from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, wait
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from archive.capture import executors, pipeline
from archive.capture.executors import EmbeddedExecutor
from archive.capture.fetch.fetcher import Fetcher
from archive.capture.jobs import JobRun, run_job
from archive.capture.queue import job_host
from archive.capture.scheduler import Dispatcher
from archive.capture.watches import add_watch
from archive.clock import utcnow
from archive.context import ArchiveContext, archive_context
from archive.store.db import get_db
from archive.store.models import Capture, CaptureJob, Watch
from tests.local_server import LocalServer
from tests.wordpress_markup import C, wp_page

# Long enough never to end a wait early that working code will end.
PATIENCE = 30.0


class Captures:
    """The real `run_job`, counting captures in progress per host (the dispatcher's
    host: the URL's host name); `hold` and `meet` make captures wait for the test or each other."""

    def __init__(self) -> None:
        self.hosts: dict[int, str] = {}
        self.peak: Counter[str] = Counter()
        self.peak_total = 0
        self.failed_to_meet = 0
        self._running: Counter[str] = Counter()
        self._started = 0
        self._lock = threading.Lock()
        self._holds: dict[int, tuple[threading.Event, threading.Event]] = {}
        self._releases: list[threading.Event] = []
        self._meeting: threading.Barrier | None = None

    def __call__(self, ctx: ArchiveContext, job_id: int, fetcher: Fetcher, worker: str) -> JobRun:
        with ctx.db.read_session() as session:
            watch_id = session.get_one(CaptureJob, job_id).target_id
        host = self.hosts[watch_id]
        with self._lock:
            self._running[host] += 1
            self.peak[host] = max(self.peak[host], self._running[host])
            self.peak_total = max(self.peak_total, sum(self._running.values()))
            self._started += 1
            meets = self._meeting is not None and self._started <= self._meeting.parties
            hold = self._holds.pop(watch_id, None)
        try:
            if meets:
                self._meet()
            if hold is not None:
                started, release = hold
                started.set()
                release.wait(PATIENCE)
            return run_job(ctx, job_id, fetcher, worker)
        finally:
            with self._lock:
                self._running[host] -= 1

    def hold(self, watch_id: int) -> tuple[threading.Event, threading.Event]:
        """The next capture of `watch_id` sets the first event once it has begun, then waits for the second."""
        events = (threading.Event(), threading.Event())
        self._holds[watch_id] = events
        self._releases.append(events[1])
        return events

    def meet(self, parties: int) -> None:
        """The first `parties` captures to start wait until all of them are in progress at once."""
        self._meeting = threading.Barrier(parties, timeout=PATIENCE)

    def _meet(self) -> None:
        assert self._meeting is not None
        try:
            self._meeting.wait()
        except threading.BrokenBarrierError:
            with self._lock:
                self.failed_to_meet += 1

    def release_all(self) -> None:
        for release in self._releases:
            release.set()
        if self._meeting is not None:
            self._meeting.abort()


@pytest.fixture
def captures(monkeypatch: pytest.MonkeyPatch) -> Captures:
    recorder = Captures()
    monkeypatch.setattr(executors, "run_job", recorder)
    return recorder


@pytest.fixture
def make_dispatcher(app: Flask, captures: Captures) -> Iterator[Callable[[int], Dispatcher]]:
    made: list[Dispatcher] = []

    def make(workers: int) -> Dispatcher:
        ctx = archive_context(app)
        dispatcher = Dispatcher(ctx, EmbeddedExecutor(ctx, Fetcher.from_settings(ctx.settings), workers))
        made.append(dispatcher)
        return dispatcher

    yield make
    # A failed test may leave a capture held: let it go, or shutdown waits for it.
    captures.release_all()
    for dispatcher in made:
        dispatcher.shutdown()
        assert isinstance(dispatcher.executor, EmbeddedExecutor)
        dispatcher.executor.fetcher.close()


@pytest.fixture
def watch(app: Flask, captures: Captures) -> Callable[..., int]:
    """Serve a WordPress article on `server` (under the name `host`) and watch it; returns the watch id."""

    def add(server: LocalServer, path: str, host: str | None = None, adapter: str = "wordpress") -> int:
        url = server.url(path, host=host)
        server.route(path, wp_page([C(1, "WL", f"A comment on {path}")], base=url))
        with app.app_context(), get_db(app).write() as session:
            watch_id = add_watch(session, url, allow_private=True, adapter=adapter).id
        captures.hosts[watch_id] = job_host(url)
        return watch_id

    return add


def _finish(futures: list[Future]) -> None:
    done, pending = wait(futures, timeout=PATIENCE)
    assert not pending, "a host's captures did not finish"
    for future in done:
        future.result()


def _outcomes(app: Flask) -> dict[int | None, list[str]]:
    """Each watch's capture outcomes, oldest first."""
    found: dict[int | None, list[str]] = {}
    with get_db(app).read_session() as session:
        for watch_id, outcome in session.execute(select(Capture.watch_id, Capture.outcome).order_by(Capture.id)):
            found.setdefault(watch_id, []).append(outcome)
    return found


def _set_watch(app: Flask, watch_id: int, **values: object) -> None:
    with get_db(app).write() as session:
        row = session.get(Watch, watch_id)
        for name, value in values.items():
            setattr(row, name, value)


def test_due_watches_are_captured_once_and_the_rest_left(
        app: Flask, local_server: LocalServer, make_dispatcher: Callable[[int], Dispatcher],
        watch: Callable[..., int]) -> None:
    first = watch(local_server, "/first/")
    second = watch(local_server, "/second/", host="localhost")
    paused = watch(local_server, "/paused/")
    later = watch(local_server, "/later/")
    _set_watch(app, paused, paused=True)
    _set_watch(app, later, next_due_at=utcnow() + timedelta(hours=1))
    dispatcher = make_dispatcher(2)
    _finish(dispatcher.dispatch())
    assert _outcomes(app) == {first: ["good"], second: ["good"]}
    # Rescheduled by their captures: nothing is due any more.
    assert dispatcher.dispatch() == []


def test_one_hosts_watches_run_one_after_another(
        app: Flask, local_server: LocalServer, make_dispatcher: Callable[[int], Dispatcher],
        watch: Callable[..., int], captures: Captures) -> None:
    on_one_host = [watch(local_server, f"/article-{n}/") for n in range(3)]
    elsewhere = watch(local_server, "/elsewhere/", host="localhost")
    futures = make_dispatcher(4).dispatch()
    assert len(futures) == 2, "one task per host"
    _finish(futures)
    assert _outcomes(app) == {w: ["good"] for w in [*on_one_host, elsewhere]}
    assert captures.peak[job_host(local_server.url())] == 1


def test_a_host_being_captured_is_skipped_until_it_is_free(
        app: Flask, local_server: LocalServer, make_dispatcher: Callable[[int], Dispatcher],
        watch: Callable[..., int], captures: Captures) -> None:
    busy = watch(local_server, "/busy/")
    started, release = captures.hold(busy)
    dispatcher = make_dispatcher(2)
    first_round = dispatcher.dispatch()
    assert started.wait(PATIENCE)
    # The held watch is still due (a capture reschedules only when it ends),
    # and another host falls due meanwhile.
    other = watch(local_server, "/other/", host="localhost")
    second_round = dispatcher.dispatch()
    assert len(second_round) == 1, "the busy host is skipped, the free one is not"
    _finish(second_round)
    release.set()
    _finish(first_round)
    assert _outcomes(app) == {busy: ["good"], other: ["good"]}
    assert captures.peak[job_host(local_server.url())] == 1
    # Free again: the host's watch is dispatched as soon as it is due.
    _set_watch(app, busy, next_due_at=utcnow() - timedelta(minutes=1))
    _finish(dispatcher.dispatch())
    assert _outcomes(app)[busy] == ["good", "good"]


def test_different_hosts_run_in_parallel_up_to_the_worker_count(
        app: Flask, local_server: LocalServer, make_dispatcher: Callable[[int], Dispatcher],
        watch: Callable[..., int], captures: Captures) -> None:
    # The dispatcher tells hosts apart by name, not port: three spellings of
    # loopback are three hosts, and a second port of one of them is not a fourth.
    with LocalServer() as second:
        watches = [watch(local_server, "/article/", host=host) for host in ("127.0.0.1", "localhost", "127.1")]
        watches.append(watch(second, "/same-host/", host="localhost"))
        # Two captures can only meet if two workers run them at once.
        captures.meet(2)
        futures = make_dispatcher(2).dispatch()
        assert len(futures) == 3, "one task per host name"
        _finish(futures)
    assert captures.failed_to_meet == 0
    assert captures.peak_total == 2
    assert _outcomes(app) == {w: ["good"] for w in watches}


def test_a_failing_capture_spoils_neither_its_host_nor_later_rounds(
        app: Flask, local_server: LocalServer, make_dispatcher: Callable[[int], Dispatcher],
        watch: Callable[..., int], caplog: pytest.LogCaptureFixture) -> None:
    broken = watch(local_server, "/broken/")
    fine = watch(local_server, "/fine/")
    # An adapter name no longer known (a watch from an older version) breaks the
    # capture; it is the host's first watch, so its task goes on after it.
    _set_watch(app, broken, adapter="removed-adapter", next_due_at=utcnow() - timedelta(minutes=5))
    dispatcher = make_dispatcher(1)
    with caplog.at_level(logging.ERROR, logger=pipeline.__name__):
        _finish(dispatcher.dispatch())
    assert f"capture of watch {broken} failed" in caplog.text
    assert _outcomes(app) == {broken: ["failed"], fine: ["good"]}
    # The broken watch backs off like any failing one ...
    assert dispatcher.dispatch() == []
    # ... and its host is not left marked busy.
    _set_watch(app, broken, next_due_at=utcnow() - timedelta(minutes=5))
    again = dispatcher.dispatch()
    assert len(again) == 1
    _finish(again)
