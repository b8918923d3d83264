"""Capture jobs (archive/capture/jobs.py): at most one capture of a thread in flight,
whoever asks, and a hash chain the schema itself keeps from forking.

Real threads, real loopback HTTP, both databases. A burst's winner is held
inside its first fetch until every other job of the burst has answered, so
"one capture per burst" is proven by construction, not by timing.
"""
from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from archive.capture.fetch.fetcher import Fetcher, FetchResult
from archive.capture.jobs import run_capture_job
from archive.capture.pipeline import CaptureSummary, capture_watch
from archive.capture.watches import add_watch
from archive.context import ArchiveContext, archive_context
from archive.research.verify import verify_archive
from archive.store.db import get_db
from archive.store.models import Capture, Site, Thread
from tests.context_support import with_settings
from tests.local_server import LocalServer
from tests.wordpress_markup import C, wp_page

BURST = 20
# Long enough never to end a wait early that working code will end.
PATIENCE = 30.0
# How long a winner waits for the rest of its burst; only reached when jobs overlap.
GATE_WAIT = 10.0


class GatedFetcher(Fetcher):
    """A real fetcher whose fetches first wait for `gate`."""
    gate = threading.Event()

    def fetch(self, url: str, **kwargs: Any) -> FetchResult:
        self.gate.wait(GATE_WAIT)
        return super().fetch(url, **kwargs)


def _watched(app: Flask, server: LocalServer) -> int:
    url = server.url("/article/")
    server.route("/article/", wp_page([C(1, "WL", "A comment")], base=url))
    with_settings(app, fetch_retries=0)
    with get_db(app).write() as session:
        return add_watch(session, url, allow_private=True, adapter="wordpress").id


def _burst(ctx: ArchiveContext, watch_id: int, fetcher: GatedFetcher) -> Counter[str]:
    """BURST simultaneous jobs of one watch; the fetching one waits until the others have answered."""
    fetcher.gate = threading.Event()
    start = threading.Barrier(BURST, timeout=PATIENCE)
    lock, skipped = threading.Lock(), [0]

    def job() -> CaptureSummary:
        start.wait()
        summary = run_capture_job(ctx, watch_id, fetcher, "operator")
        if summary.outcome == "skipped":
            with lock:
                skipped[0] += 1
                if skipped[0] == BURST - 1:
                    fetcher.gate.set()
        return summary

    with ThreadPoolExecutor(max_workers=BURST) as pool:
        futures = [pool.submit(job) for _ in range(BURST)]
        return Counter(future.result(timeout=PATIENCE * 2).outcome for future in futures)


def _chain(app: Flask) -> list[tuple[int, str | None, str | None]]:
    with get_db(app).read_session() as session:
        return [tuple(row) for row in session.execute(  # type: ignore[misc]
            select(Capture.seq, Capture.prev_hash, Capture.record_hash).order_by(Capture.id))]


def test_simultaneous_jobs_of_one_thread_make_one_capture_each_burst(app: Flask, local_server: LocalServer) -> None:
    ctx = archive_context(app)
    watch_id = _watched(app, local_server)
    fetcher = GatedFetcher.from_settings(ctx.settings)
    assert isinstance(fetcher, GatedFetcher)
    with fetcher:
        for _ in range(3):
            assert _burst(ctx, watch_id, fetcher) == {"good": 1, "skipped": BURST - 1}
    chain = _chain(app)
    assert [seq for seq, _prev, _hash in chain] == [1, 2, 3]
    assert [prev for _seq, prev, _hash in chain] == [None, chain[0][2], chain[1][2]]
    with get_db(app).read_session() as session:
        report = verify_archive(session, ctx.evidence)
    assert report.ok, report.problems
    with get_db(app).read_session() as session:
        assert session.scalars(select(Thread.job_token)).one() is None, "every claim was released"


def test_the_schema_refuses_two_captures_at_one_place_in_a_chain(app: Flask) -> None:
    with get_db(app).write() as session:
        thread = Thread(url="https://example.org/a/", site=Site(host="example.org"))
        session.add(Capture(thread=thread, outcome="good", seq=1))
    with pytest.raises(IntegrityError), get_db(app).write() as session:
        thread_id = session.scalars(select(Thread.id)).one()
        session.add(Capture(thread_id=thread_id, outcome="good", seq=1))


def test_captures_that_bypass_jobs_still_chain_linearly(app: Flask, local_server: LocalServer) -> None:
    """Two captures stored at the same moment (no job claim): the loser of the race
    for the next place is judged again after the winner, never forked off it."""
    ctx = archive_context(app)
    watch_id = _watched(app, local_server)
    url = local_server.url("/article/")
    # Both captures must be fetching at once before either gets its page.
    local_server.route("/article/", wp_page([C(1, "WL", "A comment")], base=url), meet=threading.Barrier(2))
    fetchers = [Fetcher.from_settings(ctx.settings) for _ in range(2)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(capture_watch, ctx, watch_id, fetcher) for fetcher in fetchers]
        outcomes = sorted(future.result(timeout=PATIENCE).outcome for future in futures)
    for fetcher in fetchers:
        fetcher.close()
    assert outcomes == ["good", "good"]
    chain = _chain(app)
    assert [seq for seq, _prev, _hash in chain] == [1, 2]
    assert chain[1][1] == chain[0][2]
    with get_db(app).read_session() as session:
        assert verify_archive(session, ctx.evidence).ok
