"""Watch management through the operator pages: preview, add, edit, pause, remove, capture now."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from archive.capture.executors import EmbeddedExecutor
from archive.capture.fetch.fetcher import Fetcher
from archive.capture.scheduler import Dispatcher
from archive.capture.watches import add_watch
from archive.clock import utcnow
from archive.context import archive_context
from archive.store.db import get_db
from archive.store.models import Capture, Thread, Watch
from tests.context_support import with_settings
from tests.operator_support import audit_actions, count, logged_in, post

OPTIONS = {"area": "#comments", "item": "li.comment", "body": ".text", "id_attr": "id",
           "id_pattern": r"comment-(\d+)", "author": ".who", "count": ".count"}
ARTICLE = """<!doctype html><html><head><title>Cafcass rated outstanding</title></head><body>
<h1>Cafcass rated outstanding</h1>
<section id="comments"><h2 class="count">3 Responses</h2><ol>
<li class="comment" id="comment-1"><span class="who">Sam</span>
  <div class="text"><p>They never listened to us.</p></div></li>
<li class="comment" id="comment-2"><span class="who">Jo</span>
  <div class="text"><p>Hostile <img src=x onerror="alert(1)"><script>alert('owned')</script>text</p></div></li>
<li class="comment" id="comment-3"><span class="who">Ann</span><div class="text"><p>Critical comment</p></div></li>
</ol></section></body></html>"""


@pytest.fixture
def ops(app):
    return logged_in(app)


def new_watch(app: Flask, url: str, *, adapter: str | None = None, options: dict[str, Any] | None = None) -> int:
    with get_db(app).write() as session:
        return add_watch(session, url, allow_private=True, adapter=adapter, options=options).id


def watch_row(app: Flask, watch_id: int) -> Watch:
    with get_db(app).read_session() as session:
        return session.get_one(Watch, watch_id)


def flashed(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def actions(app: Flask) -> list[str]:
    return [action for _actor, action, _t, _r in audit_actions(app) if action != "login"]


def test_preview_shows_what_the_adapter_reads_then_add_stores_the_watch(app, ops, local_server):
    local_server.route("/article/", ARTICLE)
    form = {"url": local_server.url("/article/"), "adapter": "generic-css", "every": "30m",
            "until": "2099-01-01", "options": json.dumps(OPTIONS)}
    preview = post(ops, "/ops/watches/new", {**form, "action": "preview"})
    page = flashed(preview)
    assert preview.status_code == 200
    assert "Cafcass rated outstanding" in page and "<strong>3</strong> found" in page
    assert "the page claims <strong>3</strong>" in page
    assert "They never listened to us." in page and "Critical comment" in page
    assert "onerror" not in page and "alert('owned')" not in page, "comment bodies are sanitised"
    assert 'value="add"' in page, "confirming is offered after the preview"
    assert count(app, Watch) == 0, "a preview stores nothing"
    assert local_server.count("/article/") == 1

    added = post(ops, "/ops/watches/new", {**form, "action": "add"})
    assert added.status_code == 302 and added.headers["Location"] == "/ops/watches"
    with get_db(app).read_session() as session:
        (watch,) = session.scalars(select(Watch)).all()
        assert (watch.adapter, watch.options, watch.interval_seconds) == ("generic-css", OPTIONS, 1800)
        assert watch.until is not None and watch.until.year == 2099
    assert actions(app) == ["watch-add"]
    listing = flashed(ops.get("/ops/watches"))
    assert "Watch 1 added" in listing and local_server.url("/article/") in listing


def test_preview_says_why_a_capture_would_not_be_trusted(app, ops, local_server):
    local_server.route("/plain/", "<html><body><p>No comments here</p></body></html>")
    auto = flashed(post(ops, "/ops/watches/new", {"url": local_server.url("/plain/"), "action": "preview"}))
    assert "no adapter recognises this page" in auto
    wrong = flashed(post(ops, "/ops/watches/new", {"url": local_server.url("/plain/"), "action": "preview",
                                                   "adapter": "generic-css", "options": json.dumps(OPTIONS)}))
    assert "a capture would be suspect: comment area &#39;#comments&#39; not found" in wrong
    gone = flashed(post(ops, "/ops/watches/new", {"url": local_server.url("/nothing/"), "action": "preview",
                                                  "adapter": "generic-css", "options": json.dumps(OPTIONS)}))
    assert "a capture would be gone: the article answered HTTP 404" in gone
    assert count(app, Watch) == 0


@pytest.mark.parametrize("form, message", [
    ({"url": "not a url"}, "http"),
    ({"url": "ftp://example.org/a/"}, "http"),
    ({"url": "http://127.0.0.1:9/a/", "adapter": "nope"}, "unknown adapter &#39;nope&#39;"),
    ({"url": "http://127.0.0.1:9/a/", "adapter": "generic-css"}, "generic-css needs the option(s): area, item, body"),
    ({"url": "http://127.0.0.1:9/a/", "adapter": "generic-css", "options": "{broken"}, "options are not valid JSON"),
    ({"url": "http://127.0.0.1:9/a/", "adapter": "generic-css",
      "options": '{"area": "#c", "item": "li[[", "body": "p"}'},
     "is not a CSS selector"),
    ({"url": "http://127.0.0.1:9/a/", "every": "soon"}, "interval: not a duration"),
    ({"url": "http://127.0.0.1:9/a/", "every": "10s"}, "interval must be at least 1m"),
    ({"url": "http://127.0.0.1:9/a/", "until": "2001-01-01"}, "is already past"),
    ({"url": "http://127.0.0.1:9/a/", "until": "someday"}, "end date: not a date"),
])
@pytest.mark.parametrize("action", ["add", "preview"])
def test_bad_input_is_a_flash_message_and_changes_nothing(app, ops, form, message, action):
    response = post(ops, "/ops/watches/new", {**form, "action": action})
    assert response.status_code == 400
    assert message in flashed(response)
    assert count(app, Watch) == 0 and count(app, Thread) == 0
    assert actions(app) == []


def test_private_address_is_refused(app, ops):
    with_settings(app, allow_private_addresses=False)
    for action in ("preview", "add"):
        response = post(ops, "/ops/watches/new", {"url": "http://10.1.2.3/article/", "action": action})
        assert response.status_code == 400 and "ARCHIVE_ALLOW_PRIVATE_ADDRESSES" in flashed(response)
    assert count(app, Watch) == 0 and count(app, Thread) == 0


def test_duplicate_watch_is_refused(app, ops):
    new_watch(app, "http://127.0.0.1:9/a/")
    response = post(ops, "/ops/watches/new", {"url": "http://127.0.0.1:9/a/#comments", "action": "add"})
    assert response.status_code == 400 and "already watched as watch 1" in flashed(response)
    assert count(app, Watch) == 1 and actions(app) == []


def test_list_filters_by_site_status_and_failing(app, ops):
    active = new_watch(app, "http://127.0.0.1:9/active/")
    paused = new_watch(app, "http://127.0.0.1:9/paused/")
    ended = new_watch(app, "http://127.0.0.1:9/ended/")
    failing = new_watch(app, "http://localhost:9/failing/")
    with get_db(app).write() as session:
        session.get_one(Watch, paused).paused = True
        session.get_one(Watch, ended).until = utcnow() - timedelta(days=1)
        row = session.get_one(Watch, failing)
        row.consecutive_failures, row.last_outcome, row.last_reason = 3, "failed", "the article answered HTTP 503"

    def shown(**query: str) -> set[int]:
        page = flashed(ops.get("/ops/watches", query_string=query))
        return {w for w in (active, paused, ended, failing) if f"<td>{w}</td>" in page}

    assert shown() == {active, paused, ended, failing}
    assert shown(status="active") == {active, failing}
    assert shown(status="paused") == {paused}
    assert shown(status="ended") == {ended}
    assert shown(failing="1") == {failing}
    assert shown(site="localhost:9") == {failing}
    assert shown(site="127.0.0.1:9", status="active") == {active}
    page = flashed(ops.get("/ops/watches"))
    assert page.index(f"<td>{failing}</td>") < page.index(f"<td>{active}</td>"), "failing watches come first"
    assert "3 failures in a row" in page and "the article answered HTTP 503" in page


def test_edit_interval_and_end_date(app, ops):
    watch_id = new_watch(app, "http://127.0.0.1:9/a/")
    form_path = f"/ops/watches/{watch_id}/edit"
    response = post(ops, form_path, {"every": "2h", "until": "2099-06-01"}, form_path=form_path)
    assert response.status_code == 302
    row = watch_row(app, watch_id)
    assert row.interval_seconds == 7200 and row.until is not None and row.until.year == 2099
    cleared = post(ops, form_path, {"every": "2h", "until": ""}, form_path=form_path)
    assert cleared.status_code == 302 and watch_row(app, watch_id).until is None
    assert actions(app) == ["watch-edit", "watch-edit"]
    for form, message in (({"every": "soon"}, "not a duration"), ({"every": ""}, "give one"),
                          ({"every": "1h", "until": "2001-01-01"}, "already past"),
                          ({"every": "1h", "options": '{"area": "x"}'}, "options need an adapter")):
        bad = post(ops, form_path, form, form_path=form_path)
        assert bad.status_code == 400 and message in flashed(bad)
    assert watch_row(app, watch_id).interval_seconds == 7200 and len(actions(app)) == 2


def test_edit_generic_css_selectors_are_checked(app, ops):
    watch_id = new_watch(app, "http://127.0.0.1:9/a/", adapter="generic-css", options=OPTIONS)
    form_path = f"/ops/watches/{watch_id}/edit"
    assert "li.comment" in flashed(ops.get(form_path))
    bad = post(ops, form_path, {"every": "1h", "options": '{"area": "#c"}'}, form_path=form_path)
    assert bad.status_code == 400 and "needs the option(s): item, body" in flashed(bad)
    changed = {**OPTIONS, "item": "div.comment"}
    assert post(ops, form_path, {"every": "1h", "options": json.dumps(changed)}, form_path=form_path).status_code == 302
    assert watch_row(app, watch_id).options == changed


def test_edit_isso_options_like_any_adapter_that_takes_some(app, ops):
    watch_id = new_watch(app, "http://127.0.0.1:9/a/", adapter="isso", options={"isso": "http://127.0.0.1:9/isso"})
    form_path = f"/ops/watches/{watch_id}/edit"
    page = flashed(ops.get(form_path))
    assert 'name="options"' in page and "http://127.0.0.1:9/isso/" in page
    changed = {"isso": "http://127.0.0.1:9/comments/", "uri": "/2026/a-post/"}
    assert post(ops, form_path, {"every": "1h", "options": json.dumps(changed)}, form_path=form_path).status_code == 302
    assert watch_row(app, watch_id).options == changed
    bad = post(ops, form_path, {"every": "1h", "options": '{"isso": "ftp://127.0.0.1/"}'}, form_path=form_path)
    assert bad.status_code == 400 and "not an http(s) server URL" in flashed(bad)
    assert watch_row(app, watch_id).options == changed
    assert actions(app) == ["watch-edit"]


def test_edit_refuses_options_for_an_adapter_that_takes_none(app, ops):
    watch_id = new_watch(app, "http://127.0.0.1:9/a/", adapter="wordpress")
    form_path = f"/ops/watches/{watch_id}/edit"
    bad = post(ops, form_path, {"every": "1h", "options": '{"isso": "http://127.0.0.1:9/"}'}, form_path=form_path)
    assert bad.status_code == 400 and "wordpress: this adapter takes no options" in flashed(bad)
    assert watch_row(app, watch_id).options is None and actions(app) == []
    assert post(ops, form_path, {"every": "1h", "options": ""}, form_path=form_path).status_code == 302


def test_pause_resume_remove(app, ops):
    watch_id = new_watch(app, "http://127.0.0.1:9/a/")
    assert post(ops, f"/ops/watches/{watch_id}/pause").status_code == 302
    assert watch_row(app, watch_id).paused
    again = post(ops, f"/ops/watches/{watch_id}/pause", follow_redirects=True)
    assert "already paused" in flashed(again)
    assert post(ops, f"/ops/watches/{watch_id}/resume").status_code == 302
    assert not watch_row(app, watch_id).paused
    removed = post(ops, f"/ops/watches/{watch_id}/remove", follow_redirects=True)
    assert "its thread, captures and comments stay" in flashed(removed)
    assert count(app, Watch) == 0 and count(app, Thread) == 1
    assert actions(app) == ["watch-pause", "watch-resume", "watch-remove"]
    missing = post(ops, "/ops/watches/99/pause", follow_redirects=True)
    assert "no watch with id 99" in flashed(missing)


def test_action_returns_to_the_filtered_list_but_never_elsewhere(app, ops):
    watch_id = new_watch(app, "http://127.0.0.1:9/a/")
    back = post(ops, f"/ops/watches/{watch_id}/pause", {"next": "/ops/watches?status=paused"})
    assert back.headers["Location"] == "/ops/watches?status=paused"
    away = post(ops, f"/ops/watches/{watch_id}/resume", {"next": "https://evil.example/"})
    assert away.headers["Location"] == "/ops/watches"


def dispatch_once(app: Flask) -> None:
    """One tick of the capturing process's dispatcher, waited for."""
    ctx = archive_context(app)
    with Fetcher.from_settings(ctx.settings) as fetcher:
        dispatcher = Dispatcher(ctx, EmbeddedExecutor(ctx, fetcher, 1))
        try:
            for future in dispatcher.dispatch():
                future.result(timeout=30)
        finally:
            dispatcher.shutdown()


