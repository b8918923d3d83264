"""One capture of one thread, end to end.

fetch every page the adapter asks for (storing each body as evidence as it
arrives), or load the page in a browser when the watch names a browser adapter
(archive/capture/browser_capture.py) → classify the capture (archive/rules/assess.py) → judge it (the pure
verdict engine) → store capture, exchanges, versions and events in one
transaction → update the search index. No database transaction is held open
while fetching: politeness delays can make a capture take minutes.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from archive.capture.browser_capture import classify_browser, fetch_in_browser, with_notes
from archive.capture.fetch.fetcher import Fetcher
from archive.capture.fetched import BrowserEvidence, Fetched
from archive.capture.follow import may_follow
from archive.capture.ledger import apply_verdict, load_thread_comments, record_api_check, thread_state
from archive.capture.watches import current_interval
from archive.clock import Clock, utcnow
from archive.context import ArchiveContext
from archive.errors import ArchiveError
from archive.rules.assess import FetchOutcome, classify_fetches, classify_view, snapshot_of
from archive.rules.verdicts import judge
from archive.store.evidence import EvidenceError, capture_record_hash
from archive.store.headers import header_lines, header_map
from archive.store.models import Capture, Comment, Exchange, Thread, Watch
from scrapers import ADAPTERS, choose_adapter, get_adapter
from scrapers.base import Adapter, Page, PageResult, ThreadView

log = logging.getLogger(__name__)
# A failing watch is retried later and later, but never dropped.
MAX_BACKOFF = timedelta(hours=24)
# Follow-up look-ups (`Adapter.follow_ups`) after one capture: a mass removal must not become a flood.
MAX_API_CHECKS = 20
# url -> (ETag, Last-Modified, SHA-256 of the body they validate)
Validators = dict[str, tuple[str | None, str | None, str]]


@dataclass
class CaptureSummary:
    watch_id: int
    thread_url: str
    outcome: str
    reason: str = ""
    comments_found: int = 0
    capture_id: int | None = None
    events: Counter = field(default_factory=Counter)

    def line(self) -> str:
        changes = ", ".join(f"{n} {kind}" for kind, n in sorted(self.events.items()))
        reason = f" ({self.reason})" if self.reason else ""
        return (f"[{self.outcome}] {self.thread_url}: {self.comments_found} comments"
                f"{'; ' + changes if changes else ''}{reason}")


@dataclass
class _Fetch:
    """Everything one capture fetched, before it is judged."""
    adapter: Adapter | None
    fetched: list[Fetched]
    capped: bool = False
    browser: BrowserEvidence | None = None


@dataclass
class _Plan:
    watch_id: int
    thread_id: int
    url: str
    adapter_name: str | None
    options: dict | None
    validators: Validators
    job_id: int | None


def capture_watch(ctx: ArchiveContext, watch_id: int, fetcher: Fetcher,
                  clock: Clock = utcnow, job_id: int | None = None) -> CaptureSummary:
    """Capture one watched thread now, whatever its schedule says; the capture
    row carries `job_id` (unique), so one job can never store two captures.

    `clock` dates the capture, its verdict and the watch's next turn: the
    wall clock, except for the demo's simulated captures (archive/demo/).

    Once the watch is found this raises only when the archive cannot store
    anything (OSError, OperationalError): any other error in the capture
    becomes a failed capture with its reason and the watch's back-off, so one
    broken thread can neither stop a capture round nor be retried at every
    dispatch."""
    plan = _plan(ctx, watch_id, job_id)
    started = clock()
    try:
        fetch = _fetch_all(ctx, plan, fetcher)
        adapter = fetch.adapter
        summary, changed, first_misses = _store(ctx, plan, fetch, started, clock)
    except (OSError, OperationalError):
        # The archive's own storage failed (a full disk, the database gone):
        # not the thread's fault, so no failed capture blames the site and
        # backs its watch off; the caller reports it, and nothing was stored.
        raise
    except Exception as exc:
        log.exception("capture of watch %s failed", watch_id)
        return _record_crash(ctx, plan, started, clock(), exc)
    try:
        if first_misses and adapter is not None and summary.capture_id is not None:
            _check_api(ctx, summary.capture_id, adapter, first_misses, plan.url, fetcher)
    except Exception:
        # The capture and its verdict are stored; the follow-up checks are only a hint.
        log.exception("after capture %s of watch %s", summary.capture_id, watch_id)
    # Indexed with other captures' changes, in one commit (archive/search/updates.py).
    ctx.index_updates.add(changed)
    return summary


def _plan(ctx: ArchiveContext, watch_id: int, job_id: int | None) -> _Plan:
    with ctx.db.read_session() as session:
        watch = session.get(Watch, watch_id)
        if watch is None:
            raise ArchiveError(f"no watch with id {watch_id}")
        thread = watch.thread
        validators = _last_good_validators(session, thread.id)
        return _Plan(watch.id, thread.id, thread.url, watch.adapter or thread.adapter,
                     watch.options, validators, job_id)


def _last_good_validators(session: Session, thread_id: int) -> Validators:
    """ETag/Last-Modified of each URL in the newest good capture: a 304 then
    means "the same bytes as that capture", whose body we still hold."""
    capture = session.scalar(select(Capture).where(
        Capture.thread_id == thread_id, Capture.source == "live", Capture.outcome.in_(("good", "unchanged")))
        .order_by(Capture.id.desc()).limit(1))
    if capture is None:
        return {}
    found: Validators = {}
    for exchange in capture.exchanges:
        headers = header_map(header_lines(exchange.response_headers))
        if exchange.body_sha256 and exchange.error is None and (headers.get("etag") or headers.get("last-modified")):
            found[exchange.url] = (headers.get("etag"), headers.get("last-modified"), exchange.body_sha256)
    return found


def _fetch_all(ctx: ArchiveContext, plan: _Plan, fetcher: Fetcher) -> _Fetch:
    """Fetch the article and every page the adapter follows, parsing as we go; or,
    for a browser adapter (only ever named on the watch), load the page in a browser."""
    max_pages = ctx.settings.max_comment_pages
    adapter: Adapter | None = (get_adapter(plan.adapter_name, plan.options, ctx.settings)
                               if plan.adapter_name else None)
    if adapter is not None and adapter.fetch_mode == "browser":
        in_browser, evidence = fetch_in_browser(ctx, plan.url, adapter, fetcher)
        return _Fetch(adapter, in_browser, browser=evidence)
    queue = [adapter.first_url(plan.url) if adapter else plan.url]
    queued = set(queue)
    fetched: list[Fetched] = []
    pages = 0
    while queue:
        if pages >= max_pages:
            return _Fetch(adapter, fetched, capped=True)
        url = queue.pop(0)
        item, body = _fetch_page(ctx, fetcher, url, plan.validators, fetched)
        fetched.append(item)
        pages += 1
        result, reused = item.result, item.reused_body
        status = 200 if reused else result.status
        if result.error is not None or status is None or not 200 <= status < 300:
            break
        page = Page(url=url, final_url=result.final_url or url, status=status,
                    headers=result.headers, body=body)
        if adapter is None:
            adapter = choose_adapter(page, ctx.settings)
            if adapter is None:
                item.page = PageResult(recognised=False, reason="no adapter recognises this page")
                break
        item.page = adapter.parse(page)
        for link in item.page.follow:
            if link not in queued and may_follow(link, plan.url, adapter):
                queued.add(link)
                queue.append(link)
    return _Fetch(adapter, fetched)


def _fetch_page(ctx: ArchiveContext, fetcher: Fetcher, url: str, validators: Validators,
                fetched: list[Fetched]) -> tuple[Fetched, bytes]:
    """One page, conditionally when the last good capture kept validators for it.

    A 304 reuses the body kept then. When that copy fails its check, the 304 is
    kept as an exchange saying so (operators see it; `verify` reports it) and the
    page is fetched again without validators: a damaged local copy must never
    stop the archive from capturing, and identical bytes fetched again repair it."""
    store = ctx.evidence
    etag, modified, old_sha = validators.get(url, (None, None, None))
    result = fetcher.fetch(url, etag=etag, last_modified=modified)
    body, reused, damaged = result.body, False, False
    if result.not_modified and old_sha:
        try:
            body, reused = store.get(old_sha), True
        except EvidenceError as exc:
            fetched.append(Fetched(result, old_sha, False, damaged=f"{exc}: fetched again in full"))
            result = fetcher.fetch(url)
            body, damaged = result.body, True
    sha = None
    if body or (result.status and not result.error):
        with ctx.db.write() as session:
            sha = store.put(session, body, replace=damaged)
    return Fetched(result, sha, reused), body


def _store(ctx: ArchiveContext, plan: _Plan, fetch: _Fetch, started: datetime,
           clock: Clock) -> tuple[CaptureSummary, set[int], list[str]]:
    """`_record` in one transaction, judged once more against what the winner wrote
    if another writer stored this thread's next capture first (uq_captures_thread_seq)."""
    try:
        with ctx.db.write() as session:
            return _record(ctx, session, plan, fetch, started, clock())
    except IntegrityError:
        log.warning("watch %s: another capture of its thread was stored first; judging again", plan.watch_id)
    with ctx.db.write() as session:
        return _record(ctx, session, plan, fetch, started, clock())


