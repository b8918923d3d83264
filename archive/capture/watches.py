"""Watches: operators' orders to capture a thread on a schedule.

The one home of every watch rule, so the command line, the operator pages
and the CSV files apply the same ones: a URL is checked before it is stored,
a watch's options by its own adapter (`check_options`), one thread has one
watch, an interval is at least a minute, an end date is in the future, a
watch's state is worked out once, and removing a watch keeps every capture
already made. Errors are worded for any front end (no flag
names; a caller may say which of its fields), so each can show them as they are.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from archive.capture.fetch.fetcher import check_url
from archive.clock import utcnow
from archive.errors import ArchiveError, DuplicateWatch
from archive.store.models import Site, Thread, Watch
from scrapers import ADAPTERS

MIN_INTERVAL = timedelta(minutes=1)
# Sites named "... (offline demo)" hold the demo's simulated threads (archive/demo/),
# captured from this machine under a real site's address: no watch may add
# captures of the real site to them, nor put a real thread among them.
SIMULATED_SITE_MARK = "(offline demo)"
# Failing is not a state: a paused or ended watch may have failed too, so
# every front end shows the failure count beside the state.
WATCH_STATES = ("active", "paused", "ended")


def canonical_url(url: str) -> str:
    """The thread's identity: scheme and host lower-cased, no fragment, no comment page."""
    parts = urlsplit(url.strip())
    path = parts.path or "/"
    # /comment-page-2/ is a page of the same thread, not another thread.
    if "/comment-page-" in path:
        path = path.split("/comment-page-", 1)[0] + "/"
    query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("cpage="))
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))


def site_for(session: Session, url: str) -> Site:
    host = urlsplit(url).netloc.lower()
    site = session.scalar(select(Site).where(Site.host == host))
    if site is None:
        site = Site(host=host, name=host.removeprefix("www."))
        session.add(site)
        session.flush()
    return site


def thread_for(session: Session, url: str) -> Thread:
    canonical = canonical_url(url)
    thread = session.scalar(select(Thread).where(Thread.url == canonical))
    if thread is None:
        thread = Thread(url=canonical, site=site_for(session, canonical))
        session.add(thread)
        session.flush()
    return thread


def add_watch(session: Session, url: str, *, allow_private: bool, adapter: str | None = None,
              every: timedelta = timedelta(hours=1), until: datetime | None = None,
              feed_id: int | None = None, early_every: timedelta | None = None,
              early_for: timedelta | None = None, options: Mapping[str, Any] | None = None) -> Watch:
    """Check and store a new watch; raises ArchiveError with a one-line reason."""
    url = check_url(url, allow_private=allow_private)
    cleaned = check_options(adapter, options)
    check_interval(every)
    if early_every is not None:
        check_interval(early_every, "early interval")
    now = utcnow()
    check_until(until, now)
    refuse_simulated_site(session, url)
    thread = thread_for(session, url)
    existing = session.scalar(select(Watch).where(Watch.thread_id == thread.id))
    if existing is not None:
        raise DuplicateWatch(f"already watched as watch {existing.id}: {thread.url}")
    watch = Watch(thread=thread, url=url, adapter=adapter,
                  interval_seconds=int(every.total_seconds()), until=until,
                  next_due_at=now, feed_id=feed_id, options=cleaned,
                  early_interval_seconds=int(early_every.total_seconds()) if early_every else None,
                  early_seconds=int(early_for.total_seconds()) if early_for else None)
    session.add(watch)
    session.flush()
    return watch


def refuse_simulated_site(session: Session, url: str) -> None:
    host = urlsplit(canonical_url(url)).netloc
    name = session.scalar(select(Site.name).where(Site.host == host))
    if name and name.endswith(SIMULATED_SITE_MARK):
        raise ArchiveError(f"{host} is the offline demo's simulated copy of that site in this archive; "
                           "watch the real site in an archive without the demo (another ARCHIVE_DATA_DIR)")


def check_adapter(adapter: str | None, known: Iterable[str] = ADAPTERS) -> None:
    if adapter is not None and adapter not in known:
        raise ArchiveError(f"unknown adapter {adapter!r} (known: {', '.join(sorted(known))})")


def check_options(adapter: str | None, options: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A watch's options as its adapter cleans them (`Adapter.validate_options`); ArchiveError
    with the adapter's one-line reason when it refuses them, or when no adapter is named
    (a watch whose adapter is chosen from the page has nothing to give options to)."""
    check_adapter(adapter)
    if adapter is None:
        if options:
            raise ArchiveError("options need an adapter: name the adapter they are for")
        return None
    try:
        return ADAPTERS[adapter].validate_options(options)
    except ValueError as exc:
        raise ArchiveError(str(exc)) from None


def check_interval(every: timedelta, name: str = "interval") -> None:
    """Refuse capturing or polling more often than once a minute; `name` says which interval."""
    if every < MIN_INTERVAL:
        raise ArchiveError(f"{name} must be at least 1m")


def check_until(until: datetime | None, now: datetime) -> None:
    if until is not None and until <= now:
        raise ArchiveError(f"the end date {until:%Y-%m-%d %H:%M} is already past")


def get_watch(session: Session, watch_id: int) -> Watch:
    watch = session.get(Watch, watch_id)
    if watch is None:
        raise ArchiveError(f"no watch with id {watch_id}")
    return watch


def current_interval(watch: Watch, now: datetime) -> timedelta:
    """The interval in force: tighter in a feed article's first days."""
    if (watch.early_interval_seconds and watch.early_seconds
            and now < watch.created_at + timedelta(seconds=watch.early_seconds)):
        return timedelta(seconds=watch.early_interval_seconds)
    return timedelta(seconds=watch.interval_seconds)


def is_active(watch: Watch, now: datetime) -> bool:
    return not watch.paused and (watch.until is None or now < watch.until)


def watch_state(watch: Watch, now: datetime) -> str:
    """One of WATCH_STATES; `state_filter` is the same rule in SQL."""
    if watch.paused:
        return "paused"
    return "active" if is_active(watch, now) else "ended"


def state_filter(state: str, now: datetime) -> list[ColumnElement[bool]]:
    """SQL conditions selecting exactly the watches `watch_state` puts in `state`."""
    if state == "paused":
        return [Watch.paused.is_(True)]
    if state == "ended":
        return [Watch.paused.is_(False), Watch.until <= now]
    if state == "active":
        return [Watch.paused.is_(False), or_(Watch.until.is_(None), Watch.until > now)]
    raise ValueError(f"unknown watch state {state!r}")


def set_paused(watch: Watch, paused: bool, now: datetime) -> None:
    """Pause or resume; a resumed watch is due at once, not after the wait it had when paused."""
    if watch.paused == paused:
        raise ArchiveError(f"watch {watch.id} is {'already' if paused else 'not'} paused")
    watch.paused = paused
    if not paused:
        watch.next_due_at = now
