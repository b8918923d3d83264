"""Feed discovery: poll a site's article feed and watch each new article.

`parse_feed` is pure (bytes in, items out, with feedparser). `poll_feed`
fetches one feed with a conditional GET through the Fetcher (which does the
politeness), then records what it found in one transaction: the feed's
state, a `FeedEntry` per new article, and a watch per entry young enough to
be worth watching. A 304 means "unchanged", never "every article is gone";
a malformed feed is reported with feedparser's reason and creates nothing.
A failing feed is retried later and later (capped), never dropped.

New watches tighten early: every hour for an article's first two days, then
every six hours until the feed's `watch_for` period ends (per-feed
overrides in `Feed.watch_*_seconds`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urljoin, urlsplit

import feedparser
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from archive.capture.fetch.fetcher import Fetcher, FetchResult, check_url
from archive.capture.watches import add_watch, canonical_url, check_interval
from archive.clock import utcnow
from archive.context import ArchiveContext
from archive.errors import ArchiveError, DuplicateWatch, UrlRejected
from archive.store.models import Feed, FeedEntry, Thread, Watch

DEFAULT_WATCH_EVERY = timedelta(hours=6)
DEFAULT_EARLY_EVERY = timedelta(hours=1)
DEFAULT_EARLY_FOR = timedelta(days=2)
MAX_BACKOFF = timedelta(hours=24)
# A hostile or huge feed is taken in slices: the rest is seen at the next polls.
MAX_NEW_PER_POLL = 100
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
# feedparser flags these as "bozo" although the feed itself parsed cleanly.
_HARMLESS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


@dataclass(frozen=True)
class FeedItem:
    url: str
    title: str
    published: datetime | None


@dataclass(frozen=True)
class ParsedFeed:
    ok: bool
    title: str = ""
    items: tuple[FeedItem, ...] = ()
    error: str = ""


def _when(entry: dict) -> datetime | None:
    # feedparser gives UTC struct_time values.
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime(*parsed[:6]) if parsed else None


def parse_feed(body: bytes, base_url: str, content_type: str = "") -> ParsedFeed:
    """The articles an RSS or Atom document announces, in feed order."""
    headers = {"content-type": content_type} if content_type else {}
    # Always bytes: given a str, feedparser may take it for a URL or file name.
    parsed = feedparser.parse(bytes(body), response_headers=headers)
    problem = parsed.get("bozo_exception")
    if parsed.get("bozo") and not isinstance(problem, _HARMLESS):
        return ParsedFeed(False, error=f"malformed feed: {problem}".strip())
    if not parsed.get("version"):
        return ParsedFeed(False, error="not an RSS or Atom feed")
    items: list[FeedItem] = []
    seen: set[str] = set()
    for entry in parsed.entries:
        link = entry.get("link") or ""
        url = urljoin(base_url, link.strip()).split("#", 1)[0] if link else ""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or url in seen:
            continue
        seen.add(url)
        items.append(FeedItem(url, " ".join(str(entry.get("title") or "").split())[:500], _when(entry)))
    return ParsedFeed(True, " ".join(str(parsed.feed.get("title") or "").split())[:500], tuple(items))


@dataclass
class FeedPollResult:
    feed_id: int
    feed_url: str
    outcome: str                     # 'ok', 'not-modified', 'failed', 'malformed' or 'skipped'
    error: str = ""
    new_entries: int = 0
    watch_ids: list[int] = field(default_factory=list)
    # (article URL, why it is not watched): too old, refused address, ...
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        if self.outcome in ("failed", "malformed", "skipped"):
            return f"[feed {self.outcome}] {self.feed_url}: {self.error}"
        if self.outcome == "not-modified":
            return f"[feed not modified] {self.feed_url}"
        skipped = f", {len(self.skipped)} not watched" if self.skipped else ""
        return (f"[feed ok] {self.feed_url}: {self.new_entries} new articles, "
                f"{len(self.watch_ids)} new watches{skipped}")


def add_feed(session: Session, url: str, *, allow_private: bool, every: timedelta,
             watch_for: timedelta, watch_every: timedelta | None = None,
             early_every: timedelta | None = None, early_for: timedelta | None = None) -> Feed:
    """Check and store a feed to poll; raises ArchiveError with a one-line reason."""
    url = check_url(url, allow_private=allow_private)
    for name, value in (("poll interval", every), ("watch interval", watch_every),
                        ("early interval", early_every)):
        if value is not None:
            check_interval(value, name)
    existing = session.scalar(select(Feed).where(Feed.url == url))
    if existing is not None:
        raise ArchiveError(f"already polled as feed {existing.id}: {url}")
    feed = Feed(url=url, interval_seconds=int(every.total_seconds()),
                watch_for_seconds=int(watch_for.total_seconds()), next_due_at=utcnow(),
                watch_interval_seconds=_seconds(watch_every),
                watch_early_interval_seconds=_seconds(early_every),
                watch_early_seconds=_seconds(early_for))
    session.add(feed)
    session.flush()
    return feed


def _seconds(delta: timedelta | None) -> int | None:
    return int(delta.total_seconds()) if delta is not None else None


def watch_schedule(feed: Feed) -> tuple[timedelta, timedelta, timedelta]:
    """(every, early_every, early_for) of the watches this feed creates."""
    def pick(seconds: int | None, default: timedelta) -> timedelta:
        return timedelta(seconds=seconds) if seconds else default
    return (pick(feed.watch_interval_seconds, DEFAULT_WATCH_EVERY),
            pick(feed.watch_early_interval_seconds, DEFAULT_EARLY_EVERY),
            pick(feed.watch_early_seconds, DEFAULT_EARLY_FOR))


def due_feed_ids(ctx: ArchiveContext, now: datetime) -> list[tuple[int, bool]]:
    """(feed id, asked for by an operator) for each due, unpaused feed and each requested one."""
    with ctx.db.read_session() as session:
        return [(feed_id, requested is not None) for feed_id, requested in session.execute(
            select(Feed.id, Feed.poll_requested_at).where(or_(
                and_(Feed.next_due_at <= now, Feed.paused.is_(False)), Feed.poll_requested_at.is_not(None)))
            .order_by(Feed.poll_requested_at.is_(None), Feed.next_due_at))]


def poll_feed(ctx: ArchiveContext, feed_id: int, fetcher: Fetcher, now: datetime | None = None) -> FeedPollResult:
    """Poll one feed now; no transaction is held while fetching.
    Callers go through archive/capture/jobs.py, which makes sure only one poll of a feed runs."""
    now = now or utcnow()
    with ctx.db.read_session() as session:
        feed = session.get(Feed, feed_id)
        if feed is None:
            raise ArchiveError(f"no feed with id {feed_id}")
        url, etag, modified = feed.url, feed.etag, feed.last_modified
        known = _known_urls(session, feed_id)
    fetched = fetcher.fetch(url, etag=etag, last_modified=modified, accept=FEED_ACCEPT)
    result = FeedPollResult(feed_id, url, "ok")
    parsed = _classify(fetched, result)
    allow_private = ctx.settings.allow_private_addresses
    fresh = [item for item in parsed.items if item.url not in known][:MAX_NEW_PER_POLL] if parsed else []
    refused = _refused_urls(fresh, allow_private)
    with ctx.db.write() as session:
        feed = session.get(Feed, feed_id)
        if feed is None:
            raise ArchiveError(f"feed {feed_id} was removed while it was polled")
        if parsed is not None:
            feed.title = parsed.title or feed.title
            feed.etag = fetched.headers.get("etag") or None
            feed.last_modified = fetched.headers.get("last-modified") or None
            _record_entries(session, feed, fresh, refused, allow_private, now, result)
        _reschedule(feed, result, now)
    return result


def _classify(fetched: FetchResult, result: FeedPollResult) -> ParsedFeed | None:
    """The parsed feed when it is usable; otherwise sets the result's outcome."""
    if fetched.error is not None or fetched.status is None:
        result.outcome, result.error = "failed", fetched.error or "no answer"
        return None
    if fetched.not_modified:
        result.outcome = "not-modified"
        return None
    if not fetched.ok:
        result.outcome, result.error = "failed", f"the feed answered HTTP {fetched.status}"
        return None
    parsed = parse_feed(fetched.body, fetched.final_url or fetched.url,
                        fetched.headers.get("content-type", ""))
    if not parsed.ok:
        result.outcome, result.error = "malformed", parsed.error
        return None
    return parsed


