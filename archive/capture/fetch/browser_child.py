"""The child process of one browser load: headless Chromium through Playwright.

Run by archive.capture.fetch.browser as `python -m
archive.capture.fetch.browser_child FD`, FD being its end of a socket pair
(browser_wire.py has the frames). It reads the job, starts Chromium with a
fresh profile, and routes every request the page makes to the parent, which
fetches it with the archive's Fetcher and sends the answer back: this
process never talks to the network itself (data: and blob: URLs excepted,
they never leave the browser), and Chromium's only proxy refuses every
connection, so a request that slipped past the route fails. WebSockets are
closed, service workers blocked. It then follows the plan (load, wait for
what the plan waits for, scroll, click "load more"), sends the DOM and a
screenshot, and a last frame saying how it went.

Its own time limit stops the waiting early enough to still take the DOM,
and every call on the page is bounded by it (a page running `for(;;){}`
never answers one). The parent's deadline is the hard one: it SIGKILLs
this process and Chromium whatever state they are in.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import (
    Browser,
    BrowserContext,
    ElementHandle,
    Page,
    Playwright,
    Route,
    ViewportSize,
    WebSocketRoute,
    async_playwright,
)
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from archive.capture.fetch.browser_wire import MAX_HEAD, PREFIX, WireError, decode_head, encode, sizes

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run",
         # A runaway script crashes its renderer instead of eating the machine.
         "--js-flags=--max-old-space-size=256"]
POLL = 0.25
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
CRASHED = "the page's renderer crashed (a script may have used up its memory)"


@dataclass
class _State:
    """What the page's requests and events have shown so far."""

    requests: int = 0
    over_cap: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # resource type -> requests not sent
    answered: list[str] = field(default_factory=list)  # URLs fulfilled with an answer
    document_error: str | None = None  # why the main document was not answered
    document_status: int | None = None  # its HTTP status when it was
    crashed: bool = False
    closed: bool = False