def _record(ctx: ArchiveContext, session: Session, plan: _Plan, fetch: _Fetch, started: datetime,
            now: datetime) -> tuple[CaptureSummary, set[int], list[str]]:
    """Store the capture and its verdict; returns the summary, the changed
    comment ids and the keys of comments that have just gone missing."""
    thread = session.get_one(Thread, plan.thread_id)
    watch = session.get(Watch, plan.watch_id)
    loaded = load_thread_comments(session, thread.id)
    known = loaded.known
    adapter, fetched = fetch.adapter, fetch.fetched
    pages = [f for f in fetched if f.damaged is None and f.counts]
    outcomes = [FetchOutcome(f.result.url, f.result.status, f.result.error, f.result.robots_disallowed)
                for f in pages]
    decided = classify_fetches(outcomes, fetch.capped, ctx.settings.max_comment_pages)
    if fetch.browser is not None:
        decided = classify_browser(decided, fetch.browser)
    view: ThreadView | None = None
    if decided is None:
        results = [f.page for f in pages if f.page is not None]
        view = adapter.combine(results) if adapter else ThreadView(False, results[0].reason, [], "none")
        decided = classify_view(view, known)
    outcome, reason = decided
    if fetch.browser is not None:
        reason = with_notes(outcome, reason, fetch.browser)
    if outcome == "good" and pages and all(f.reused_body for f in pages):
        outcome = "unchanged"
    good = outcome in ("good", "unchanged")
    capture = Capture(thread_id=thread.id, watch_id=watch.id if watch else None,
                      adapter=adapter.name if adapter else None, started_at=started, finished_at=now,
                      outcome=outcome, reason=reason[:2000], pages=len(pages),
                      coverage=view.coverage if (view and good) else "none",
                      coverage_detail={"after": view.window_after.isoformat()}
                      if (view and good and view.window_after) else None,
                      comments_found=len(view.comments) if view else 0,
                      comments_claimed=view.claimed_count if view else None, job_id=plan.job_id,
                      fetch_mode="browser" if fetch.browser else "http",
                      dom_sha256=fetch.browser.dom_sha256 if fetch.browser else None,
                      screenshot_sha256=fetch.browser.screenshot_sha256 if fetch.browser else None)
    for seq, item in enumerate(fetched):
        r = item.result
        capture.exchanges.append(Exchange(
            seq=seq, method=r.method, url=r.url, final_url=r.final_url or r.url, status=r.status,
            request_headers=dict(r.request_headers), response_headers=[list(line) for line in r.header_lines],
            redirects={"hops": r.redirects} if r.redirects else None, body_sha256=item.sha256,
            request_body_sha256=item.request_sha256,
            reused_body=item.reused_body, fetched_at=r.fetched_at, elapsed_ms=r.elapsed_ms,
            error=item.damaged or r.error))
    session.add(capture)
    session.flush()
    snapshot = snapshot_of(view, outcome, started, reason)
    verdict = judge(known, snapshot, thread_state(thread), ctx.settings.confirm_captures)
    changed = apply_verdict(session, thread, capture, list(snapshot.comments), verdict,
                            snapshot.has_tree, loaded)
    if good and view is not None:
        if view.title and view.title != thread.title:
            # The title is part of every comment's search document.
            changed |= {stored.id for stored in loaded.stored.values()}
        thread.title = view.title or thread.title
        thread.platform_id = view.platform_id or thread.platform_id
        thread.adapter = thread.adapter or (adapter.name if adapter else None)
    _chain(session, capture)
    if watch is not None:
        _reschedule(watch, outcome, reason, now)
    summary = CaptureSummary(plan.watch_id, thread.url, outcome, reason,
                             capture.comments_found, capture.id,
                             Counter(e.kind for e in verdict.events))
    first_misses = [e.key for e in verdict.events
                    if e.kind in ("missing", "removed") and e.details.get("misses") == 1 and e.key]
    return summary, changed, first_misses


