"""An operator's "Backfill" of a watched thread: queue the rebuild of its past
from a web archive's snapshots, and see how the thread's backfill runs went.

The web side only queues (archive/web/__init__.py's rule): the capturing
process (`serve` or `scheduler`) runs queued backfills one after another
(archive/backfill/run.py), politely paced. Reading local WARC files is the
command line's job (`backfill --warc`): a web form naming files on the
server would hand the web side the server's disk.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from archive.backfill.cdx import CdxError, replay_prefix
from archive.backfill.queue import request_backfill
from archive.capture.watches import get_watch
from archive.context import archive_context
from archive.errors import ArchiveError
from archive.store.db import get_db, get_session
from archive.store.models import BackfillRun
from archive.web.operators.common import Reply, bp, date_field, field, record

RUNS_SHOWN = 20


@bp.route("/watches/<int:watch_id>/backfill", methods=["GET", "POST"])
def watch_backfill(watch_id: int) -> Reply:
    default_cdx = archive_context().settings.backfill_cdx_url
    if request.method == "POST":
        try:
            run_id = _queue(watch_id, default_cdx)
        except ArchiveError as exc:
            flash(str(exc), "error")
        else:
            flash(f"Backfill run {run_id} queued: the capturing process (serve or scheduler) starts it within "
                  "a minute and reads the snapshots politely, so a long history takes a while; "
                  "its progress shows on this page.", "info")
            return redirect(url_for(".watch_backfill", watch_id=watch_id))
    session = get_session()
    try:
        watch = get_watch(session, watch_id)
    except ArchiveError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".watches"))
    runs = session.scalars(select(BackfillRun).where(BackfillRun.thread_id == watch.thread_id)
                           .order_by(BackfillRun.id.desc()).limit(RUNS_SHOWN)).all()
    return render_template("operators/backfill.html", watch=watch, runs=runs, default_cdx=default_cdx)


def _queue(watch_id: int, default_cdx: str) -> int:
    date_from, date_to = date_field("from", "From"), date_field("to", "To")
    cdx = field("cdx") or default_cdx
    if not cdx.startswith(("http://", "https://")) or len(cdx) > 2000:
        raise ArchiveError("the CDX address must be an http:// or https:// address")
    try:
        replay_prefix(cdx)
    except CdxError as exc:
        raise ArchiveError(str(exc)) from None
    with get_db().write() as session:
        watch = get_watch(session, watch_id)
        run = request_backfill(session, watch.thread.url, kind="cdx", source=cdx, date_from=date_from,
                               date_to=date_to, requested_by=_operator())
        if run.state == "running":
            raise ArchiveError(f"backfill run {run.id} of this thread is running already")
        # A stopped or failed run asked for again resumes where it stopped.
        run.state, run.message = "queued", ""
        record(session, "backfill-queued", f"watch {watch_id}",
               details={"url": watch.thread.url, "cdx": cdx, "run": run.id})
        return run.id


def _operator() -> str:
    from flask_login import current_user

    return f"operator {current_user.name}"
