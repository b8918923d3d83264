"""The operators' "Backfill" action queues a run; the capturing process runs it.

The web request never fetches (archive/web/__init__.py's rule): the
Wayback-shaped server on loopback sees nothing until `run_queued_backfills`,
the dispatcher's part, runs the queued work.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from archive.backfill.run import run_queued_backfills
from archive.capture.watches import add_watch
from archive.context import archive_context
from archive.store.db import get_db
from archive.store.models import BackfillRun
from tests.operator_support import audit_actions, logged_in, post
from tests.test_backfill_politeness import ARTICLE, _wayback


def test_backfill_is_queued_by_an_operator_and_run_by_the_dispatcher(app, local_server):
    cdx = _wayback(local_server)
    with get_db(app).write() as session:
        watch_id = add_watch(session, ARTICLE, allow_private=True).id
    ops = logged_in(app)
    listing = ops.get("/ops/watches").get_data(as_text=True)
    assert f'href="/ops/watches/{watch_id}/backfill">Backfill</a>' in listing
    form = f"/ops/watches/{watch_id}/backfill"
    assert "No backfill of this thread yet." in ops.get(form).get_data(as_text=True)

    bad = post(ops, form, {"from": "last spring"}, form_path=form, follow_redirects=True)
    assert "From: not a date" in bad.get_data(as_text=True)
    bad = post(ops, form, {"cdx": local_server.url("/elsewhere")}, form_path=form, follow_redirects=True)
    assert "cannot tell where" in bad.get_data(as_text=True)

    queued = post(ops, form, {"cdx": cdx, "from": "2018-01-01"}, form_path=form, follow_redirects=True)
    page = queued.get_data(as_text=True)
    assert "Backfill run 1 queued" in page and "job-queued" in page
    assert local_server.requests == [], "a web request never fetches"
    assert [a[1] for a in audit_actions(app)] == ["login", "backfill-queued"]

    [report] = run_queued_backfills(archive_context(app))
    assert (report.state, report.judged) == ("done", 4)
    assert run_queued_backfills(archive_context(app)) == [], "a run is run once"
    page = ops.get(form).get_data(as_text=True)
    assert "job-done" in page and "4 judged of 4 listed" in page and "operator alice" in page
    with get_db(app).read_session() as session:
        run = session.scalars(select(BackfillRun)).one()
        assert (run.requested_by, run.date_from) == ("operator alice", datetime(2018, 1, 1))
