"""The offline demonstration: the Community Care case, captured for real, on a simulated clock.

A small WordPress-like site on 127.0.0.1 (archive/demo/site.py) serves each
article under its real address (archive/demo/simulation.py maps the address
to the local site), so the site's name and host are what readers, statistics
and exports show. The archive's real capture pipeline (fetcher, adapter,
verdict engine, evidence store, search index) captures it every few hours
over the days after the article, dated by a simulated clock, while the
site's moderator holds critical comments, a commenter edits, the site goes
down for maintenance, a broken cache serves half a page, and a held comment
is approved again: removal windows, times to removal and coverage read like
a real archive's, within a minute and with no network.

Each demo site is named "... (offline demo)" as it is created. A load is
finished when its watch is removed: the simulated thread is then a closed
record that nothing captures again (its address is a real site's). Running
the demo again loads nothing twice, an interrupted load carries on from its
last capture, and an archive that already holds one of the real sites (not
the demo's) is left alone: the demo never mixes simulated captures into it.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from archive.capture.jobs import SKIPPED, run_capture_job
from archive.capture.pipeline import CaptureSummary
from archive.capture.watches import add_watch
from archive.capture.workers import reporting
from archive.context import ArchiveContext
from archive.demo.content import ARTICLES, Article
from archive.demo.simulation import DemoFetcher, SimulatedClock
from archive.demo.site import DemoSite
from archive.errors import ArchiveError
from archive.store.models import Capture, Comment, Site, Thread, Watch

# What `_state` finds for an article.
NEW, UNFINISHED, LOADED, TAKEN = "new", "unfinished", "loaded", "taken"


@dataclass
class LoadedThread:
    thread_id: int
    title: str
    url: str
    site_name: str
    statuses: Counter = field(default_factory=Counter)
    edited: int = 0
    reinstated: int = 0
    captures: Counter = field(default_factory=Counter)
    first_capture: datetime | None = None
    last_capture: datetime | None = None
    already_loaded: bool = False

    def line(self) -> str:
        counts = ", ".join(f"{n} {status}" for status, n in sorted(self.statuses.items()))
        outcomes = ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.captures.items()))
        span = (f" from {self.first_capture:%Y-%m-%d %H:%M} to {self.last_capture:%Y-%m-%d %H:%M} UTC"
                if self.first_capture and self.last_capture else "")
        return (f"thread {self.thread_id}: {self.title}\n"
                f"  {self.url} ({self.site_name})\n"
                f"  comments: {counts}; {self.edited} edited, {self.reinstated} reinstated\n"
                f"  captures{span}: {outcomes}\n"
                f"  page: /threads/{self.thread_id}")


@dataclass
class Skipped:
    title: str
    host: str

    def line(self) -> str:
        return (f"not loaded: {self.title}\n  this archive already holds {self.host} as a real site; "
                "the demo never mixes simulated captures into it")


def load_demo(ctx: ArchiveContext, say: Callable[[str], None] = print) -> list[LoadedThread | Skipped]:
    """Load every demo article not yet in the archive; returns what the archive now holds."""
    loaded: list[LoadedThread | Skipped] = []
    for article in ARTICLES:
        state, thread_id = _state(ctx, article)
        if state == TAKEN:
            loaded.append(Skipped(article.title, article.host))
            continue
        if state == LOADED and thread_id is not None:
            loaded.append(_describe(ctx, thread_id, article, already=True))
            continue
        say(f"capturing “{article.title}”\n  {article.url}\n"
            f"  from a local copy of {article.host}, every {_hours(article)} hours on a simulated clock")
        loaded.append(_describe(ctx, _load_article(ctx, article, say), article, already=False))
    _complete_index(ctx, say)
    return loaded


def _complete_index(ctx: ArchiveContext, say: Callable[[str], None]) -> None:
    """An index first opened after the demo's first comments were stored cannot
    vouch that it holds them all, and searches would refuse: rebuild it (the
    demo is a few hundred comments), so the demo is searchable as it ends."""
    from archive.search import reindex

    ctx.index_updates.flush()
    ctx.search.engine()
    if not ctx.search.is_ready():
        say(f"indexing the demo's comments: {reindex(ctx)} documents")


def _hours(article: Article) -> int:
    return int(article.capture_every.total_seconds() // 3600)


def _state(ctx: ArchiveContext, article: Article) -> tuple[str, int | None]:
    """Whether the article is in the archive, and its thread when it is the demo's.
    A demo site of an earlier version (on 127.0.0.1) counts as loaded."""
    with ctx.db.read_session() as session:
        thread = session.scalar(select(Thread).join(Site).where(Site.name == article.site_name)
                                .order_by(Thread.id).limit(1))
        if thread is not None:
            watched = session.scalar(select(Watch.id).where(Watch.thread_id == thread.id))
            unfinished = watched is not None and thread.site.host == article.host
            return (UNFINISHED if unfinished else LOADED), thread.id
        if session.scalar(select(Site.id).where(Site.host == article.host)) is not None:
            return TAKEN, None
        return NEW, None


def _load_article(ctx: ArchiveContext, article: Article, say: Callable[[str], None]) -> int:
    db = ctx.db
    times = article.capture_times()
    clock = SimulatedClock(times[0])
    with DemoSite(article) as site, DemoFetcher({article.origin: site.local_origin}, clock,
                                                user_agent=ctx.settings.user_agent,
                                                max_bytes=ctx.settings.max_response_bytes) as fetcher, \
            reporting(ctx):
        watch_id, thread_id, done = _demo_watch(ctx, article, times[0])
        previous = done
        for moment in [t for t in times if done is None or t > done]:
            for when, note in article.happenings(previous, moment):
                say(f"  {when:%Y-%m-%d %H:%M} site: {note}")
            previous = moment
            site.set_stage(article.stage_at(moment))
            clock.set(moment)
            summary = run_capture_job(ctx, watch_id, fetcher, "command line", clock)
            if summary.outcome == SKIPPED:
                # A demo stopped mid-capture holds its claim for up to CLAIM_LEASE;
                # carrying on would finish the load with captures missing.
                raise ArchiveError(f"the demo's thread for {article.host} is claimed by another capture "
                                   "(an interrupted demo keeps its claim for up to an hour); "
                                   "run the demo again later")
            if summary.events or summary.outcome not in ("good", "unchanged"):
                say(f"  {moment:%Y-%m-%d %H:%M} capture: {_told(summary)}")
    with db.write() as session:
        # Finished: the thread's address is a real site's, so nothing may capture it again.
        session.delete(session.get_one(Watch, watch_id))
    return thread_id


def _told(summary: CaptureSummary) -> str:
    """A capture's line without its URL, which the demo names once per article."""
    changes = ", ".join(f"{n} {kind}" for kind, n in sorted(summary.events.items()))
    reason = f" ({summary.reason})" if summary.reason else ""
    return f"[{summary.outcome}] {summary.comments_found} comments{'; ' + changes if changes else ''}{reason}"


