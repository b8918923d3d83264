"""Benchmark: parse + diff of a WordPress thread, storage growth, and whole captures.

Prints figures; asserts nothing. Targets (issues 2 and 10): the pipeline's
parse + verdict costs at most 3x a bare lxml parse of the same bytes; 100
captures of an unchanged thread take under 1.05x the storage of one; and a
whole capture round (fetch from a loopback server, evidence, verdict,
database, search index, the REST checks of comments gone missing) of 20
threads of 2,000 comments with 2% taken down per round costs at most 3x a
bare lxml parse of the pages. Each whole capture must be good, see every
comment shown and record exactly the expected events, or the figures are void.

    .venv/bin/python bench/pipeline_bench.py [--comments 5000] [--captures 100]
    .venv/bin/python bench/pipeline_bench.py --only capture [--postgres] [--search-backend tantivy] [--profile]
"""
from __future__ import annotations

import argparse
import cProfile
import html
import os
import pstats
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import lxml.html  # noqa: E402

from scrapers.base import Page  # noqa: E402
from scrapers.wordpress.page import WordPressAdapter  # noqa: E402

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
WORDS = ("cafcass ofsted report court children officer practice family judge "
         "experience assessment supervision leadership comment removed moderated "
         "alienation parents case service outstanding inspection evidence").split()


def thread_html(n: int, seed: int = 1, present: set[int] | None = None) -> bytes:
    """A WordPress (twentytwentyone, html5 markup) article with n threaded comments;
    with `present`, only those comment numbers are shown (and counted in the title)."""
    rng = random.Random(seed)
    start = datetime(2018, 3, 29, 15, 21)
    items: list[str] = []
    open_children = 0
    for i in range(1, n + 1):
        when = start + timedelta(minutes=7 * i)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
        shown = present is None or i in present
        item = (f'<li id="comment-{i}" class="comment even thread-even depth-1">'
                f'<article id="div-comment-{i}" class="comment-body"><footer class="comment-meta">'
                f'<div class="comment-author vcard"><b class="fn">Reader {i % 300}</b> '
                f'<span class="says">says:</span></div><div class="comment-metadata">'
                f'<a href="/cafcass/#comment-{i}"><time datetime="{when.isoformat()}+00:00">'
                f'{when:%B %d, %Y at %I:%M %p}</time></a></div></footer>'
                f'<div class="comment-content"><p>{html.escape(text)}</p></div>'
                f'<div class="reply"><a class="comment-reply-link" href="#">Reply</a></div></article>'
                ) if shown else ""
        if i % 10 == 0 and open_children == 0:
            # A parent is always shown (`leaves` never offers it): its replies keep their place.
            items.append(item + '<ol class="children">')
            open_children = 1
        elif open_children and i % 10 == 3:
            items.append((item + "</li>" if shown else "") + "</ol></li>")
            open_children = 0
        else:
            items.append(item + "</li>" if shown else "")
    if open_children:
        items.append("</ol></li>")
    count = n if present is None else len(present)
    body = (
        '<!doctype html><html lang="en-GB"><head><meta charset="UTF-8">'
        '<meta name="generator" content="WordPress 6.1.1"><title>Cafcass rated outstanding</title>'
        '<link rel="https://api.w.org/" href="http://127.0.0.1/wp-json/"></head>'
        '<body class="post-template-default single single-post postid-42">'
        '<main id="main"><article id="post-42"><h1 class="entry-title">Cafcass rated outstanding</h1>'
        '</article><div id="comments" class="comments-area default-max-width show-avatars">'
        f'<h2 class="comments-title">{count} comments</h2><ol class="comment-list">'
        + "".join(items) +
        '</ol></div></main><footer id="colophon"></footer></body></html>')
    return body.encode("utf-8")


def leaves(n: int) -> list[int]:
    """Comment numbers of thread_html with no replies: those a round may take down."""
    return [i for i in range(1, n + 1) if i % 10 != 0]


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
            ctx.index_updates.flush()  # the index is part of what a capture stores
            return sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())

        before = size()
        capture_watch(ctx, watch_id, fetcher)
        one = size() - before
        for _ in range(captures - 1):
            capture_watch(ctx, watch_id, fetcher)
        total = size() - before
        print(f"storage: one capture {one / 1024:.0f} KiB; {captures} captures {total / 1024:.0f} KiB; "
              f"ratio {total / one:.3f}x (target < 1.05x)")


