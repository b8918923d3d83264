"""`python -m archive demo`: the Community Care case captured by the real pipeline, offline."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from archive.context import archive_context
from archive.search import SearchQuery, query_index
from archive.store.db import get_db
from archive.store.models import Capture, Comment, Event, Exchange, Thread, Watch


def _comments(app: Flask) -> dict[tuple[str, str], Comment]:
    with get_db(app).read_session() as session:
        rows = session.scalars(select(Comment)).all()
        return {(c.author, c.key): c for c in rows}


def test_demo_records_removals_edits_and_reinstatement_with_evidence(app, runner) -> None:
    result = runner.invoke("demo")
    assert result.exit_code == 0, result.output
    assert "[failed]" in result.output and "[suspect]" in result.output
    comments = _comments(app)
    removed = {author for (author, _key), c in comments.items() if c.status == "removed"}
    assert removed == {"Sarah T", "Dave R", "Mike", "A father"}
    assert comments[("Mike", "108")].status == "visible"     # his reply stays; his first comment went
    assert comments[("Nell", "103")].times_reinstated == 1
    assert comments[("Nell", "103")].status == "visible"
    assert comments[("WL", "101")].edit_count == 1
    sarah = comments[("Sarah T", "104")]
    assert sarah.removed_after is not None and sarah.removed_before is not None
    assert sarah.removed_after < sarah.removed_before

    with get_db(app).read_session() as session:
        outcomes = dict(session.execute(select(Capture.outcome, func.count()).group_by(Capture.outcome)).all())
        assert outcomes.get("failed") == 1 and outcomes.get("suspect") == 1
        # Every removal names the good capture that confirmed it, and that
        # capture's bodies are in the evidence store.
        removals = session.scalars(select(Event).where(Event.kind == "removed")).all()
        assert len(removals) == 5          # Nell's was removed too, then reinstated
        store = archive_context(app).evidence
        for event in removals:
            capture = session.get_one(Capture, event.capture_id)
            assert capture.outcome in ("good", "unchanged")
            bodies = [x.body_sha256 for x in capture.exchanges if x.body_sha256]
            assert bodies and all(b"comment-list" in store.get(sha) for sha in bodies)
        # The REST look-up after each first miss is kept as evidence too.
        checks = session.scalars(select(Event).where(Event.kind == "api-check")).all()
        assert {(c.details or {}).get("http_status") for c in checks} == {401, 404}
        assert all(w.paused for w in session.scalars(select(Watch)))
        assert session.scalars(select(func.count()).select_from(Exchange)).one() >= 9


def test_demo_is_searchable_and_shown(app, runner, client) -> None:
    assert runner.invoke("demo").exit_code == 0
    results = query_index(archive_context(app), SearchQuery(text='"marks its own homework"'))
    assert not results.stale
    mike = next(c for (author, key), c in _comments(app).items() if key == "110")
    assert [hit.comment_id for hit in results.hits] == [mike.id]
    with get_db(app).read_session() as session:
        thread_id = session.scalar(select(Thread.id).where(Thread.url.contains("cafcass-rated")))
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "marks its own homework" in page and "Removed between" in page


def test_demo_twice_loads_nothing_twice(app, runner) -> None:
    assert runner.invoke("demo").exit_code == 0
    with get_db(app).read_session() as session:
        before = (session.scalar(select(func.count()).select_from(Thread)),
                  session.scalar(select(func.count()).select_from(Capture)),
                  session.scalar(select(func.count()).select_from(Comment)))
    again = runner.invoke("demo")
    assert again.exit_code == 0
    assert "already loaded, nothing changed" in again.output
    with get_db(app).read_session() as session:
        after = (session.scalar(select(func.count()).select_from(Thread)),
                 session.scalar(select(func.count()).select_from(Capture)),
                 session.scalar(select(func.count()).select_from(Comment)))
    assert after == before
