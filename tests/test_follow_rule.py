"""The follow-host rule (archive/capture/follow.py): a hostile page must not send a capture elsewhere.

The WordPress REST adapter takes its API root from the article page's
`<link rel="https://api.w.org/">`, so the page itself chooses where the
capture goes next: the pages below point it at another host of this
machine, as a hostile site would point it at an internal service.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from archive.capture.fetch.fetcher import Fetcher
from archive.capture.follow import may_follow
from archive.capture.pipeline import capture_watch
from archive.capture.preview import preview_url
from archive.capture.watches import add_watch
from archive.context import archive_context
from archive.store.db import get_db
from scrapers.guardian import GuardianAdapter
from scrapers.wordpress.page import WordPressAdapter
from tests.local_server import LocalServer

ARTICLE = "/hostile-article/"
API_COMMENTS = "/wp-json/wp/v2/comments"
THREAD = "http://example.org/2024/03/article/"
GUARDIAN_THREAD = "https://www.theguardian.com/society/2024/mar/01/article"


@pytest.mark.parametrize("link, followed", [
    ("http://example.org/2024/03/article/comment-page-2/", True),
    ("http://EXAMPLE.org/2024/03/article/comment-page-2/", True),
    # The site moved to https: same host, both on their scheme's default port.
    ("https://example.org/2024/03/article/comment-page-2/", True),
    ("http://example.org:80/2024/03/article/comment-page-2/", True),
    ("http://example.org:8080/admin/", False),
    ("http://localhost/", False),
    ("http://example.org.attacker.test/", False),
    ("http://attacker.test/?next=http://example.org/", False),
    ("http://example.org@attacker.test/", False),
    ("http://user:secret@example.org/2024/03/article/", False),
    ("ftp://example.org/2024/03/article/", False),
    ("http://example.org:99999/", False),
    ("http://example.org:port/", False),
    ("http://[::1/", False),
    ("/2024/03/article/comment-page-2/", False),
])
def test_thread_host_only_for_an_adapter_naming_no_other(link: str, followed: bool) -> None:
    assert may_follow(link, THREAD, WordPressAdapter()) is followed


@pytest.mark.parametrize("link, followed", [
    ("https://discussion.theguardian.com/discussion-api/discussion/p/abc", True),
    ("https://Discussion.TheGuardian.com/discussion-api/discussion/p/abc", True),
    ("https://discussion.theguardian.com:8443/discussion-api/discussion/p/abc", False),
    ("https://api.theguardian.com/", False),
])
def test_hosts_the_adapter_names_are_followed_on_the_threads_port(link: str, followed: bool) -> None:
    assert may_follow(link, GUARDIAN_THREAD, GuardianAdapter()) is followed


def _article(api_root: str) -> str:
    return ('<!doctype html><html><head><title>Hostile</title>'
            f'<link rel="https://api.w.org/" href="{api_root}"></head>'
            '<body class="single postid-42"><article id="post-42">Text</article></body></html>')


def _serve_api(server: LocalServer) -> None:
    comment = {"id": 7, "post": 42, "parent": 0, "author_name": "Eve", "date_gmt": "2024-03-01T10:00:00",
               "content": {"rendered": "<p>read from wherever the page pointed</p>"}}
    server.route(API_COMMENTS, json.dumps([comment]), content_type="application/json",
                 headers={"X-WP-Total": "1", "X-WP-TotalPages": "1"})


@pytest.fixture
def other_port() -> Iterator[LocalServer]:
    """Another service on the same machine: same address, another port."""
    with LocalServer() as server:
        yield server


# Where the article page says the REST API is. The first is the page's own
# host: it shows the set-up works, so a refusal below is the rule's doing.
ApiRoot = Callable[[LocalServer, LocalServer], str]
API_ROOTS: dict[str, ApiRoot] = {
    "own host": lambda own, other: own.url("/wp-json/"),
    "other name, same port": lambda own, other: own.url("/wp-json/", host="localhost"),
    "same name, other port": lambda own, other: other.url("/wp-json/"),
}


@pytest.fixture(params=list(API_ROOTS))
def api_root(request: pytest.FixtureRequest, local_server: LocalServer, other_port: LocalServer) -> str:
    local_server.route(ARTICLE, _article(API_ROOTS[request.param](local_server, other_port)))
    _serve_api(local_server)
    _serve_api(other_port)
    return str(request.param)


def _api_requests(*servers: LocalServer) -> list[str]:
    return [f"{r.header('host')}{r.path}" for s in servers for r in s.requests
            if r.path.startswith(API_COMMENTS)]


def test_capture_follows_a_hostile_link_only_to_the_threads_host(
        app: Flask, local_server: LocalServer, other_port: LocalServer, api_root: str) -> None:
    with app.app_context(), get_db(app).write() as session:
        watch_id = add_watch(session, local_server.url(ARTICLE), allow_private=True,
                             adapter="wordpress-api").id
    ctx = archive_context(app)
    summary = capture_watch(ctx, watch_id, Fetcher.from_settings(ctx.settings))
    requests = _api_requests(local_server, other_port)
    if api_root == "own host":
        assert (summary.outcome, summary.comments_found) == ("good", 1)
        assert requests == [f"127.0.0.1:{local_server.port}{API_COMMENTS}?post=42&per_page=100&page=1"]
    else:
        assert requests == []
        # Without its API pages the capture is never diffed: nothing looks removed.
        assert summary.outcome == "suspect" and "no REST API comment page was read" in summary.reason


def test_preview_counts_a_hostile_link_only_to_the_threads_host(
        local_server: LocalServer, other_port: LocalServer, api_root: str) -> None:
    with Fetcher(user_agent="ArchiveTestBot/1.0", min_host_delay=0.0, timeout=5.0, max_bytes=100_000,
                 retries=0, allow_private=True) as fetcher:
        preview = preview_url(local_server.url(ARTICLE), fetcher, allow_private=True,
                              adapter_name="wordpress-api")
    # The preview reads the first page only; it counts the pages a capture may follow.
    assert (preview.pages_read, preview.found, _api_requests(local_server, other_port)) == (1, 0, [])
    assert preview.unread_pages == (1 if api_root == "own host" else 0)
