"""`demo` (by default): a second Community Care thread rebuilt from a local web archive's snapshots."""
from __future__ import annotations

from sqlalchemy import select

from archive.store.db import get_db
from archive.store.models import Capture, Comment, Site, Thread

ARCHIVED_SITE = "Community Care (archived snapshots, offline demo)"


def test_the_demo_shows_what_a_backfill_looks_like(app, runner, client):
    result = runner.invoke("demo")
    assert result.exit_code == 0, result.output
    assert "backfilling “Cafcass complaints process ‘marks its own homework’, say parents”" in result.output
    assert "backfill run 1 done: 6 of 6 snapshots judged (3 good, 1 suspect, 2 unchanged)" in result.output
    with get_db(app).read_session() as session:
        thread = session.scalars(select(Thread).join(Site).where(Site.name == ARCHIVED_SITE)).one()
        comments = {c.author: c for c in session.scalars(select(Comment).where(Comment.thread_id == thread.id))}
        captures = session.scalars(select(Capture).where(Capture.thread_id == thread.id)
                                   .order_by(Capture.seq)).all()
        assert captures[2].exchanges[0].reused_body, "the repeated digest was not fetched again"
    # A held parent hides its reply; a snapshot of the same bytes confirms each removal.
    assert {a for a, c in comments.items() if c.status == "removed"} == {"G. Hughes", "Mo", "Jen"}
    assert comments["Rachel"].edit_count == 1 and comments["Ade"].status == "visible"
    assert {c.source for c in comments.values()} == {"backfill"}
    assert [c.outcome for c in captures] == ["good", "good", "unchanged", "suspect", "good", "unchanged"]
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "Rebuilt in part from web archives." in page and "6 archived snapshots" in page

    again = runner.invoke("demo")
    assert again.exit_code == 0 and "backfilling" not in again.output
