"""Browser captures: one article loaded in headless Chromium, every request through the Fetcher.

`load_in_browser(plan, fetcher, settings)` runs the load in a child process
(archive.capture.fetch.browser_child) in a session of its own, and

- answers each request the page makes (method, URL, Accept, Content-Type,
  a POST's body) with the archive's `Fetcher`: robots.txt, per-host delays,
  the private-address guard and the size and time caps apply to the browser
  as to any capture, this process stays the only one that talks to the
  network, and every response is an exchange the capture can keep. A
  refused request is a `FetchResult` with `error` set, and the page sees it
  fail. A redirect is followed by the fetcher and the page gets the final
  answer under the URL it asked for (Playwright does not route the request
  that follows a redirect, so the page must never see one: that request
  would leave past the fetcher). In case anything else slips past the
  route, Chromium's only proxy is a port that refuses connections;
- ends at the deadline (ARCHIVE_BROWSER_SECONDS) whatever the page does: a
  script running `for(;;){}` hangs every Playwright call, so the only end
  is SIGKILL to each process group of the load (the child's and Chromium's,
  archive.capture.fetch.processes), sent after every load, good or bad;
- caps what the child may send: the DOM (MAX_DOM_BYTES), the screenshot
  (MAX_SCREENSHOT_BYTES), a POST's body (MAX_POST_BYTES);
- leaves requests out without failing the load (the page sees them fail;
  `notes` says how many): the kinds ARCHIVE_BROWSER_SKIP names (images,
  media and fonts by default), and every request beyond
  ARCHIVE_BROWSER_MAX_REQUESTS. Only the adapter's responses matter, and a
  page with many images must neither fail for them nor make the site
  answer each one.

Requests are fetched four at a time (FETCH_THREADS); the Fetcher still
sends one host's requests one after another, its delay apart
(ARCHIVE_MIN_HOST_DELAY), which is why images are skipped by default: a
page with many requests to its own host needs a deadline to match. Nothing
is sent after the deadline (the fetcher's `send_by`); an answer still
arriving then is read to its end in the background (within the fetcher's
time cap) and not reported.

One load runs at a time in a process (`_ONE_LOAD`): Chromium takes hundreds
of MiB, and a worker pool of them would take the machine.
"""
from __future__ import annotations

import importlib.util
import os
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive import ROOT
from archive.capture.fetch.addresses import normalise_url
from archive.capture.fetch.browser_wire import MAX_HEAD, FrameBuffer, WireError, encode
from archive.capture.fetch.fetcher import METHODS, Fetcher, FetchResult
from archive.capture.fetch.processes import LoadProcesses
from archive.clock import utcnow
from archive.errors import UrlRejected

if TYPE_CHECKING:
    from archive.settings import Settings
    from scrapers.base import BrowserPlan

MAX_DOM_BYTES = 10_000_000
MAX_SCREENSHOT_BYTES = 20_000_000
MAX_POST_BYTES = 1_000_000
FETCH_THREADS = 4
POLL_SECONDS = 0.25
SEND_TIMEOUT = 10.0
CHILD = "archive.capture.fetch.browser_child"
# Not handed to the page: the fetcher decoded the body already and framed it
# itself, and a capture is an anonymous first-time reader (no cookies).
DROPPED_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection",
                             "keep-alive", "set-cookie", "set-cookie2"})

# Process-wide on purpose: see the module docstring.
_ONE_LOAD = threading.Lock()


@dataclass
class BrowserLoad:
    """What one browser load gave; see the module docstring."""

    responses: list[FetchResult]   # every request the page made, in order, each through the Fetcher
    dom: bytes | None              # the final DOM as UTF-8 HTML, None if not reached
    screenshot: bytes | None       # full-page PNG, None if not reached
    error: str | None              # one line: why the load failed
    peak_rss_bytes: int | None     # highest total RSS of the load's processes seen
    # What the load left out without failing: requests beyond the cap, a
    # "load more" button still showing after the last click, a screenshot
    # cut to the window.
    notes: list[str] = field(default_factory=list)


def browser_problem(settings: Settings) -> str | None:
    """Why browser captures cannot run here, in one line, or None."""
    if shutil.which(settings.browser) is None:
        return (f"Chromium not found at {settings.browser} "
                f"(install Debian's chromium package, or set ARCHIVE_BROWSER)")
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (pip install -r requirements.txt)"
    return None


