"""End to end through a real headless Chromium: Isso's embedded widget, seen as a reader sees it.

An article served from one loopback origin embeds Isso's widget from the Isso
server's origin, showing three top-level comments and one reply per comment at
first: the rest is behind Isso's "load more" links, which the capture clicks.
The watch names the `isso-browser` adapter and no options (the embed tells the
browser where Isso is). The discussion, the moderation and the checks are those
of the API test (tests/isso_support.py): the archive must say the same thing
through the browser. Then a load whose clicks are capped leaves comments
unseen (suspect, nothing missing), Isso stops (failed, nothing removed), the
WARC holds the widget's exchanges, and no Chromium outlives a capture.
"""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from archive.capture.fetch.browser import browser_problem
from archive.context import archive_context
from archive.store.db import get_db
from archive.store.models import Capture, Exchange
from tests.archive_commands import capture, statuses, watch
from tests.conftest import ArchiveRunner
from tests.context_support import with_settings
from tests.isso_server import IN_CI, IssoServer, running
from tests.isso_support import (
    PUBLIC,
    check_after_one_capture,
    check_after_two_captures,
    check_first,
    moderate,
    seed,
)
from tests.local_server import LocalServer
from tests.test_warc_verify import read_warc

pytestmark = pytest.mark.browser
# Generous: two cores shared with other work; the load ends as soon as the page is done.
LOAD_SECONDS = 90.0
# When Isso is down the widget never answers, and the load waits for it until this deadline.
DOWN_SECONDS = 10.0
ARTICLE = """<!doctype html><html><head><title>Cafcass inspection</title></head><body>
<article><h1>Cafcass inspection</h1><p>Rated outstanding. <a href="#isso-thread">Comments</a></p></article>
<script data-isso="{isso}" data-isso-max-comments-top="3" data-isso-max-comments-nested="1"
        data-isso-reveal-on-click="5" src="{isso}js/embed.min.js"></script>
<section id="isso-thread"></section>
</body></html>"""


@pytest.fixture(scope="module")
def site() -> Iterator[LocalServer]:
    with LocalServer() as server:
        yield server


@pytest.fixture(scope="module")
def widget_isso(tmp_path_factory: pytest.TempPathFactory, site: LocalServer) -> Iterator[IssoServer]:
    """An Isso allowing the article's origin, as a site embedding it configures it."""
    with running(tmp_path_factory.mktemp("isso-widget"), origins=[site.base_url]) as server:
        yield server


@pytest.fixture
def browser_app(sqlite_app: Flask) -> Flask:
    """SQLite only: a browser capture stores through the same code on both databases
    (tests/test_browser_evidence.py runs on both), and each load costs seconds."""
    problem = browser_problem(archive_context(sqlite_app).settings)
    if problem:
        if IN_CI:
            pytest.fail(problem)
        pytest.skip(problem)
    with_settings(sqlite_app, browser_seconds=LOAD_SECONDS)
    return sqlite_app


