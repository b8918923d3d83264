"""What a capture fetched, exchange by exchange, before it is judged and stored
(archive/capture/pipeline.py for plain HTTP, archive/capture/browser_capture.py
for a page loaded in a browser)."""
from __future__ import annotations

from dataclasses import dataclass

from archive.capture.fetch.fetcher import FetchResult
from scrapers.base import PageResult


@dataclass
class Fetched:
    result: FetchResult
    sha256: str | None
    reused_body: bool
    page: PageResult | None = None
    # Set on a 304 whose kept body failed its check: why it was fetched again.
    damaged: str | None = None
    # Whether this exchange decides the capture's fate (classify_fetches): every page of a
    # plain capture; in a browser capture only the article and the responses the adapter reads.
    counts: bool = True
    request_sha256: str | None = None


@dataclass(frozen=True)
class BrowserEvidence:
    """What a browser capture kept beside its exchanges, and how the load ended."""
    dom_sha256: str | None
    screenshot_sha256: str | None
    # One line when the load itself went wrong (deadline, crash): the capture fails.
    error: str | None
    # Whether any response the adapter reads arrived (none: the widget never asked for its comments).
    read_any: bool
    # What the load left out without failing ("load more" still showing, requests over the cap).
    notes: tuple[str, ...] = ()
