"""A capture through a browser: the article loaded in headless Chromium, every
request the page made answered through the archive's own Fetcher
(archive/capture/fetch/browser.py), and kept as the capture's exchanges.

Only a watch that names a browser adapter (`fetch_mode == "browser"`) is
captured this way; it is never chosen from a page.

What decides the capture (DESIGN rule 1):
- the article document and the responses the adapter reads (its widget's
  JSON) are the capture's pages: each must have answered 2xx, as in a plain
  capture; a refused image, font or script the adapter does not read is kept
  as an exchange with its error and decides nothing;
- a load that went wrong (deadline passed, renderer crashed) fails the
  capture with the browser's reason, whatever arrived before;
- a load in which no response the adapter reads arrived is suspect: the
  widget never asked for its comments, which proves nothing about them;
- otherwise the adapter joins what it read and must itself say whether that
  is the whole thread (a "load more" left unclicked leaves comments unseen,
  which must make the capture suspect, never a removal).

The final DOM and a screenshot are kept as blobs too: secondary evidence of
what a reader saw, never read for comments.
"""
from __future__ import annotations

import logging

from archive.capture.fetch.browser import load_in_browser
from archive.capture.fetch.fetcher import Fetcher, FetchResult
from archive.capture.fetched import BrowserEvidence, Fetched
from archive.context import ArchiveContext
from archive.rules.verdicts import Outcome
from scrapers.base import Adapter, Page

log = logging.getLogger(__name__)


def fetch_in_browser(ctx: ArchiveContext, thread_url: str, adapter: Adapter,
                     fetcher: Fetcher) -> tuple[list[Fetched], BrowserEvidence]:
    """Load the thread in the browser, keep every body, and let the adapter parse what it reads."""
    plan = adapter.browser_plan(thread_url)
    # Never raises for what the page or the browser does (a missing Chromium is an error too).
    load = load_in_browser(plan, fetcher, ctx.settings)
    stored: list[tuple[str | None, str | None]] = []
    with ctx.db.write() as session:
        for result in load.responses:
            sha = (ctx.evidence.put(session, result.body)
                   if result.body or (result.status and not result.error) else None)
            stored.append((sha, ctx.evidence.put(session, result.request_body) if result.request_body else None))
        dom = ctx.evidence.put(session, load.dom) if load.dom else None
        screenshot = ctx.evidence.put(session, load.screenshot) if load.screenshot else None
    fetched: list[Fetched] = []
    for index, (result, (sha, request_sha)) in enumerate(zip(load.responses, stored, strict=True)):
        page = _page(result)
        # The page's first request is its navigation: the article itself.
        reads = index > 0 and adapter.reads_response(page)
        fetched.append(Fetched(result, sha, False, counts=index == 0 or reads, request_sha256=request_sha,
                               page=adapter.parse(page) if reads and result.ok else None))
    read_any = any(item.counts for item in fetched[1:])
    log.info("browser load of %s: %d requests, peak RSS %s MiB, %s", thread_url, len(load.responses),
             (load.peak_rss_bytes or 0) // 2**20, load.error or "loaded")
    return fetched, BrowserEvidence(dom, screenshot, load.error, read_any, tuple(load.notes))


def classify_browser(decided: tuple[Outcome, str] | None,
                     evidence: BrowserEvidence) -> tuple[Outcome, str] | None:
    """The outcome of a browser capture before its view is judged, given what its pages'
    HTTP answers decided (classify_fetches), or None when the view decides."""
    if decided is not None and (decided[0] == "gone" or not evidence.error):
        return decided
    if evidence.error:
        return "failed", f"the browser: {evidence.error}"
    if not evidence.read_any:
        return "suspect", "the page made no request the adapter reads (its comments never loaded)"
    return None


def with_notes(outcome: Outcome, reason: str, evidence: BrowserEvidence) -> str:
    """A capture that is not good says what the load left out too: it is often why."""
    if outcome in ("good", "unchanged") or not evidence.notes:
        return reason
    return "; ".join([reason, *evidence.notes] if reason else evidence.notes)


def _page(result: FetchResult) -> Page:
    return Page(url=result.url, final_url=result.final_url or result.url, status=result.status or 0,
                headers=result.headers, body=result.body)
