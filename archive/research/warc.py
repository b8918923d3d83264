"""Captures as a standard gzip WARC file, so anyone can replay and check them.

Records, in capture order:
- one `warcinfo` record first, saying what the file holds and how it was made;
- per HTTP exchange, a `request` record and a `response` record carrying the
  original status, headers and body bytes, dated when the exchange was fetched;
  a body already written earlier in the file becomes a `revisit` record
  (identical-payload-digest), and a 304 answer a `revisit` record
  (server-not-modified) pointing at the response that holds the body;
- a request the page sent with a body (a browser capture's POST) carries it
  as the `request` record's payload;
- per browser capture, its final DOM (`urn:dom:<thread URL>`, text/html) and
  screenshot (`urn:screenshot:<thread URL>`, image/png) as `resource` records;
- per capture, a `metadata` record (JSON): outcome, reason, coverage, source,
  fetch mode, the hash chain (record_hash, prev_hash), redirects, fetch errors and, for a
  backfilled capture, each body's provenance (its records are dated at the
  snapshot's timestamp, with the snapshot's address in X-Archive-Snapshot-URL).

The archive keeps bodies decoded (gzip/br removed), so a response whose
headers named a Content-Encoding or Transfer-Encoding carries them renamed
to `X-Archive-Orig-...` and a Content-Length that matches the stored bytes;
otherwise WARC readers would try to decode plain bytes.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from io import BytesIO
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.backfill.cdx import CdxError, parse_timestamp
from archive.clock import iso, utcnow
from archive.store.evidence import EvidenceError, EvidenceStore
from archive.store.headers import header_lines
from archive.store.models import Capture, Exchange

NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.0/revisit/server-not-modified"
# Headers that describe the wire encoding, not the bytes the archive kept.
WIRE_HEADERS = ("content-encoding", "transfer-encoding")
ORIGINAL_PREFIX = "X-Archive-Orig-"


@dataclass
class WarcSummary:
    captures: int = 0
    responses: int = 0
    revisits: int = 0
    resources: int = 0
    unreadable_bodies: int = 0


@dataclass(frozen=True)
class _Written:
    """Where a body first went in this file: what a revisit refers to."""
    uri: str
    date: str
    payload_digest: str
    length: int


def warc_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def status_line(status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"{status} {phrase}".rstrip()


def response_headers(exchange: Exchange, body_length: int | None) -> list[tuple[str, str]]:
    """The stored headers, with wire-encoding headers renamed when a body follows."""
    headers: list[tuple[str, str]] = []
    for name, value in header_lines(exchange.response_headers):
        if body_length is not None and name.lower() in WIRE_HEADERS:
            headers.append((ORIGINAL_PREFIX + name, value))
        elif body_length is not None and name.lower() == "content-length":
            if value.strip() != str(body_length):
                headers.append((ORIGINAL_PREFIX + name, value))
        else:
            headers.append((name, value))
    if body_length is not None:
        headers.append(("Content-Length", str(body_length)))
    return headers


class WarcExporter:
    """Writes captures to one WARC stream; keeps only the index of bodies written."""

    def __init__(self, out: BinaryIO, store: EvidenceStore) -> None:
        self.writer = WARCWriter(out, gzip=True)
        self.store = store
        self.summary = WarcSummary()
        self._bodies: dict[str, _Written] = {}

    def write_info(self, description: dict[str, str]) -> None:
        info = {"software": "comment-moderation transparency archive",
                "format": "WARC File Format 1.0", "created": iso(utcnow()) or "",
                "body-encoding": "bodies are stored decoded; wire encoding headers are renamed "
                                 f"{ORIGINAL_PREFIX}<name>"} | description
        self.writer.write_record(self.writer.create_warcinfo_record("", info))

    def write_capture(self, capture: Capture) -> None:
        self.summary.captures += 1
        exchanges: list[dict[str, Any]] = []
        first_record: str | None = None
        for exchange in capture.exchanges:
            entry, record_id = self._write_exchange(exchange)
            exchanges.append(entry)
            first_record = first_record or record_id
        browser = {name: sha for name, sha in (("dom_sha256", capture.dom_sha256),
                                                ("screenshot_sha256", capture.screenshot_sha256)) if sha}
        for name, sha in browser.items():
            self._write_resource(capture, name, sha, first_record)
        meta = {
            "capture_id": capture.id, "thread_id": capture.thread_id,
            "thread_url": capture.thread.url, "adapter": capture.adapter,
            "started_at": iso(capture.started_at), "finished_at": iso(capture.finished_at),
            "outcome": capture.outcome, "reason": capture.reason, "coverage": capture.coverage,
            "source": capture.source, "fetch_mode": capture.fetch_mode, **browser,
            "coverage_detail": capture.coverage_detail,
            "comments_found": capture.comments_found,
            "comments_claimed": capture.comments_claimed, "pages": capture.pages,
            "prev_hash": capture.prev_hash, "record_hash": capture.record_hash,
            "exchanges": exchanges,
        }
        payload = json.dumps(meta, ensure_ascii=False, indent=1).encode("utf-8")
        headers = {"WARC-Date": warc_date(capture.started_at),
                   "X-Archive-Capture-Id": str(capture.id)}
        if first_record:
            headers["WARC-Concurrent-To"] = first_record
        self.writer.write_record(self.writer.create_warc_record(
            capture.thread.url, "metadata", payload=BytesIO(payload), length=len(payload),
            warc_content_type="application/json", warc_headers_dict=headers))

    def _write_exchange(self, exchange: Exchange) -> tuple[dict[str, Any], str | None]:
        entry: dict[str, Any] = {
            "seq": exchange.seq, "method": exchange.method, "url": exchange.url,
            "final_url": exchange.final_url, "request_body_sha256": exchange.request_body_sha256,
            "status": exchange.status, "fetched_at": iso(exchange.fetched_at),
            "body_sha256": exchange.body_sha256, "reused_body": exchange.reused_body,
            "redirects": (exchange.redirects or {}).get("hops"), "error": exchange.error,
            "provenance": exchange.provenance}
        if exchange.status is None:
            return entry, None
        uri = exchange.final_url or exchange.url
        provenance = exchange.provenance or {}
        date = warc_date(_snapshot_time(provenance) or exchange.fetched_at)
        common = {"WARC-Date": date, "X-Archive-Capture-Id": str(exchange.capture_id),
                  "X-Archive-Exchange-Seq": str(exchange.seq)}
        if provenance.get("snapshot_url"):
            common["X-Archive-Snapshot-URL"] = str(provenance["snapshot_url"])
        if exchange.body_sha256:
            common["X-Archive-Body-SHA256"] = exchange.body_sha256
        record = self._response(exchange, uri, date, common, entry)
        if record is None:
            return entry, None
        record_id = record.rec_headers.get_header("WARC-Record-ID")
        self.writer.write_record(record)
        self._write_request(exchange, uri, common | {"WARC-Concurrent-To": record_id}, entry)
        return entry, record_id

    def _write_request(self, exchange: Exchange, uri: str, headers: dict[str, str],
                       entry: dict[str, Any]) -> None:
        split = urlsplit(uri)
        target = (split.path or "/") + (f"?{split.query}" if split.query else "")
        lines = [(str(k), str(v)) for k, v in (exchange.request_headers or {}).items()]
        body = b""
        if exchange.request_body_sha256:
            try:
                body = self.store.get(exchange.request_body_sha256)
            except EvidenceError as exc:
                entry["request_body_error"] = str(exc)
                self.summary.unreadable_bodies += 1
            headers = headers | {"X-Archive-Request-Body-SHA256": exchange.request_body_sha256}
            if not any(name.lower() == "content-length" for name, _ in lines):
                lines.append(("Content-Length", str(len(body))))
        request = StatusAndHeaders(f"{exchange.method} {target} HTTP/1.1", lines, is_http_request=True)
        self.writer.write_record(self.writer.create_warc_record(
            uri, "request", payload=BytesIO(body), length=len(body), http_headers=request,
            warc_headers_dict=headers))

    def _write_resource(self, capture: Capture, name: str, sha: str, concurrent: str | None) -> None:
        """A browser capture's DOM or screenshot, as a `resource` record naming its capture."""
        kind, content_type = (("dom", "text/html; charset=utf-8") if name == "dom_sha256"
                              else ("screenshot", "image/png"))
        try:
            body = self.store.get(sha)
        except EvidenceError:
            self.summary.unreadable_bodies += 1
            return
        headers = {"WARC-Date": warc_date(capture.finished_at or capture.started_at),
                   "X-Archive-Capture-Id": str(capture.id), "X-Archive-Body-SHA256": sha}
        if concurrent:
            headers["WARC-Concurrent-To"] = concurrent
        self.writer.write_record(self.writer.create_warc_record(
            f"urn:{kind}:{capture.thread.url}", "resource", payload=BytesIO(body), length=len(body),
            warc_content_type=content_type, warc_headers_dict=headers))
        self.summary.resources += 1

    def _response(self, exchange: Exchange, uri: str, date: str, common: dict[str, str],
                  entry: dict[str, Any]) -> Any:
        status = exchange.status or 0
        sha = exchange.body_sha256
        earlier = self._bodies.get(sha) if sha else None
        if status == 304 or earlier is not None:
            if earlier is None:
                # A 304 whose body is not in this file: the answer itself, bodiless.
                http = StatusAndHeaders(status_line(status), response_headers(exchange, None),
                                        protocol="HTTP/1.1")
                return self.writer.create_warc_record(uri, "response", payload=BytesIO(b""),
                                                      length=0, http_headers=http,
                                                      warc_headers_dict=common)
            length = None if status == 304 else earlier.length
            http = StatusAndHeaders(status_line(status), response_headers(exchange, length),
                                    protocol="HTTP/1.1")
            record = self.writer.create_revisit_record(
                uri, earlier.payload_digest, earlier.uri, earlier.date, http_headers=http,
                warc_headers_dict=common)
            if status == 304:
                record.rec_headers.replace_header("WARC-Profile", NOT_MODIFIED_PROFILE)
            self.summary.revisits += 1
            return record
        body = b""
        if sha:
            try:
                body = self.store.get(sha)
            except EvidenceError as exc:
                entry["body_error"] = str(exc)
                self.summary.unreadable_bodies += 1
                return None
        http = StatusAndHeaders(status_line(status), response_headers(exchange, len(body)),
                                protocol="HTTP/1.1")
        record = self.writer.create_warc_record(uri, "response", payload=BytesIO(body),
                                                length=len(body), http_headers=http,
                                                warc_headers_dict=common)
        if sha:
            self._bodies[sha] = _Written(
                uri, date, record.rec_headers.get_header("WARC-Payload-Digest"), len(body))
        self.summary.responses += 1
        return record


def _snapshot_time(provenance: dict[str, Any]) -> datetime | None:
    """A backfilled body is dated at its snapshot, so the file replays (and backfills) as archived."""
    try:
        return parse_timestamp(str(provenance["timestamp"])) if provenance.get("timestamp") else None
    except CdxError:
        return None


def export_warc(session: Session, store: EvidenceStore, out: BinaryIO,
                thread_id: int | None = None,
                progress: Callable[[int], None] | None = None) -> WarcSummary:
    """Write every capture (or one thread's) to `out`, in capture id order."""
    exporter = WarcExporter(out, store)
    exporter.write_info({"selection": f"thread {thread_id}" if thread_id else "all threads"})
    stmt = (select(Capture).options(selectinload(Capture.exchanges), selectinload(Capture.thread))
            .order_by(Capture.id))
    if thread_id is not None:
        stmt = stmt.where(Capture.thread_id == thread_id)
    for capture in session.scalars(stmt.execution_options(yield_per=100)):
        exporter.write_capture(capture)
        session.expunge(capture)
        if progress is not None:
            progress(exporter.summary.captures)
    return exporter.summary
