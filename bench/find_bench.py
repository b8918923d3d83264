"""Benchmark: "Find my comment" latency and accuracy, per search engine.

Loads search_bench's synthetic corpus (8-40 words a comment, Zipf over the
seed texts' vocabulary) into SQLite, indexes it with each engine, then asks
`/find` (the whole page, through Flask's test client) for --queries comments
picked at random, each pasted as a reader would remember it: three typos,
and a fifth of the words left out. Prints, per engine, the median and p95
time of a request in ms and how often the comment came first. Asserts nothing.

    .venv/bin/python bench/find_bench.py [--size 25000] [--queries 200]
        [--engines tantivy,database,whoosh]
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_bench import Corpus, load, vocabulary  # noqa: E402

from archive import create_app  # noqa: E402
from archive.context import archive_context  # noqa: E402
from archive.search import reindex  # noqa: E402
from archive.store.db import get_db  # noqa: E402
from archive.store.schema import upgrade  # noqa: E402
from config import Config  # noqa: E402


def remembered(text: str, rng: random.Random) -> str:
    """Three letters wrong and a fifth of the words forgotten (a run of them, in one place)."""
    words = text.split()
    gap = len(words) // 5
    start = rng.randrange(len(words) - gap + 1)
    words = words[:start] + words[start + gap:]
    letters = list(" ".join(words))
    for _ in range(3):
        at = rng.randrange(len(letters))
        if letters[at].isalpha():
            letters[at] = rng.choice("abcdefghijklmnopqrstuvwxyz")
    return "".join(letters)


def measure(app: Any, corpus: Corpus, size: int, queries: int) -> tuple[float, float, float]:
    rng = random.Random(11)
    picks = sorted(rng.sample(range(size), queries))
    texts = {}
    for pick in picks:
        row, versions = next(corpus.comments(pick, pick + 1))
        if not row["redacted"]:
            texts[row["id"]] = remembered(versions[-1], rng)
    client = app.test_client()
    timings, first = [], 0
    for comment_id, text in texts.items():
        started = time.perf_counter()
        response = client.get("/find", query_string={"text": text})
        timings.append((time.perf_counter() - started) * 1000)
        page = response.get_data(as_text=True)
        marker = 'class="history" href="/comments/'
        at = page.find(marker)
        if at >= 0 and page[at + len(marker):].split('"', 1)[0] == str(comment_id):
            first += 1
    timings.sort()
    return (statistics.median(timings), timings[int(0.95 * (len(timings) - 1))],
            100 * first / len(texts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=25_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--engines", default="tantivy,database")
    args = parser.parse_args()
    corpus = Corpus(*vocabulary())
    base = Path(tempfile.mkdtemp(prefix="find-bench-"))
    try:
        app = create_app(Config(DATA_DIR=str(base)))
        upgrade(get_db(app).writer)
        load(app, corpus, 0, args.size)
        get_db(app).dispose()
        rows = []
        for engine in args.engines.split(","):
            app = create_app(Config(DATA_DIR=str(base), SEARCH_BACKEND=engine))
            started = time.perf_counter()
            reindex(archive_context(app))
            print(f"{engine}: indexed {args.size:,} comments in {time.perf_counter() - started:.1f} s",
                  flush=True)
            median, p95, found = measure(app, corpus, args.size, args.queries)
            rows.append(f"{engine:<10} {args.size:>9,} {median:>8.1f} {p95:>8.1f} {found:>7.1f}%")
            archive_context(app).close()
        print(f"\n/find, {args.queries} remembered texts (3 typos, a fifth of the words left out)")
        print(f"{'engine':<10} {'comments':>9} {'med ms':>8} {'p95 ms':>8} {'first':>8}")
        print("\n".join(rows))
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
