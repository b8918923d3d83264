"""The offline demonstration: the Community Care case, captured for real.

A small WordPress-like site on 127.0.0.1 (archive/demo/site.py) serves the
article and its comments; between captures its moderator holds critical
comments, a commenter edits, the site goes down for maintenance, a broken
cache serves half a page, and a held comment is approved again. The archive's
real capture pipeline (fetcher, adapter, verdict engine, evidence store,
search index) records all of it, so removals, edits, reinstatements, failed
and suspect captures and search can be seen within a minute, with no network.

Loading is idempotent: a demo site whose name is already in the archive is
not loaded again. The name is set only once all of an article's captures are
stored, so an interrupted load is simply done again. Demo watches are paused
from the start: the local site exists only while the demo runs.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select

from archive.capture.fetch.fetcher import Fetcher
from archive.capture.jobs import run_capture_job
from archive.capture.watches import add_watch
from archive.capture.workers import reporting
from archive.context import ArchiveContext
from archive.demo.content import ARTICLES, Article
from archive.demo.site import DemoSite
from archive.store.models import Capture, Comment, Site, Thread

# The demo site answers at once; a slow machine still gets time to spare.
FETCH_TIMEOUT = 10.0


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
    already_loaded: bool = False

    def line(self) -> str:
        counts = ", ".join(f"{n} {status}" for status, n in sorted(self.statuses.items()))
        outcomes = ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.captures.items()))
        return (f"thread {self.thread_id}: {self.title}\n"
                f"  comments: {counts}; {self.edited} edited, {self.reinstated} reinstated\n"
                f"  captures: {outcomes}\n"
                f"  page: /threads/{self.thread_id}")


def load_demo(ctx: ArchiveContext, say: Callable[[str], None] = print) -> list[LoadedThread]:
    """Load every demo article not yet in the archive; returns what the archive now holds."""
    loaded = []
    for article in ARTICLES:
        thread_id = _existing_thread(ctx, article)
        if thread_id is None:
            say(f"capturing “{article.title}” from a local WordPress-like site")
            thread_id = _load_article(ctx, article, say)
            loaded.append(_describe(ctx, thread_id, article, already=False))
        else:
            loaded.append(_describe(ctx, thread_id, article, already=True))
    return loaded


def _existing_thread(ctx: ArchiveContext, article: Article) -> int | None:
    with ctx.db.read_session() as session:
        return session.scalar(select(Thread.id).join(Site).where(Site.name == article.site_name)
                              .order_by(Thread.id).limit(1))


def _demo_fetcher(ctx: ArchiveContext) -> Fetcher:
    # Loopback is allowed for this run only, and the one local host needs no politeness delay.
    return Fetcher(user_agent=ctx.settings.user_agent, min_host_delay=0.0,
                   timeout=FETCH_TIMEOUT, max_bytes=ctx.settings.max_response_bytes,
                   retries=0, allow_private=True)


def _load_article(ctx: ArchiveContext, article: Article, say: Callable[[str], None]) -> int:
    db = ctx.db
    confirm = ctx.settings.confirm_captures
    with DemoSite(article) as site, _demo_fetcher(ctx) as fetcher, reporting(ctx):
        with db.write() as session:
            watch = add_watch(session, site.article_url, allow_private=True, every=timedelta(hours=1))
            watch.paused = True
            watch_id, thread_id = watch.id, watch.thread_id
        for stage in article.stages:
            site.set_stage(stage)
            say(f"  site: {stage.note}")
            for _ in range(confirm if stage.confirm else 1):
                say(f"    {run_capture_job(ctx, watch_id, fetcher, 'command line').line()}")
    with db.write() as session:
        thread = session.get_one(Thread, thread_id)
        thread.site.name = article.site_name
    return thread_id


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
        return LoadedThread(thread_id, thread.title or article.title, thread.url, article.site_name,
                            statuses, edited, reinstated, captures, already)

