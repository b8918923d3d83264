"""The host gate (archive/capture/fetch/politeness.py): politeness shared by the whole fleet.

Fetchers in separate processes, each with its own connections, fetch from one
loopback host through one shared gate (Redis, SQLite, PostgreSQL); the
server's own record of when each request arrived is the evidence. Redis keys
carry a prefix of this test session's own.
"""
from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from sqlalchemy import delete, select

from archive.capture.fetch.fetcher import HOST_WAIT_CAP, MAX_LATE_TURNS, Fetcher
from archive.capture.fetch.politeness import (
    LATENESS_MARGIN,
    DatabaseGate,
    HostGate,
    RedisGate,
    host_of,
    open_gate,
)
from archive.capture.jobs import run_capture_job
from archive.capture.preview import PREVIEW_SECONDS, bounded_preview
from archive.capture.watches import add_watch
from archive.context import ArchiveContext
from archive.store.db import Database
from archive.store.models import Event, HostSlot, Watch
from tests.gate_support import TOLERANCE, GateSpec, fetch_in_processes, gaps
from tests.local_server import LocalServer
from tests.wordpress_markup import C, wp_page

IN_CI = os.environ.get("CI") == "true"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"
MIN_DELAY = 0.25
PROCESSES = 2
PAGES = 5


