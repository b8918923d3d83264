"""The operators' pages under /ops/: login, watches, feeds, capture health,
redaction and the audit log.

Every page needs a logged-in operator; every state-changing request is a POST
carrying a CSRF token (Flask-WTF's CSRFProtect, app-wide). Each action checks
its input through the same services the command line uses, writes its change
and its audit entry in one transaction, and answers bad input with a one-line
flash message and no change. Only `preview` fetches from the network (one
page, bounded in time); "Capture now" and "Poll now" queue a job that a
worker runs (archive/capture/jobs.py).

This module registers everything and holds login/logout; the routes are in
watches.py, backfill.py and records.py, on the blueprint of common.py.
"""
from __future__ import annotations

from flask import Flask, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response as BaseResponse

from archive.clock import format_duration, utcnow
from archive.operators import auth
from archive.store.db import get_db
from archive.web.operators import backfill, records, watches  # noqa: F401  (their routes join the blueprint)
from archive.web.operators.common import Reply, bp, field, local_target, record
from archive.web.sanitize import comment_body


def register(app: Flask) -> None:
    auth.init_auth(app)
    app.register_blueprint(bp)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.jinja_env.globals["comment_body"] = comment_body
    app.jinja_env.filters["duration"] = format_duration


def _csrf_failed(error: CSRFError) -> tuple[str, int]:
    return render_template("operators/csrf_failed.html", reason=error.description), 400


# -- login -----------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
def login() -> Reply:
    if request.method == "POST":
        try:
            operator = auth.login(get_db(), field("name"), request.form.get("password") or "",
                                  request.remote_addr or "", utcnow())
        except auth.LoginRefused as exc:
            flash(str(exc), "error")
            return render_template("operators/login.html", name=field("name")), 401
        target = local_target(request.args.get("next"))
        session.clear()   # a fresh session: nothing from before the login survives it
        login_user(operator)
        session.permanent = True
        return redirect(target or url_for(".watches"))
    return render_template("operators/login.html", name="")


@bp.post("/logout")
def logout() -> BaseResponse:
    with get_db().write() as db_session:
        # Ends the operator's other sessions too: a copied cookie must not outlive the logout.
        auth.end_sessions(db_session, current_user.id)
        record(db_session, "logout", f"user {current_user.name}")
    logout_user()
    session.clear()
    flash("Logged out.", "info")
    return redirect(url_for(".login"))


@bp.get("/")
def index() -> BaseResponse:
    return redirect(url_for(".watches"))
