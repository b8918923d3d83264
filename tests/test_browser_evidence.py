"""A browser capture's evidence beyond its responses: request bodies, the final DOM and
the screenshot, kept as blobs, chained into the capture's hash, exported to WARC,
checked by `verify`, shown on the capture page and withheld like every other blob;
and the operator preview of a browser watch, which never starts a browser.

The capture is written the way archive/capture/browser_capture.py writes one
(the full capture through a real browser is tests/test_end_to_end_isso_browser.py).
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from archive.capture.fetch.fetcher import Fetcher
from archive.capture.preview import preview_url
from archive.context import archive_context
from archive.operators.redaction import set_redacted
from archive.store.db import get_db
from archive.store.evidence import capture_record_hash
from archive.store.models import Capture, Comment, CommentVersion, Exchange, Site, Thread
from tests.context_support import blob_file
from tests.local_server import LocalServer
from tests.operator_support import logged_in
from tests.test_warc_verify import read_warc

T0 = datetime(2026, 12, 2, 9, 0, 0)
ARTICLE = b"<html><section id='isso-thread'></section></html>"
ANSWER = b'{"id": null, "total_replies": 0, "hidden_replies": 0, "replies": []}'
POSTED = b'["/a/"]'
COUNTED = b"[0]"
DOM = b"<html><body><div class='isso-comment'>Ann says <b>hello</b></div></body></html>"
# A real 1x1 PNG.
SCREENSHOT = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                           "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
SECRET = "Ann says"


def _sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@pytest.fixture
def browser_capture(app: Flask) -> int:
    """A browser capture: the article, the widget's GET, a POST with its body, a refused image."""
    store = archive_context(app).evidence
    with get_db(app).write() as session:
        thread = Thread(site=Site(host="news.example"), url="https://news.example/a/")
        comment = Comment(thread=thread, key="1", author="Ann")
        comment.versions.append(CommentVersion(seq=1, text=f"{SECRET} hello", text_sha256="x"))
        session.add(comment)
        for kept in (ARTICLE, ANSWER, POSTED, COUNTED, DOM, SCREENSHOT):
            store.put(session, kept)
        capture = Capture(thread=thread, started_at=T0, finished_at=T0 + timedelta(seconds=4), outcome="good",
                          coverage="complete", fetch_mode="browser", dom_sha256=_sha(DOM),
                          screenshot_sha256=_sha(SCREENSHOT))
        exchanges = [("GET", thread.url, 200, ARTICLE, None, None),
                     ("GET", "https://isso.example/?uri=%2Fa%2F&limit=3", 200, ANSWER, None, None),
                     ("POST", "https://isso.example/count", 200, COUNTED, POSTED, None),
                     ("GET", "https://cdn.example/a.png", None, None, None, "robots.txt disallows this URL")]
        for seq, (method, url, status, body, sent, error) in enumerate(exchanges):
            capture.exchanges.append(Exchange(
                seq=seq, method=method, url=url, final_url=url, status=status,
                request_headers={"User-Agent": "CommentArchiveBot/0.1"},
                response_headers=[["Content-Type", "application/json"]] if status else [],
                body_sha256=_sha(body) if body else None, request_body_sha256=_sha(sent) if sent else None,
                fetched_at=T0 + timedelta(seconds=seq), error=error))
        session.add(capture)
        session.flush()
        capture.record_hash = capture_record_hash(capture, None)
        return capture.id


