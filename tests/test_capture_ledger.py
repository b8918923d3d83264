"""The ledger's bulk writes against the event log they cache.

Statuses and counters are a cache of the events (DESIGN: events are the
record): after every capture, through the real pipeline on loopback and
through the ledger directly (tombstones), each comment's cached columns must
equal what `rebuild_state` derives from its events alone.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from archive.capture.fetch.fetcher import Fetcher
from archive.capture.ledger import CachedState, rebuild_comment, rebuild_state
from archive.capture.pipeline import CaptureSummary, capture_watch
from archive.capture.watches import add_watch
from archive.context import archive_context
from archive.research.verify import verify_archive
from archive.store.db import get_db
from archive.store.models import Comment, CommentVersion
from tests.context_support import with_settings
from tests.local_server import LocalServer
from tests.public_helpers import T0, capture, new_thread, rec
from tests.wordpress_markup import C, wp_page

PATH = "/ledger-thread/"


def cached_and_rebuilt(app: Flask) -> dict[str, tuple[CachedState, CachedState]]:
    with get_db(app).read_session() as session:
        comments = session.scalars(select(Comment).order_by(Comment.key)).all()
        for comment in comments:
            assert rebuild_comment(session, comment) == comment.status
        return {c.key: (CachedState.of(c), rebuild_state(session, c.id)) for c in comments}


def assert_cache_matches_events(app: Flask) -> dict[str, CachedState]:
    pairs = cached_and_rebuilt(app)
    assert pairs, "no comments were stored"
    for key, (cached, rebuilt) in pairs.items():
        assert cached == rebuilt, f"comment {key}: cached {cached} but its events say {rebuilt}"
    return {key: cached for key, (cached, _rebuilt) in pairs.items()}


@pytest.fixture
def capture_page(app: Flask, local_server: LocalServer):
    with_settings(app, fetch_retries=0)
    with app.app_context(), get_db(app).write() as session:
        watch_id = add_watch(session, local_server.url(PATH), allow_private=True, adapter="wordpress").id

    def run(comments: list[C] | None, status: int = 200) -> CaptureSummary:
        if comments is None:
            local_server.route(PATH, "down for maintenance", status=status)
        else:
            local_server.route(PATH, wp_page(comments, base=local_server.url(PATH)),
                               content_type="text/html; charset=UTF-8")
        ctx = archive_context(app)
        return capture_watch(ctx, watch_id, Fetcher.from_settings(ctx.settings))

    return run


def test_pipeline_rounds_leave_a_cache_that_the_events_rebuild(app, capture_page):
    one = [C(1, "Ann", "First."), C(2, "Bo", "Second."), C(3, "Cy", "Third."),
           C(4, "Di", "Fourth."), C(5, "Ed", "Fifth."), C(6, "Flo", "A reply.", parent=5),
           C(7, "Gil", "Seventh."), C(8, "Hal", "Eighth.")]
    by_id = {c.id: c for c in one}

    def page(*ids: int, **changed: C) -> list[C]:
        return [changed.get(f"c{i}", by_id[i]) for i in ids]

    rounds = [
        (page(1, 2, 3, 4, 5, 6, 7, 8), {"appeared": 8}),
        # 2 and 7 go, 3 is edited.
        (page(1, 3, 4, 5, 6, 8, c3=C(3, "Cy", "Third, edited.")), {"missing": 2, "edited": 1}),
        # 2 and 7 confirmed removed, 4 goes.
        (page(1, 3, 4, 5, 6, 8, c3=C(3, "Cy", "Third, edited."))[:2] + page(5, 6, 8),
         {"removed": 2, "missing": 1}),
        # 2 (removed) and 4 (missing) are back, 3 edited again, 6 moves to the top level,
        # and 8 shows under 1: a place becoming known (verdicts._seen), no event.
        (page(1, 2, 3, 4, 5, 6, 8, c3=C(3, "Cy", "Third, edited twice."), c6=C(6, "Flo", "A reply."),
              c8=C(8, "Hal", "Eighth.", parent=1)),
         {"reinstated": 2, "edited": 1, "moved": 1}),
    ]
    for comments, events in rounds:
        summary = capture_page(comments)
        assert summary.outcome == "good", summary.line()
        assert dict(summary.events) == events
        assert_cache_matches_events(app)
        with get_db(app).read_session() as session:
            # Every comment shown, moved or not, changed or not, was last seen by this capture.
            assert set(session.scalars(select(Comment.key).where(
                Comment.last_seen_capture_id == summary.capture_id))) == {str(c.id) for c in comments}
    before = assert_cache_matches_events(app)
    # A failed capture changes nothing, and the cache still matches.
    assert capture_page(None, status=503).outcome == "failed"
    assert assert_cache_matches_events(app) == before
    final = assert_cache_matches_events(app)
    assert {k: s.status for k, s in final.items()} == {
        "1": "visible", "2": "visible", "3": "visible", "4": "visible", "5": "visible",
        "6": "visible", "7": "removed", "8": "visible"}
    assert (final["2"].times_removed, final["2"].times_reinstated) == (1, 1)
    assert (final["3"].edit_count, final["4"].misses, final["7"].misses) == (2, 0, 2)
    with get_db(app).read_session() as session:
        versions = session.scalars(select(CommentVersion.text).join(Comment)
                                   .where(Comment.key == "3").order_by(CommentVersion.seq)).all()
        assert versions == ["Third.", "Third, edited.", "Third, edited twice."]
        parents = dict(session.execute(select(Comment.key, Comment.parent_key)).all())
        assert (parents["6"], parents["8"]) == (None, "1")
        assert verify_archive(session, archive_context(app).evidence).ok


def test_tombstones_and_new_comments_written_in_bulk_match_their_events(app):
    with get_db(app).write() as session:
        thread = new_thread(session, "https://example.org/tombstones/", "Tombstones")
        live = [rec("1", "Ann", "Kept."), rec("2", "Bo", "Will be tombstoned."),
                rec("3", "Cy", "[removed]", tombstone=True)]
        capture(session, thread, T0, live)
        capture(session, thread, T0 + timedelta(hours=1),
                [live[0], rec("2", "Bo", "This comment was removed.", tombstone=True), live[2],
                 rec("4", "Di", "Late arrival.", parent="1")])
        capture(session, thread, T0 + timedelta(hours=2), [live[0], live[1], live[2]])
    final = assert_cache_matches_events(app)
    assert {k: s.status for k, s in final.items()} == {
        "1": "visible", "2": "visible", "3": "removed", "4": "missing"}
    assert (final["3"].times_removed, final["3"].removed_before) == (1, T0)
    assert (final["2"].times_removed, final["2"].times_reinstated) == (1, 1)
    with get_db(app).read_session() as session:
        tomb = session.scalar(select(Comment).where(Comment.key == "3"))
        assert tomb is not None and tomb.tombstone_text == "[removed]"
        assert [v.text for v in tomb.versions] == [""]