class _Link:
    """The child's end of the socket: frames out, the parent's answers back by request id."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, max_body: int) -> None:
        self._reader, self._writer, self._max_body = reader, writer, max_body
        self._waiting: dict[int, asyncio.Future[tuple[dict[str, Any], bytes]]] = {}
        self._next_id = 0

    async def send(self, head: dict[str, Any], body: bytes = b"") -> None:
        self._writer.write(encode(head, body))
        await self._writer.drain()

    async def ask(self, head: dict[str, Any], body: bytes) -> tuple[dict[str, Any], bytes]:
        self._next_id += 1
        future: asyncio.Future[tuple[dict[str, Any], bytes]] = asyncio.get_running_loop().create_future()
        self._waiting[self._next_id] = future
        await self.send({**head, "id": self._next_id}, body)
        return await future

    async def listen(self) -> None:
        """Hand each answer to its request; a closed socket means the parent is gone."""
        try:
            while True:
                head, body = await read_frame(self._reader, self._max_body)
                future = self._waiting.pop(head.get("id", -1), None)
                if future is not None and not future.done():
                    future.set_result((head, body))
        except (asyncio.IncompleteReadError, ConnectionError, WireError):
            # Nobody is left to report to: end at once, Chromium with us (the parent kills the rest).
            os._exit(1)


async def read_frame(reader: asyncio.StreamReader, max_body: int) -> tuple[dict[str, Any], bytes]:
    head_size, body_size = sizes(await reader.readexactly(PREFIX.size), max_body)
    head = decode_head(await reader.readexactly(head_size))
    return head, await reader.readexactly(body_size)


def _one_line(exc: BaseException) -> str:
    # Playwright's messages carry a call log after the first line.
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]


def _left(until: float) -> float:
    return max(0.0, until - time.monotonic())


async def _on_route(route: Route, job: dict[str, Any], state: _State, link: _Link) -> None:
    request = route.request
    url = request.url
    try:
        if url.startswith(("data:", "blob:")):
            await route.continue_()
            return
        if not url.startswith(("http://", "https://")):
            await route.abort("blockedbyclient")
            return
        if request.resource_type in job["skip"]:
            state.skipped[request.resource_type] = state.skipped.get(request.resource_type, 0) + 1
            await route.abort("blockedbyclient")
            return
        if state.requests >= job["max_requests"]:
            state.over_cap += 1
            await route.abort("blockedbyclient")
            return
        state.requests += 1
        headers = request.headers
        head, body = await link.ask({"kind": "request", "method": request.method, "url": url,
                                     "accept": headers.get("accept"),
                                     "content_type": headers.get("content-type")},
                                    request.post_data_buffer or b"")
        document = request.is_navigation_request() and request.frame.parent_frame is None
        if head.get("error") or head.get("status") is None:
            if document:
                state.document_error = state.document_error or head.get("error") or "no answer"
            await route.abort("failed")
        else:
            state.answered.append(url)
            if document:
                state.document_status = int(head["status"])
            lines: dict[str, str] = {}
            for name, value in head["header_lines"]:
                lines[name] = f"{lines[name]}, {value}" if name in lines else value
            await route.fulfill(status=int(head["status"]), headers=lines, body=body)
    except PlaywrightError:
        # The page went away or navigated; or the request is one Playwright
        # cannot describe: it must not hang, and must not leave unanswered.
        with contextlib.suppress(PlaywrightError):
            await route.abort("failed")


async def _find(page: Page, selector: str, until: float, visible: bool = False) -> ElementHandle | None:
    """The first element matching `selector` in any frame (widgets live in iframes too)."""
    for frame in page.frames:
        try:
            handle = await asyncio.wait_for(frame.query_selector(selector), max(0.05, _left(until)))
            if handle is not None and (
                    not visible or await asyncio.wait_for(handle.is_visible(), max(0.05, _left(until)))):
                return handle
        except (TimeoutError, PlaywrightError):
            continue
    return None


async def _scroll(page: Page, until: float) -> None:
    # Widgets often load only once scrolled into view.
    with contextlib.suppress(TimeoutError, PlaywrightError):
        await asyncio.wait_for(page.evaluate(
            "window.scrollTo(0, document.documentElement.scrollHeight)"), max(0.05, _left(until)))


async def _settle(job: dict[str, Any], until: float) -> None:
    await asyncio.sleep(min(job["settle_ms"] / 1000, _left(until)))


async def _wait_ready(page: Page, job: dict[str, Any], state: _State, until: float) -> bool:
    selector, response = job["ready_selector"], job["ready_response"]
    if not selector and not response:
        try:
            await page.wait_for_load_state("domcontentloaded", timeout=_left(until) * 1000)
            return True
        except PlaywrightError:
            return False
    while not state.crashed and not state.closed:
        if response and any(response in url for url in state.answered):
            return True
        if selector and await _find(page, selector, until) is not None:
            return True
        if time.monotonic() >= until:
            return False
        if job["scroll"]:
            await _scroll(page, until)
        await asyncio.sleep(min(POLL, _left(until)))
    return False


def _awaited(job: dict[str, Any]) -> str:
    parts = [f"the element {job['ready_selector']!r}" if job["ready_selector"] else "",
             f"a response from a URL containing {job['ready_response']!r}" if job["ready_response"] else ""]
    return " or ".join(p for p in parts if p) or "its content"


async def _click_more(page: Page, job: dict[str, Any], until: float, notes: list[str]) -> None:
    selector = job["more_selector"]
    clicks = 0
    while clicks < job["max_clicks"] and time.monotonic() < until:
        button = await _find(page, selector, until, visible=True)
        if button is None:
            return
        # A button re-rendered under the click fails it: look for it again.
        with contextlib.suppress(PlaywrightError):
            await button.click(timeout=max(1.0, _left(until)) * 1000)
        clicks += 1
        await _settle(job, until)
    if await _find(page, selector, until, visible=True) is not None:
        why = "time ran out" if time.monotonic() >= until else f"{clicks} clicks"
        notes.append(f"the 'load more' button {selector!r} still showed after {why}")


class _NotLoaded(Exception):
    """The page's document never arrived: there is no DOM to keep."""


async def _drive(page: Page, job: dict[str, Any], state: _State, until: float,
                 notes: list[str]) -> str | None:
    """Follow the plan; the error that ended it early, if any."""
    try:
        await page.goto(job["url"], wait_until="commit", timeout=max(1.0, _left(until)) * 1000)
    except PlaywrightTimeoutError:
        raise _NotLoaded(f"the page did not load within the {job['seconds']:g} s deadline") from None
    except PlaywrightError as exc:
        raise _NotLoaded(f"the page could not be loaded: {state.document_error or _one_line(exc)}") from None
    if not await _wait_ready(page, job, state, until):
        if state.crashed:
            return None
        status = state.document_status or 200
        answered = f"the page answered HTTP {status} and " if status >= 400 else "the page "
        return f"{answered}never showed {_awaited(job)} within the {job['seconds']:g} s deadline"
    await _settle(job, until)
    if job["scroll"]:
        await _scroll(page, until)
    if job["more_selector"] and job["max_clicks"] > 0:
        await _click_more(page, job, until, notes)
    return None