def _chromium_left(data_dir: Path) -> list[str]:
    """Processes still running for this archive's browser loads (their profile lives in its data folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(data_dir) in command:
            found.append(f"{entry.name}: {command[:200]}")
    return found


def test_isso_widget_through_the_browser(browser_app: Flask, widget_isso: IssoServer, site: LocalServer,
                                         tmp_path: Path) -> None:
    runner = ArchiveRunner(browser_app)
    data_dir = archive_context(browser_app).settings.data_dir
    uri = f"/2026/12/cafcass-widget-{uuid.uuid4().hex[:8]}/"
    site.route(uri, ARTICLE.format(isso=widget_isso.base_url))
    url = site.url(uri)
    ids = seed(widget_isso, uri)
    key = {name: str(cid) for name, cid in ids.items()}
    watch(runner, tmp_path, url, "isso-browser", None)

    first = capture(runner, url)
    assert "[good]" in first and f"{len(PUBLIC)} comments" in first, first
    check_first(runner, key)
    assert not _chromium_left(data_dir)

    # One click allowed, two load-more links: the widget showed part of the thread, which proves nothing.
    with_settings(browser_app, browser_max_clicks=1)
    partial = capture(runner, url)
    assert "[suspect]" in partial and "loaded" in partial and "still showed" in partial, partial
    assert set(statuses(runner).values()) == {"visible"}
    with_settings(browser_app, browser_max_clicks=20)

    late = moderate(widget_isso, uri, ids)
    assert "[good]" in capture(runner, url)
    check_after_one_capture(runner, key, late)
    assert "[good]" in capture(runner, url)
    check_after_two_captures(runner, key)

    # Isso goes down: the widget never loads, the capture fails, nothing new is removed.
    before = statuses(runner)
    with_settings(browser_app, browser_seconds=DOWN_SECONDS)
    with widget_isso.stopped():
        for _ in range(2):
            assert "[failed]" in capture(runner, url)
    assert statuses(runner) == before
    with_settings(browser_app, browser_seconds=LOAD_SECONDS)
    assert "[good]" in capture(runner, url)
    assert statuses(runner) == before
    assert not _chromium_left(data_dir), "every browser process of every load ended"

    _check_warc(runner, tmp_path / "widget.warc.gz", widget_isso)
    _check_capture_page(browser_app)


def _check_warc(runner: ArchiveRunner, target: Path, isso: IssoServer) -> None:
    """The widget's JSON answers as request + response records, its POST with its body,
    and each browser capture's DOM and screenshot as resources."""
    result = runner.invoke("export", "warc", "--output", str(target))
    assert result.exit_code == 0, result.output
    records = read_warc(target)
    answers = [r for r in records if r["type"] in ("response", "revisit")
               and r["headers"]["WARC-Target-URI"].startswith(f"{isso.base_url}?uri=")]
    pages = [json.loads(r["body"]) for r in answers if r["type"] == "response"]
    assert pages and all("total_replies" in page for page in pages)
    assert any("offset=3" in r["headers"]["WARC-Target-URI"] for r in answers), "a load-more answer"
    assert any("parent=" in r["headers"]["WARC-Target-URI"] for r in answers), "a show-more-replies answer"
    asked = {r["headers"]["WARC-Target-URI"] for r in records if r["type"] == "request"}
    assert {r["headers"]["WARC-Target-URI"] for r in answers} <= asked
    posts = [r for r in records if r["type"] == "request" and r["statusline"].startswith("POST /count")]
    assert posts and posts[0]["body"].startswith(b'["/2026/12/cafcass-widget-')
    resources = [r for r in records if r["type"] == "resource"]
    assert any(r["headers"]["Content-Type"] == "image/png" and r["body"].startswith(b"\x89PNG") for r in resources)
    assert any(b"isso-comment" in r["body"] for r in resources if r["headers"]["Content-Type"].startswith("text/"))


def _check_capture_page(app: Flask) -> None:
    with get_db(app).read_session() as session:
        good = [c.id for c in session.query(Capture).filter(Capture.outcome == "good",
                                                            Capture.screenshot_sha256.is_not(None))]
    assert good
    client = app.test_client()
    page = client.get(f"/captures/{good[-1]}").get_data(as_text=True)
    assert "in a headless browser" in page and f"/captures/{good[-1]}/screenshot" in page
    shot = client.get(f"/captures/{good[-1]}/screenshot")
    assert shot.status_code == 200 and shot.headers["Content-Type"] == "image/png"


def test_only_the_article_and_the_widgets_answers_decide(browser_app: Flask, widget_isso: IssoServer,
                                                         site: LocalServer, tmp_path: Path) -> None:
    """A refused script decides nothing; a page whose widget never asked is suspect; a missing article is gone."""
    runner = ArchiveRunner(browser_app)
    site.robots("User-agent: *\nDisallow: /private/\n")
    uri = f"/2026/12/pictured-{uuid.uuid4().hex[:8]}/"
    site.route(uri, ARTICLE.format(isso=widget_isso.base_url).replace(
        "</article>", '<script src="/private/track.js"></script></article>'))
    seed(widget_isso, uri)
    url = site.url(uri)
    watch(runner, tmp_path, url, "isso-browser", None)
    assert "[good]" in capture(runner, url)
    with get_db(browser_app).read_session() as session:
        refused = session.query(Exchange).filter(Exchange.url == site.url("/private/track.js")).one()
        assert refused.status is None and refused.error and "robots.txt" in refused.error
    assert site.count("/private/track.js") == 0, "refused by the fetcher, never sent"

    # Comments already on the page (a copy, a cache) but no request to Isso: proves nothing.
    static = f"/2026/12/static-{uuid.uuid4().hex[:8]}/"
    site.route(static, '<html><section id="isso-thread"><div class="isso-comment">Hi</div></section></html>')
    watch(runner, tmp_path, site.url(static), "isso-browser", None)
    quiet = capture(runner, site.url(static))
    assert "[suspect]" in quiet and "no request the adapter reads" in quiet, quiet

    with_settings(browser_app, browser_seconds=DOWN_SECONDS)
    missing = f"/2026/12/missing-{uuid.uuid4().hex[:8]}/"
    watch(runner, tmp_path, site.url(missing), "isso-browser", None)
    assert "[gone]" in capture(runner, site.url(missing))
