"""Browser loads (archive/capture/fetch/browser.py): a real headless Chromium against pages on loopback.

Every request the page makes must reach the server through the archive's
Fetcher; whatever the page does, the load ends by its deadline and leaves no
process behind. Without Chromium or Playwright the tests are skipped with
the reason, except in CI (CI=true), where they fail.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
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

WIDGET_PAGE = """<!doctype html><html><body><h1>Article</h1><div id="comments"></div>
<button id="more" hidden>Load more</button>
<script>
let next = "API?page=1";
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


def _widget(api: str) -> str:
    """An article whose script loads its comments from `api` (?page=1, then the answers' "next")."""
    return WIDGET_PAGE.replace("API", api)


def _comments(page: int, pages: int, api: str) -> str:
    return json.dumps({"comments": [{"author": f"reader{page}-{i}", "text": f"comment {i} of page {page}"}
                                    for i in range(3)],
                       "next": f"{api}?page={page + 1}" if page < pages else None})


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        local.robots("User-agent: *\nDisallow: /private/\n")
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
    server.route("/article", _widget("/api/first"))
    server.route("/api/first", _comments(1, 1, "/api/first"), content_type="application/json")
    load = _load(server, fetcher, settings, "/article", ready_selector="p.comment", settle_ms=100)
    assert load.error is None, load.error
    urls = [r.url for r in load.responses]
    assert urls == [server.url("/article"), server.url("/api/first?page=1")]
    api = load.responses[1]
    assert api.ok and api.method == "GET" and api.body == _comments(1, 1, "/api/first").encode()
    assert server.last("/api/first").header("user-agent") == UA
    assert load.dom is not None and "reader1-2: comment 2 of page 1" in load.dom.decode()
    assert load.screenshot is not None and load.screenshot.startswith(b"\x89PNG\r\n\x1a\n")
    assert load.peak_rss_bytes is not None and load.peak_rss_bytes > 10_000_000


def test_load_more_is_clicked_until_it_is_gone(server: LocalServer, fetcher: Fetcher,
                                               settings: Settings) -> None:
    server.route("/thread", _widget("/api/thread"))
    for page in (1, 2, 3):
        server.route(f"/api/thread?page={page}", _comments(page, 3, "/api/thread"),
                     content_type="application/json")
    load = _load(server, fetcher, settings, "/thread", ready_selector="p.comment",
                 more_selector="#more", settle_ms=300)
    assert load.error is None, load.error
    assert [r.url for r in load.responses][1:] == [server.url(f"/api/thread?page={n}") for n in (1, 2, 3)]
    assert load.dom is not None and "reader3-0: comment 0 of page 3" in load.dom.decode()
    assert load.notes == []


def test_clicks_stop_at_the_plan_s_bound_and_say_so(server: LocalServer, fetcher: Fetcher,
                                                    settings: Settings) -> None:
    server.route("/long-thread", _widget("/api/long"))
    for page in (1, 2, 3):
        server.route(f"/api/long?page={page}", _comments(page, 3, "/api/long"), content_type="application/json")
    load = _load(server, fetcher, settings, "/long-thread", ready_selector="p.comment",
                 more_selector="#more", max_clicks=1, settle_ms=300)
    assert load.error is None, load.error
    assert len(load.responses) == 3  # the article, pages 1 and 2
    assert load.notes == ["the 'load more' button '#more' still showed after 1 clicks"]


def test_a_widget_in_a_cross_origin_iframe_is_waited_for(server: LocalServer, fetcher: Fetcher,
                                                         settings: Settings) -> None:
    widget = server.url("/widget", host="localhost")
    server.route("/framed", f'<!doctype html><body><h1>Article</h1><iframe src="{widget}"></iframe></body>')
    server.route("/widget", _widget("/api/framed"))
    server.route("/api/framed", _comments(1, 1, "/api/framed"), content_type="application/json")
    load = _load(server, fetcher, settings, "/framed", ready_selector="p.comment", settle_ms=100)
    assert load.error is None, load.error
    assert [r.url for r in load.responses] == [server.url("/framed"), widget,
                                               server.url("/api/framed?page=1", host="localhost")]


