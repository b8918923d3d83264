"""The evidence store: response bodies kept once each, under their SHA-256.

A body is kept as `<ab>/<cd>/<sha256>.zst` (zstandard), named by the SHA-256
of its uncompressed bytes, in a folder or an S3 bucket (archive/store/blobs.py),
with a `Blob` row in the database. An unchanged page captured a hundred times
is stored once. Each store writes a body whole or not at all, so a reader never
sees half of one.

`capture_record_hash` chains captures: each capture's hash covers its
identity, its outcome, its exchanges (with a browser capture's request
methods and bodies), a browser capture's DOM and screenshot, and the previous
capture's hash, so `verify` can tell when a stored capture row was edited.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import zstandard
from sqlalchemy import Select, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from archive.clock import to_naive_utc, utcnow
from archive.errors import ArchiveError
from archive.store.blobs import Blobs
from archive.store.headers import header_lines
from archive.store.models import Blob, Capture, Exchange

# Level 6 keeps real comment pages within about 1% of level 10 at a third of
# the time or less: compressing every changed page is part of every capture.
ZSTD_LEVEL = 6
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Both dialects' insert() offer on_conflict_do_nothing; the core insert() does not.
_INSERTS: dict[str, Callable[[type[Blob]], sqlite.Insert | postgresql.Insert]] = {
    "sqlite": sqlite.insert, "postgresql": postgresql.insert}
RECORD_HASH_VERSION = 1


class EvidenceError(ArchiveError):
    """A blob is missing, unreadable, or does not match its SHA-256."""


class EvidenceStore:
    """Content-addressed, compressed response bodies in one blob store."""

    def __init__(self, blobs: Blobs) -> None:
        self.blobs = blobs

    @staticmethod
    def name(sha256: str) -> str:
        """Where a body is kept in its store; EvidenceError unless `sha256` is one."""
        if not _SHA256.match(sha256 or ""):
            raise EvidenceError(f"not a SHA-256: {str(sha256)[:80]!r}")
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}.zst"

    def put(self, session: Session, body: bytes, replace: bool = False) -> str:
        """Store `body` (once) and record its Blob row; returns its SHA-256.
        `replace` writes the body even if the store has it: bytes that hash to
        its name repair a damaged copy. A store that cannot take the body
        raises before the row is recorded."""
        sha256 = hashlib.sha256(body).hexdigest()
        name = self.name(sha256)
        stored_size = None if replace else self.blobs.stored_size(name)
        if stored_size is None:
            compressed = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(body)
            self.blobs.write(name, compressed)
            stored_size = len(compressed)
        dialect = session.get_bind().dialect.name
        if dialect not in _INSERTS:
            raise EvidenceError(f"the evidence store does not support {dialect} databases")
        # Another writer may record the same body between our look and our
        # insert; "do nothing on conflict" makes that harmless on both databases.
        statement = _INSERTS[dialect](Blob).values(
            sha256=sha256, size=len(body), stored_size=stored_size,
            created_at=utcnow()).on_conflict_do_nothing(index_elements=["sha256"])
        session.execute(statement)
        return sha256

    def get(self, sha256: str) -> bytes:
        """The body, decompressed and checked against its name; EvidenceError otherwise
        (BlobStoreError when the store itself fails)."""
        try:
            compressed = self.blobs.read(self.name(sha256))
        except OSError as exc:
            raise EvidenceError(f"blob {sha256} cannot be read: {exc.strerror}") from None
        if compressed is None:
            raise EvidenceError(f"blob {sha256} is missing from {self.blobs.where}")
        try:
            with zstandard.ZstdDecompressor().stream_reader(compressed) as reader:
                body = reader.read()
        except zstandard.ZstdError as exc:
            raise EvidenceError(f"blob {sha256} is corrupt: {exc}") from None
        if hashlib.sha256(body).hexdigest() != sha256:
            raise EvidenceError(f"blob {sha256} does not match its SHA-256")
        return body

    def verify(self, sha256: str) -> bool:
        try:
            self.get(sha256)
        except EvidenceError:
            return False
        return True


def damaged_copies() -> Select[Exchange]:
    """Exchanges where a capture found its kept copy of a body damaged: a 304 whose
    body could not be reused (its `error` says why), newest first. The capture
    then fetched the page again in full (archive/capture/pipeline.py)."""
    return (select(Exchange).where(Exchange.status == 304, Exchange.reused_body.is_(False),
                                   Exchange.body_sha256.is_not(None), Exchange.error.is_not(None))
            .order_by(Exchange.id.desc()))


def _time(moment: datetime | None) -> str | None:
    # Fixed precision and no zone: SQLite and PostgreSQL give back the same
    # naive microsecond value, and so must the text hashed from it.
    return to_naive_utc(moment).isoformat(timespec="microseconds") if moment else None


def _hashed_headers(stored: Any) -> dict[str, str] | list[list[str]]:
    # Each shape is hashed as stored: a mapping (older captures) as before, so
    # their chains still verify; every line otherwise, so none can be dropped unseen.
    if isinstance(stored, Mapping) or not stored:
        return {str(k): str(v) for k, v in (stored or {}).items()}
    return [[name, value] for name, value in header_lines(stored)]


def capture_record(capture: Capture, prev_hash: str | None) -> dict[str, Any]:
    """What a capture's hash covers, as plain JSON-ready values (a backfilled
    capture's source and each exchange's provenance too).

    Column defaults count as their values (None and the default hash alike),
    so hashing before or after a flush gives the same result.
    """
    exchanges = sorted(capture.exchanges, key=lambda e: e.seq)
    record = {
        "v": RECORD_HASH_VERSION,
        "prev": prev_hash,
        "thread_url": capture.thread.url,
        "started_at": _time(capture.started_at),
        "finished_at": _time(capture.finished_at),
        "outcome": capture.outcome,
        "reason": capture.reason or "",
        "coverage": capture.coverage or "none",
        "comments_found": capture.comments_found or 0,
        "exchanges": [{
            "url": e.url,
            "final_url": e.final_url or "",
            "status": e.status,
            "headers": _hashed_headers(e.response_headers),
            "body_sha256": e.body_sha256,
            "reused_body": bool(e.reused_body),
            "fetched_at": _time(e.fetched_at),
        } | ({"provenance": e.provenance} if e.provenance else {})
          | _browser_request(e) for e in exchanges],
    }
    if capture.source not in (None, "live"):
        # Only then, so the hashes of every live capture stay what they were.
        record["source"] = capture.source
    # A browser capture's mode, DOM and screenshot, likewise only when they are not the default.
    if capture.fetch_mode not in (None, "http"):
        record["fetch_mode"] = capture.fetch_mode
    for name in ("dom_sha256", "screenshot_sha256"):
        if getattr(capture, name):
            record[name] = getattr(capture, name)
    return record


def _browser_request(exchange: Exchange) -> dict[str, Any]:
    """What a browser capture's page sent beyond a plain GET (its POSTs and their
    bodies): only when present, so every earlier capture hashes as before."""
    found: dict[str, Any] = {}
    if exchange.method not in (None, "GET"):
        found["method"] = exchange.method
    if exchange.request_body_sha256:
        found["request_body_sha256"] = exchange.request_body_sha256
    return found


def capture_record_hash(capture: Capture, prev_hash: str | None) -> str:
    """SHA-256 of the capture's canonical record, chained to the previous capture's hash."""
    text = json.dumps(capture_record(capture, prev_hash), sort_keys=True,
                      separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()