def _known_urls(session: Session, feed_id: int) -> set[str]:
    return set(session.scalars(select(FeedEntry.url).where(FeedEntry.feed_id == feed_id)))


def _refused_urls(items: list[FeedItem], allow_private: bool) -> dict[str, str]:
    """Article URLs the archive will not fetch, checked before the write
    transaction (checking may resolve names, which can be slow)."""
    refused = {}
    for item in items:
        try:
            check_url(item.url, allow_private=allow_private)
        except UrlRejected as exc:
            refused[item.url] = str(exc)
    return refused


def _record_entries(session: Session, feed: Feed, items: list[FeedItem], refused: dict[str, str],
                    allow_private: bool, now: datetime, result: FeedPollResult) -> None:
    # Read again inside the transaction: another poller may have been faster.
    known = _known_urls(session, feed.id)
    fresh = [item for item in items if item.url not in known]
    every, early_every, early_for = watch_schedule(feed)
    watch_for = timedelta(seconds=feed.watch_for_seconds)
    for item in fresh:
        entry = FeedEntry(feed_id=feed.id, url=item.url, title=item.title, first_seen_at=now)
        session.add(entry)
        result.new_entries += 1
        if item.url in refused:
            result.skipped.append((item.url, refused[item.url]))
            continue
        if item.published is not None and item.published + watch_for <= now:
            result.skipped.append((item.url, f"published {item.published:%Y-%m-%d}, "
                                             "older than the feed's watch period"))
            continue
        try:
            watch = add_watch(session, item.url, allow_private=allow_private, every=every,
                              until=now + watch_for, feed_id=feed.id, early_every=early_every,
                              early_for=early_for)
        except DuplicateWatch:
            # Already watched (by hand or by another feed): link, don't duplicate.
            entry.watch_id = session.scalar(select(Watch.id).join(Thread).where(
                Thread.url == canonical_url(item.url)))
            result.skipped.append((item.url, "already watched"))
            continue
        except ArchiveError as exc:
            result.skipped.append((item.url, str(exc)))
            continue
        entry.watch_id = watch.id
        result.watch_ids.append(watch.id)
    session.flush()


def _reschedule(feed: Feed, result: FeedPollResult, now: datetime) -> None:
    interval = timedelta(seconds=feed.interval_seconds)
    feed.last_polled_at = now
    feed.last_outcome = result.outcome
    feed.last_error = result.error or None
    if result.outcome in ("failed", "malformed"):
        feed.consecutive_failures += 1
        backoff = interval * (2 ** min(feed.consecutive_failures - 1, 8))
        feed.next_due_at = now + min(backoff, max(interval, MAX_BACKOFF))
    else:
        feed.consecutive_failures = 0
        feed.next_due_at = now + interval
