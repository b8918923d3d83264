"""Benchmark: parse + diff of a 5,000-comment WordPress thread, and storage growth.

Prints figures; asserts nothing. Targets (issue 2): the pipeline's parse +
verdict costs at most 3x a bare lxml parse of the same bytes, and 100
captures of an unchanged thread take under 1.05x the storage of one.

    .venv/bin/python bench/pipeline_bench.py [--comments 5000] [--captures 100]
"""
from __future__ import annotations

import argparse
import html
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import lxml.html  # noqa: E402

from scrapers.base import Page  # noqa: E402
from scrapers.wordpress import WordPressAdapter  # noqa: E402

WORDS = ("cafcass ofsted report court children officer practice family judge "
         "experience assessment supervision leadership comment removed moderated "
         "alienation parents case service outstanding inspection evidence").split()


def thread_html(n: int, seed: int = 1) -> bytes:
    """A WordPress (twentytwentyone, html5 markup) article with n threaded comments."""
    rng = random.Random(seed)
    start = datetime(2018, 3, 29, 15, 21)
    items: list[str] = []
    open_children = 0
    for i in range(1, n + 1):
        when = start + timedelta(minutes=7 * i)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
        item = (f'<li id="comment-{i}" class="comment even thread-even depth-1">'
                f'<article id="div-comment-{i}" class="comment-body"><footer class="comment-meta">'
                f'<div class="comment-author vcard"><b class="fn">Reader {i % 300}</b> '
                f'<span class="says">says:</span></div><div class="comment-metadata">'
                f'<a href="/cafcass/#comment-{i}"><time datetime="{when.isoformat()}+00:00">'
                f'{when:%B %d, %Y at %I:%M %p}</time></a></div></footer>'
                f'<div class="comment-content"><p>{html.escape(text)}</p></div>'
                f'<div class="reply"><a class="comment-reply-link" href="#">Reply</a></div></article>')
        if i % 10 == 0 and open_children == 0:
            items.append(item + '<ol class="children">')
            open_children = 1
        elif open_children and i % 10 == 3:
            items.append(item + "</li></ol></li>")
            open_children = 0
        else:
            items.append(item + "</li>")
    if open_children:
        items.append("</ol></li>")
    body = (
        '<!doctype html><html lang="en-GB"><head><meta charset="UTF-8">'
        '<meta name="generator" content="WordPress 6.1.1"><title>Cafcass rated outstanding</title>'
        '<link rel="https://api.w.org/" href="http://127.0.0.1/wp-json/"></head>'
        '<body class="post-template-default single single-post postid-42">'
        '<main id="main"><article id="post-42"><h1 class="entry-title">Cafcass rated outstanding</h1>'
        '</article><div id="comments" class="comments-area default-max-width show-avatars">'
        f'<h2 class="comments-title">{n} comments</h2><ol class="comment-list">'
        + "".join(items) +
        '</ol></div></main><footer id="colophon"></footer></body></html>')
    return body.encode("utf-8")


def timed(fn: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def bench_parse_and_diff(n: int, repeat: int) -> None:
    from archive.rules.verdicts import Snapshot, ThreadState, judge, replay

    body = thread_html(n)
    page = Page(url="http://127.0.0.1/cafcass/", final_url="http://127.0.0.1/cafcass/",
                status=200, headers={"content-type": "text/html; charset=UTF-8"}, body=body)
    adapter = WordPressAdapter()
    view = adapter.combine([adapter.parse(page)])
    assert len(view.comments) == n, f"adapter found {len(view.comments)} of {n} comments"
    at = datetime(2026, 1, 1)
    known = replay([Snapshot("good", at, tuple(view.comments), "complete")]).known

    def pipeline() -> None:
        v = adapter.combine([adapter.parse(page)])
        judge(known, Snapshot("good", at + timedelta(hours=1), tuple(v.comments), "complete"),
              ThreadState())

    bare = timed(lambda: lxml.html.fromstring(body), repeat)
    ours = timed(pipeline, repeat)
    print(f"thread: {n} comments, {len(body) / 1024:.0f} KiB of HTML")
    print(f"bare lxml parse:          {bare * 1000:8.1f} ms (median of {repeat})")
    print(f"adapter parse + verdicts: {ours * 1000:8.1f} ms (median of {repeat})")
    print(f"ratio: {ours / bare:.2f}x (target <= 3x)")


def bench_storage(n: int, captures: int) -> None:
    from archive import create_app
    from archive.capture.fetch.fetcher import Fetcher
    from archive.capture.pipeline import capture_watch
    from archive.capture.watches import add_watch
    from archive.context import archive_context
    from archive.store.db import get_db
    from archive.store.schema import upgrade
    from config import TestConfig
    from tests.local_server import LocalServer

    with tempfile.TemporaryDirectory() as tmp, LocalServer() as server:
        server.route("/cafcass/", thread_html(n), content_type="text/html; charset=UTF-8")
        app = create_app(TestConfig(DATA_DIR=tmp))
        upgrade(get_db(app).writer)
        with app.app_context(), get_db(app).write() as session:
            watch_id = add_watch(session, server.url("/cafcass/"), allow_private=True).id
        ctx = archive_context(app)
        fetcher = Fetcher.from_settings(ctx.settings)

        def size() -> int:
            return sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())

        before = size()
        capture_watch(ctx, watch_id, fetcher)
        one = size() - before
        for _ in range(captures - 1):
            capture_watch(ctx, watch_id, fetcher)
        total = size() - before
        print(f"storage: one capture {one / 1024:.0f} KiB; {captures} captures {total / 1024:.0f} KiB; "
              f"ratio {total / one:.3f}x (target < 1.05x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=5000)
    parser.add_argument("--captures", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    bench_parse_and_diff(args.comments, args.repeat)
    bench_storage(args.comments, args.captures)


if __name__ == "__main__":
    main()