async def _keep(page: Page, job: dict[str, Any], link: _Link, notes: list[str]) -> str | None:
    """Send the DOM and the screenshot; an error when the DOM could not be kept."""
    until = job["deadline"] - 0.5
    error = None
    try:
        dom = (await asyncio.wait_for(page.content(), _left(until))).encode("utf-8")
        if len(dom) > job["max_dom"]:
            error = f"the final DOM is larger than {job['max_dom']} bytes"
        else:
            await link.send({"kind": "dom"}, dom)
    except TimeoutError:
        error = f"the page stopped answering before the {job['seconds']:g} s deadline (a script that never ends?)"
    except PlaywrightError as exc:
        error = f"the final DOM could not be read: {_one_line(exc)}"
    try:
        png = await page.screenshot(full_page=True, type="png", timeout=max(0.1, _left(until)) * 1000)
        if len(png) > job["max_screenshot"]:
            notes.append("the full-page screenshot was too large: only the window was kept")
            png = await page.screenshot(type="png", timeout=max(0.1, _left(until)) * 1000)
        if len(png) <= job["max_screenshot"]:
            await link.send({"kind": "screenshot"}, png)
    except PlaywrightError as exc:
        notes.append(f"no screenshot: {_one_line(exc)}")
    return error


async def _load(playwright: Playwright, job: dict[str, Any], link: _Link) -> dict[str, Any]:
    """The whole load; the "done" frame's head."""
    state = _State()
    notes: list[str] = []
    budget = _left(job["deadline"])
    # Waiting stops early enough to take the DOM and the screenshot.
    until = job["deadline"] - min(10.0, max(1.0, budget * 0.2))
    try:
        context = await playwright.chromium.launch_persistent_context(
            job["user_data_dir"], executable_path=job["browser"], headless=True,
            # A request that slipped past the route meets a proxy that refuses it, loopback included.
            args=[*FLAGS, f"--proxy-server={job['proxy']}", "--proxy-bypass-list=<-loopback>"],
            service_workers="block", user_agent=job["user_agent"], accept_downloads=False,
            viewport=VIEWPORT, timeout=max(1.0, _left(until)) * 1000)
    except PlaywrightError as exc:
        return {"kind": "done", "error": f"Chromium failed to start: {_one_line(exc)}", "notes": notes}
    _watch(context, state)

    async def route(route: Route) -> None:
        await _on_route(route, job, state, link)

    await context.route("**/*", route)
    await context.route_web_socket("**/*", _close_socket)
    page = context.pages[0] if context.pages else await context.new_page()
    page.on("crash", lambda _page: setattr(state, "crashed", True))
    try:
        error = await _drive(page, job, state, until, notes)
        if not state.crashed and not state.closed:
            kept = await _keep(page, job, link, notes)
            error = "; ".join(e for e in (error, kept) if e) or None
    except _NotLoaded as exc:
        error = str(exc)
    for kind, count in sorted(state.skipped.items()):
        notes.append(f"{count} {kind} requests were not sent (ARCHIVE_BROWSER_SKIP)")
    if state.over_cap:
        notes.append(f"{state.over_cap} requests beyond the cap of {job['max_requests']} were not sent")
    if state.crashed:
        error = CRASHED
    elif state.closed:
        error = "the browser closed unexpectedly"
    return {"kind": "done", "error": error, "notes": notes}


def _watch(context: BrowserContext, state: _State) -> None:
    context.on("close", lambda _context: setattr(state, "closed", True))
    browser: Browser | None = context.browser
    if browser is not None:
        browser.on("disconnected", lambda _browser: setattr(state, "closed", True))


async def _close_socket(socket_route: WebSocketRoute) -> None:
    # Not connected to any server: the page sees its WebSocket closed at once.
    await socket_route.close(code=1008, reason="WebSockets are not archived")


async def _main(sock: socket.socket) -> None:
    reader, writer = await asyncio.open_unix_connection(sock=sock)
    job, _body = await read_frame(reader, 0)
    if job["kind"] != "job":
        raise WireError("the first frame is not the job")
    link = _Link(reader, writer, job["max_body"] + MAX_HEAD)
    listening = asyncio.create_task(link.listen())
    async with async_playwright() as playwright:
        await link.send(await _load(playwright, job, link))
        # Playwright's teardown may wait on a hung renderer: the parent has
        # all it needs and kills what is left.
        listening.cancel()
        os._exit(0)


def main(argv: list[str]) -> int:
    asyncio.run(_main(socket.socket(fileno=int(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