@pytest.fixture(scope="session")
def redis_session() -> Iterator[tuple[str, str]]:
    """The Redis URL and this session's key prefix; its keys are deleted afterwards."""
    url = os.environ.get("ARCHIVE_TEST_REDIS_URL", LOCAL_REDIS)
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if IN_CI:
            pytest.fail(f"CI=true but Redis is not reachable at {url}: {exc}", pytrace=False)
        pytest.skip(f"Redis not reachable at {url} (set ARCHIVE_TEST_REDIS_URL)")
    prefix = f"archive-test-{uuid.uuid4().hex[:10]}:"
    yield url, prefix
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture(params=["redis", "sqlite", "postgresql"])
def gate_spec(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> GateSpec:
    """A shared gate of each kind, empty, as every process of an archive would reach it."""
    if request.param == "redis":
        url, prefix = request.getfixturevalue("redis_session")
        return GateSpec("redis", url, f"{prefix}{uuid.uuid4().hex[:8]}:")
    if request.param == "sqlite":
        path = tmp_path / "archive.db"
        shutil.copy(sqlite_template, path)
        return GateSpec("database", f"sqlite:///{path}")
    url = request.getfixturevalue("postgres_url")
    if url is None:
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432 (set ARCHIVE_TEST_POSTGRES_URL)")
    db = Database(url)
    with db.write() as session:
        session.execute(delete(HostSlot))
    db.dispose()
    return GateSpec("database", url)


def _arrivals(server: LocalServer) -> list[tuple[float, str]]:
    return sorted((r.at, r.path) for r in server.requests)


def test_host_of_is_the_lower_case_name_without_port() -> None:
    assert host_of("http://Example.ORG:8080/a?b") == "example.org"
    assert host_of("https://[2001:DB8::1]:443/") == "2001:db8::1"
    assert host_of("http://127.0.0.1:5000/x") == "127.0.0.1"


def test_fetchers_in_separate_processes_keep_the_delay(local_server: LocalServer,
                                                        gate_spec: GateSpec) -> None:
    local_server.route("/page", "x")
    urls = [local_server.url(f"/page?n={n}") for n in range(PAGES)]
    errors = fetch_in_processes(gate_spec, urls, MIN_DELAY, PROCESSES)
    assert errors == [None] * (PAGES * PROCESSES)
    arrivals = _arrivals(local_server)
    # Each process read robots.txt once, then its pages: all of them arrived.
    assert len(arrivals) == PROCESSES * (PAGES + 1)
    assert min(gaps([at for at, _path in arrivals])) >= MIN_DELAY - TOLERANCE


def test_crawl_delay_binds_the_whole_fleet(local_server: LocalServer, gate_spec: GateSpec) -> None:
    crawl_delay = 0.6
    local_server.robots(f"User-agent: *\nCrawl-delay: {crawl_delay}\n")
    local_server.route("/page", "x")
    urls = [local_server.url(f"/page?n={n}") for n in range(3)]
    assert fetch_in_processes(gate_spec, urls, MIN_DELAY, PROCESSES) == [None] * (3 * PROCESSES)
    arrivals = _arrivals(local_server)
    assert len(arrivals) == PROCESSES * 4
    for (earlier, path), (later, _next) in zip(arrivals, arrivals[1:], strict=False):
        assert later - earlier >= MIN_DELAY - TOLERANCE
        # Only a process that has not read robots.txt yet can leave less than the
        # Crawl-delay after its own robots.txt request; after a page, nobody can.
        if path != "/robots.txt":
            assert later - earlier >= crawl_delay - TOLERANCE, (path, later - earlier)


def test_a_slot_beyond_the_cap_is_not_taken(gate_spec: GateSpec) -> None:
    gate = gate_spec.open()
    try:
        assert gate.reserve("busy.example", 30.0, 60.0).wait == 0
        first = gate.reserve("busy.example", 30.0, 60.0)
        assert first.granted and 29.0 < first.wait <= 30.0 + LATENESS_MARGIN
        refused = gate.reserve("busy.example", 30.0, 45.0)
        assert not refused.granted and 59.0 < refused.wait <= 60.0 + 2 * LATENESS_MARGIN
        # Refusing reserved nothing: the next slot is still 60 s away, not 90.
        assert 59.0 < gate.reserve("busy.example", 30.0, 120.0).wait <= 60.0 + 2 * LATENESS_MARGIN
        assert gate.reserve("other.example", 30.0, 0.0).wait == 0
    finally:
        gate.close()


def test_hold_only_ever_pushes_the_next_slot_later(gate_spec: GateSpec) -> None:
    gate = gate_spec.open()
    try:
        gate.hold("held.example", 40.0)
        gate.hold("held.example", 5.0)
        turn = gate.reserve("held.example", 1.0, 100.0)
        assert turn.granted and 39.0 < turn.wait <= 40.0
    finally:
        gate.close()


def test_redis_is_the_gate_with_a_redis_broker(ctx: ArchiveContext) -> None:
    redis_gate = open_gate(replace(ctx.settings, broker_url=LOCAL_REDIS))
    database_gate = open_gate(replace(ctx.settings, broker_url="amqp://guest@127.0.0.1//"))
    try:
        assert isinstance(redis_gate, RedisGate) and isinstance(database_gate, DatabaseGate)
    finally:
        redis_gate.close()
        database_gate.close()


@pytest.fixture(params=["database", "redis"])
def shared_gate(request: pytest.FixtureRequest, ctx: ArchiveContext) -> Iterator[HostGate]:
    """The gate the archive's processes share: its database, or Redis under this session's prefix."""
    if request.param == "database":
        yield DatabaseGate(ctx.db)
        return
    url, prefix = request.getfixturevalue("redis_session")
    gate = RedisGate(url, prefix=f"{prefix}{uuid.uuid4().hex[:8]}:")
    yield gate
    gate.close()


def _watched(ctx: ArchiveContext, server: LocalServer) -> int:
    url = server.url("/article/")
    server.route("/article/", wp_page([C(1, "Ann", "First"), C(2, "Bob", "Second")], base=url))
    with ctx.db.write() as session:
        return add_watch(session, url, allow_private=True, adapter="wordpress").id


def test_the_preview_waits_its_turn_at_the_gate(ctx: ArchiveContext, local_server: LocalServer) -> None:
    url = local_server.url("/article/")
    local_server.route("/article/", wp_page([C(1, "Ann", "First")], base=url))
    held = 1.0
    since = time.monotonic()
    # As if a capture worker had just fetched from this host with a 1 s delay.
    DatabaseGate(ctx.db).hold(host_of(url), held)
    preview = bounded_preview(url, ctx.settings, adapter_name="wordpress")
    assert preview.ok and preview.found == 1
    assert min(r.at for r in local_server.requests) - since >= held - TOLERANCE


def test_a_preview_gives_up_on_a_host_busy_past_its_cap(ctx: ArchiveContext,
                                                         local_server: LocalServer) -> None:
    url = local_server.url("/article/")
    local_server.route("/article/", wp_page([C(1, "Ann", "First")], base=url))
    DatabaseGate(ctx.db).hold(host_of(url), PREVIEW_SECONDS + 60)
    started = time.monotonic()
    preview = bounded_preview(url, ctx.settings, adapter_name="wordpress")
    assert time.monotonic() - started < PREVIEW_SECONDS
    assert local_server.requests == []
    assert len(preview.problems) == 1 and "127.0.0.1 is busy: its next free turn is" in preview.problems[0]


def test_a_long_backlog_fails_the_capture_instead_of_fetching_early(
        ctx: ArchiveContext, local_server: LocalServer, shared_gate: HostGate) -> None:
    watch_id = _watched(ctx, local_server)
    with Fetcher.from_settings(ctx.settings, gate=shared_gate) as fetcher:
        assert run_capture_job(ctx, watch_id, fetcher, "schedule").outcome == "good"
        # The comments vanish, but the host is booked far beyond what a fetch waits for.
        local_server.route("/article/", wp_page([], base=local_server.url("/article/")))
        shared_gate.hold("127.0.0.1", HOST_WAIT_CAP + 60)
        local_server.clear_requests()
        before = time.monotonic()
        summary = run_capture_job(ctx, watch_id, fetcher, "schedule")
    assert time.monotonic() - before < 30
    assert summary.outcome == "failed"
    assert "127.0.0.1 is busy: its next free turn is" in summary.reason
    assert "it will be tried later" in summary.reason
    assert local_server.requests == []
    with ctx.db.read_session() as session:
        kinds = set(session.scalars(select(Event.kind)))
        watch = session.get_one(Watch, watch_id)
    assert kinds == {"appeared"}  # a failed capture removes nothing
    assert watch.last_outcome == "failed" and watch.last_capture_at is not None
    assert watch.next_due_at > watch.last_capture_at  # tried again later


def test_a_turn_missed_is_asked_for_again_and_never_taken_late(local_server: LocalServer,
                                                               shared_gate: HostGate) -> None:
    """A process that wakes more than the lateness margin after its turn asks
    for a new one (the next process's turn may be near); one that keeps
    waking late sends nothing and says why."""
    local_server.route("/page", "x")
    slept: list[float] = []

    def oversleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds + LATENESS_MARGIN)

    with Fetcher(user_agent="GateTest/1.0", min_host_delay=0.2, timeout=10.0, max_bytes=100_000,
                 retries=0, allow_private=True, sleep=oversleep, gate=shared_gate) as fetcher:
        result = fetcher.fetch(local_server.url("/page"))
    assert result.error is not None and "missed 6 turns in a row" in result.error
    assert len(slept) >= MAX_LATE_TURNS + 1
    assert local_server.requests == []
