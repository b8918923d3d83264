"""The evidence store and the capture hash chain, on SQLite and PostgreSQL."""
from __future__ import annotations

import multiprocessing
import threading
from datetime import datetime
from pathlib import Path

import pytest
import zstandard
from flask import Flask
from sqlalchemy import func, select

import config
from archive import create_app
from archive.context import archive_context
from archive.store.blobs import LocalBlobs
from archive.store.db import get_db
from archive.store.evidence import EvidenceError, EvidenceStore, capture_record_hash
from archive.store.models import Blob, Capture, Exchange, Site, Thread
from tests.context_support import blob_file

PAGE = b"<html><body><ol class='commentlist'><li id='comment-1'>First</li></ol></body></html>" * 50


def _files(app: Flask) -> list[Path]:
    folder = archive_context(app).settings.data_dir / "blobs"
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _put(app: Flask, body: bytes) -> str:
    with get_db(app).write() as session:
        return archive_context(app).evidence.put(session, body)


def _blob_rows(app: Flask) -> list[Blob]:
    with get_db(app).read_session() as session:
        return list(session.scalars(select(Blob)))


def test_round_trip(app: Flask) -> None:
    store = archive_context(app).evidence
    sha = _put(app, PAGE)
    assert store.get(sha) == PAGE and store.verify(sha)
    assert blob_file(app, sha) == archive_context(app).settings.data_dir / "blobs" / sha[:2] / sha[2:4] / f"{sha}.zst"
    (row,) = _blob_rows(app)
    assert (row.sha256, row.size) == (sha, len(PAGE))
    assert row.stored_size == blob_file(app, sha).stat().st_size < len(PAGE)


def test_empty_body(app: Flask) -> None:
    sha = _put(app, b"")
    assert archive_context(app).evidence.get(sha) == b""


def test_identical_bodies_stored_once(app: Flask) -> None:
    first = _put(app, PAGE)
    size_after_one = sum(p.stat().st_size for p in _files(app))
    for _ in range(99):
        assert _put(app, PAGE) == first
    assert _files(app) == [blob_file(app, first)]
    assert sum(p.stat().st_size for p in _files(app)) == size_after_one
    assert len(_blob_rows(app)) == 1
    other = _put(app, PAGE + b"<!-- changed -->")
    assert other != first and len(_files(app)) == 2 and len(_blob_rows(app)) == 2


def test_same_body_twice_in_one_session(app: Flask) -> None:
    with get_db(app).write() as session:
        store = archive_context(app).evidence
        assert store.put(session, PAGE) == store.put(session, PAGE)
    assert len(_blob_rows(app)) == 1


def test_concurrent_puts_of_one_body(app: Flask) -> None:
    store = archive_context(app).evidence
    results: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def worker() -> None:
        try:
            start.wait()
            results.append(_put(app, PAGE))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(results)) == 1 and len(results) == 6
    assert _files(app) == [blob_file(app, results[0])]  # no temporary files left behind
    assert len(_blob_rows(app)) == 1
    assert store.get(results[0]) == PAGE


def _put_in_another_process(data_dir: str, database_url: str) -> str:
    app = create_app(config.TestConfig(DATA_DIR=data_dir, DATABASE_URL=database_url))
    try:
        return _put(app, PAGE)
    finally:
        get_db(app).dispose()


def test_concurrent_puts_from_processes(app: Flask) -> None:
    args = (archive_context(app).settings.data_dir, archive_context(app).settings.database_url)
    # fork: the children need no fresh imports; each builds its own app and engine.
    with multiprocessing.get_context("fork").Pool(3) as pool:
        results = pool.starmap(_put_in_another_process, [args] * 3)
    store = archive_context(app).evidence
    assert len(set(results)) == 1
    assert _files(app) == [blob_file(app, results[0])]
    assert len(_blob_rows(app)) == 1 and store.get(results[0]) == PAGE


def test_corrupted_file_detected(app: Flask) -> None:
    store = archive_context(app).evidence
    sha = _put(app, PAGE)
    path = blob_file(app, sha)
    path.write_bytes(b"not zstandard at all")
    assert not store.verify(sha)
    with pytest.raises(EvidenceError, match=f"blob {sha} is corrupt"):
        store.get(sha)
    # Valid compression of other bytes: the content no longer matches its name.
    path.write_bytes(zstandard.ZstdCompressor().compress(PAGE.replace(b"First", b"Edited")))
    assert not store.verify(sha)
    with pytest.raises(EvidenceError, match="does not match its SHA-256"):
        store.get(sha)
    path.unlink()
    with pytest.raises(EvidenceError, match="is missing"):
        store.get(sha)


def test_names_are_only_sha256(tmp_path: Path) -> None:
    store = EvidenceStore(LocalBlobs(tmp_path))
    for bad in ("../../etc/passwd", "ABC", "g" * 64, ""):
        with pytest.raises(EvidenceError, match="not a SHA-256"):
            store.name(bad)
    assert not store.verify("../x")


# --- the capture hash chain ------------------------------------------------

