"""Browser loads (archive/capture/fetch/browser.py): a real headless Chromium against pages on loopback.

Every request the page makes must reach the server through the archive's
Fetcher; whatever the page does, the load ends by its deadline and leaves no
process behind. Without Chromium or Playwright the tests are skipped with
the reason, except in CI (CI=true), where they fail.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import config
from archive.capture.fetch.browser import BrowserLoad, browser_problem, load_in_browser
from archive.capture.fetch.fetcher import Fetcher
from archive.settings import Settings
from scrapers.base import BrowserPlan
from tests.local_server import LocalServer

pytestmark = pytest.mark.browser

UA = "ArchiveTestBot/1.0 (+https://example.org/bot)"
IN_CI = os.environ.get("CI") == "true"
# Short: the hostile pages each cost up to their deadline.
DEADLINE = 8

COMMENTS_PAGE = """<!doctype html><html><body><h1>Article</h1><div id="comments"></div>
<button id="more" hidden>Load more</button>
<script>
let next = "/api/comments?page=1";
async function load() {
  const answer = await fetch(next, {headers: {"Accept": "application/json"}});
  const data = await answer.json();
  for (const c of data.comments) {
    const p = document.createElement("p");
    p.className = "comment";
    p.textContent = c.author + ": " + c.text;
    document.getElementById("comments").appendChild(p);
  }
  next = data.next;
  document.getElementById("more").hidden = !next;
}
document.getElementById("more").addEventListener("click", load);
load();
</script></body></html>"""


def _comments(page: int, pages: int) -> str:
    return json.dumps({"comments": [{"author": f"reader{page}-{i}", "text": f"comment {i} of page {page}"}
                                    for i in range(3)],
                       "next": f"/api/comments?page={page + 1}" if page < pages else None})


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("browser-loads")
    found = Settings.from_config(config.TestConfig(DATA_DIR=str(data_dir), BROWSER_SECONDS=DEADLINE))
    problem = browser_problem(found)
    if problem:
        if IN_CI:
            pytest.fail(problem)
        pytest.skip(problem)
    return found


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(user_agent=UA, min_host_delay=0.0, timeout=5.0, max_bytes=1_000_000, retries=0,
                 allow_private=True) as made:
        yield made


def _left_behind(settings: Settings) -> list[str]:
    """Live processes naming the test's data folder (every Chromium process of a load does)."""
    marker = str(settings.data_dir).encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cmdline = Path("/proc", name, "cmdline").read_bytes()
            state = Path("/proc", name, "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state not in ("Z", "X"):
            found.append(f"{name}: {cmdline[:120]!r}")
    return found


def _load(server: LocalServer, fetcher: Fetcher, settings: Settings, path: str, **plan: object) -> BrowserLoad:
    load = load_in_browser(BrowserPlan(url=server.url(path), **plan), fetcher, settings)  # type: ignore[arg-type]
    assert _left_behind(settings) == []
    assert list((settings.data_dir / "browser").iterdir()) == []
    return load


def test_a_widget_loaded_by_script_is_captured_with_its_json(server: LocalServer, fetcher: Fetcher,
                                                             settings: Settings) -> None:
    server.route("/article", COMMENTS_PAGE)
    server.route("/api/comments", _comments(1, 1), content_type="application/json")
    load = _load(server, fetcher, settings, "/article", ready_selector="p.comment", settle_ms=100)
    assert load.error is None, load.error
    urls = [r.url for r in load.responses]
    assert urls == [server.url("/article"), server.url("/api/comments?page=1")]
    api = load.responses[1]
    assert api.ok and api.method == "GET" and api.body == _comments(1, 1).encode()
    assert server.last("/api/comments").header("user-agent") == UA
    assert load.dom is not None and "reader1-2: comment 2 of page 1" in load.dom.decode()
    assert load.screenshot is not None and load.screenshot.startswith(b"\x89PNG\r\n\x1a\n")
    assert load.peak_rss_bytes is not None and load.peak_rss_bytes > 10_000_000
