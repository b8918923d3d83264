"""Evidence pages: a capture's exchanges, and raw bodies that never render as HTML."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from selectolax.lexbor import LexborHTMLParser

from archive.context import archive_context
from archive.store.db import get_db
from archive.store.models import Exchange
from tests.context_support import blob_file
from tests.html_support import attr, find_first
from tests.public_helpers import T0, capture, new_thread, rec

HOSTILE_PAGE = (b"<!doctype html><html><body><script>alert(document.cookie)</script>"
                b"<ol class=\"comment-list\"><li id=\"comment-1\">Hello</li></ol></body></html>")


@pytest.fixture
def stored(app):
    with get_db(app).write() as session:
        sha = archive_context(app).evidence.put(session, HOSTILE_PAGE)
        thread = new_thread(session, "https://news.example/story/", "A story")
        exchange = Exchange(seq=0, url="https://news.example/story/", final_url="https://news.example/story/",
                            status=200, request_headers={"user-agent": "CommentArchiveBot/0.1"},
                            response_headers={"content-type": "text/html; charset=UTF-8",
                                              "etag": '"abc"'},
                            body_sha256=sha, fetched_at=T0, elapsed_ms=42)
        failed = Exchange(seq=0, url="https://news.example/story/", status=503, fetched_at=T0,
                          error=None, response_headers={"retry-after": "60"})
        good = capture(session, thread, T0, [rec("1", "WL", "Hello")], exchanges=[exchange])
        bad = capture(session, thread, T0 + timedelta(hours=1), [], outcome="failed",
                      reason="the article answered HTTP 503", exchanges=[failed])
        return {"sha": sha, "good": good.id, "failed": bad.id, "thread": thread.id}


def _doc(client: FlaskClient, url: str) -> LexborHTMLParser:
    response = client.get(url)
    assert response.status_code == 200
    return LexborHTMLParser(response.get_data(as_text=True))


def test_capture_page_lists_exchanges_with_hashes_and_links(client, stored) -> None:
    doc = _doc(client, f"/captures/{stored['good']}")
    assert "Good" in find_first(doc, "h1").text()
    exchange = find_first(doc, "article.exchange")
    text = " ".join(exchange.text(separator=" ").split())
    assert "https://news.example/story/" in text
    assert "Status 200" in text and "(42 ms)" in text and "2018-04-01 12:00 UTC" in text
    assert stored["sha"] in text and f"({len(HOSTILE_PAGE)} bytes)" in text
    hrefs = [attr(a, "href") for a in exchange.css("a")]
    assert f"/blobs/{stored['sha']}" in hrefs and f"/blobs/{stored['sha']}?download=1" in hrefs
    headers = {th.text(): td.text() for th, td in zip(exchange.css("table.headers th"),
                                                      exchange.css("table.headers td"))}
    assert headers["etag"] == '"abc"' and headers["user-agent"] == "CommentArchiveBot/0.1"
    assert "1 appeared" in doc.text()


def test_failed_capture_says_why_and_that_it_was_not_diffed(client, stored) -> None:
    doc = _doc(client, f"/captures/{stored['failed']}")
    text = " ".join(doc.text(separator=" ").split())
    assert "Failed" in find_first(doc, "h1").text()
    assert "the article answered HTTP 503" in text
    assert "not compared with earlier ones" in text
    assert "none kept" in text


def test_thread_captures_listing(client, stored) -> None:
    doc = _doc(client, f"/threads/{stored['thread']}/captures")
    assert find_first(doc, "h1").text() == "2 captures"
    assert [attr(li, "class") for li in doc.css("ol.timeline > li")] == ["outcome-failed", "outcome-good"]


def test_raw_body_is_plain_text_never_html(client, stored) -> None:
    response = client.get(f"/blobs/{stored['sha']}")
    assert response.status_code == 200
    assert response.data == HOSTILE_PAGE
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_raw_body_download(client, stored) -> None:
    response = client.get(f"/blobs/{stored['sha']}?download=1")
    assert response.status_code == 200
    assert response.data == HOSTILE_PAGE
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{stored["sha"]}.bin"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/blobs/nothex", "/blobs/" + "0" * 64, "/blobs/../../etc/passwd"])
def test_unknown_or_malformed_blob_is_404(client, stored, path: str) -> None:
    assert client.get(path).status_code == 404


def test_a_damaged_blob_is_reported_not_served(app, client, stored) -> None:
    path = blob_file(app, stored["sha"])
    path.write_bytes(b"not zstd at all")
    response = client.get(f"/blobs/{stored['sha']}")
    assert response.status_code == 404
    assert b"corrupt" in response.data
    assert HOSTILE_PAGE not in response.data
