"""Benchmark: browser loads (archive/capture/fetch/browser.py) of a comment widget on loopback.

An article whose script loads its comments as JSON, `--per-page` at a time,
with a "load more" button for the rest (200 comments, 50 a page: the page,
four JSON answers and three clicks). Each load goes through
`load_in_browser` with the archive's Fetcher (robots.txt, the host gate)
and must end without error, with exactly the expected responses and every
comment in the DOM, or the figures are void. Prints the wall time of each
load and the peak total RSS of its processes (the child, Playwright's
driver, Chromium's processes), as `BrowserLoad.peak_rss_bytes` says. RSS
counts the pages Chromium's processes share once in each of them, so the
benchmark also samples Chromium's proportional share (PSS, from
/proc/PID/smaps_rollup): closer to what a load really takes from the machine.

    .venv/bin/python bench/browser_bench.py [--loads 5] [--comments 200] [--per-page 50]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.capture.fetch.browser import browser_problem, load_in_browser  # noqa: E402
from archive.capture.fetch.fetcher import Fetcher  # noqa: E402
from archive.settings import Settings  # noqa: E402
from config import TestConfig  # noqa: E402
from scrapers.base import BrowserPlan  # noqa: E402
from tests.local_server import LocalServer  # noqa: E402

PROC = Path("/proc")

ARTICLE = """<!doctype html><html><head><title>Article</title></head><body>
<h1>An article</h1><p>Its text.</p><section id="comments"></section>
<button id="more" hidden>Load more comments</button>
<script>
let next = "/api/comments?page=1";
async function load() {
  const data = await (await fetch(next, {headers: {"Accept": "application/json"}})).json();
  for (const c of data.comments) {
    const item = document.createElement("article");
    item.className = "comment";
    item.innerHTML = "<b></b><p></p>";
    item.querySelector("b").textContent = c.author;
    item.querySelector("p").textContent = c.text;
    document.getElementById("comments").appendChild(item);
  }
  next = data.next;
  document.getElementById("more").hidden = !next;
}
document.getElementById("more").addEventListener("click", load);
load();
</script></body></html>"""


def serve(server: LocalServer, comments: int, per_page: int) -> int:
    """Route the article and its JSON pages; how many JSON pages there are."""
    server.route("/article", ARTICLE)
    pages = max(1, -(-comments // per_page))
    for page in range(1, pages + 1):
        first = (page - 1) * per_page
        body = {"comments": [{"author": f"Reader {i}", "text": f"Comment number {i}, a few words long."}
                             for i in range(first, min(comments, first + per_page))],
                "next": f"/api/comments?page={page + 1}" if page < pages else None}
        server.route(f"/api/comments?page={page}", json.dumps(body), content_type="application/json")
    return pages


def _pss_bytes(pid: str) -> int:
    for line in (PROC / pid / "smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


class PssSampler:
    """The highest total PSS of the processes naming `marker` (Chromium's), sampled four times a second."""

    def __init__(self, marker: str) -> None:
        self._marker = marker.encode()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            total = 0
            for pid in (name for name in os.listdir(PROC) if name.isdigit()):
                try:
                    if self._marker in (PROC / pid / "cmdline").read_bytes():
                        total += _pss_bytes(pid)
                except OSError:
                    continue
            self.peak = max(self.peak, total)

    def __enter__(self) -> PssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--comments", type=int, default=200)
    parser.add_argument("--per-page", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir, LocalServer() as server:
        settings = Settings.from_config(TestConfig(DATA_DIR=data_dir))
        problem = browser_problem(settings)
        if problem:
            print(problem)
            return 1
        pages = serve(server, args.comments, args.per_page)
        plan = BrowserPlan(url=server.url("/article"), ready_selector="article.comment",
                           more_selector="#more", settle_ms=300)
        fetcher = Fetcher(user_agent=settings.user_agent, min_host_delay=0.0, timeout=10.0,
                          max_bytes=settings.max_response_bytes, retries=0, allow_private=True)
        seconds: list[float] = []
        peaks: list[float] = []
        shares: list[float] = []
        with fetcher:
            for number in range(1, args.loads + 1):
                started = time.perf_counter()
                with PssSampler(data_dir) as pss:
                    load = load_in_browser(plan, fetcher, settings)
                took = time.perf_counter() - started
                shown = load.dom.decode().count('class="comment"') if load.dom else 0
                if load.error or len(load.responses) != 1 + pages or shown != args.comments:
                    print(f"load {number} is void: error={load.error!r}, {len(load.responses)} responses "
                          f"(expected {1 + pages}), {shown} comments shown (expected {args.comments})")
                    return 1
                peak = (load.peak_rss_bytes or 0) / 2**20
                seconds.append(took)
                peaks.append(peak)
                shares.append(pss.peak / 2**20)
                print(f"load {number}: {took:.2f} s, peak RSS {peak:.0f} MiB (Chromium's PSS "
                      f"{shares[-1]:.0f} MiB), {len(load.responses)} responses, {shown} comments")
    print(f"{args.loads} loads of {args.comments} comments ({pages} JSON pages, {pages - 1} clicks): "
          f"median {statistics.median(seconds):.2f} s, slowest {max(seconds):.2f} s; "
          f"peak RSS median {statistics.median(peaks):.0f} MiB, highest {max(peaks):.0f} MiB; "
          f"Chromium's peak PSS median {statistics.median(shares):.0f} MiB, highest {max(shares):.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
