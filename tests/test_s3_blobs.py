"""Evidence in an S3 bucket (`ARCHIVE_BLOB_URL=s3://...`), on a real SeaweedFS on loopback.

Captures run over real HTTP (tests/local_server.py); the bodies must land in
the bucket under the same SHA-256 names as in a folder, and every reader of
evidence (the public pages, `verify`, `export warc`, `dataset`) must work there.
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import zstandard
from flask import Flask
from sqlalchemy import func, select
from warcio.archiveiterator import ArchiveIterator

import config
from archive import create_app
from archive.capture.watches import add_watch
from archive.context import EXTENSION, archive_context
from archive.store.blobs import BlobStoreError
from archive.store.db import get_db
from archive.store.evidence import EvidenceStore
from archive.store.models import Blob, Capture, Exchange
from archive.store.s3blobs import S3Blobs
from tests.conftest import ArchiveRunner
from tests.context_support import with_settings
from tests.local_server import LocalServer
from tests.s3_server import S3Bucket, free_ports
from tests.test_capture import SEED, Site
from tests.wordpress_markup import wp_page

PATH = "/cafcass-rated-outstanding/"


def _app(tmp_path: Path, sqlite_template: Path, blob_url: str) -> Flask:
    data_dir = tmp_path / "instance"
    data_dir.mkdir()
    shutil.copy(sqlite_template, data_dir / "archive.db")
    app = create_app(config.TestConfig(DATA_DIR=str(data_dir), BLOB_URL=blob_url))
    with_settings(app, fetch_retries=0)
    return app


def _site(app: Flask, server: LocalServer) -> Site:
    with app.app_context(), get_db(app).write() as session:
        watch_id = add_watch(session, server.url(PATH), allow_private=True, adapter="wordpress").id
    site = Site(app, server, PATH, watch_id)
    site.serve()
    return site


@pytest.fixture
def s3_app(tmp_path: Path, sqlite_template: Path, s3_bucket: S3Bucket) -> Iterator[Flask]:
    app = _app(tmp_path, sqlite_template, f"{s3_bucket.url}/")
    yield app
    archive_context(app).close()


@pytest.fixture
def captured(s3_app: Flask, local_server: LocalServer) -> Site:
    site = _site(s3_app, local_server)
    summary = site.capture()
    assert summary.outcome == "good", summary.line()
    return site


def _blob_rows(app: Flask) -> list[Blob]:
    with get_db(app).read_session() as session:
        return list(session.scalars(select(Blob)))


def _page_sha(site: Site) -> str:
    return hashlib.sha256(wp_page(list(SEED), base=site.url)).hexdigest()


def test_capture_keeps_its_bodies_in_the_bucket(s3_app, s3_bucket, captured) -> None:
    rows = _blob_rows(s3_app)
    sha = _page_sha(captured)
    assert [row.sha256 for row in rows] == [sha]
    assert s3_bucket.keys() == [f"{s3_bucket.prefix}/{sha[:2]}/{sha[2:4]}/{sha}.zst"]
    head = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key=s3_bucket.keys()[0])
    assert rows[0].stored_size == head["ContentLength"] < rows[0].size
    assert not (archive_context(s3_app).settings.data_dir / "blobs").exists()
    # A second capture of the same page stores nothing new.
    assert captured.capture().outcome == "good"
    assert len(s3_bucket.keys()) == 1 and len(_blob_rows(s3_app)) == 1


def test_public_pages_serve_bodies_from_the_bucket(s3_app, captured) -> None:
    client = s3_app.test_client()
    sha = _page_sha(captured)
    response = client.get(f"/blobs/{sha}")
    assert response.status_code == 200
    assert response.data == wp_page(list(SEED), base=captured.url)
    with get_db(s3_app).read_session() as session:
        capture_id = session.scalar(select(func.max(Capture.id)))
    page = client.get(f"/captures/{capture_id}")
    assert page.status_code == 200 and sha.encode() in page.data


def test_a_store_that_fails_is_a_503_without_its_address(s3_app, captured) -> None:
    context = archive_context(s3_app)
    missing = EvidenceStore(S3Blobs("no-such-bucket", ""))
    s3_app.extensions[EXTENSION] = dataclasses.replace(context, evidence=missing)
    response = s3_app.test_client().get(f"/blobs/{_page_sha(captured)}")
    assert response.status_code == 503
    assert b"cannot be read just now" in response.data and b"127.0.0.1" not in response.data


def _flip_one_byte(bucket: S3Bucket, key: str) -> None:
    stored = bytearray(bucket.client.get_object(Bucket=bucket.name, Key=key)["Body"].read())
    stored[len(stored) // 2] ^= 0x01
    bucket.client.put_object(Bucket=bucket.name, Key=key, Body=bytes(stored))


def test_verify_passes_then_catches_a_flipped_byte(s3_app, s3_bucket, captured) -> None:
    runner = ArchiveRunner(s3_app)
    result = runner.invoke("verify")
    assert result.exit_code == 0, result.output
    assert "1 blobs and 1 captures checked: no mismatches" in result.output
    _flip_one_byte(s3_bucket, s3_bucket.keys()[0])
    result = runner.invoke("verify")
    assert result.exit_code == 1
    mismatches = [line for line in result.stdout.splitlines() if line.startswith("MISMATCH")]
    assert len(mismatches) == 1 and f"blob {_page_sha(captured)}" in mismatches[0], result.output


def test_a_damaged_object_is_repaired_by_the_next_capture(s3_app, s3_bucket, local_server) -> None:
    site = _site(s3_app, local_server)
    local_server.route(PATH, wp_page(list(SEED), base=site.url), content_type="text/html; charset=UTF-8",
                       etag='"v1"')
    assert site.capture().outcome == "good"
    (key,) = s3_bucket.keys()
    body = archive_context(s3_app).evidence.get(_page_sha(site))
    damaged = bytearray(body)
    damaged[len(damaged) // 2] ^= 0x01
    s3_bucket.client.put_object(Bucket=s3_bucket.name, Key=key,
                                Body=zstandard.ZstdCompressor().compress(bytes(damaged)))
    assert site.capture().outcome == "good"  # the 304's kept body failed; fetched again in full
    assert archive_context(s3_app).evidence.get(_page_sha(site)) == body
    assert ArchiveRunner(s3_app).invoke("verify").exit_code == 0


def test_export_warc_reads_bodies_from_the_bucket(s3_app, captured, tmp_path) -> None:
    out = tmp_path / "archive.warc.gz"
    result = ArchiveRunner(s3_app).invoke("export", "warc", "--output", str(out))
    assert result.exit_code == 0, result.output
    with out.open("rb") as handle:
        bodies = [record.content_stream().read() for record in ArchiveIterator(handle)
                  if record.rec_type == "response"]
    assert bodies == [wp_page(list(SEED), base=captured.url)]


def test_dataset_works_on_the_bucket(s3_app, captured, tmp_path) -> None:
    target = tmp_path / "dataset"
    result = ArchiveRunner(s3_app).invoke("dataset", "--output", str(target))
    assert result.exit_code == 0, result.output
    with (target / "comments.csv").open(encoding="utf-8", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == len(SEED)


@pytest.mark.parametrize("problem", ["unreachable", "no bucket", "denied"])
def test_a_failing_store_fails_the_capture_cleanly(tmp_path, sqlite_template, s3_bucket, local_server,
                                                   monkeypatch, problem) -> None:
    url = "s3://no-such-bucket" if problem == "no bucket" else s3_bucket.url
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    if problem == "unreachable":
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_ports(1)[0]}")
    if problem == "denied":
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    app = _app(tmp_path, sqlite_template, url)
    try:
        summary = _site(app, local_server).capture()
        assert summary.outcome == "failed"
        expected = {"unreachable": "cannot be reached", "no bucket": "has no bucket no-such-bucket",
                    "denied": "denied access"}[problem]
        assert f"BlobStoreError: the blob store {url}/ {expected}" in summary.reason
        assert "\n" not in summary.reason
        with get_db(app).read_session() as session:
            assert session.scalar(select(func.count()).select_from(Blob)) == 0
            assert session.scalar(select(func.count()).select_from(Exchange)) == 0
        assert s3_bucket.keys() == []
        result = ArchiveRunner(app).invoke("verify")
        assert result.exit_code == 0  # no body recorded, so none is missing
    finally:
        archive_context(app).close()


def test_commands_name_the_store_when_it_fails(s3_app, s3_bucket, captured, monkeypatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    denied = EvidenceStore(S3Blobs(s3_bucket.name, s3_bucket.prefix))
    s3_app.extensions[EXTENSION] = dataclasses.replace(archive_context(s3_app), evidence=denied)
    result = ArchiveRunner(s3_app).invoke("verify")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith(
        f"error: the blob store {s3_bucket.url}/ denied access")
    with pytest.raises(BlobStoreError, match="denied access"):
        denied.get(_page_sha(captured))