def test_capture_now_queues_and_the_dispatcher_captures_it_once(app, ops, local_server):
    local_server.route("/article/", ARTICLE)
    watch_id = new_watch(app, local_server.url("/article/"), adapter="generic-css", options=OPTIONS)
    with get_db(app).write() as session:
        session.get_one(Watch, watch_id).next_due_at = utcnow() + timedelta(hours=1)
    for _ in range(2):
        response = post(ops, f"/ops/watches/{watch_id}/capture")
        assert response.status_code == 302 and response.headers["Location"] == "/ops/watches"
    assert local_server.requests == [], "a web request never fetches"
    assert count(app, Capture) == 0
    listing = flashed(ops.get("/ops/watches"))
    assert f"Capture of watch {watch_id} queued" in listing and "queued" in listing
    dispatch_once(app)
    with get_db(app).read_session() as session:
        (capture,) = session.scalars(select(Capture)).all()
        assert (capture.outcome, capture.comments_found, capture.comments_claimed) == ("good", 3, 3)
    assert watch_row(app, watch_id).capture_requested_at is None, "the job took the request"
    dispatch_once(app)
    assert count(app, Capture) == 1, "two presses, one capture; not due otherwise"
    health = flashed(ops.get("/ops/health"))
    assert "Cafcass rated outstanding" in health and "3 of 3 claimed" in health
    assert actions(app) == ["capture-now", "capture-now"]


def test_capture_now_of_a_failing_page_is_reported_not_hidden(app, ops, local_server):
    local_server.route("/article/", "down for maintenance", status=503)
    watch_id = new_watch(app, local_server.url("/article/"), adapter="generic-css", options=OPTIONS)
    post(ops, f"/ops/watches/{watch_id}/capture")
    dispatch_once(app)
    health = flashed(ops.get("/ops/health"))
    assert "HTTP 503" in health
    row = watch_row(app, watch_id)
    assert row.consecutive_failures == 1 and row.next_due_at > utcnow()
    failing = health[health.index("<h2>Failing watches</h2>"):health.index("<h2>Recent captures</h2>")]
    assert f'href="/ops/watches/{watch_id}/edit">{watch_id}</a>' in failing
    assert "the article answered HTTP 503" in failing, "the reason is shown with the back-off"
    missing = post(ops, "/ops/watches/99/capture", follow_redirects=True)
    assert "no watch with id 99" in flashed(missing)
