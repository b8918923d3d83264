"""One archived snapshot through the same adapters and verdict engine as a live capture.

The snapshot's article page and the comment pages its adapter asks for are
read from the web archive (the comment pages at the archive's nearest
snapshot to the article's), kept as evidence with their provenance, judged
against the backfill chain's own state with the snapshot's timestamp as the
capture time, and stored as a capture whose source is 'backfill', all in one
transaction with the run's cursor, so a stopped backfill resumes cleanly.

A comment page archived far from its article is another moment of the thread:
such a snapshot is suspect, never diffed, like a maintenance page or a wall.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.backfill.cdx import Planned, parse_timestamp
from archive.backfill.chain import ChainState, dump_chain
from archive.backfill.sources import Archived, SnapshotSource
from archive.capture.fetch.fetcher import FetchResult
from archive.capture.follow import may_follow
from archive.capture.ledger import apply_verdict
from archive.clock import utcnow
from archive.context import ArchiveContext
from archive.rules.assess import FetchOutcome, classify_fetches, classify_view, snapshot_of
from archive.rules.verdicts import judge
from archive.store.evidence import capture_record_hash
from archive.store.headers import HeaderLines
from archive.store.models import BackfillRun, Capture, Exchange, Thread, Watch
from scrapers import choose_adapter, get_adapter
from scrapers.base import Adapter, Page, PageResult, ThreadView

# An archive digest -> the SHA-256 and headers of the body stored for it.
Bodies = dict[str, tuple[str, HeaderLines]]
# Comment pages archived further than this from their article are another moment.
MAX_PAGE_SKEW = timedelta(hours=24)


@dataclass
class _Page:
    archived: Archived
    sha256: str | None
    reused: bool
    parsed: PageResult | None = None


@dataclass
class SnapshotSummary:
    at: datetime
    outcome: str
    reason: str
    comments_found: int
    capture_id: int
    events: Counter = field(default_factory=Counter)
    changed: set[int] = field(default_factory=set)

    def line(self) -> str:
        changes = ", ".join(f"{n} {kind}" for kind, n in sorted(self.events.items()))
        reason = f" ({self.reason})" if self.reason else ""
        return (f"{self.at:%Y-%m-%d %H:%M:%S} [{self.outcome}] {self.comments_found} comments"
                f"{'; ' + changes if changes else ''}{reason}")


def backfill_snapshot(ctx: ArchiveContext, run_id: int, source: SnapshotSource, planned: Planned,
                      chain: ChainState, bodies: Bodies) -> tuple[SnapshotSummary, ChainState]:
    """Read, judge and store one snapshot; `bodies` maps archive digests to stored
    SHA-256s, so a repeated digest is not fetched again."""
    with ctx.db.read_session() as session:
        run = session.get_one(BackfillRun, run_id)
        watch = session.scalar(select(Watch).where(Watch.thread_id == run.thread_id))
        # The watch's adapter and its settings (a generic adapter's selectors), as live captures use them.
        adapter_name = (watch.adapter if watch else None) or run.thread.adapter
        options = watch.options if watch else None
        thread_url = run.thread.url
    at = planned.row.at
    adapter = get_adapter(adapter_name, options, ctx.settings) if adapter_name else None
    pages, adapter = _read_pages(ctx, source, planned, thread_url, adapter, bodies)
    with ctx.db.write() as session:
        return _store(ctx, session, run_id, planned, at, adapter, pages, chain)


def _read_pages(ctx: ArchiveContext, source: SnapshotSource, planned: Planned, thread_url: str,
                adapter: Adapter | None, bodies: Bodies) -> tuple[list[_Page], Adapter | None]:
    row = planned.row
    pages = [_first_page(ctx, source, planned, bodies)]
    queue: list[str] = []
    queued = {row.url}
    while True:
        page = pages[-1]
        result = page.archived.result
        if not result.ok or len(pages) > ctx.settings.max_comment_pages:
            break
        seen = Page(url=result.url, final_url=result.url, status=result.status or 200,
                    headers=result.headers, body=_body(ctx, page, result.body))
        adapter = adapter or choose_adapter(seen, ctx.settings)
        if adapter is None:
            page.parsed = PageResult(recognised=False, reason="no adapter recognises this page")
            break
        page.parsed = adapter.parse(seen)
        for link in page.parsed.follow:
            if link not in queued and may_follow(link, thread_url, adapter):
                queued.add(link)
                queue.append(link)
        if not queue:
            break
        archived = source.fetch(queue.pop(0), row.timestamp)
        pages.append(_Page(archived, _put(ctx, archived.result.body, archived.result.status), False))
    return pages, adapter


def _first_page(ctx: ArchiveContext, source: SnapshotSource, planned: Planned,
                bodies: Bodies) -> _Page:
    row = planned.row
    known = bodies.get(row.digest) if planned.repeat and row.digest else None
    if known is not None:
        # The archive says these are the bytes of the snapshot before: not fetched again.
        sha, lines = known
        result = FetchResult(url=row.url, final_url=row.url, status=200, header_lines=lines, body=b"",
                             request_headers={}, redirects=[], fetched_at=utcnow(), elapsed_ms=0, error=None)
        archived = Archived(result, row.timestamp, {"archive": source.name, "timestamp": row.timestamp,
                                                    "digest": row.digest, "same_bytes_as_previous": True})
        return _Page(archived, sha, True)
    archived = source.fetch(row.url, row.timestamp, row.ref, row.digest)
    stored = _put(ctx, archived.result.body, archived.result.status)
    if stored and row.digest and archived.result.ok:
        bodies[row.digest] = (stored, archived.result.header_lines)
    return _Page(archived, stored, False)


def _body(ctx: ArchiveContext, page: _Page, body: bytes) -> bytes:
    return ctx.evidence.get(page.sha256) if page.reused and page.sha256 else body


def _put(ctx: ArchiveContext, body: bytes, status: int | None) -> str | None:
    if not body and status is None:
        return None
    with ctx.db.write() as session:
        return ctx.evidence.put(session, body)


def _skewed(at: datetime, pages: list[_Page]) -> str | None:
    for page in pages[1:]:
        stamp = page.archived.timestamp
        if stamp and abs(parse_timestamp(stamp) - at) > MAX_PAGE_SKEW:
            return (f"comment page {page.archived.result.url} was archived at {parse_timestamp(stamp):%Y-%m-%d %H:%M}, "
                    f"too far from the article's snapshot to be the same moment")
    return None


def _store(ctx: ArchiveContext, session: Session, run_id: int, planned: Planned, at: datetime,
           adapter: Adapter | None, pages: list[_Page], chain: ChainState) -> tuple[SnapshotSummary, ChainState]:
    run = session.get_one(BackfillRun, run_id)
    thread = session.get_one(Thread, run.thread_id)
    outcomes = [FetchOutcome(p.archived.result.url, p.archived.result.status, p.archived.result.error)
                for p in pages]
    capped = len(pages) > ctx.settings.max_comment_pages
    decided = classify_fetches(outcomes, capped, ctx.settings.max_comment_pages)
    view: ThreadView | None = None
    if decided is None:
        results = [p.parsed for p in pages if p.parsed is not None]
        view = adapter.combine(results) if adapter else ThreadView(False, results[0].reason, [], "none")
        decided = classify_view(view, chain.known)
        skew = _skewed(at, pages)
        if decided[0] == "good" and skew:
            decided = ("suspect", skew)
    outcome, reason = decided
    if outcome == "good" and all(p.reused for p in pages):
        outcome = "unchanged"
    good = outcome in ("good", "unchanged")
    capture = Capture(thread_id=thread.id, source="backfill", adapter=adapter.name if adapter else None,
                      started_at=at, finished_at=at, outcome=outcome, reason=reason[:2000], pages=len(pages),
                      coverage=view.coverage if (view and good) else "none",
                      coverage_detail={"after": view.window_after.isoformat()}
                      if (view and good and view.window_after) else None,
                      comments_found=len(view.comments) if view else 0,
                      comments_claimed=view.claimed_count if view else None)
    for seq, page in enumerate(pages):
        r = page.archived.result
        capture.exchanges.append(Exchange(
            seq=seq, url=r.url, final_url=r.final_url or r.url, status=r.status,
            request_headers=dict(r.request_headers), response_headers=[list(line) for line in r.header_lines],
            redirects={"hops": r.redirects} if r.redirects else None, body_sha256=page.sha256,
            reused_body=page.reused, fetched_at=r.fetched_at, elapsed_ms=r.elapsed_ms, error=r.error,
            provenance=page.archived.provenance or None))
    session.add(capture)
    session.flush()
    snapshot = snapshot_of(view, outcome, at, reason)
    verdict = judge(chain.known, snapshot, chain.thread, ctx.settings.confirm_captures)
    changed = apply_verdict(session, thread, capture, list(snapshot.comments), verdict, snapshot.has_tree)
    if good and view is not None:
        thread.title = thread.title or view.title
        thread.adapter = thread.adapter or (adapter.name if adapter else None)
    _chain(session, capture)
    after = ChainState(verdict.known, verdict.thread, at)
    run.cursor = planned.row.order_key
    run.snapshots_done += 1
    run.heartbeat_at = utcnow()
    run.chain_state = dump_chain(after)
    summary = SnapshotSummary(at, outcome, reason, capture.comments_found, capture.id,
                              Counter(e.kind for e in verdict.events), changed)
    return summary, after


def _chain(session: Session, capture: Capture) -> None:
    # As archive/capture/pipeline.py chains live captures, within the backfill chain.
    previous = session.scalar(select(Capture.record_hash).where(
        Capture.thread_id == capture.thread_id, Capture.source == capture.source,
        Capture.seq == capture.seq - 1))
    capture.prev_hash = previous
    session.flush()
    capture.record_hash = capture_record_hash(capture, previous)
