"""Preview a watch before adding it: fetch the thread's first page once, show what the adapter reads.

Nothing is stored. The operator sees the title, the comments found against
the count the page claims, the first comments, the coverage, and every reason
the capture would fail or be suspect, so a wrong adapter or wrong selectors
are caught before the first real capture. When comments live on further
pages (the Guardian's article page points to its discussion API), the
preview says how many a capture will read, and reads none of them.

This is the web side's one exception to "never fetch" (archive/web/__init__.py),
so it is bounded: one page, no retries, and at most `PREVIEW_SECONDS` in all
(robots.txt, redirects and politeness waits included) before the operator
gets an answer. Its requests take their turns at the same host gate as every
capture worker's (archive/capture/fetch/politeness.py).
"""
from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as PreviewTimeout
from dataclasses import dataclass, field
from typing import Any

from archive.capture.fetch.fetcher import Fetcher, FetchResult, check_url
from archive.capture.follow import may_follow
from archive.capture.watches import check_options
from archive.rules.assess import FetchOutcome, classify_fetches
from archive.settings import Settings
from scrapers import choose_adapter, get_adapter
from scrapers.base import Adapter, CommentRecord, Page, PageResult

SHOWN_COMMENTS = 10
# The longest an operator's add-a-watch request waits for the site.
PREVIEW_SECONDS = 20.0


@dataclass
class Preview:
    url: str
    adapter: str | None = None
    adapter_label: str = ""
    status: int | None = None
    final_url: str = ""
    title: str = ""
    found: int = 0
    claimed: int | None = None
    comments: list[CommentRecord] = field(default_factory=list)
    coverage: str = "none"
    pages_read: int = 0
    unread_pages: int = 0
    # Reasons a capture would be failed or suspect: the watch would record nothing useful.
    problems: list[str] = field(default_factory=list)
    # Worth a look, but a capture would still be good.
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def build_adapter(name: str | None, options: Mapping[str, Any] | None,
                  settings: object | None = None) -> Adapter | None:
    """The named adapter, configured with the watch's options as it cleans them (and the
    defaults `settings` give it, as captures do); ArchiveError if the adapter is unknown or
    refuses the options (archive/capture/watches.py)."""
    cleaned = check_options(name, options)
    return get_adapter(name, cleaned, settings) if name else None


def bounded_preview(url: str, settings: Settings, *, adapter_name: str | None = None,
                    options: Mapping[str, Any] | None = None) -> Preview:
    """`preview_url` for a web request: a fetcher of its own without retries, cut off at
    PREVIEW_SECONDS (the fetch goes on in the background until its own time-out)."""
    # The fleet's host gate, like every capture: a preview waits its host's
    # turn, and gives up rather than wait past its own time cap.
    fetcher = Fetcher.from_settings(settings, timeout=min(settings.fetch_timeout, PREVIEW_SECONDS),
                                    retries=0, max_host_wait=PREVIEW_SECONDS)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="preview")
    future = pool.submit(preview_url, url, fetcher, allow_private=settings.allow_private_addresses,
                         adapter_name=adapter_name, options=options, settings=settings)
    try:
        return future.result(timeout=PREVIEW_SECONDS)
    except PreviewTimeout:
        preview = Preview(url=url)
        preview.problems.append(f"the site did not answer within {PREVIEW_SECONDS:.0f} s; "
                                "try the preview again later")
        return preview
    finally:
        pool.shutdown(wait=False)
        future.add_done_callback(lambda _done: fetcher.close())


def preview_url(url: str, fetcher: Fetcher, *, allow_private: bool, adapter_name: str | None = None,
                options: Mapping[str, Any] | None = None, settings: object | None = None) -> Preview:
    """Fetch and parse the first page; raises ArchiveError only for input errors (bad URL, adapter, options)."""
    url = check_url(url, allow_private=allow_private)
    adapter = build_adapter(adapter_name, options, settings)
    preview = Preview(url=url)
    target = adapter.first_url(url) if adapter else url
    fetched = fetcher.fetch(target)
    preview.pages_read = 1
    if not _answered(fetched, preview):
        return preview
    page = Page(url=target, final_url=fetched.final_url or target, status=fetched.status or 0,
                headers=fetched.headers, body=fetched.body)
    if adapter is None:
        adapter = choose_adapter(page, settings)
        if adapter is None:
            preview.problems.append("no adapter recognises this page: choose one "
                                    "(generic-css reads any site given CSS selectors)")
            return preview
    if adapter.fetch_mode == "browser":
        # A preview is one bounded fetch in a web request: it never starts a browser.
        preview.problems.append(f"{adapter.name} reads comments only in a browser capture: the page "
                                "answered, but the preview does not load it in a browser")
        return preview
    result = adapter.parse(page)
    _describe(preview, adapter, result, [link for link in result.follow if may_follow(link, url, adapter)])
    return preview


def _answered(fetched: FetchResult, preview: Preview) -> bool:
    preview.status = fetched.status
    preview.final_url = fetched.final_url
    decided = classify_fetches([FetchOutcome(fetched.url, fetched.status, fetched.error,
                                             fetched.robots_disallowed)], False, 1)
    if decided is not None:
        outcome, reason = decided
        preview.problems.append(f"a capture would be {outcome}: {reason}")
        return False
    return True


def _describe(preview: Preview, adapter: Adapter, result: PageResult, follow: list[str]) -> None:
    preview.adapter, preview.adapter_label = adapter.name, adapter.label
    preview.found = len(result.comments)
    preview.comments = result.comments[:SHOWN_COMMENTS]
    preview.title = result.title
    preview.claimed = result.claimed_count
    if not result.recognised:
        preview.problems.append(f"a capture would be suspect: {result.reason or 'comment area not recognised'}")
    elif result.blocked:
        preview.problems.append(f"a capture would be suspect: the page is a block "
                                f"({result.reason or 'captcha, consent wall or maintenance'})")
    if preview.problems:
        return
    preview.unread_pages = len(follow)
    if follow:
        preview.coverage = "complete once every page is read"
        preview.warnings.append(f"{len(follow)} more page(s) of comments will be read at each capture")
        return
    preview.coverage = adapter.combine([result]).coverage
    if preview.claimed is not None and preview.found != preview.claimed:
        preview.warnings.append(f"the page claims {preview.claimed} comments but {preview.found} were found")
    if not result.comments:
        preview.warnings.append("no comments found: fine for a new article, "
                                "but check the adapter and selectors if the page shows some")
