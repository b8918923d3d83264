"""Index updates that captures hand over, committed together (archive/search/updates.py)."""
from __future__ import annotations

import threading
import time

import pytest
from flask import Flask

from archive.capture.fetch.fetcher import Fetcher
from archive.capture.pipeline import capture_watch
from archive.capture.watches import add_watch
from archive.context import archive_context
from archive.search import SearchQuery, index_comments, query_index, reindex
from archive.search.updates import IndexUpdates
from archive.store.db import get_db
from archive.store.models import Comment, CommentVersion
from tests.context_support import with_settings
from tests.local_server import LocalServer
from tests.test_search_engines import BACKENDS, build_archive, keys_of
from tests.wordpress_markup import C, wp_page


class Recorder:
    """An index that records each update it is asked for; `fail` makes the next one raise."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []
        self.fail = False
        self.arrived = threading.Event()

    def __call__(self, ids: list[int]) -> None:
        self.calls.append(ids)
        self.arrived.set()
        if self.fail:
            self.fail = False
            raise RuntimeError("index broke")


def test_ids_added_meanwhile_go_into_one_update() -> None:
    index = Recorder()
    updates = IndexUpdates(index, gather_seconds=60)
    updates.add([3, 1])
    updates.add([2, 3])
    updates.add([])
    assert index.calls == [] and updates.pending() == 3
    updates.flush()
    assert index.calls == [[1, 2, 3]] and updates.pending() == 0
    updates.flush()  # nothing pending: returns at once, indexes nothing
    assert index.calls == [[1, 2, 3]]


def test_an_update_runs_by_itself_once_gathered() -> None:
    index = Recorder()
    updates = IndexUpdates(index, gather_seconds=0.05)
    updates.add([7])
    assert index.arrived.wait(30), "the gathered update never ran"
    updates.flush()
    assert index.calls == [[7]]


def test_a_failing_update_is_logged_and_later_ones_still_run(caplog: pytest.LogCaptureFixture) -> None:
    index = Recorder()
    index.fail = True
    updates = IndexUpdates(index, gather_seconds=60)
    updates.add([1])
    updates.flush()
    assert "indexing 1 comment(s) failed" in caplog.text
    updates.add([2])
    updates.flush()
    assert index.calls == [[1], [2]]


def test_flush_waits_for_an_update_in_flight() -> None:
    release = threading.Event()
    started = threading.Event()
    done: list[list[int]] = []

    def slow(ids: list[int]) -> None:
        started.set()
        release.wait(30)
        done.append(ids)

    updates = IndexUpdates(slow, gather_seconds=0)
    updates.add([5])
    assert started.wait(30)
    flusher = threading.Thread(target=updates.flush)
    flusher.start()
    time.sleep(0.05)
    assert flusher.is_alive() and done == []
    release.set()
    flusher.join(30)
    assert not flusher.is_alive() and done == [[5]]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_search_finds_what_this_process_stored_and_never_a_redacted_text(app: Flask, backend: str) -> None:
    ctx = with_settings(app, search_backend=backend)
    ids = build_archive(app)
    reindex(ctx)
    with get_db(app).write() as session:
        comment = session.get_one(Comment, ids["c4"])
        comment.versions.append(CommentVersion(seq=2, text="Zanzibar moderation, edited", html="",
                                               text_sha256="0" * 64))
        other = session.get_one(Comment, ids["c3"])
        other.versions.append(CommentVersion(seq=2, text="Zanzibar secret, then redacted", html="",
                                             text_sha256="1" * 64))
    ctx.index_updates.add([ids["c4"], ids["c3"]])
    # Redacted before the gathered update runs: that update reads the comment as it is then.
    with get_db(app).write() as session:
        session.get_one(Comment, ids["c3"]).redacted = True
    with get_db(app).read_session() as session:
        index_comments(ctx, session, [ids["c3"]])
    results = query_index(archive_context(app), SearchQuery(text="zanzibar", per_page=100))
    assert keys_of(ids, [hit.comment_id for hit in results.hits]) == ["c4"]
    assert ctx.index_updates.pending() == 0


def test_a_new_title_reaches_every_comment_of_its_thread(app: Flask, local_server: LocalServer) -> None:
    ctx = with_settings(app, fetch_retries=0)
    path = "/renamed/"
    with app.app_context(), get_db(app).write() as session:
        watch_id = add_watch(session, local_server.url(path), allow_private=True, adapter="wordpress").id
    comments = [C(1, "Ann", "First words."), C(2, "Bo", "Second words.")]
    for title, events in (("Quiet headline", {"appeared": 2}), ("Zanzibar headline", {})):
        local_server.route(path, wp_page(comments, base=local_server.url(path), title=title),
                           content_type="text/html; charset=UTF-8")
        summary = capture_watch(ctx, watch_id, Fetcher.from_settings(ctx.settings))
        assert (summary.outcome, dict(summary.events)) == ("good", events)
        ctx.index_updates.flush()  # each capture's own update, not one reading the newest title
    results = query_index(archive_context(app), SearchQuery(text="title:zanzibar", per_page=100))
    assert results.total == 2
