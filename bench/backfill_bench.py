"""Benchmark: a backfill of many archived snapshots from a local CDX server, pacing off.

What the archive itself spends per snapshot (replay fetch over loopback,
evidence, adapter, verdict, storage, hash chain), not the web archive's
politeness: against the Wayback Machine ARCHIVE_BACKFILL_RATE (24 a minute)
bounds a backfill at 2.5 s per request whatever this prints. Every fourth
snapshot repeats the bytes of the one before (not fetched again). Prints
figures; asserts nothing.

    .venv/bin/python bench/backfill_bench.py [--snapshots 200] [--comments 200]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive import create_app  # noqa: E402
from archive.backfill.queue import claim, request_backfill  # noqa: E402
from archive.backfill.run import run_backfill  # noqa: E402
from archive.context import archive_context  # noqa: E402
from archive.demo.archived import DemoWebArchive  # noqa: E402
from archive.store.schema import upgrade  # noqa: E402
from config import TestConfig  # noqa: E402
from tests.wordpress_markup import C, wp_page  # noqa: E402

URL = "https://www.communitycare.example/cafcass/"


def snapshots(count: int, comments: int) -> list[tuple[str, bytes]]:
    """`count` snapshots a week apart; a comment goes every other new snapshot, one comes every one."""
    start = datetime(2018, 3, 1, 12)
    shown = [C(i, f"Reader {i}", f"Comment {i} about Cafcass and the family court.") for i in range(1, comments)]
    out: list[tuple[str, bytes]] = []
    body = b""
    for n in range(count):
        if n % 4 != 3:
            if n % 2:
                shown.pop(0)
            shown.append(C(comments + n, "Newcomer", f"Comment {comments + n}."))
            body = wp_page(shown, base=URL)
        out.append(((start + timedelta(days=7 * n)).strftime("%Y%m%d%H%M%S"), body))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshots", type=int, default=200)
    parser.add_argument("--comments", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        app = create_app(TestConfig(DATA_DIR=data, SEARCH_BACKEND="database"))
        ctx = archive_context(app)
        upgrade(ctx.db.writer)
        made = snapshots(args.snapshots, args.comments)
        with DemoWebArchive(URL, made) as archive:
            with ctx.db.write() as session:
                run_id = request_backfill(session, URL, kind="cdx", source=archive.cdx_url, date_from=None,
                                          date_to=None, requested_by="bench").id
            claim(ctx, run_id)
            started = time.perf_counter()
            report = run_backfill(ctx, run_id)
            elapsed = time.perf_counter() - started
        ctx.close()
    print(f"snapshots listed: {len(made)}; judged: {report.judged} ({dict(report.outcomes)})")
    print(f"events: {dict(report.events)}")
    print(f"comments per page: about {args.comments}")
    print(f"total: {elapsed:.2f} s; per judged snapshot: {1000 * elapsed / max(report.judged, 1):.1f} ms")
    print(f"at the Wayback Machine's pace (24 requests a minute), the same backfill needs at least "
          f"{(report.judged - report.outcomes.get('unchanged', 0)) * 2.5 + 2.5:.0f} s of waiting")


if __name__ == "__main__":
    main()
