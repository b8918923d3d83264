"""Operator pages for watches: list, add with preview, edit, pause, resume,
remove, capture now, CSV import and export."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from archive.capture.preview import bounded_preview, build_adapter
from archive.capture.queue import enqueue
from archive.capture.watches import (
    WATCH_STATES,
    add_watch,
    check_interval,
    check_options,
    check_until,
    get_watch,
    set_paused,
    watch_state,
)
from archive.clock import format_duration, utcnow
from archive.context import archive_context
from archive.errors import ArchiveError
from archive.operators.watch_csv import (
    CsvImportError,
    decode_csv,
    export_watches,
    import_watches,
    parse_watch_csv,
)
from archive.store.db import get_db, get_session
from archive.store.models import Watch
from archive.web.operators import queries as q
from archive.web.operators.common import (
    Reply,
    bp,
    date_field,
    duration,
    field,
    local_target,
    options_field,
    record,
)
from archive.web.paging import page_arg
from scrapers import ADAPTERS


@bp.get("/watches")
def watches() -> str:
    now = utcnow()
    db_session = get_session()
    site, status = request.args.get("site", ""), request.args.get("status", "")
    failing = request.args.get("failing") == "1"
    listing = q.list_watches(db_session, now, site=site, status=status if status in WATCH_STATES else "",
                             failing=failing, page=page_arg())
    return render_template("operators/watches.html", listing=listing, now=now, state=watch_state,
                           sites=q.site_hosts(db_session), site=site, status=status, failing=failing,
                           statuses=WATCH_STATES)


def _adapter_choices() -> list[tuple[str, str]]:
    return [(name, cls.label) for name, cls in ADAPTERS.items()]


@bp.route("/watches/new", methods=["GET", "POST"])
def watch_new() -> Reply:
    settings = archive_context().settings
    form = {"url": field("url"), "adapter": field("adapter"), "options": field("options"),
            "every": field("every") or format_duration(settings.default_interval.total_seconds()),
            "until": field("until")}
    preview = None
    if request.method == "POST":
        try:
            every, until = _schedule()
            options = options_field()
            adapter = form["adapter"] or None
            if request.form.get("action") == "add":
                return _add_watch(form["url"], adapter, every, until, options)
            preview = bounded_preview(form["url"], settings, adapter_name=adapter, options=options)
        except ArchiveError as exc:
            flash(str(exc), "error")
            return render_template("operators/watch_new.html", form=form, adapters=_adapter_choices(),
                                   preview=None), 400
    return render_template("operators/watch_new.html", form=form, adapters=_adapter_choices(), preview=preview)


def _schedule() -> tuple[timedelta, datetime | None]:
    """The add form's interval and end date, checked before the preview fetches anything."""
    every = duration("every", "interval") or archive_context().settings.default_interval
    check_interval(every)
    until = date_field("until", "end date")
    check_until(until, utcnow())
    return every, until


def _add_watch(url: str, adapter: str | None, every: timedelta, until: datetime | None,
               options: dict[str, Any] | None) -> BaseResponse:
    build_adapter(adapter, options)   # unknown adapter or bad selectors: refused before storing
    with get_db().write() as db_session:
        watch = add_watch(db_session, url, allow_private=archive_context().settings.allow_private_addresses,
                          adapter=adapter, every=every, until=until, options=options)
        record(db_session, "watch-add", f"watch {watch.id}", details={
            "url": watch.thread.url, "adapter": adapter, "every": format_duration(every.total_seconds()),
            "until": until.isoformat() if until else None})
        message = f"Watch {watch.id} added: {watch.thread.url}"
    flash(message, "info")
    return redirect(url_for(".watches"))


@bp.route("/watches/<int:watch_id>/edit", methods=["GET", "POST"])
def watch_edit(watch_id: int) -> Reply:
    status = 200
    if request.method == "POST":
        try:
            every, until = duration("every", "interval"), date_field("until", "end date")
            options = options_field()
            with get_db().write() as db_session:
                watch = get_watch(db_session, watch_id)
                changes = _apply_edit(watch, every, until, options)
                record(db_session, "watch-edit", f"watch {watch_id}", details=changes)
            flash(f"Watch {watch_id} updated.", "info")
            return redirect(url_for(".watches"))
        except ArchiveError as exc:
            flash(str(exc), "error")
            status = 400
    shown = get_session().get(Watch, watch_id)
    if shown is None:
        abort(404)
    return render_template("operators/watch_edit.html", watch=shown,
                           options_text=json.dumps(shown.options, indent=2) if shown.options else ""), status


