"""`verify`: is the evidence still what was captured?

Two checks, each mismatch reported on its own line:
- every stored blob (response and request bodies, a browser capture's DOM and
  screenshot) decompresses to bytes whose SHA-256 is its name (a copy
  that captures found damaged, and repaired by fetching the same bytes again,
  is listed as a note: it is sound now, but operators should know it happened);
- every thread's captures form an unbroken hash chain: each capture's
  `record_hash` is the hash of its record and its `prev_hash`, and its
  `prev_hash` is the `record_hash` of the thread's previous capture (by `seq`;
  live captures and web-archive snapshots form two chains per thread).
  Editing a capture row (its outcome, an exchange's status or headers, the
  blob it points to, a browser capture's DOM or screenshot) breaks its own hash; deleting or reordering captures
  breaks the link to the next one.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from archive.store.evidence import EvidenceError, EvidenceStore, capture_record_hash, damaged_copies
from archive.store.models import Blob, Capture

BATCH = 200


@dataclass
class VerifyReport:
    blobs: int = 0
    captures: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


Progress = Callable[[str, int, int], None]


def verify_blobs(session: Session, store: EvidenceStore, report: VerifyReport,
                 problem: Callable[[str], None], progress: Progress | None = None) -> None:
    total = session.scalar(select(func.count()).select_from(Blob)) or 0
    for sha256, size in session.execute(select(Blob.sha256, Blob.size).order_by(Blob.sha256)
                                        .execution_options(yield_per=1000)):
        report.blobs += 1
        try:
            body = store.get(sha256)
        except EvidenceError as exc:
            problem(f"blob {sha256}: {exc}")
        else:
            if len(body) != size:
                problem(f"blob {sha256}: {len(body)} bytes, but the database records {size}")
        if progress is not None:
            progress("blobs checked", report.blobs, total)


def note_damaged_copies(session: Session, store: EvidenceStore, report: VerifyReport) -> None:
    """What captures found damaged; a copy still damaged is also a blob mismatch."""
    for exchange in session.scalars(damaged_copies()):
        sha = str(exchange.body_sha256)
        state = "REPAIRED" if store.verify(sha) else "STILL DAMAGED"
        report.notes.append(f"{state} blob {sha}: capture {exchange.capture_id} found its kept copy "
                            f"damaged at {exchange.fetched_at:%Y-%m-%d %H:%M:%S} UTC ({exchange.error})")


def verify_chains(session: Session, report: VerifyReport, problem: Callable[[str], None],
                  progress: Progress | None = None) -> None:
    total = session.scalar(select(func.count()).select_from(Capture)) or 0
    stmt = (select(Capture).options(selectinload(Capture.exchanges), selectinload(Capture.thread))
            .order_by(Capture.thread_id, Capture.source, Capture.seq).execution_options(yield_per=BATCH))
    chain: tuple[int, str] | None = None
    previous: Capture | None = None
    for capture in session.scalars(stmt):
        report.captures += 1
        if (capture.thread_id, capture.source) != chain:
            chain, previous = (capture.thread_id, capture.source), None
        expected_prev = previous.record_hash if previous is not None else None
        where = f"capture {capture.id} (thread {capture.thread_id})"
        if capture.prev_hash != expected_prev:
            before = f"capture {previous.id}" if previous is not None else "no earlier capture"
            problem(f"{where}: prev_hash {capture.prev_hash} does not match {before} "
                    f"(expected {expected_prev})")
        if not capture.record_hash:
            problem(f"{where}: no record_hash")
        else:
            computed = capture_record_hash(capture, capture.prev_hash)
            if computed != capture.record_hash:
                problem(f"{where}: record_hash {capture.record_hash} does not match its "
                        f"contents (computed {computed}): the capture or its exchanges changed")
        if previous is not None:
            session.expunge(previous)
        previous = capture
        if progress is not None:
            progress("captures checked", report.captures, total)


def verify_archive(session: Session, store: EvidenceStore,
                   on_problem: Callable[[str], None] | None = None,
                   progress: Progress | None = None) -> VerifyReport:
    """Check every blob and every capture chain; problems are also passed to `on_problem`
    as they are found, so a long run reports early."""
    report = VerifyReport()

    def problem(line: str) -> None:
        report.problems.append(line)
        if on_problem is not None:
            on_problem(line)

    verify_blobs(session, store, report, problem, progress)
    note_damaged_copies(session, store, report)
    verify_chains(session, report, problem, progress)
    return report
