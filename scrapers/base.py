"""The adapter contract: bytes in, comment records out.

An adapter turns the raw pages of one platform into `CommentRecord`s. It never
fetches, never touches the database and never imports the web app: the
capture pipeline (archive/capture/pipeline.py) fetches each URL the adapter asks for,
hands it the `Page`, and finally asks it to `combine` the per-page results
into one `ThreadView` of the whole thread.

A capture of one thread goes:

    adapter.configure(watch.options)                  # options validate_options accepted
    urls = [adapter.first_url(thread_url)]
    for each url: result = adapter.parse(page)        # a PageResult
                  urls += result.follow               # more pages of this thread
    view = adapter.combine(results)                   # a ThreadView
    for each comment the verdict has just missed:     # a hint, never a verdict
        adapter.follow_ups(...) -> fetched -> adapter.read_follow_up(status, body)

Adapters implement `read` and, when the default does not suit, `join`; the
pipeline calls `parse` and `combine`, which never raise.

Adapters must never guess: when a page does not look like what the adapter
knows, `PageResult.recognised` is False (with a reason) and the capture is
treated as suspect, which never produces a removal.
"""
from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

Coverage = Literal["complete", "window", "none"]
# How a capture gets an adapter's pages: "http" fetches each URL the adapter
# asks for; "browser" loads the article in headless Chromium and hands the
# adapter the responses the page received (archive/capture/fetch/browser.py).
FetchMode = Literal["http", "browser"]


@dataclass(frozen=True)
class Page:
    """One fetched response, as the adapter sees it."""
    url: str                       # the URL asked for
    final_url: str                 # after redirects
    status: int
    headers: Mapping[str, str]     # response headers, keys lower-case
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass(frozen=True)
class CommentRecord:
    """One comment as one page showed it."""
    key: str                       # platform id ("123"), or fingerprint_key(...)
    author: str
    text: str                      # plain text, for diffs and search
    html: str = ""                 # the body's HTML as served: hostile
    posted_at: datetime | None = None   # naive UTC
    parent_key: str | None = None
    author_url: str | None = None
    position: int = 0              # reading order within the thread
    # A platform placeholder keeping the place of a deleted comment.
    tombstone: bool = False


@dataclass
class PageResult:
    """What an adapter made of one page."""
    recognised: bool               # the comment area (or API/feed document) was found
    reason: str = ""               # why not recognised / why suspect
    comments: list[CommentRecord] = field(default_factory=list)
    follow: list[str] = field(default_factory=list)   # more URLs this capture needs
    title: str = ""
    claimed_count: int | None = None   # the page's own count ("6 Responses", X-WP-Total)
    platform_id: str | None = None     # e.g. the WordPress post id
    # Set when the page is a known block (captcha, consent wall, maintenance):
    # the capture becomes suspect even if some comments were parsed.
    blocked: bool = False
    comments_open: bool | None = None


@dataclass
class ThreadView:
    """Everything one capture saw of a thread, combined from all its pages."""
    recognised: bool
    reason: str
    comments: list[CommentRecord]
    coverage: Coverage
    # For a window: only comments posted strictly after this are covered.
    window_after: datetime | None = None
    has_tree: bool = True          # parent keys are known (feeds do not know them)
    title: str = ""
    claimed_count: int | None = None
    platform_id: str | None = None


@dataclass(frozen=True)
class BrowserPlan:
    """How a browser capture loads one thread: what to open, what to wait for, what to click.

    The browser never waits for "network idle" (comment widgets long-poll):
    it waits for `ready_selector` to appear or a response whose URL contains
    `ready_response`, then `settle_ms`; then clicks `more_selector` (a "load
    more" button) while it is there, at most `max_clicks` times, settling
    after each click. Every bound is also capped by the archive's settings."""
    url: str
    ready_selector: str | None = None
    ready_response: str | None = None
    more_selector: str | None = None
    max_clicks: int = 20
    settle_ms: int = 1500
    scroll: bool = True


@dataclass(frozen=True)
class FollowUp:
    """One request asking the platform about a comment that just went missing."""
    key: str
    url: str