def _chain(session: Session, capture: Capture) -> None:
    """Link a flushed capture to its thread's previous one of the same source
    (archive/store/evidence.py): the row its seq was numbered after, read in the same transaction."""
    previous = session.scalar(select(Capture.record_hash).where(
        Capture.thread_id == capture.thread_id, Capture.source == capture.source,
        Capture.seq == capture.seq - 1))
    capture.prev_hash = previous
    session.flush()
    capture.record_hash = capture_record_hash(capture, previous)


def _record_crash(ctx: ArchiveContext, plan: _Plan, started: datetime, now: datetime,
                  exc: Exception) -> CaptureSummary:
    """A capture that raised, stored as a failed capture: no exchanges, no verdict."""
    reason = f"the capture stopped on an error: {type(exc).__name__}: {exc}"[:2000]
    with ctx.db.write() as session:
        watch = session.get(Watch, plan.watch_id)
        capture = Capture(thread_id=plan.thread_id, watch_id=watch.id if watch else None,
                          adapter=plan.adapter_name, started_at=started, finished_at=now,
                          outcome="failed", reason=reason, coverage="none", job_id=plan.job_id,
                          fetch_mode=ADAPTERS[plan.adapter_name].fetch_mode
                          if plan.adapter_name in ADAPTERS else "http")
        session.add(capture)
        session.flush()
        _chain(session, capture)
        if watch is not None:
            _reschedule(watch, "failed", reason, now)
        return CaptureSummary(plan.watch_id, plan.url, "failed", reason, capture_id=capture.id)