def load_in_browser(plan: BrowserPlan, fetcher: Fetcher, settings: Settings) -> BrowserLoad:
    """Load `plan.url` in headless Chromium; never raises for what the page or the browser does."""
    problem = browser_problem(settings)
    if problem is not None:
        return BrowserLoad([], None, None, problem, None)
    try:
        # Only http(s): Playwright's route never sees a file: URL, Chromium would just open it.
        normalise_url(plan.url)
    except UrlRejected as exc:
        return BrowserLoad([], None, None, f"the page could not be loaded: {exc}", None)
    with _ONE_LOAD:
        return _Load(plan, fetcher, settings).run()


def _refusal(method: str, url: str, error: str) -> FetchResult:
    return FetchResult(url=url, final_url=url, status=None, header_lines=[], body=b"", request_headers={},
                       redirects=[], fetched_at=utcnow(), elapsed_ms=0, error=error, method=method)


class _Load:
    """One load: the child, its socket, and the requests it asked for."""

    def __init__(self, plan: BrowserPlan, fetcher: Fetcher, settings: Settings) -> None:
        self.plan, self.fetcher, self.settings = plan, fetcher, settings
        self.seconds = settings.browser_seconds
        self._lock = threading.Lock()
        self._results: dict[int, FetchResult] = {}
        self._finished = False
        self._send_lock = threading.Lock()
        self._peak = 0
        self._dom: bytes | None = None
        self._screenshot: bytes | None = None
        self._deadline = time.monotonic() + self.seconds

    def run(self) -> BrowserLoad:
        deadline = self._deadline
        parent_end, child_end = socket.socketpair()
        # Bound, never listening: a connection to it is refused at once.
        dead_end = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        pool = ThreadPoolExecutor(FETCH_THREADS, thread_name_prefix="browser-fetch")
        work = scratch = None
        processes: LoadProcesses | None = None
        child: subprocess.Popen[bytes] | None = None
        notes: list[str] = []
        try:
            root = self.settings.data_dir / "browser"
            root.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix="load-", dir=root))
            # Chromium makes a Unix socket in TMPDIR, whose path must stay
            # short (108 bytes): the system's temporary folder, not the data folder.
            scratch = Path(tempfile.mkdtemp(prefix="archive-browser-"))
            with open(work / "child.log", "wb") as log:
                child = subprocess.Popen(
                    [sys.executable, "-m", CHILD, str(child_end.fileno())],
                    pass_fds=(child_end.fileno(),), start_new_session=True, stdin=subprocess.DEVNULL,
                    stdout=log, stderr=log, env=_child_env(work, scratch), cwd=work)
            child_end.close()
            processes = LoadProcesses(child.pid, str(work))
            dead_end.bind(("127.0.0.1", 0))
            parent_end.settimeout(SEND_TIMEOUT)
            parent_end.sendall(encode(self._job(work, deadline, dead_end.getsockname()[1])))
            error, notes = self._converse(parent_end, processes, pool, deadline, child, work)
        except (OSError, WireError) as exc:
            error = f"the browser capture failed: {_one_line(exc)}"
        finally:
            with self._lock:
                self._finished = True
            pool.shutdown(wait=False, cancel_futures=True)
            if processes is not None and not processes.kill():
                notes.append("some of the browser's processes outlived SIGKILL for 5 s")
            if child is not None:
                child.kill()
                child.wait()
            for sock in (parent_end, child_end, dead_end):
                sock.close()
            for folder in (work, scratch):
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)
        with self._lock:
            responses = [self._results[i] for i in sorted(self._results)]
        return BrowserLoad(responses, self._dom, self._screenshot, error, self._peak or None, notes)

    def _job(self, work: Path, deadline: float, dead_port: int) -> dict[str, Any]:
        plan = self.plan
        return {"kind": "job", "url": plan.url, "ready_selector": plan.ready_selector,
                "ready_response": plan.ready_response, "more_selector": plan.more_selector, "seconds": self.seconds,
                "max_clicks": max(0, min(plan.max_clicks, self.settings.browser_max_clicks)),
                "settle_ms": max(0, plan.settle_ms), "scroll": plan.scroll,
                "browser": self.settings.browser, "user_data_dir": str(work / "profile"),
                "user_agent": self.settings.user_agent, "deadline": deadline,
                "max_requests": self.settings.browser_max_requests, "skip": sorted(self.settings.browser_skip),
                "max_dom": MAX_DOM_BYTES,
                "max_screenshot": MAX_SCREENSHOT_BYTES, "max_body": self.fetcher.max_bytes,
                "proxy": f"http://127.0.0.1:{dead_port}"}

    def _converse(self, sock: socket.socket, processes: LoadProcesses, pool: ThreadPoolExecutor,
                  deadline: float, child: subprocess.Popen[bytes], work: Path) -> tuple[str | None, list[str]]:
        """Answer the child until it is done, gone or out of time: (error, notes)."""
        frames = FrameBuffer(max(MAX_DOM_BYTES, MAX_SCREENSHOT_BYTES, MAX_POST_BYTES) + MAX_HEAD)
        sampled = 0.0
        # Not select.select: a busy worker's descriptors may be numbered past its 1024.
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            while True:
                now = time.monotonic()
                if now - sampled >= POLL_SECONDS:
                    self._peak, sampled = max(self._peak, processes.rss_bytes()), now
                if now >= deadline:
                    return f"the browser capture passed its {self.seconds:g} s deadline", []
                if not selector.select(min(POLL_SECONDS, deadline - now)):
                    continue
                data = sock.recv(1 << 20)
                if not data:
                    return _ended(child, work), []
                for head, body in frames.feed(data):
                    if head["kind"] == "done":
                        notes = [str(n)[:300] for n in head.get("notes") or []][:20]
                        return (_one_line(head["error"]) if head.get("error") else None), notes
                    self._take(sock, pool, head, body)

    def _take(self, sock: socket.socket, pool: ThreadPoolExecutor, head: dict[str, Any], body: bytes) -> None:
        """One frame from the child before its last."""
        kind = head["kind"]
        if kind == "request":
            self._ask(sock, pool, head, body)
        elif kind == "dom" and len(body) <= MAX_DOM_BYTES:
            self._dom = body
        elif kind == "screenshot" and len(body) <= MAX_SCREENSHOT_BYTES:
            self._screenshot = body
        else:
            raise WireError(f"an unexpected {kind!r} frame of {len(body)} bytes")

    def _ask(self, sock: socket.socket, pool: ThreadPoolExecutor, head: dict[str, Any], body: bytes) -> None:
        request_id, method, url = head.get("id"), str(head.get("method")), str(head.get("url"))
        if not isinstance(request_id, int):
            raise WireError("a request without an id")
        pool.submit(self._fetch, sock, request_id, method, url, head, body)

    def _fetch(self, sock: socket.socket, request_id: int, method: str, url: str, head: dict[str, Any],
               body: bytes) -> None:
        if method not in METHODS:
            result = _refusal(method, url, f"a browser capture sends {' and '.join(METHODS)} only, not {method}")
        elif len(body) > MAX_POST_BYTES:
            result = _refusal(method, url, f"a request body larger than {MAX_POST_BYTES} bytes")
        else:
            try:
                result = self.fetcher.fetch(url, accept=_text(head.get("accept")), method=method,
                                            body=body if method == "POST" else None,
                                            content_type=_text(head.get("content_type")),
                                            send_by=self._deadline)
            except Exception as exc:
                # The host gate's database, say: the page must still get an answer.
                result = _refusal(method, url, f"the fetch failed: {type(exc).__name__}: {_one_line(exc)}")
        with self._lock:
            if self._finished:
                return
            self._results[request_id] = result
        self._answer(sock, request_id, result)

    def _answer(self, sock: socket.socket, request_id: int, result: FetchResult) -> None:
        head: dict[str, Any] = {"kind": "response", "id": request_id, "status": result.status,
                                "error": result.error, "header_lines": []}
        body = b""
        if result.error is None:
            head["header_lines"] = [[n, v] for n, v in result.header_lines if n.lower() not in DROPPED_HEADERS]
            body = result.body
        try:
            with self._send_lock:
                sock.sendall(encode(head, body))
        except OSError:
            pass  # the child is gone; the main loop reports why


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _one_line(value: object) -> str:
    return " ".join(str(value).split())[:300]


def _child_env(work: Path, scratch: Path) -> dict[str, str]:
    """The child's environment: everything Chromium and Playwright write stays in `work` and `scratch`."""
    env = dict(os.environ)
    for name in ("home", "config", "cache"):
        (work / name).mkdir()
    env.update(HOME=str(work / "home"), XDG_CONFIG_HOME=str(work / "config"),
               XDG_CACHE_HOME=str(work / "cache"), TMPDIR=str(scratch),
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p))
    return env


def _ended(child: subprocess.Popen[bytes], work: Path) -> str:
    """Why the child stopped talking, from its exit code and the last line it wrote."""
    try:
        code: int | None = child.wait(timeout=2)
    except subprocess.TimeoutExpired:
        code = None
    try:
        lines = (work / "child.log").read_bytes()[-4000:].decode("utf-8", "replace").splitlines()
    except OSError:
        lines = []
    last = next((line.strip() for line in reversed(lines) if line.strip()), "")
    said = f": {_one_line(last)}" if last else ""
    return f"the browser process ended unexpectedly (exit code {code}){said}"
