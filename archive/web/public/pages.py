"""Public pages for readers and journalists: no login, read only.

Home (what is watched, what disappeared lately), a thread as readers saw it
with every disappeared comment in its place, and one comment's full history.
Evidence pages live in evidence_views, the search page in search_views.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask.sansio.blueprints import BlueprintSetupState
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from archive.store.db import get_session
from archive.store.models import Capture, Comment, CommentVersion, Event, Site, Thread
from archive.web.paging import clamp, page_arg, page_count
from archive.web.public import presenters
from archive.web.public import queries as q
from archive.web.public.textdiff import change_summary, diff_segments, render
from archive.web.public.thread_tree import paginate, reading_order
from archive.web.sanitize import comment_body

bp = Blueprint("public", __name__)

THREADS_PER_PAGE = 50
# Sites whose removal feeds the home page advertises.
FEED_SITES = 50
# Comments per thread page; a page ends at a top-level comment when it can.
COMMENTS_PER_PAGE = 500
TIMELINE_ON_THREAD_PAGE = 20


@bp.record_once
def _template_helpers(state: BlueprintSetupState) -> None:
    env = state.app.jinja_env
    env.filters.update(utc=presenters.utc, safe_url=presenters.safe_url)
    env.globals.update(window=presenters.window, comment_badges=presenters.comment_badges,
                       removal_line=presenters.removal_line,
                       redaction_notice=presenters.redaction_notice)


@bp.get("/")
def home() -> str:
    session = get_session()
    total_threads = session.scalar(select(func.count()).select_from(Thread)) or 0
    pages = page_count(total_threads, THREADS_PER_PAGE)
    page = clamp(page_arg(), pages)
    threads = session.scalars(select(Thread).options(selectinload(Thread.site)).order_by(Thread.id.desc())
                              .offset((page - 1) * THREADS_PER_PAGE).limit(THREADS_PER_PAGE)).all()
    ids = [t.id for t in threads]
    captures = session.execute(select(Capture.outcome, func.count()).group_by(Capture.outcome)).all()
    return render_template(
        "public/home.html", threads=threads, total_threads=total_threads, page=page, pages=pages,
        counts=q.total_counts(session), thread_counts=q.thread_counts(session, ids),
        latest=q.latest_capture_times(session, ids), recent=q.recent_disappearances(session),
        capture_counts=dict(captures),
        feed_sites=session.scalars(select(Site).order_by(Site.host).limit(FEED_SITES)).all())


@bp.get("/threads/<int:thread_id>")
def thread(thread_id: int) -> tuple[str, int] | str:
    session = get_session()
    thread = session.get(Thread, thread_id)
    if thread is None:
        return render_template("public/not_found.html", what=f"thread {thread_id}"), 404
    only_gone = request.args.get("show") == "disappeared"
    outline = q.thread_outline(session, thread_id)
    order = reading_order(outline.keys, outline.parent_keys, outline.positions, outline.posted)
    if only_gone:
        order = [p for p in order if outline.disappeared[p.index]]
    pages = paginate(order, COMMENTS_PER_PAGE)
    page = clamp(page_arg(), len(pages))
    start, end = pages[page - 1]
    placed = order[start:end]
    views = q.comment_views(session, [outline.ids[p.index] for p in placed])
    shown = []
    for p in placed:
        view = views[outline.ids[p.index]]
        view.depth = p.depth
        shown.append(view)
    q.fill_bodies(session, shown)
    # Names of the comments replied to, for "in reply to" where the parent is not just above.
    authors = dict(zip(outline.keys, outline.authors))
    timeline = session.scalars(select(Capture).where(Capture.thread_id == thread_id)
                               .order_by(Capture.started_at.desc(), Capture.id.desc())
                               .limit(TIMELINE_ON_THREAD_PAGE)).all()
    thread_events = session.scalars(select(Event).where(Event.thread_id == thread_id,
                                                        Event.comment_id.is_(None))
                                    .order_by(Event.at)).all()
    return render_template(
        "public/thread.html", thread=thread, comments=shown, only_gone=only_gone, page=page,
        pages=len(pages), counts=q.thread_counts(session, [thread_id]).get(thread_id, q.Counts()),
        authors=authors, timeline=timeline, outcome_counts=q.capture_outcome_counts(session, thread_id),
        thread_events=thread_events,
        # One url_for, not one per comment: it is a tenth of a big page's time.
        comment_prefix=url_for("public.comment", comment_id=0)[:-1])


@bp.get("/comments/<int:comment_id>")
def comment(comment_id: int) -> tuple[str, int] | str:
    session = get_session()
    found = session.get(Comment, comment_id)
    if found is None:
        return render_template("public/not_found.html", what=f"comment {comment_id}"), 404
    view = q.comment_views(session, [comment_id])[comment_id]
    q.fill_bodies(session, [view])
    versions = session.scalars(select(CommentVersion).where(CommentVersion.comment_id == comment_id)
                               .order_by(CommentVersion.seq)).all()
    shown_versions = []
    previous = None
    for version in versions:
        entry: dict[str, Any] = {"version": version, "body": None, "diff": None, "summary": None}
        if not view.redacted:
            entry["body"] = comment_body(version.html, version.text)
            if previous is not None:
                segments = diff_segments(previous.text, version.text)
                entry["diff"] = render(segments)
                entry["summary"] = change_summary(segments)
        shown_versions.append(entry)
        previous = version
    events = session.scalars(select(Event).where(Event.comment_id == comment_id)
                             .order_by(Event.at, Event.id)).all()
    capture_ids = {e.capture_id for e in events} | {v.capture_id for v in versions}
    capture_ids.add(found.last_seen_capture_id)
    captures = {c.id: c for c in session.scalars(
        select(Capture).where(Capture.id.in_([i for i in capture_ids if i is not None])))}
    parent = None
    if found.parent_key:
        parent = session.scalar(select(Comment).where(Comment.thread_id == found.thread_id,
                                                      Comment.key == found.parent_key))
    return render_template("public/comment.html", c=view, thread=found.thread, versions=shown_versions,
                           events=events, captures=captures, parent=parent,
                           last_seen_capture=captures.get(found.last_seen_capture_id or 0))
