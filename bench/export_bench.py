"""Export throughput and memory: N synthetic comments, exported as CSV and JSONL.

    .venv/bin/python bench/export_bench.py --size 200000

Builds a temporary SQLite archive (migrated with the real schema) holding
`--size` comments with one version each, spread over threads and sites, a
tenth of them removed with a removal event; then runs `python -m archive
export comments` once per format in a fresh subprocess and prints rows/s and
that process's peak RSS (getrusage in the child). An idle child that only
imports the archive gives the baseline: a streamed export stays near it
whatever the size.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ("council social work cafcass family court care review moderation comment removed "
         "children practitioners evidence report article thread readers manager budget policy "
         "safeguarding inspection ofsted local authority agency staff caseload").split()
CHUNK = 20_000


def build(data_dir: Path, size: int, seed: int = 7) -> float:
    """Fill a fresh archive with `size` comments; returns seconds taken."""
    from sqlalchemy import create_engine, insert

    from archive.store.models import Comment, CommentVersion, Event, Site, Thread
    from archive.store.schema import upgrade

    started = time.perf_counter()
    engine = create_engine(f"sqlite:///{data_dir / 'archive.db'}")
    upgrade(engine)
    rng = random.Random(seed)
    t0 = datetime(2024, 1, 1)
    threads = max(1, size // 200)
    with engine.begin() as conn:
        conn.execute(insert(Site), [{"id": i + 1, "host": f"site{i}.example", "name": f"site{i}"}
                                    for i in range(5)])
        conn.execute(insert(Thread), [{"id": t + 1, "site_id": t % 5 + 1,
                                       "url": f"https://site{t % 5}.example/article/{t}/",
                                       "title": f"Article {t}", "state": "active",
                                       "gone_misses": 0, "created_at": t0} for t in range(threads)])
    for start in range(0, size, CHUNK):
        comments, versions, events = [], [], []
        for i in range(start, min(start + CHUNK, size)):
            seen = t0 + timedelta(minutes=i)
            removed = i % 10 == 0
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
            comments.append({
                "id": i + 1, "thread_id": i % threads + 1, "key": str(i + 1), "position": i,
                "author": f"reader{i % 5000}", "posted_at": seen - timedelta(minutes=30),
                "status": "removed" if removed else "visible", "first_seen_at": seen,
                "last_seen_at": seen + timedelta(hours=2), "misses": 2 if removed else 0,
                "removed_after": seen + timedelta(hours=2) if removed else None,
                "removed_before": seen + timedelta(hours=3) if removed else None,
                "edit_count": 0, "times_removed": int(removed), "times_reinstated": 0,
                "redacted": False})
            versions.append({"comment_id": i + 1, "seq": 1, "text": text, "html": f"<p>{text}</p>",
                             "text_sha256": f"{i:064x}", "seen_at": seen})
            if removed:
                events.append({"thread_id": i % threads + 1, "comment_id": i + 1,
                               "kind": "removed", "at": seen + timedelta(hours=3),
                               "window_start": seen + timedelta(hours=2),
                               "window_end": seen + timedelta(hours=3)})
        with engine.begin() as conn:
            conn.execute(insert(Comment), comments)
            conn.execute(insert(CommentVersion), versions)
            if events:
                conn.execute(insert(Event), events)
    engine.dispose()
    return time.perf_counter() - started


def child(args: list[str]) -> None:
    """Run one CLI command in this process, then report its own peak RSS."""
    from archive.cli import cli

    started = time.perf_counter()
    if args:
        cli.main(args=args, prog_name="python -m archive", standalone_mode=False)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_kb / 1024}), file=sys.__stdout__)


def run_child(data_dir: Path, args: list[str]) -> dict[str, float]:
    env = os.environ | {"ARCHIVE_DATA_DIR": str(data_dir), "ARCHIVE_DEMO_ON_EMPTY": "0"}
    done = subprocess.run([sys.executable, __file__, "--child", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="comments to build")
    parser.add_argument("--formats", default="csv,jsonl")
    parser.add_argument("--keep", action="store_true", help="keep the temporary archive")
    options, rest = parser.parse_known_args()
    if rest and rest[0] == "--child":
        child(rest[1:])
        return
    data_dir = Path(tempfile.mkdtemp(prefix="export-bench-"))
    try:
        print(f"building {options.size:,} comments in {data_dir} ...", flush=True)
        print(f"built in {build(data_dir, options.size):.1f} s "
              f"({(data_dir / 'archive.db').stat().st_size / 1e6:.0f} MB database)", flush=True)
        idle = run_child(data_dir, [])
        print(f"baseline child (imports only): peak RSS {idle['peak_rss_mb']:.1f} MB")
        for fmt in options.formats.split(","):
            out = data_dir / f"comments.{fmt}"
            result = run_child(data_dir, ["export", "comments", "--format", fmt,
                                          "--output", str(out)])
            rate = options.size / result["seconds"]
            print(f"export comments --format {fmt}: {options.size:,} rows in "
                  f"{result['seconds']:.1f} s = {rate:,.0f} rows/s; peak RSS "
                  f"{result['peak_rss_mb']:.1f} MB; file {out.stat().st_size / 1e6:.0f} MB",
                  flush=True)
            out.unlink()
    finally:
        if options.keep:
            print(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
