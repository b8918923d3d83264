"""The operators' pages under /ops/: login, watches, feeds, capture health,
redaction and the audit log.

Every page needs a logged-in operator; every state-changing request is a POST
carrying a CSRF token (Flask-WTF's CSRFProtect, app-wide). Each action checks
its input through the same services the command line uses, writes its change
and its audit entry in one transaction, and answers bad input with a one-line
flash message and no change. Only `preview`, `capture now` and `poll now`
fetch from the network, and only because an operator asked.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, Response, abort, current_app, flash, redirect, render_template,
                   request, session, url_for)
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from scrapers import ADAPTERS

from .. import audit, auth
from ..clock import format_duration, parse_date, parse_duration, utcnow
from ..db import get_db, get_session
from ..errors import ArchiveError
from ..feeds import DEFAULT_EARLY_EVERY, DEFAULT_EARLY_FOR, DEFAULT_WATCH_EVERY, add_feed, poll_feed
from ..fetch import Fetcher
from ..models import Comment, Feed, Thread, Watch
from ..preview import build_adapter, preview_url
from ..redaction import reindex_comment, set_redacted
from ..sanitize import comment_body
from ..watch_csv import CsvImportError, export_watches, import_watches, parse_watch_csv
from ..watches import add_watch, get_watch
from . import operator_queries as q

bp = Blueprint("operators", __name__, url_prefix="/ops")
Reply = str | BaseResponse | tuple[str, int]


def register(app: Flask) -> None:
    auth.init_auth(app)
    app.register_blueprint(bp)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.jinja_env.globals["comment_body"] = comment_body
    app.jinja_env.filters["duration"] = format_duration


def _csrf_failed(error: CSRFError) -> tuple[str, int]:
    return render_template("operators/csrf_failed.html", reason=error.description), 400


@bp.before_request
def _require_login() -> BaseResponse | None:
    if request.endpoint != "operators.login" and not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    return None


def _record(db_session: Session, action: str, target: str, reason: str = "",
            details: dict[str, Any] | None = None) -> None:
    audit.record(db_session, current_user.name, action, target, reason, details, current_user.id)


def _field(name: str) -> str:
    return (request.form.get(name) or "").strip()


def _duration(name: str, label: str) -> timedelta | None:
    try:
        return parse_duration(_field(name)) if _field(name) else None
    except ValueError as exc:
        raise ArchiveError(f"{label}: {exc}") from None


def _date(name: str, label: str) -> datetime | None:
    try:
        return parse_date(_field(name)) if _field(name) else None
    except ValueError as exc:
        raise ArchiveError(f"{label}: {exc}") from None


def _options() -> dict[str, Any] | None:
    text = _field("options")
    if not text:
        return None
    try:
        options = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArchiveError(f"options are not valid JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(options, dict):
        raise ArchiveError("options must be a JSON object")
    return options


def _page() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and int(value) > 0 else 1


def _local_target(target: str | None) -> str | None:
    """A `next` address only when it stays on the operator pages (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/ops/") or "\\" in target:
        return None
    return target


# -- login -----------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
def login() -> Reply:
    if request.method == "POST":
        try:
            operator = auth.login(get_db(), _field("name"), request.form.get("password") or "",
                                  request.remote_addr or "", utcnow())
        except auth.LoginRefused as exc:
            flash(str(exc), "error")
            return render_template("operators/login.html", name=_field("name")), 401
        target = _local_target(request.args.get("next"))
        session.clear()   # a fresh session: nothing from before the login survives it
        login_user(operator)
        session.permanent = True
        return redirect(target or url_for(".watches"))
    return render_template("operators/login.html", name="")


@bp.post("/logout")
def logout() -> BaseResponse:
    with get_db().write() as db_session:
        _record(db_session, "logout", f"user {current_user.name}")
    logout_user()
    session.clear()
    flash("Logged out.", "info")
    return redirect(url_for(".login"))


@bp.get("/")
def index() -> BaseResponse:
    return redirect(url_for(".watches"))


# -- watches -----------------------------------------------------------------

@bp.get("/watches")
def watches() -> str:
    now = utcnow()
    db_session = get_session()
    site, status = request.args.get("site", ""), request.args.get("status", "")
    failing = request.args.get("failing") == "1"
    listing = q.list_watches(db_session, now, site=site, status=status if status in q.WATCH_STATUSES else "",
                             failing=failing, page=_page())
    return render_template("operators/watches.html", listing=listing, now=now, state=q.watch_state,
                           sites=q.site_hosts(db_session), site=site, status=status, failing=failing,
                           statuses=q.WATCH_STATUSES)


def _adapter_choices() -> list[tuple[str, str]]:
    return [(name, cls.label) for name, cls in ADAPTERS.items()]


@bp.route("/watches/new", methods=["GET", "POST"])
def watch_new() -> Reply:
    form = {"url": _field("url"), "adapter": _field("adapter"), "options": _field("options"),
            "every": _field("every") or current_app.config["DEFAULT_INTERVAL"], "until": _field("until")}
    preview = None
    if request.method == "POST":
        try:
            every, until = _schedule()
            options = _options()
            adapter = form["adapter"] or None
            if request.form.get("action") == "add":
                return _add_watch(form["url"], adapter, every, until, options)
            with Fetcher.from_config(current_app.config) as fetcher:
                preview = preview_url(form["url"], fetcher, adapter_name=adapter, options=options,
                                      allow_private=current_app.config["ALLOW_PRIVATE_ADDRESSES"])
        except ArchiveError as exc:
            flash(str(exc), "error")
            return render_template("operators/watch_new.html", form=form, adapters=_adapter_choices(),
                                   preview=None), 400
    return render_template("operators/watch_new.html", form=form, adapters=_adapter_choices(), preview=preview)


def _schedule() -> tuple[timedelta, datetime | None]:
    """The add form's interval and end date, checked before the preview fetches anything."""
    every = _duration("every", "interval") or parse_duration(current_app.config["DEFAULT_INTERVAL"])
    if every < timedelta(minutes=1):
        raise ArchiveError("interval must be at least 1m")
    until = _date("until", "end date")
    if until is not None and until <= utcnow():
        raise ArchiveError(f"the end date {until:%Y-%m-%d %H:%M} is already past")
    return every, until


def _add_watch(url: str, adapter: str | None, every: timedelta, until: datetime | None,
               options: dict[str, Any] | None) -> BaseResponse:
    build_adapter(adapter, options)   # unknown adapter or bad selectors: refused before storing
    with get_db().write() as db_session:
        watch = add_watch(db_session, url, allow_private=current_app.config["ALLOW_PRIVATE_ADDRESSES"],
                          adapter=adapter, every=every, until=until, options=options)
        _record(db_session, "watch-add", f"watch {watch.id}", details={
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
            every, until = _duration("every", "interval"), _date("until", "end date")
            options = _options()
            with get_db().write() as db_session:
                watch = get_watch(db_session, watch_id)
                changes = _apply_edit(watch, every, until, options)
                _record(db_session, "watch-edit", f"watch {watch_id}", details=changes)
            flash(f"Watch {watch_id} updated.", "info")
            return redirect(url_for(".watches"))
        except ArchiveError as exc:
            flash(str(exc), "error")
            status = 400
    watch = get_session().get(Watch, watch_id)
    if watch is None:
        abort(404)
    return render_template("operators/watch_edit.html", watch=watch,
                           options_text=json.dumps(watch.options, indent=2) if watch.options else ""), status


def _apply_edit(watch: Watch, every: timedelta | None, until: datetime | None,
                options: dict[str, Any] | None) -> dict[str, Any]:
    now = utcnow()
    if every is None:
        raise ArchiveError("interval: give one, e.g. 30m, 1h, 1d")
    if every < timedelta(minutes=1):
        raise ArchiveError("interval must be at least 1m")
    if until is not None and until <= now and until != watch.until:
        raise ArchiveError("the end date is already past: pause or remove the watch to stop it now")
    if watch.adapter == "generic-css":
        build_adapter(watch.adapter, options)
    elif options is not None:
        raise ArchiveError("options are only used by the generic-css adapter")
    changes = {"every": [format_duration(watch.interval_seconds), format_duration(every.total_seconds())],
               "until": [watch.until.isoformat() if watch.until else None,
                         until.isoformat() if until else None]}
    if watch.adapter == "generic-css" and options != watch.options:
        changes["options"] = [watch.options, options]
        watch.options = options
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
            _record(db_session, f"watch-{action}", f"watch {watch_id}", details={"url": watch.thread.url})
        flash(message, "info")
    except ArchiveError as exc:
        flash(str(exc), "error")
    return redirect(_local_target(request.form.get("next")) or url_for(".watches"))


def _change(db_session: Session, watch: Watch, action: str) -> str:
    if action in ("pause", "resume"):
        paused = action == "pause"
        if watch.paused == paused:
            raise ArchiveError(f"watch {watch.id} is already {'paused' if paused else 'active'}")
        watch.paused = paused
        if not paused:
            watch.next_due_at = utcnow()
        return f"Watch {watch.id} {'paused' if paused else 'resumed'}."
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
    from ..capture import capture_watch

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        with Fetcher.from_config(app.config) as fetcher:
            summary = capture_watch(app, watch_id, fetcher)
    except ArchiveError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".watches"))
    with get_db().write() as db_session:
        _record(db_session, "capture-now", f"watch {watch_id}", details={
            "capture_id": summary.capture_id, "outcome": summary.outcome, "reason": summary.reason})
    flash(f"Captured: {summary.line()}", "info" if summary.outcome in ("good", "unchanged") else "error")
    return redirect(url_for(".health"))


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
        raw = upload.read() if upload and upload.filename else _field("csv").encode("utf-8")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            problems = ["the file is not UTF-8 text"]
        else:
            problems = _import(text)
        if not problems:
            return redirect(url_for(".watches"))
        flash(f"Nothing imported: {len(problems)} problem(s), listed below.", "error")
        return render_template("operators/watch_import.html", problems=problems), 400
    return render_template("operators/watch_import.html", problems=problems)


def _import(text: str) -> list[str]:
    config = current_app.config
    rows, problems = parse_watch_csv(text, ADAPTERS, utcnow())
    if problems:
        return problems
    try:
        with get_db().write() as db_session:
            created = import_watches(db_session, rows, allow_private=config["ALLOW_PRIVATE_ADDRESSES"],
                                     default_every=parse_duration(config["DEFAULT_INTERVAL"]))
            _record(db_session, "import", f"{len(created)} watches",
                    details={"watch_ids": [w.id for w in created]})
    except CsvImportError as exc:
        return exc.problems
    flash(f"Imported {len(created)} watches.", "info")
    return []


# -- feeds -------------------------------------------------------------------

@bp.route("/feeds", methods=["GET", "POST"])
def feeds() -> Reply:
    status = 200
    if request.method == "POST":
        try:
            with get_db().write() as db_session:
                feed = add_feed(db_session, _field("url"),
                                allow_private=current_app.config["ALLOW_PRIVATE_ADDRESSES"],
                                every=_duration("every", "poll interval") or timedelta(hours=1),
                                watch_for=_duration("watch_for", "watch for") or timedelta(days=14),
                                watch_every=_duration("watch_every", "watch interval"),
                                early_every=_duration("early_every", "early interval"),
                                early_for=_duration("early_for", "early period"))
                _record(db_session, "feed-add", f"feed {feed.id}", details={"url": feed.url})
            flash(f"Feed {feed.id} added; it is polled at the next capture round.", "info")
            return redirect(url_for(".feeds"))
        except ArchiveError as exc:
            flash(str(exc), "error")
            status = 400
    defaults = {"watch_every": DEFAULT_WATCH_EVERY, "early_every": DEFAULT_EARLY_EVERY,
                "early_for": DEFAULT_EARLY_FOR}
    return render_template("operators/feeds.html", feeds=q.feeds_with_counts(get_session()),
                           form=request.form, defaults=defaults), status


@bp.get("/feeds/<int:feed_id>")
def feed_detail(feed_id: int) -> str:
    db_session = get_session()
    feed = db_session.get(Feed, feed_id)
    if feed is None:
        abort(404)
    return render_template("operators/feed.html", feed=feed, entries=q.feed_entries(db_session, feed_id))


@bp.post("/feeds/<int:feed_id>/poll")
def feed_poll(feed_id: int) -> BaseResponse:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        with Fetcher.from_config(app.config) as fetcher:
            result = poll_feed(app, feed_id, fetcher)
    except ArchiveError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".feeds"))
    with get_db().write() as db_session:
        _record(db_session, "feed-poll", f"feed {feed_id}",
                details={"outcome": result.outcome, "error": result.error, "watch_ids": result.watch_ids})
    flash(result.line(), "info" if result.outcome in ("ok", "not-modified") else "error")
    return redirect(url_for(".feed_detail", feed_id=feed_id))