def test_the_plan_may_wait_for_a_response_instead(server: LocalServer, fetcher: Fetcher,
                                                  settings: Settings) -> None:
    server.route("/answered", _widget("/api/answers"))
    server.route("/api/answers", _comments(1, 1, "/api/answers"), content_type="application/json")
    load = _load(server, fetcher, settings, "/answered", ready_response="/api/answers?page=", settle_ms=0)
    assert load.error is None, load.error
    assert load.responses[-1].body == _comments(1, 1, "/api/answers").encode()


def test_a_widget_that_loads_when_scrolled_into_view(server: LocalServer, fetcher: Fetcher,
                                                     settings: Settings) -> None:
    server.route("/lazy", """<!doctype html><body><h1>Article</h1><div style="height: 5000px"></div>
<div id="comments"></div><script>
new IntersectionObserver((seen, observer) => {
  if (!seen[0].isIntersecting) return;
  observer.disconnect();
  fetch("/api/lazy").then(r => r.json()).then(d => {
    document.getElementById("comments").innerHTML = "<p class=comment>" + d.comments[0].text + "</p>";
  });
}).observe(document.getElementById("comments"));
</script></body>""")
    server.route("/api/lazy", _comments(1, 1, "/api/lazy"), content_type="application/json")
    load = _load(server, fetcher, settings, "/lazy", ready_selector="p.comment", settle_ms=100)
    assert load.error is None, load.error
    assert load.dom is not None and "comment 0 of page 1" in load.dom.decode()


def test_robots_txt_binds_the_page_s_own_requests(server: LocalServer, fetcher: Fetcher,
                                                  settings: Settings) -> None:
    server.route("/fenced", _widget("/private/comments"))
    server.route("/private/comments", _comments(1, 1, "/private/comments"), content_type="application/json")
    load = _load(server, fetcher, settings, "/fenced", ready_selector="p.comment", settle_ms=100)
    refused = [r for r in load.responses if r.url == server.url("/private/comments?page=1")]
    assert len(refused) == 1 and refused[0].robots_disallowed and refused[0].error
    assert server.count("/private/comments") == 0
    assert load.error == ("the page never showed the element 'p.comment' within the "
                          f"{DEADLINE} s deadline")
    assert load.dom is not None and "Article" in load.dom.decode()


def test_a_page_robots_txt_forbids_is_not_loaded(server: LocalServer, fetcher: Fetcher,
                                                  settings: Settings) -> None:
    server.route("/private/article", _widget("/api/first"))
    load = _load(server, fetcher, settings, "/private/article", ready_selector="p.comment")
    assert load.error == "the page could not be loaded: robots.txt disallows this URL for ArchiveTestBot"
    assert [r.robots_disallowed for r in load.responses] == [True]
    assert load.dom is None and server.count("/private/article") == 0


def test_an_error_page_is_named_as_such(server: LocalServer, fetcher: Fetcher, settings: Settings) -> None:
    server.route("/gone", "<p>Not here</p>", status=410)
    load = _load(server, fetcher, settings, "/gone", ready_selector="p.comment", settle_ms=0)
    assert load.error == ("the page answered HTTP 410 and never showed the element 'p.comment' "
                          f"within the {DEADLINE} s deadline")
    assert load.responses[0].status == 410 and load.dom is not None and b"Not here" in load.dom


def test_a_post_from_the_page_goes_through_the_fetcher(server: LocalServer, fetcher: Fetcher,
                                                       settings: Settings) -> None:
    query = json.dumps({"query": "{ comments { text } }"})
    server.route("/graphql-article", """<!doctype html><body><div id="out"></div>
<div id="socket"></div><div id="worker"></div>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<script>
const socket = new WebSocket("ws://" + location.host + "/live");
socket.onopen = () => { document.getElementById("socket").textContent = "socket open"; };
socket.onclose = () => { document.getElementById("socket").textContent = "socket closed"; };
// Playwright's "block" makes register() resolve to nothing instead of a registration.
navigator.serviceWorker.register("/worker.js").then(
  (registration) => {
    document.getElementById("worker").textContent = registration ? "worker registered" : "worker blocked";
  },
  () => { document.getElementById("worker").textContent = "worker refused"; });
fetch("/graphql", {method: "POST", headers: {"Content-Type": "application/json"}, body: QUERY})
  .then(r => r.json()).then(d => { document.getElementById("out").innerHTML = "<p class=done>" + d.text + "</p>"; });
</script></body>""".replace("QUERY", json.dumps(query)))
    server.route("/graphql", '{"text": "answered by POST"}', content_type="application/json")
    load = _load(server, fetcher, settings, "/graphql-article", ready_selector="p.done", settle_ms=300)
    assert load.error is None, load.error
    posts = [r for r in load.responses if r.method == "POST"]
    assert len(posts) == 1 and posts[0].ok
    assert posts[0].request_body == query.encode() and posts[0].body == b'{"text": "answered by POST"}'
    arrived = server.last("/graphql")
    assert arrived.method == "POST" and arrived.body == query.encode()
    assert arrived.header("content-type") == "application/json"
    dom = load.dom.decode() if load.dom else ""
    assert "answered by POST" in dom and "socket closed" in dom
    assert server.count("/live") == 0
    assert "worker blocked" in dom and server.count("/worker.js") == 0
    assert all(r.url.startswith("http") for r in load.responses)