class StaticSite:
    """Threads served as files by a separate `python -m http.server` on loopback, so
    serving costs the capturing process nothing. Each write gets a new modification
    time, so no conditional GET is answered 304 by mistake."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.version = 0
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(root),
             str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the loopback server did not start") from None
                time.sleep(0.05)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}/"

    def publish(self, pages: dict[str, bytes]) -> None:
        self.version += 1
        moment = 1_700_000_000 + self.version * 3600
        for name, body in pages.items():
            path = self.root / name / "index.html"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            os.utime(path, (moment, moment))

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _postgres_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    """A fresh PostgreSQL database for one run, and how to drop it."""
    from sqlalchemy import create_engine, text

    name = f"archive_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.rsplit("/", 1)[0] + "/" + name, drop


def bench_capture_rounds(threads: int, n: int, rounds: int, vanish: float, postgres: str | None,
                         backend: str | None, profile: bool) -> None:
    """Whole captures (fetch from loopback, evidence, verdict, database, search index)
    of `threads` threads, round after round, with `vanish` of each thread's shown
    comments taken down before each round after the first."""
    from archive import create_app
    from archive.capture.fetch.fetcher import Fetcher
    from archive.capture.pipeline import capture_watch
    from archive.capture.watches import add_watch
    from archive.context import archive_context
    from archive.store.db import get_db
    from archive.store.schema import upgrade
    from config import TestConfig

    rng = random.Random(7)
    names = [f"t{k:03d}" for k in range(threads)]
    present = {name: set(range(1, n + 1)) for name in names}
    database_url, drop = _postgres_database(postgres) if postgres else ("", lambda: None)
    with tempfile.TemporaryDirectory() as tmp:
        site = StaticSite(Path(tmp) / "site")
        try:
            chosen = {"SEARCH_BACKEND": backend} if backend else {}
            app = create_app(TestConfig(DATA_DIR=str(Path(tmp) / "data"), DATABASE_URL=database_url,
                                        **chosen))
            ctx = archive_context(app)
            upgrade(ctx.db.writer)
            with app.app_context(), get_db(app).write() as session:
                watch_ids = {name: add_watch(session, site.url(name), allow_private=True).id
                             for name in names}
            fetcher = Fetcher.from_settings(ctx.settings)
            taken: dict[str, int] = dict.fromkeys(names, 0)
            print(f"whole capture: {threads} threads x {n} comments, {vanish:.0%} taken down per round, "
                  f"{'PostgreSQL' if postgres else 'SQLite'}, search engine {ctx.search.engine().name}")
            profiler = cProfile.Profile() if profile else None
            steady: list[tuple[float, float]] = []
            for number in range(1, rounds + 1):
                pages = {}
                before = dict(taken)
                for name in names:
                    if number > 1:
                        down = rng.sample(sorted(present[name] & set(leaves(n))), round(n * vanish))
                        present[name] -= set(down)
                        taken[name] = len(down)
                    pages[name] = thread_html(n, seed=names.index(name) + 1, present=present[name])
                site.publish(pages)
                size = sum(len(body) for body in pages.values())
                bare = bare_parse(list(pages.values()))
                if profiler and number > 1:
                    profiler.enable()
                start = time.perf_counter()
                summaries = {name: capture_watch(ctx, watch_ids[name], fetcher) for name in names}
                ctx.index_updates.flush()  # the round's index updates are part of its cost
                took = time.perf_counter() - start
                if profiler:
                    profiler.disable()
                for name, summary in summaries.items():
                    _check(summary, len(present[name]),
                           {"missing": taken[name], "removed": before[name]} if number > 1
                           else {"appeared": n})
                label = "first capture" if number == 1 else f"round {number}"
                print(f"  {label:<14} {size / 1e6:5.1f} MB  whole capture {took:6.2f} s  "
                      f"bare lxml parse {bare:5.2f} s  ratio {took / bare:5.1f}x  "
                      f"(load average {os.getloadavg()[0]:.1f})")
                if number > 1:
                    steady.append((took, bare))
            if steady:
                took = statistics.median(t for t, _ in steady)
                ratio = statistics.median(t / b for t, b in steady)
                print(f"whole capture per round: {took:.2f} s median, {ratio:.1f}x a bare lxml parse "
                      f"(median of {len(steady)} rounds after the first; target <= 3x)")
            if profiler:
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            ctx.close()
        finally:
            site.close()
            drop()


def bare_parse(bodies: list[bytes]) -> float:
    """Seconds a bare lxml parse of these bodies takes, the best of five."""
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for body in bodies:
            lxml.html.fromstring(body)
        runs.append(time.perf_counter() - start)
    return min(runs)


def _check(summary: object, shown: int, events: dict[str, int]) -> None:
    """A failed capture is not a fast capture: each must be good, see every comment
    shown, and record exactly the expected events."""
    from archive.capture.pipeline import CaptureSummary

    assert isinstance(summary, CaptureSummary)
    if summary.outcome != "good" or summary.comments_found != shown or dict(summary.events) != {
            k: v for k, v in events.items() if v}:
        raise SystemExit(f"capture went wrong, figures void: {summary.line()} "
                         f"(expected good, {shown} comments, events {events})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=5000)
    parser.add_argument("--captures", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--threads", type=int, default=20, help="threads in each whole-capture round")
    parser.add_argument("--thread-comments", type=int, default=2000, help="comments per thread in those rounds")
    parser.add_argument("--rounds", type=int, default=4, help="whole-capture rounds (the first captures all)")
    parser.add_argument("--vanish", type=float, default=0.02, help="share of comments taken down per round")
    parser.add_argument("--postgres", metavar="ADMIN_URL", nargs="?", const=LOCAL_POSTGRES,
                        help=f"run the whole captures on a fresh PostgreSQL database (default {LOCAL_POSTGRES})")
    parser.add_argument("--search-backend", help="search engine of the whole captures "
                        "(default: ARCHIVE_SEARCH_BACKEND, else the archive's default)")
    parser.add_argument("--only", choices=("parse", "storage", "capture"), help="run one part only")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the rounds after the first")
    args = parser.parse_args()
    if args.only in (None, "parse"):
        bench_parse_and_diff(args.comments, args.repeat)
    if args.only in (None, "storage"):
        bench_storage(args.comments, args.captures)
    if args.only in (None, "capture"):
        bench_capture_rounds(args.threads, args.thread_comments, args.rounds, args.vanish, args.postgres,
                             args.search_backend, args.profile)


if __name__ == "__main__":
    main()