def _apply_edit(watch: Watch, every: timedelta | None, until: datetime | None,
                options: dict[str, Any] | None) -> dict[str, Any]:
    now = utcnow()
    if every is None:
        raise ArchiveError("interval: give one, e.g. 30m, 1h, 1d")
    check_interval(every)
    if until != watch.until:
        try:
            check_until(until, now)
        except ArchiveError as exc:
            raise ArchiveError(f"{exc}: pause or remove the watch to stop it now") from None
    cleaned = check_options(watch.adapter, options)
    changes = {"every": [format_duration(watch.interval_seconds), format_duration(every.total_seconds())],
               "until": [watch.until.isoformat() if watch.until else None,
                         until.isoformat() if until else None]}
    if cleaned != watch.options:
        changes["options"] = [watch.options, cleaned]
        watch.options = cleaned
    watch.interval_seconds = int(every.total_seconds())
    watch.until = until
    # A shorter interval takes effect now, not after the old, longer wait.
    watch.next_due_at = min(watch.next_due_at, (watch.last_capture_at or now) + every)
    return changes


def _watch_action(watch_id: int, action: str) -> BaseResponse:
    try:
        with get_db().write() as db_session:
            watch = get_watch(db_session, watch_id)
            message = _change(db_session, watch, action)
            record(db_session, f"watch-{action}", f"watch {watch_id}", details={"url": watch.thread.url})
        flash(message, "info")
    except ArchiveError as exc:
        flash(str(exc), "error")
    return redirect(local_target(request.form.get("next")) or url_for(".watches"))


def _change(db_session: Session, watch: Watch, action: str) -> str:
    if action in ("pause", "resume"):
        set_paused(watch, action == "pause", utcnow())
        return f"Watch {watch.id} {'paused' if action == 'pause' else 'resumed'}."
    db_session.delete(watch)
    return f"Watch {watch.id} removed; its thread, captures and comments stay."


@bp.post("/watches/<int:watch_id>/pause")
def watch_pause(watch_id: int) -> BaseResponse:
    return _watch_action(watch_id, "pause")


@bp.post("/watches/<int:watch_id>/resume")
def watch_resume(watch_id: int) -> BaseResponse:
    return _watch_action(watch_id, "resume")


@bp.post("/watches/<int:watch_id>/remove")
def watch_remove(watch_id: int) -> BaseResponse:
    return _watch_action(watch_id, "remove")


@bp.post("/watches/<int:watch_id>/capture")
def watch_capture(watch_id: int) -> BaseResponse:
    """Queue a capture: the capturing process takes it as due at its next tick."""
    try:
        with get_db().write() as db_session:
            watch = get_watch(db_session, watch_id)
            # A second press while queued keeps the first time: one request, one capture.
            watch.capture_requested_at = watch.capture_requested_at or utcnow()
            # Its job, at once, so the health page lists it (none if one is queued or running).
            enqueue(db_session, "capture", [(watch_id, "operator")], utcnow())
            record(db_session, "capture-now", f"watch {watch_id}", details={"url": watch.thread.url})
    except ArchiveError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".watches"))
    flash(f"Capture of watch {watch_id} queued: the capturing process (serve or scheduler) runs it "
          "at its next round, within a minute; its result then shows on this page.", "info")
    return redirect(local_target(request.form.get("next")) or url_for(".watches"))


@bp.get("/watches/export.csv")
def watch_export() -> Response:
    now = utcnow()
    text = export_watches(get_session().scalars(select(Watch).order_by(Watch.id)), now)
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=watches-{now:%Y%m%d-%H%M}.csv"})


@bp.route("/watches/import", methods=["GET", "POST"])
def watch_import() -> Reply:
    problems: list[str] = []
    if request.method == "POST":
        upload = request.files.get("file")
        raw = upload.read() if upload and upload.filename else field("csv").encode("utf-8")
        try:
            problems = _import(decode_csv(raw))
        except CsvImportError as exc:
            problems = exc.problems
        if not problems:
            return redirect(url_for(".watches"))
        flash(f"Nothing imported: {len(problems)} problem(s), listed below.", "error")
        return render_template("operators/watch_import.html", problems=problems), 400
    return render_template("operators/watch_import.html", problems=problems)


def _import(text: str) -> list[str]:
    settings = archive_context().settings
    rows, problems = parse_watch_csv(text, ADAPTERS, utcnow())
    if problems:
        return problems
    try:
        with get_db().write() as db_session:
            created = import_watches(db_session, rows, allow_private=settings.allow_private_addresses,
                                     default_every=settings.default_interval)
            record(db_session, "import", f"{len(created)} watches",
                    details={"watch_ids": [w.id for w in created]})
    except CsvImportError as exc:
        return exc.problems
    flash(f"Imported {len(created)} watches.", "info")
    return []