def test_warc_holds_the_widgets_exchanges_the_post_body_the_dom_and_the_screenshot(
        app: Flask, runner, tmp_path: Path, browser_capture: int) -> None:
    target = tmp_path / "browser.warc.gz"
    result = runner.invoke("export", "warc", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert "2 browser DOMs and screenshots" in result.output
    records = read_warc(target)
    responses = {r["headers"]["WARC-Target-URI"]: r for r in records if r["type"] == "response"}
    assert responses["https://isso.example/?uri=%2Fa%2F&limit=3"]["body"] == ANSWER
    requests = {r["headers"]["WARC-Target-URI"]: r for r in records if r["type"] == "request"}
    post = requests["https://isso.example/count"]
    assert post["statusline"].startswith("POST /count") and post["body"] == POSTED
    assert ("Content-Length", str(len(POSTED))) in post["http"]
    assert requests["https://isso.example/?uri=%2Fa%2F&limit=3"]["body"] == b""
    resources = {r["headers"]["WARC-Target-URI"]: r for r in records if r["type"] == "resource"}
    assert resources["urn:dom:https://news.example/a/"]["body"] == DOM
    assert resources["urn:dom:https://news.example/a/"]["headers"]["Content-Type"].startswith("text/html")
    shot = resources["urn:screenshot:https://news.example/a/"]
    assert shot["body"] == SCREENSHOT and shot["headers"]["Content-Type"] == "image/png"
    [meta] = [json.loads(r["body"]) for r in records if r["type"] == "metadata"]
    assert meta["fetch_mode"] == "browser" and meta["screenshot_sha256"] == _sha(SCREENSHOT)
    assert [e["method"] for e in meta["exchanges"]] == ["GET", "GET", "POST", "GET"]
    assert meta["exchanges"][3]["error"].startswith("robots.txt")


def test_verify_checks_the_dom_the_screenshot_and_their_place_in_the_chain(
        app: Flask, runner, browser_capture: int) -> None:
    assert runner.invoke("verify").exit_code == 0
    shot = blob_file(app, _sha(SCREENSHOT))
    data = bytearray(shot.read_bytes())
    data[len(data) // 2] ^= 0x01
    shot.write_bytes(bytes(data))
    with get_db(app).writer.begin() as conn:
        conn.execute(text("UPDATE captures SET dom_sha256 = :sha WHERE id = :id"),
                     {"sha": _sha(ARTICLE), "id": browser_capture})
    result = runner.invoke("verify")
    lines = [line for line in result.stdout.splitlines() if line.startswith("MISMATCH")]
    assert result.exit_code == 1 and len(lines) == 2, result.output
    assert f"blob {_sha(SCREENSHOT)}" in lines[0]
    assert f"capture {browser_capture}" in lines[1] and "record_hash" in lines[1]


def test_capture_page_shows_the_browser_evidence_served_safely(app: Flask, browser_capture: int) -> None:
    client = app.test_client()
    page = client.get(f"/captures/{browser_capture}").get_data(as_text=True)
    assert "in a headless browser" in page
    assert f"/blobs/{_sha(DOM)}" in page and f"/blobs/{_sha(POSTED)}" in page
    assert f'src="/captures/{browser_capture}/screenshot"' in page
    with get_db(app).read_session() as session:
        thread_id = session.get_one(Capture, browser_capture).thread_id
    assert "in a browser" in client.get(f"/threads/{thread_id}/captures").get_data(as_text=True)
    image = client.get(f"/captures/{browser_capture}/screenshot")
    assert image.status_code == 200 and image.data == SCREENSHOT
    assert image.headers["Content-Type"] == "image/png" and image.headers["X-Content-Type-Options"] == "nosniff"
    dom = client.get(f"/blobs/{_sha(DOM)}")
    assert dom.headers["Content-Type"] == "text/plain; charset=utf-8", "a captured DOM never renders as HTML"
    assert "sandbox" in dom.headers["Content-Security-Policy"]


def test_only_a_capture_with_a_png_screenshot_serves_one(app: Flask, browser_capture: int) -> None:
    client = app.test_client()
    assert client.get(f"/captures/{browser_capture + 1}/screenshot").status_code == 404
    with get_db(app).writer.begin() as conn:
        conn.execute(text("UPDATE captures SET screenshot_sha256 = :sha WHERE id = :id"),
                     {"sha": _sha(DOM), "id": browser_capture})
    answer = client.get(f"/captures/{browser_capture}/screenshot")
    assert answer.status_code == 404 and b"<b>hello" not in answer.data
    with get_db(app).writer.begin() as conn:
        conn.execute(text("UPDATE captures SET screenshot_sha256 = NULL WHERE id = :id"), {"id": browser_capture})
    assert client.get(f"/captures/{browser_capture}/screenshot").status_code == 404


def test_a_redaction_withholds_the_dom_the_screenshot_and_the_request_bodies(
        app: Flask, browser_capture: int) -> None:
    with get_db(app).write() as session:
        comment = session.query(Comment).one()
        set_redacted(session, comment.id, True, reason="Names a child", actor="alice", user_id=None)
    public = app.test_client()
    for url in (f"/captures/{browser_capture}/screenshot", f"/blobs/{_sha(DOM)}", f"/blobs/{_sha(POSTED)}"):
        answer = public.get(url)
        assert answer.status_code == 403 and SECRET.encode() not in answer.data, url
    page = public.get(f"/captures/{browser_capture}").get_data(as_text=True)
    assert f"/captures/{browser_capture}/screenshot" not in page and f"/blobs/{_sha(DOM)}" not in page
    assert _sha(DOM) in page and "Names a child" in page
    operator = logged_in(app)
    shot = operator.get(f"/captures/{browser_capture}/screenshot")
    assert shot.status_code == 200 and shot.data == SCREENSHOT
    assert "no-store" in shot.headers["Cache-Control"]
    assert SECRET.encode() in operator.get(f"/blobs/{_sha(DOM)}").data


def test_the_operator_preview_never_starts_a_browser(local_server: LocalServer) -> None:
    local_server.route("/a/", "<html><section id='isso-thread'></section></html>")
    with Fetcher(user_agent="ArchiveTestBot/1.0", min_host_delay=0.0, timeout=5.0, max_bytes=100_000,
                 retries=0, allow_private=True) as fetcher:
        preview = preview_url(local_server.url("/a/"), fetcher, allow_private=True, adapter_name="isso-browser")
    assert preview.status == 200 and preview.found == 0
    assert any("only in a browser capture" in problem for problem in preview.problems), preview.problems