def test_a_redirect_is_fetched_once_and_the_page_follows_it(server: LocalServer, fetcher: Fetcher,
                                                            settings: Settings) -> None:
    server.route("/moved-article", _widget("/api/moved"))
    server.route("/api/moved", _comments(1, 1, "/api/moved"), content_type="application/json")
    server.redirect("/old-article", "/moved-article", status=301)
    server.clear_requests()
    load = _load(server, fetcher, settings, "/old-article", ready_selector="p.comment", settle_ms=100)
    assert load.error is None, load.error
    first = load.responses[0]
    assert first.url == server.url("/old-article") and first.final_url == server.url("/moved-article")
    assert first.redirects == [{"url": server.url("/old-article"), "status": 301}]
    assert server.count("/moved-article") == 1
    assert [r.url for r in load.responses][1:] == [server.url("/api/moved?page=1")]


def test_requests_beyond_the_cap_are_not_sent_and_the_load_goes_on(server: LocalServer, fetcher: Fetcher,
                                                                   settings: Settings) -> None:
    server.route("/busy-page", "<!doctype html><body><p class=ready>ready</p><script>"
                               "for (let n = 0; n < 12; n++) fetch('/beacons/' + n);</script></body>")
    for n in range(12):
        server.route(f"/beacons/{n}", "{}", content_type="application/json")
    capped = replace(settings, browser_max_requests=5)
    load = _load(server, fetcher, capped, "/busy-page", ready_selector="p.ready", settle_ms=500)
    assert load.error is None, load.error
    assert len(load.responses) == 5
    assert load.notes == ["8 requests beyond the cap of 5 were not sent"]
    assert sum(server.count(f"/beacons/{n}") for n in range(12)) == 4


def test_images_are_not_fetched_unless_the_settings_ask(server: LocalServer, fetcher: Fetcher,
                                                        settings: Settings) -> None:
    images = "".join(f'<img src="/pictures/{n}.gif">' for n in range(3))
    server.route("/gallery", f"<!doctype html><body><p class=ready>pictures</p>{images}</body>")
    load = _load(server, fetcher, settings, "/gallery", ready_selector="p.ready", settle_ms=300)
    assert load.error is None, load.error
    assert [r.url for r in load.responses] == [server.url("/gallery")]
    assert load.notes == ["3 image requests were not sent (ARCHIVE_BROWSER_SKIP)"]
    assert sum(server.count(f"/pictures/{n}.gif") for n in range(3)) == 0
    everything = replace(settings, browser_skip=frozenset())
    load = _load(server, fetcher, everything, "/gallery", ready_selector="p.ready", settle_ms=300)
    assert load.error is None and load.notes == []
    assert sorted(r.url for r in load.responses[1:]) == [server.url(f"/pictures/{n}.gif") for n in range(3)]


def _freeze_child_once_asked(server: LocalServer, path: str, settings: Settings) -> threading.Thread:
    """Stop (SIGSTOP) the load's child once the page asked for `path`: a child that hangs."""
    def freeze() -> None:
        until = time.monotonic() + DEADLINE
        while time.monotonic() < until and not server.count(path):
            time.sleep(0.05)
        for name in os.listdir("/proc"):
            try:
                cwd = os.readlink(f"/proc/{name}/cwd")
                cmdline = Path("/proc", name, "cmdline").read_bytes()
            except OSError:
                continue
            if cwd.startswith(str(settings.data_dir)) and b"browser_child" in cmdline:
                os.kill(int(name), signal.SIGSTOP)

    thread = threading.Thread(target=freeze, daemon=True)
    thread.start()
    return thread


