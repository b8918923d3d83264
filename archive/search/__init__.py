"""Full-text search over every version of every comment and the thread titles.

The only code that knows which engine runs (ARCHIVE_SEARCH_BACKEND: `tantivy`,
`whoosh` or `database`) or imports Whoosh or Tantivy. Callers use:

    index_comments(ctx, session, ids)   after a commit that changed comments
    remove_from_index(ctx, ids)         after deleting comments
    query_index(ctx, SearchQuery(...))  -> SearchResults
    reindex(ctx, progress)              rebuild from the database alone

`ctx` is the archive's context (archive/context.py); its `search` is the
engine chosen at start-up (archive/search/engines.py).

The query language is described in archive/search/query.py. A query with no
words but at least one filter (status, site, thread, dates) lists every
comment the filters select, newest first unless another date sort is asked.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.errors import ArchiveError
from archive.search.base import Engine
from archive.search.documents import Selection, batch_bounds, comment_texts
from archive.search.highlight import best_version, highlight
from archive.search.plan import make_plan
from archive.search.types import Hit, SearchQuery, SearchQueryError, SearchResults
from archive.store.models import Comment

if TYPE_CHECKING:
    from archive.context import ArchiveContext

__all__ = ["Hit", "SearchQuery", "SearchQueryError", "SearchResults", "index_comments",
           "query_index", "reindex", "remove_from_index"]

log = logging.getLogger(__name__)

UPDATE_CHUNK = 500
REINDEX_BATCH = 2000
# An update of at least this many comments is a bulk change: the engine's
# planner statistics are refreshed after it.
BULK_CHANGE = 1000
# Engines whose every batch costs a commit and a wait for its merges take
# larger ones: tantivy rebuilds a million comments about a third faster with
# 10,000 (a capture waiting for its writer meanwhile waits about a second).
REINDEX_BATCHES = {"tantivy": 10_000}


def _chunks(ids: list[int], size: int) -> Iterable[tuple[int, ...]]:
    for start in range(0, len(ids), size):
        yield tuple(ids[start:start + size])


def index_comments(ctx: ArchiveContext, session: Session, comment_ids: Iterable[int]) -> None:
    """(Re)index these comments from the database; call it after the commit.

    The index reads the comments itself, in its own transaction, once it
    holds its write lock; that way concurrent indexers always end with the
    latest committed state (a redaction is never overwritten by an older
    read). `session` is the caller's session: nothing is read or written
    through it, so uncommitted changes in it are not indexed.

    Never raises for an index that cannot be updated: the capture is already
    stored; the index is marked stale for `reindex` to repair.
    """
    del session  # see the docstring: the index reads in its own transaction
    ids = sorted(set(comment_ids))
    if not ids:
        return
    engine = ctx.search.engine(indexing=ids)
    ctx.search.others_miss_updates()
    try:
        for chunk in _chunks(ids, UPDATE_CHUNK):
            engine.replace(Selection(ids=chunk))
    except ctx.search.failures as exc:
        log.warning("search index update failed (%s): %s", engine.name, exc)
        ctx.search.mark_stale(f"{engine.name}: indexing {len(ids)} comment(s) failed: {exc}")
        return
    if len(ids) >= BULK_CHANGE:
        _refresh_statistics(ctx, engine)


def remove_from_index(ctx: ArchiveContext, comment_ids: Iterable[int]) -> None:
    """Drop these comments from the index (comments deleted from the archive)."""
    ids = sorted(set(comment_ids))
    if not ids:
        return
    engine = ctx.search.engine()
    ctx.search.others_miss_updates()
    try:
        for chunk in _chunks(ids, UPDATE_CHUNK):
            engine.delete(chunk)
    except ctx.search.failures as exc:
        log.warning("search index removal failed (%s): %s", engine.name, exc)
        ctx.search.mark_stale(f"{engine.name}: removing {len(ids)} comment(s) failed: {exc}")
        return
    if len(ids) >= BULK_CHANGE:
        _refresh_statistics(ctx, engine)


def _refresh_statistics(ctx: ArchiveContext, engine: Engine) -> None:
    # The index itself is up to date: a failure here only leaves the
    # planner's statistics old, which the next bulk change or reindex renews.
    try:
        engine.refresh_statistics(rebuilt=False)
    except ctx.search.failures as exc:
        log.warning("search statistics refresh failed (%s): %s", engine.name, exc)


def query_index(ctx: ArchiveContext, query: SearchQuery) -> SearchResults:
    """Run a search. SearchQueryError (one line, for the user) when the query is wrong."""
    plan = make_plan(query, ctx.settings.secret_key)
    # This process's own captures are found as soon as they are stored.
    ctx.index_updates.flush()
    engine = ctx.search.engine()
    if not ctx.search.is_ready():
        raise ArchiveError(ctx.search.not_ready_message())
    with ctx.db.read_session() as session:
        try:
            found = engine.search(plan, session)
        except ctx.search.failures as exc:
            log.error("search failed (%s): %s", engine.name, exc)
            raise ArchiveError(f"search is unavailable ({engine.name}); an operator should run "
                               "`python -m archive reindex`") from exc
        page = found.hits[:plan.limit]
        texts = comment_texts(session, [comment_id for comment_id, _s, _t in page])
    leaves = plan.leaves
    hits = [Hit(comment_id, score, highlight(best_version(texts.get(comment_id, []), leaves), leaves))
            for comment_id, score, _sort_at in page]
    next_cursor = None
    if len(found.hits) > plan.limit and page:
        next_cursor = plan.cursor_after(plan.offset + len(page), (page[-1][2], page[-1][0]))
    return SearchResults(total=found.total, hits=hits, facets=found.facets,
                         next_cursor=next_cursor, stale=ctx.search.is_stale(),
                         total_exact=found.total_exact, ranked_among=found.ranked_among)


def reindex(ctx: ArchiveContext, progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the chosen engine's index from the database alone; returns documents indexed.

    The rebuild goes through the comments in id order, a batch per
    transaction, replacing each id range as a whole (which also drops
    entries of comments that no longer exist); an index that was complete
    stays searchable and other writers can interleave. Once done, the
    engine's planner statistics are refreshed and the index is marked ready
    (engines.py).
    """
    engine = ctx.search.engine()
    ctx.search.clear_stale()
    engine.prepare_rebuild()
    with ctx.db.read_session() as session:
        total = int(session.scalar(select(func.count()).select_from(Comment)) or 0)
    done, low = 0, None
    size = REINDEX_BATCHES.get(engine.name, REINDEX_BATCH)
    try:
        while True:
            with ctx.db.read_session() as session:
                high = batch_bounds(session, low, size)
            done += engine.replace(Selection(low=low, high=high))
            if progress:
                progress(done, max(total, done))
            if high is None:
                engine.refresh_statistics(rebuilt=True)
                ctx.search.mark_ready()
                return done
            low = high
    except ctx.search.failures as exc:
        ctx.search.mark_stale(f"{engine.name}: reindex failed after {done} comments: {exc}")
        raise ArchiveError(f"reindex failed after {done} comments ({engine.name}): {exc}") from exc