def _demo_watch(ctx: ArchiveContext, article: Article, start: datetime) -> tuple[int, int, datetime | None]:
    """The article's demo watch (paused: only the demo captures it), created when
    new, and the start of its newest capture if an earlier load was interrupted."""
    with ctx.db.write() as session:
        watch = session.scalar(select(Watch).join(Thread).where(Thread.url == article.url))
        if watch is None:
            watch = add_watch(session, article.url, allow_private=True, every=article.capture_every)
            watch.paused = True
            watch.created_at = watch.thread.created_at = start
            watch.thread.site.name = article.site_name
        done = session.scalar(select(func.max(Capture.started_at))
                              .where(Capture.thread_id == watch.thread_id))
        return watch.id, watch.thread_id, done


def _describe(ctx: ArchiveContext, thread_id: int, article: Article, already: bool) -> LoadedThread:
    with ctx.db.read_session() as session:
        thread = session.get_one(Thread, thread_id)
        statuses = Counter(dict(session.execute(
            select(Comment.status, func.count()).where(Comment.thread_id == thread_id)
            .group_by(Comment.status)).all()))
        edited = session.scalar(select(func.count()).select_from(Comment).where(
            Comment.thread_id == thread_id, Comment.edit_count > 0)) or 0
        reinstated = session.scalar(select(func.count()).select_from(Comment).where(
            Comment.thread_id == thread_id, Comment.times_reinstated > 0)) or 0
        captures = Counter(dict(session.execute(
            select(Capture.outcome, func.count()).where(Capture.thread_id == thread_id)
            .group_by(Capture.outcome)).all()))
        first, last = session.execute(select(func.min(Capture.started_at), func.max(Capture.started_at))
                                      .where(Capture.thread_id == thread_id)).one()
        return LoadedThread(thread_id, thread.title or article.title, thread.url, thread.site.name,
                            statuses, edited, reinstated, captures, first, last, already)

