"""Operator pages for feeds, capture health, comments with redaction, and the audit log."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from archive.capture.feeds import (
    DEFAULT_EARLY_EVERY,
    DEFAULT_EARLY_FOR,
    DEFAULT_WATCH_EVERY,
    add_feed,
)
from archive.capture.queue import enqueue, lost_after
from archive.clock import utcnow
from archive.context import archive_context
from archive.errors import ArchiveError
from archive.operators import audit
from archive.operators.redaction import reindex_comment, set_redacted
from archive.store.db import get_db, get_session
from archive.store.models import Comment, Feed, Thread
from archive.web.operators import queries as q
from archive.web.operators.common import Reply, bp, duration, field, record
from archive.web.operators.job_queries import SHOWN_STATES, job_queue
from archive.web.paging import page_arg

# -- feeds -------------------------------------------------------------------

@bp.route("/feeds", methods=["GET", "POST"])
def feeds() -> Reply:
    status = 200
    if request.method == "POST":
        try:
            with get_db().write() as db_session:
                feed = add_feed(db_session, field("url"),
                                allow_private=archive_context().settings.allow_private_addresses,
                                every=duration("every", "poll interval") or timedelta(hours=1),
                                watch_for=duration("watch_for", "watch for") or timedelta(days=14),
                                watch_every=duration("watch_every", "watch interval"),
                                early_every=duration("early_every", "early interval"),
                                early_for=duration("early_for", "early period"))
                record(db_session, "feed-add", f"feed {feed.id}", details={"url": feed.url})
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
    """Queue a poll: the capturing process takes the feed as due at its next tick."""
    with get_db().write() as db_session:
        feed = db_session.get(Feed, feed_id)
        if feed is None:
            flash(f"no feed with id {feed_id}", "error")
            return redirect(url_for(".feeds"))
        feed.poll_requested_at = feed.poll_requested_at or utcnow()
        enqueue(db_session, "poll", [(feed_id, "operator")], utcnow())
        record(db_session, "feed-poll", f"feed {feed_id}", details={"url": feed.url})
    flash(f"Poll of feed {feed_id} queued: the capturing process (serve or scheduler) polls it "
          "at its next round, within a minute.", "info")
    return redirect(url_for(".feed_detail", feed_id=feed_id))


# -- health --------------------------------------------------------------------

@bp.get("/health")
def health() -> str:
    outcome = request.args.get("outcome", "")
    outcome = outcome if outcome in q.CAPTURE_OUTCOMES else ""
    job_state = request.args.get("jobs", "")
    job_state = job_state if job_state in SHOWN_STATES else ""
    now = utcnow()
    queue = job_queue(get_session(), now, lost_after(archive_context().settings), page_arg(), job_state)
    return render_template("operators/health.html", health=q.capture_health(get_session(), now, outcome),
                           outcome=outcome, outcomes=q.CAPTURE_OUTCOMES, now=now, queue=queue,
                           job_state=job_state, job_states=SHOWN_STATES)


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
    reindex_comment(archive_context(), comment_id)
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
    return render_template("operators/audit.html", log=q.audit_entries(get_session(), page_arg(), action),
                           action=action, actions=audit.ACTIONS)
