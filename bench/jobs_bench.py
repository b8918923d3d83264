"""Benchmark: what the job layer adds to a capture (job row, worker row, thread claim).

The same small WordPress thread on a loopback server is captured N times
straight through `capture_watch`, then N times through `run_capture_job`
(queue a job, take it, claim the thread, capture, finish the job, release):
the difference is the job layer's cost per capture. Prints figures; asserts
nothing. PostgreSQL when --postgres URL is given (an empty database, which
it migrates), else SQLite in a temporary folder.

    .venv/bin/python bench/jobs_bench.py [--captures 100] [--postgres postgresql+psycopg://...]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine  # noqa: E402

from archive.capture.fetch.fetcher import Fetcher  # noqa: E402
from archive.capture.jobs import run_capture_job  # noqa: E402
from archive.capture.pipeline import capture_watch  # noqa: E402
from archive.capture.watches import add_watch  # noqa: E402
from archive.context import ArchiveContext  # noqa: E402
from archive.settings import Settings  # noqa: E402
from archive.store.schema import upgrade  # noqa: E402
from config import TestConfig  # noqa: E402
from tests.local_server import LocalServer  # noqa: E402
from tests.wordpress_markup import C, wp_page  # noqa: E402


def timed(n: int, capture: Callable[[], object]) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        capture()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=100)
    parser.add_argument("--postgres", default="", help="URL of an empty PostgreSQL database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, LocalServer() as server:
        engine = create_engine(args.postgres or f"sqlite:///{folder}/archive.db")
        upgrade(engine)
        engine.dispose()
        ctx = ArchiveContext.open(Settings.from_config(TestConfig(
            DATA_DIR=folder, DATABASE_URL=args.postgres, SEARCH_BACKEND="database")))
        url = server.url("/article/")
        server.route("/article/", wp_page([C(n, "Reader", f"Comment number {n}") for n in range(1, 51)], base=url))
        with ctx.db.write() as session:
            watch_id = add_watch(session, url, allow_private=True, adapter="wordpress").id
        with Fetcher.from_settings(ctx.settings) as fetcher:
            timed(5, lambda: capture_watch(ctx, watch_id, fetcher))  # warm-up
            plain = timed(args.captures, lambda: capture_watch(ctx, watch_id, fetcher))
            jobs = timed(args.captures, lambda: run_capture_job(ctx, watch_id, fetcher, "command line"))
        ctx.close()
    database = "PostgreSQL" if args.postgres else "SQLite"
    for name, times in (("capture_watch", plain), ("run_capture_job", jobs)):
        print(f"{database}, {name}: median {statistics.median(times):.1f} ms, "
              f"p95 {sorted(times)[int(len(times) * 0.95) - 1]:.1f} ms over {len(times)} captures")
    print(f"{database}: the job layer adds {statistics.median(jobs) - statistics.median(plain):.1f} ms "
          "per capture (median)")


if __name__ == "__main__":
    main()