class Adapter(ABC):
    """Base class of one platform's adapter; subclasses set the class attributes."""

    name: ClassVar[str]            # registry name, used on the command line
    label: ClassVar[str]           # human name for the operator UI
    # Hosts other than the thread's own that this platform's pages may send a
    # capture to (an API host); links anywhere else are never followed
    # (archive/capture/follow.py decides, for captures and previews alike).
    follow_hosts: ClassVar[frozenset[str]] = frozenset()
    fetch_mode: ClassVar[FetchMode] = "http"
    # Options the archive's settings supply when a watch leaves them out: option
    # name -> field of archive.settings.Settings (adapters never import the settings;
    # scrapers/__init__.py `get_adapter` fills these in from what the core hands it).
    setting_options: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def validate_options(cls, options: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """A watch's options for this adapter, cleaned; ValueError (one line) when they are wrong.
        The default takes none."""
        if options:
            raise ValueError(f"{cls.name}: this adapter takes no options")
        return None

    def configure(self, options: Mapping[str, Any]) -> None:
        """Take a watch's options (`get_adapter` passes them when there are any). Never raises:
        the core builds adapters where it cannot stop for an error, so options this
        adapter cannot use make every page unrecognised, with the reason. The default
        takes none and ignores them: `validate_options` refuses them before a watch is stored."""
        return None

    def first_url(self, thread_url: str) -> str:
        return thread_url

    def browser_plan(self, thread_url: str) -> BrowserPlan:
        """What a browser capture opens and waits for (only asked when `fetch_mode` is "browser")."""
        return BrowserPlan(url=self.first_url(thread_url))

    def reads_response(self, page: Page) -> bool:
        """In a browser capture: whether this response is one `parse` should read
        (the widget's JSON, say, and not its scripts, styles or images)."""
        return False

    def follow_ups(self, thread_url: str, keys: Sequence[str]) -> list[FollowUp]:
        """Requests asking the platform about comments that just went missing
        (WordPress's REST API answers 401/403 for a held comment, 404 for a
        deleted one). The default asks nothing."""
        return []

    def read_follow_up(self, status: int | None, body: bytes) -> str:
        """What one follow-up answer means, in words an operator reads."""
        return f"HTTP {status}" if status else "no answer"

    def score(self, page: Page) -> int:
        """`detect`, guarded like `parse`: hostile bytes score 0, never raise."""
        try:
            return max(0, min(100, int(self.detect(page))))
        except Exception:
            return 0

    def detect(self, page: Page) -> int:
        """How sure this adapter is that it reads `page` (0 = not at all, 100 = certain); may raise."""
        return 0

    def parse(self, page: Page) -> PageResult:
        """Read one page. Never raises: pages are hostile input, and a page an
        adapter cannot read is reported as unrecognised (never a removal)."""
        try:
            return self.read(page)
        except Exception as exc:
            return PageResult(recognised=False, reason=f"unreadable page: {type(exc).__name__}: {exc}")

    @abstractmethod
    def read(self, page: Page) -> PageResult:
        """What this platform's page says; may raise on input it cannot read."""

    def combine(self, results: Sequence[PageResult]) -> ThreadView:
        """Join the pages of one capture. Never raises, like `parse`: a thread an
        adapter cannot put together is unrecognised (never a removal)."""
        try:
            return self.join(results)
        except Exception as exc:
            return ThreadView(recognised=False, reason=f"unreadable thread: {type(exc).__name__}: {exc}",
                              comments=[], coverage="none")

    def join(self, results: Sequence[PageResult]) -> ThreadView:
        """What the pages of one capture say together; may raise. The default suits paginated HTML."""
        recognised = bool(results) and all(r.recognised for r in results)
        reasons = [r.reason for r in results if r.reason]
        seen: dict[str, CommentRecord] = {}
        for result in results:
            for record in result.comments:
                seen.setdefault(record.key, record)
        first = results[0] if results else PageResult(recognised=False)
        return ThreadView(
            recognised=recognised and not any(r.blocked for r in results),
            reason="; ".join(reasons),
            comments=sorted(seen.values(), key=lambda r: r.position),
            coverage="complete" if recognised else "none",
            title=first.title,
            claimed_count=first.claimed_count,
            platform_id=first.platform_id,
        )


def fingerprint_key(author: str, posted_at: datetime | None, text: str) -> str:
    """A key for platforms without stable ids: an edit changes it (see DESIGN.md)."""
    basis = "\x1f".join([author.strip(), posted_at.isoformat() if posted_at else "",
                         " ".join(text.split())])
    return "fp:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:24]


def decode_body(page: Page) -> str:
    """Page bytes as text: the declared charset, else UTF-8, never an exception."""
    charset = "utf-8"
    for part in page.headers.get("content-type", "").split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip('"\' ')
    try:
        return page.body.decode(charset, errors="replace")
    except LookupError:
        return page.body.decode("utf-8", errors="replace")