def test_a_browser_that_dies_is_reported(server: LocalServer, fetcher: Fetcher, settings: Settings) -> None:
    server.route("/doomed", "<p>x</p>")

    def kill_chromium() -> None:
        until = time.monotonic() + DEADLINE
        while time.monotonic() < until and not server.count("/doomed"):
            time.sleep(0.05)
        for name in os.listdir("/proc"):
            try:
                cmdline = Path("/proc", name, "cmdline").read_bytes()
            except OSError:
                continue
            if str(settings.data_dir).encode() in cmdline and b"--type=" not in cmdline:
                os.kill(int(name), signal.SIGKILL)

    killer = threading.Thread(target=kill_chromium, daemon=True)
    killer.start()
    load = _load(server, fetcher, settings, "/doomed", ready_selector="p.never")
    killer.join()
    assert load.error == "the browser closed unexpectedly"


def test_a_child_that_hangs_is_killed_at_the_deadline(server: LocalServer, fetcher: Fetcher,
                                                      settings: Settings) -> None:
    server.route("/frozen", "<p>x</p><img src='/frozen-picture.gif'>")
    freezer = _freeze_child_once_asked(server, "/frozen", settings)
    load = _load(server, fetcher, settings, "/frozen", ready_selector="p.never")
    freezer.join()
    assert load.error == f"the browser capture passed its {DEADLINE} s deadline"
    assert load.dom is None and load.screenshot is None
    assert [r.url for r in load.responses][:1] == [server.url("/frozen")]


def test_a_page_that_eats_memory_crashes_only_its_renderer(server: LocalServer, fetcher: Fetcher,
                                                           settings: Settings) -> None:
    server.route("/hog", "<p>x</p><script>const keep = []; setTimeout(() => { for (;;) "
                         "{ keep.push(new Array(1e6).fill(Math.random())); } }, 50)</script>")
    load = _load(server, fetcher, settings, "/hog", ready_selector="p.never", settle_ms=100)
    assert load.error is not None
    assert "renderer crashed" in load.error or "deadline" in load.error


def test_a_missing_or_broken_chromium_or_a_bad_url_is_one_line(server: LocalServer, fetcher: Fetcher,
                                                  settings: Settings) -> None:
    missing = replace(settings, browser="/nonexistent/chromium")
    load = load_in_browser(BrowserPlan(url=server.url("/article")), fetcher, missing)
    assert load.error == ("Chromium not found at /nonexistent/chromium "
                          "(install Debian's chromium package, or set ARCHIVE_BROWSER)")
    local = load_in_browser(BrowserPlan(url="file:///etc/passwd"), fetcher, settings)
    assert local.error == "the page could not be loaded: only http and https URLs can be fetched (got file:)"
    broken = replace(settings, browser="/bin/false")
    load = _load(server, fetcher, broken, "/article")
    assert load.error is not None and load.error.startswith("Chromium failed to start: ")
    assert "\n" not in load.error and load.responses == []


# Run as a subreaper, like a worker that is its container's first process:
# the load's orphans come to it, and it must collect them.
SUBREAPER = """
import ctypes, json, os, sys
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
import config
from archive.capture.fetch.browser import load_in_browser
from archive.capture.fetch.fetcher import Fetcher
from archive.settings import Settings
from scrapers.base import BrowserPlan
settings = Settings.from_config(config.TestConfig(DATA_DIR=sys.argv[2]))
with Fetcher(user_agent="ArchiveTestBot/1.0", min_host_delay=0, timeout=5, max_bytes=10**6, retries=0,
             allow_private=True) as fetcher:
    load = load_in_browser(BrowserPlan(url=sys.argv[1], ready_selector="p.ready", settle_ms=0), fetcher, settings)
me = str(os.getpid())
zombies = []
for name in os.listdir("/proc"):
    try:
        fields = open(f"/proc/{name}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        continue
    if fields[1] == me and fields[0] == "Z":
        zombies.append(name)
print(json.dumps({"error": load.error, "zombies": zombies}))
"""


def test_a_worker_that_inherits_the_orphans_collects_them(server: LocalServer, settings: Settings) -> None:
    server.route("/reaped", "<p class=ready>x</p>")
    done = subprocess.run([sys.executable, "-c", SUBREAPER, server.url("/reaped"), str(settings.data_dir)],
                          cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True,
                          timeout=120, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"error": None, "zombies": []}
    assert _left_behind(settings) == []