def _check_api(ctx: ArchiveContext, capture_id: int, adapter: Adapter, keys: list[str], url: str,
               fetcher: Fetcher) -> None:
    """Ask the platform about each comment that just went missing, as the adapter's
    `follow_ups` say (WordPress's REST API: 401/403 hidden, 404 deleted), and store
    what `read_follow_up` makes of each answer. Runs after the capture's transaction
    (fetching waits on politeness delays); the answers are stored together once all
    have come. Only links a capture may follow are asked, at most MAX_API_CHECKS."""
    asks = [ask for ask in adapter.follow_ups(url, keys) if may_follow(ask.url, url, adapter)]
    answers = []
    for ask in asks[:MAX_API_CHECKS]:
        result = fetcher.fetch(ask.url)
        meaning = (adapter.read_follow_up(result.status, result.body) if result.status
                   else f"no answer: {result.error}")
        answers.append((ask.key, result, meaning, ask.url))
    if not answers:
        return
    with ctx.db.write() as session:
        capture = session.get_one(Capture, capture_id)
        comments = {c.key: c for c in session.scalars(select(Comment).where(
            Comment.thread_id == capture.thread_id, Comment.key.in_([key for key, *_ in answers])))}
        for key, result, meaning, api_url in answers:
            if key in comments:
                record_api_check(session, comments[key], capture, result.fetched_at, result.status,
                                 meaning, api_url)


def _reschedule(watch: Watch, outcome: str, reason: str, now: datetime) -> None:
    watch.last_capture_at = now
    watch.last_outcome = outcome
    watch.last_reason = reason or None
    interval = current_interval(watch, now)
    if outcome in ("good", "unchanged"):
        watch.consecutive_failures = 0
        watch.next_due_at = now + interval
    else:
        watch.consecutive_failures += 1
        backoff = interval * (2 ** min(watch.consecutive_failures - 1, 8))
        watch.next_due_at = now + min(backoff, max(interval, MAX_BACKOFF))