# -- health --------------------------------------------------------------------

@bp.get("/health")
def health() -> str:
    outcome = request.args.get("outcome", "")
    outcome = outcome if outcome in q.CAPTURE_OUTCOMES else ""
    now = utcnow()
    return render_template("operators/health.html", health=q.capture_health(get_session(), now, outcome),
                           outcome=outcome, outcomes=q.CAPTURE_OUTCOMES, now=now)


# -- comments and redaction --------------------------------------------------------

@bp.get("/threads/<int:thread_id>")
def thread_comments(thread_id: int) -> str:
    db_session = get_session()
    thread = db_session.get(Thread, thread_id)
    if thread is None:
        abort(404)
    comments = db_session.scalars(select(Comment).where(Comment.thread_id == thread_id)
                                  .order_by(Comment.position, Comment.id).limit(1000)).all()
    return render_template("operators/thread.html", thread=thread, comments=comments)


@bp.get("/comments/<int:comment_id>")
def comment(comment_id: int) -> str:
    found = get_session().get(Comment, comment_id)
    if found is None:
        abort(404)
    return render_template("operators/comment.html", comment=found)


def _redaction(comment_id: int, redacted: bool) -> Reply:
    try:
        with get_db().write() as db_session:
            set_redacted(db_session, comment_id, redacted, reason=request.form.get("reason"),
                         actor=current_user.name, user_id=current_user.id)
    except ArchiveError as exc:
        flash(str(exc), "error")
        found = get_session().get(Comment, comment_id)
        if found is None:
            abort(404)
        return render_template("operators/comment.html", comment=found), 400
    reindex_comment(current_app._get_current_object(), comment_id)  # type: ignore[attr-defined]
    flash(f"Comment {comment_id} {'redacted' if redacted else 'unredacted'}.", "info")
    return redirect(url_for(".comment", comment_id=comment_id))


@bp.post("/comments/<int:comment_id>/redact")
def redact(comment_id: int) -> Reply:
    return _redaction(comment_id, True)


@bp.post("/comments/<int:comment_id>/unredact")
def unredact(comment_id: int) -> Reply:
    return _redaction(comment_id, False)


# -- audit log ---------------------------------------------------------------

@bp.get("/audit")
def audit_log() -> str:
    action = request.args.get("action", "")
    action = action if action in audit.ACTIONS else ""
    return render_template("operators/audit.html", log=audit.list_entries(get_session(), _page(), action),
                           action=action, actions=audit.ACTIONS)
