"""Read queries behind the operator pages: watch lists, capture health, feeds, the audit log.

Kept apart from the routes so that each page's question is one function
with its filters spelled out.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.capture.watches import state_filter
from archive.store.evidence import damaged_copies
from archive.store.models import AuditEntry, Capture, Exchange, Feed, FeedEntry, Site, Thread, Watch
from archive.web.paging import clamp, page_count

CAPTURE_OUTCOMES = ("good", "unchanged", "failed", "suspect", "gone")
PER_PAGE = 100


@dataclass
class WatchPage:
    watches: list[Watch]
    total: int
    page: int
    pages: int


def list_watches(session: Session, now: datetime, *, site: str = "", status: str = "",
                 failing: bool = False, page: int = 1) -> WatchPage:
    """Watches matching the filters, failing ones first, then newest."""
    conditions = []
    if site:
        conditions.append(Site.host == site)
    if status:
        conditions += state_filter(status, now)
    if failing:
        conditions.append(Watch.consecutive_failures > 0)
    base = select(Watch).join(Thread, Watch.thread_id == Thread.id).join(Site).where(*conditions)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    pages = page_count(total, PER_PAGE)
    page = clamp(page, pages)
    watches = session.scalars(base.order_by(Watch.consecutive_failures.desc(), Watch.id.desc())
                              .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    return WatchPage(list(watches), total, page, pages)


def site_hosts(session: Session) -> list[str]:
    return list(session.scalars(select(Site.host).order_by(Site.host)))


@dataclass
class Health:
    failing: list[Watch]                 # most failures first: never silently dropped
    failing_feeds: list[Feed]
    captures: list[Capture]
    outcome_counts: dict[str, int]       # over the last day
    next_due: list[Watch]
    damaged: list[Exchange]              # kept bodies captures found damaged, newest first


def capture_health(session: Session, now: datetime, outcome: str = "", limit: int = 100) -> Health:
    failing = session.scalars(select(Watch).where(Watch.consecutive_failures > 0)
                              .order_by(Watch.consecutive_failures.desc(), Watch.next_due_at)).all()
    failing_feeds = session.scalars(select(Feed).where(Feed.consecutive_failures > 0)
                                    .order_by(Feed.consecutive_failures.desc())).all()
    recent = select(Capture).order_by(Capture.started_at.desc(), Capture.id.desc()).limit(limit)
    if outcome:
        recent = recent.where(Capture.outcome == outcome)
    counts = dict(session.execute(select(Capture.outcome, func.count())
                                  .where(Capture.started_at > now - timedelta(days=1))
                                  .group_by(Capture.outcome)).all())
    upcoming = session.scalars(select(Watch).where(*state_filter("active", now))
                               .order_by(Watch.next_due_at).limit(20)).all()
    damaged = session.scalars(damaged_copies().limit(limit)).all()
    return Health(list(failing), list(failing_feeds), list(session.scalars(recent)), counts, list(upcoming),
                  list(damaged))


def feeds_with_counts(session: Session) -> list[tuple[Feed, int, int]]:
    """(feed, articles discovered, of which watched) for every feed."""
    rows = session.execute(
        select(Feed, func.count(FeedEntry.id), func.count(FeedEntry.watch_id))
        .outerjoin(FeedEntry, FeedEntry.feed_id == Feed.id).group_by(Feed.id).order_by(Feed.id)).all()
    return [(feed, entries, watched) for feed, entries, watched in rows]


def feed_entries(session: Session, feed_id: int, limit: int = 500) -> list[tuple[FeedEntry, Watch | None]]:
    rows = session.execute(select(FeedEntry, Watch).outerjoin(Watch, FeedEntry.watch_id == Watch.id)
                           .where(FeedEntry.feed_id == feed_id)
                           .order_by(FeedEntry.first_seen_at.desc(), FeedEntry.id.desc()).limit(limit)).all()
    return [(entry, watch) for entry, watch in rows]


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int


def audit_entries(session: Session, page: int = 1, action: str | None = None) -> AuditPage:
    """Newest first, `PER_PAGE` a page; `action` narrows to one kind."""
    query = select(AuditEntry)
    count = select(func.count()).select_from(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
        count = count.where(AuditEntry.action == action)
    total = session.scalar(count) or 0
    pages = page_count(total, PER_PAGE)
    page = clamp(page, pages)
    entries = session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                              .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    return AuditPage(list(entries), total, page, pages)
