"""Render time of a 5,000-comment thread page (target: under 300 ms).

    .venv/bin/python bench/render_bench.py [--comments 5000] [--runs 9]

Builds a threaded thread in a temporary SQLite archive (some comments
removed, missing, edited or reinstated), then times GET /threads/<id>
through Flask's test client and prints the median of several runs, for the
first page, a middle page and the "only what disappeared" view.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from archive import create_app  # noqa: E402
from archive.rules.verdicts import text_hash  # noqa: E402
from archive.store.db import get_db  # noqa: E402
from archive.store.models import Capture, Comment, CommentVersion, Event, Site, Thread  # noqa: E402
from archive.store.schema import upgrade  # noqa: E402
from config import TestConfig  # noqa: E402

WORDS = ("cafcass officer report court child family complaint hearing judge assessment "
         "contact father mother inspection ofsted practice moderated removed evidence").split()
T0 = datetime(2024, 1, 1, 9, 0)


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40))).capitalize() + "."


def build(app: Flask, n: int, seed: int = 7) -> int:
    """A thread of `n` comments; returns its id."""
    rng = random.Random(seed)
    with get_db(app).write() as session:
        site = Site(host="bench.example", name="bench.example")
        thread = Thread(url="https://bench.example/big-thread/", title="A very long thread", site=site)
        session.add(thread)
        session.flush()
        captures = []
        for i in range(3):
            cap = Capture(thread_id=thread.id, started_at=T0 + timedelta(hours=i), outcome="good",
                          coverage="complete", comments_found=n, pages=n // 50)
            session.add(cap)
            captures.append(cap)
        session.flush()
        comments, versions, events = [], [], []
        for i in range(1, n + 1):
            roll = rng.random()
            status = "removed" if roll < 0.05 else "missing" if roll < 0.07 else "visible"
            parent = str(rng.randint(1, i - 1)) if i > 1 and rng.random() < 0.6 else None
            edited = rng.random() < 0.05
            reinstated = status == "visible" and rng.random() < 0.01
            gone = status != "visible"
            comments.append(dict(
                id=i, thread_id=thread.id, key=str(i), parent_key=parent, position=i,
                author=f"reader{rng.randint(1, 900)}", posted_at=T0 - timedelta(minutes=n - i),
                status=status, first_seen_at=T0, last_seen_at=T0 + timedelta(hours=0 if gone else 2),
                misses=2 if status == "removed" else 1 if status == "missing" else 0,
                removed_after=T0 if gone else None, removed_before=T0 + timedelta(hours=1) if gone else None,
                edit_count=1 if edited else 0, times_removed=1 if status == "removed" or reinstated else 0,
                times_reinstated=1 if reinstated else 0, redacted=False))
            texts = [_text(rng)] + ([_text(rng)] if edited else [])
            for seq, text in enumerate(texts, start=1):
                versions.append(dict(comment_id=i, seq=seq, text=text, html=f"<p>{text}</p>",
                                     text_sha256=text_hash(text), capture_id=captures[seq - 1].id,
                                     seen_at=T0 + timedelta(hours=seq - 1)))
            events.append(dict(thread_id=thread.id, comment_id=i, capture_id=captures[0].id,
                               kind="appeared", at=T0))
            if gone:
                events.append(dict(thread_id=thread.id, comment_id=i, capture_id=captures[1].id,
                                   kind=status, at=T0 + timedelta(hours=1), window_start=T0,
                                   window_end=T0 + timedelta(hours=1)))
        session.execute(insert(Comment), comments)
        session.execute(insert(CommentVersion), versions)
        session.execute(insert(Event), events)
        return thread.id


def timed(client: FlaskClient, url: str, runs: int) -> tuple[float, float, int]:
    """Median wall-clock and CPU milliseconds, and the page size. The CPU time
    is the steadier figure on a machine shared with other work."""
    client.get(url)   # warm-up: template compilation, first connection
    wall, cpu = [], []
    size = 0
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, response.status_code
        size = len(response.data)
    return statistics.median(wall), statistics.median(cpu), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app(TestConfig(DATA_DIR=data_dir))
        upgrade(get_db(app).writer)
        start = time.perf_counter()
        thread_id = build(app, args.comments)
        print(f"built a {args.comments}-comment thread in {time.perf_counter() - start:.1f} s")
        client = app.test_client()
        for label, url in (("first page", f"/threads/{thread_id}"),
                           ("page 5", f"/threads/{thread_id}?page=5"),
                           ("only what disappeared", f"/threads/{thread_id}?show=disappeared")):
            wall, cpu, size = timed(client, url, args.runs)
            print(f"GET {url:<34} {label:<22} median {wall:6.1f} ms wall, {cpu:6.1f} ms CPU "
                  f"over {args.runs} runs ({size / 1024:.0f} KiB)")
        get_db(app).dispose()


if __name__ == "__main__":
    main()