T0 = datetime(2025, 3, 4, 10, 0, 0, 123456)
T1 = datetime(2025, 3, 4, 10, 0, 5, 654321)
SHA_A = "a" * 64
SHA_B = "b" * 64


def _capture(thread: Thread) -> Capture:
    capture = Capture(thread=thread, started_at=T0, finished_at=T1, outcome="good",
                      reason="", coverage="complete", comments_found=2)
    capture.exchanges = [
        Exchange(seq=0, url="https://news.example/a/", final_url="https://news.example/a/",
                 status=200, response_headers={"content-type": "text/html", "etag": '"x"'},
                 body_sha256=SHA_A, reused_body=False, fetched_at=T0),
        Exchange(seq=1, url="https://news.example/a/comment-page-2/",
                 final_url="https://news.example/a/comment-page-2/", status=304,
                 response_headers={"etag": '"y"'}, body_sha256=SHA_B, reused_body=True,
                 fetched_at=T1),
    ]
    return capture


def _thread() -> Thread:
    return Thread(url="https://news.example/a/", site=Site(host="news.example"))


EXPECTED_HASH = "e35fa6ad2be0325a2403a593b2cad93ab9976478376bd6bf2498867625f3328c"


def test_record_hash_identical_after_storing(app: Flask) -> None:
    """The same capture hashes the same before storing and after reading back,
    on SQLite and PostgreSQL alike (the expected value is one constant)."""
    with get_db(app).write() as session:
        # Blob rows for the exchanges' foreign keys.
        session.add(Blob(sha256=SHA_A, size=1, stored_size=1))
        session.add(Blob(sha256=SHA_B, size=1, stored_size=1))
        capture = _capture(_thread())
        session.add(capture)
        session.flush()
        before = capture_record_hash(capture, "c" * 64)
        capture_id = capture.id
    with get_db(app).read_session() as session:
        stored = session.get_one(Capture, capture_id)
        assert capture_record_hash(stored, "c" * 64) == before
    assert before == EXPECTED_HASH


CHANGES = {
    "thread url": lambda c: setattr(c.thread, "url", "https://news.example/b/"),
    "started_at": lambda c: setattr(c, "started_at", T0.replace(microsecond=0)),
    "finished_at": lambda c: setattr(c, "finished_at", None),
    "outcome": lambda c: setattr(c, "outcome", "suspect"),
    "reason": lambda c: setattr(c, "reason", "layout not recognised"),
    "coverage": lambda c: setattr(c, "coverage", "window"),
    "comments_found": lambda c: setattr(c, "comments_found", 1),
    "exchange url": lambda c: setattr(c.exchanges[0], "url", "https://news.example/a/?x"),
    "exchange final_url": lambda c: setattr(c.exchanges[0], "final_url", "https://x.example/"),
    "exchange status": lambda c: setattr(c.exchanges[1], "status", 200),
    "exchange header": lambda c: c.exchanges[0].response_headers.update({"etag": '"z"'}),
    "exchange body": lambda c: setattr(c.exchanges[0], "body_sha256", SHA_B),
    "exchange reused_body": lambda c: setattr(c.exchanges[1], "reused_body", False),
    "exchange fetched_at": lambda c: setattr(c.exchanges[1], "fetched_at", T0),
    "exchange order": lambda c: setattr(c.exchanges[0], "seq", 2),
    "exchange removed": lambda c: c.exchanges.pop(),
    "exchange method": lambda c: setattr(c.exchanges[0], "method", "POST"),
    "exchange request body": lambda c: setattr(c.exchanges[0], "request_body_sha256", SHA_B),
    "fetch mode": lambda c: setattr(c, "fetch_mode", "browser"),
    "browser dom": lambda c: setattr(c, "dom_sha256", SHA_B),
    "browser screenshot": lambda c: setattr(c, "screenshot_sha256", SHA_B),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_record_hash_changes_with_any_field(change: str) -> None:
    original = capture_record_hash(_capture(_thread()), None)
    edited = _capture(_thread())
    CHANGES[change](edited)
    assert capture_record_hash(edited, None) != original


def test_record_hash_chained_to_previous() -> None:
    capture = _capture(_thread())
    assert capture_record_hash(capture, None) != capture_record_hash(capture, "c" * 64)
    assert capture_record_hash(capture, "c" * 64) != capture_record_hash(capture, "d" * 64)
    assert capture_record_hash(capture, "c" * 64) == capture_record_hash(_capture(_thread()), "c" * 64)


def test_record_hash_ignores_exchange_insertion_order() -> None:
    capture = _capture(_thread())
    reordered = _capture(_thread())
    reordered.exchanges = list(reversed(reordered.exchanges))
    assert capture_record_hash(capture, None) == capture_record_hash(reordered, None)


def test_blob_rows_count(app: Flask) -> None:
    for body in (b"one", b"two", b"one"):
        _put(app, body)
    with get_db(app).read_session() as session:
        assert session.scalar(select(func.count()).select_from(Blob)) == 2
