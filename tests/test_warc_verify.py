"""WARC export read back with warcio, and `verify` catching tampered evidence.

Captures are written the way the capture pipeline writes them: bodies through
the evidence store, then the capture's hash chained to the thread's previous one.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from warcio.archiveiterator import ArchiveIterator

from archive.context import archive_context
from archive.research.warc import NOT_MODIFIED_PROFILE
from archive.store.db import get_db
from archive.store.evidence import capture_record_hash
from archive.store.models import Capture, Exchange, Site, Thread
from tests.context_support import blob_file

T0 = datetime(2024, 6, 1, 8, 0, 0)
PAGE1 = "<html><body><p id='comment-1'>Café ✓ first page</p></body></html>".encode()
PAGE2 = b"<html>page two \x00\xff raw bytes</html>"
PAGE3 = b"<html>another thread</html>"
MAINTENANCE = b"Down for maintenance"
GZIP_HEADERS = {"content-type": "text/html; charset=utf-8", "content-encoding": "gzip",
                "content-length": "41", "etag": '"v1"', "set-cookie": "a=1; HttpOnly"}


# (url, status, response headers, body, body reused from the last capture, error)
ExchangeSpec = tuple[str, int | None, dict[str, str], bytes | None, bool, str | None]


def add_capture(session: Session, app: Flask, thread: Thread, started: datetime, outcome: str,
                exchanges: Sequence[ExchangeSpec], reason: str = "") -> int:
    store = archive_context(app).evidence
    shas = [store.put(session, body) if body is not None else None
            for _url, _status, _headers, body, _reused, _error in exchanges]
    capture = Capture(thread=thread, started_at=started, finished_at=started + timedelta(seconds=5),
                      outcome=outcome, reason=reason, coverage="complete" if outcome == "good"
                      else "none", comments_found=1, pages=len(exchanges))
    for seq, (url, status, headers, _body, reused, error) in enumerate(exchanges, start=1):
        sha = shas[seq - 1]
        capture.exchanges.append(Exchange(
            seq=seq, url=url, final_url=url, status=status,
            request_headers={"User-Agent": "CommentArchiveBot/0.1", "Accept": "text/html"},
            response_headers=headers, body_sha256=sha, reused_body=reused,
            fetched_at=started + timedelta(seconds=seq), error=error))
    session.add(capture)
    session.flush()
    capture.prev_hash = session.scalar(
        select(Capture.record_hash).where(Capture.thread_id == thread.id, Capture.id < capture.id)
        .order_by(Capture.id.desc()).limit(1))
    capture.record_hash = capture_record_hash(capture, capture.prev_hash)
    session.flush()
    return capture.id


def build(app: Flask) -> dict[str, int]:
    with get_db(app).write() as s:
        site = Site(host="news.example")
        t1 = Thread(site=site, url="https://news.example/a/")
        t2 = Thread(site=site, url="https://news.example/b/")
        s.add_all([site, t1, t2])
        page2_url = "https://news.example/a/comment-page-2/?x=1"
        c1 = add_capture(s, app, t1, T0, "good", [
            (t1.url, 200, GZIP_HEADERS, PAGE1, False, None),
            (page2_url, 200, {"content-type": "text/html"}, PAGE2, False, None)])
        c2 = add_capture(s, app, t1, T0 + timedelta(hours=1), "unchanged", [
            (t1.url, 304, {"etag": '"v1"'}, PAGE1, True, None),
            (page2_url, 200, {"content-type": "text/html"}, PAGE2, False, None)])
        c3 = add_capture(s, app, t1, T0 + timedelta(hours=2), "failed", [
            (t1.url, 503, {"retry-after": "120"}, MAINTENANCE, False, None),
            (page2_url, None, {}, None, False, "timed out after 30s")], reason="HTTP 503")
        c4 = add_capture(s, app, t2, T0 + timedelta(hours=3), "good", [
            (t2.url, 200, {"content-type": "text/html"}, PAGE3, False, None)])
        return {"c1": c1, "c2": c2, "c3": c3, "c4": c4, "t1": t1.id, "t2": t2.id}


def read_warc(path: Path) -> list[dict]:
    records = []
    with path.open("rb") as handle:
        for record in ArchiveIterator(handle):
            http = record.http_headers
            records.append({
                "type": record.rec_type,
                "headers": dict(record.rec_headers.headers),
                "status": http.get_statuscode() if http and record.rec_type != "request" else None,
                # warcio keeps a request's method apart from the rest of its first line.
                "statusline": (f"{http.protocol} {http.statusline}" if record.rec_type == "request"
                               else http.statusline) if http else None,
                "http": list(http.headers) if http else [],
                "body": record.content_stream().read(),
            })
    return records


def test_warc_round_trip(app, runner, tmp_path):
    ids = build(app)
    target = tmp_path / "archive.warc.gz"
    result = runner.invoke("export", "warc", "--output", str(target))
    assert result.exit_code == 0, result.output
    records = read_warc(target)
    assert records[0]["type"] == "warcinfo"
    assert b"comment-moderation transparency archive" in records[0]["body"]
    by_exchange = {}
    for r in records:
        if r["type"] in ("response", "revisit"):
            key = (int(r["headers"]["X-Archive-Capture-Id"]),
                   int(r["headers"]["X-Archive-Exchange-Seq"]))
            by_exchange[key] = r
    # Every exchange that got an answer is there; the timeout is only in the metadata.
    assert sorted(by_exchange) == [(ids["c1"], 1), (ids["c1"], 2), (ids["c2"], 1),
                                   (ids["c2"], 2), (ids["c3"], 1), (ids["c4"], 1)]
    first = by_exchange[(ids["c1"], 1)]
    assert first["type"] == "response" and first["statusline"] == "200 OK"
    assert first["body"] == PAGE1
    assert first["headers"]["WARC-Target-URI"] == "https://news.example/a/"
    assert first["headers"]["WARC-Date"] == "2024-06-01T08:00:01Z"
    assert first["headers"]["X-Archive-Body-SHA256"] == hashlib.sha256(PAGE1).hexdigest()
    # Original headers, with the wire encoding renamed (the stored body is decoded).
    assert first["http"] == [
        ("content-type", "text/html; charset=utf-8"), ("X-Archive-Orig-content-encoding", "gzip"),
        ("X-Archive-Orig-content-length", "41"), ("etag", '"v1"'),
        ("set-cookie", "a=1; HttpOnly"), ("Content-Length", str(len(PAGE1)))]
    assert by_exchange[(ids["c1"], 2)]["body"] == PAGE2
    failed = by_exchange[(ids["c3"], 1)]
    assert failed["statusline"] == "503 Service Unavailable" and failed["body"] == MAINTENANCE
    assert ("retry-after", "120") in failed["http"]
    assert by_exchange[(ids["c4"], 1)]["body"] == PAGE3

    # The 304 and the identical second page are revisits of the first responses.
    not_modified = by_exchange[(ids["c2"], 1)]
    assert not_modified["type"] == "revisit" and not_modified["statusline"] == "304 Not Modified"
    assert not_modified["headers"]["WARC-Profile"] == NOT_MODIFIED_PROFILE
    same = by_exchange[(ids["c2"], 2)]
    assert same["type"] == "revisit" and same["statusline"] == "200 OK"
    assert same["headers"]["WARC-Profile"].endswith("identical-payload-digest")
    digests = {r["headers"]["WARC-Payload-Digest"]: r["body"] for r in records
               if r["type"] == "response"}
    assert digests[not_modified["headers"]["WARC-Payload-Digest"]] == PAGE1
    assert digests[same["headers"]["WARC-Payload-Digest"]] == PAGE2
    assert same["headers"]["WARC-Refers-To-Target-URI"] == "https://news.example/a/comment-page-2/?x=1"
    assert same["headers"]["WARC-Refers-To-Date"] == "2024-06-01T08:00:02Z"

    requests = [r for r in records if r["type"] == "request"]
    assert len(requests) == 6
    assert requests[1]["statusline"] == "GET /a/comment-page-2/?x=1 HTTP/1.1"
    assert ("User-Agent", "CommentArchiveBot/0.1") in requests[1]["http"]

    metadata = [json.loads(r["body"]) for r in records if r["type"] == "metadata"]
    assert [m["capture_id"] for m in metadata] == [ids["c1"], ids["c2"], ids["c3"], ids["c4"]]
    failed_meta = metadata[2]
    assert (failed_meta["outcome"], failed_meta["reason"]) == ("failed", "HTTP 503")
    assert failed_meta["exchanges"][1]["error"] == "timed out after 30s"
    with get_db(app).read_session() as session:
        stored = {c.id: (c.record_hash, c.prev_hash) for c in session.scalars(select(Capture))}
    assert all((m["record_hash"], m["prev_hash"]) == stored[m["capture_id"]] for m in metadata)
    assert metadata[1]["prev_hash"] == metadata[0]["record_hash"]


def test_warc_one_thread(app, runner, tmp_path):
    ids = build(app)
    target = tmp_path / "b.warc.gz"
    result = runner.invoke("export", "warc", "--thread", str(ids["t2"]), "--output", str(target))
    assert result.exit_code == 0, result.output
    records = read_warc(target)
    assert [r["type"] for r in records] == ["warcinfo", "response", "request", "metadata"]
    missing = runner.invoke("export", "warc", "--thread", "999", "--output", str(target))
    assert missing.exit_code == 1 and "no thread with id 999" in missing.output


def test_verify_clean_archive(app, runner):
    build(app)
    result = runner.invoke("verify")
    assert result.exit_code == 0, result.output
    assert "4 blobs and 4 captures checked: no mismatches" in result.output


def test_verify_catches_flipped_byte_and_edited_capture(app, runner):
    ids = build(app)
    blob = blob_file(app, hashlib.sha256(PAGE3).hexdigest())
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    with get_db(app).writer.begin() as conn:
        conn.execute(text("UPDATE captures SET outcome = 'good' WHERE id = :id"),
                     {"id": ids["c3"]})
    result = runner.invoke("verify")
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith("MISMATCH")]
    assert len(lines) == 2, result.output
    assert f"blob {hashlib.sha256(PAGE3).hexdigest()}" in lines[0]
    assert f"capture {ids['c3']} (thread {ids['t1']}): record_hash" in lines[1]
    assert "2 mismatches" in result.stdout


def test_verify_catches_edited_exchange_and_broken_chain(app, runner):
    ids = build(app)
    with get_db(app).writer.begin() as conn:
        conn.execute(text("UPDATE exchanges SET status = 200 WHERE capture_id = :id AND seq = 1"),
                     {"id": ids["c3"]})
        # Deleting a capture from the middle leaves the next one pointing at nothing.
        conn.execute(text("DELETE FROM exchanges WHERE capture_id = :id"), {"id": ids["c2"]})
        conn.execute(text("DELETE FROM captures WHERE id = :id"), {"id": ids["c2"]})
    result = runner.invoke("verify")
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith("MISMATCH")]
    assert len(lines) == 2, result.output
    assert f"capture {ids['c3']}" in lines[0] and "prev_hash" in lines[0]
    assert f"capture {ids['c1']}" in lines[0]
    assert f"capture {ids['c3']}" in lines[1] and "record_hash" in lines[1]


def test_warc_reports_unreadable_body(app, runner, tmp_path):
    build(app)
    blob_file(app, hashlib.sha256(PAGE3).hexdigest()).unlink()
    result = runner.invoke("export", "warc", "--output", str(tmp_path / "x.warc.gz"))
    assert result.exit_code == 1
    assert "1 bodies could not be read" in result.output
