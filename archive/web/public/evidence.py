"""Evidence pages: what each capture fetched, and the raw bytes it kept.

Raw bodies are served as plain text with `nosniff` and a sandboxing CSP:
a captured page is hostile HTML and must never run in the archive's origin.
A body kept for a thread with a redacted comment is withheld from the public
(archive/operators/redaction.py): its hash, size and the reasons are shown
instead; logged-in operators still read it. A browser capture's screenshot is
the one blob served as an image (its own route, PNG only); its final DOM is
served as text like every other body.
"""
from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, render_template, request
from flask_login import current_user
from sqlalchemy import func, select

from archive.context import archive_context
from archive.operators.redaction import public_author, withheld_bodies
from archive.store.blobs import BlobStoreError
from archive.store.db import get_session
from archive.store.evidence import EvidenceError
from archive.store.headers import header_lines
from archive.store.models import Blob, Capture, Comment, Event, Thread
from archive.web.paging import clamp, page_arg, page_count

log = logging.getLogger(__name__)
bp = Blueprint("evidence", __name__)
bp.add_app_template_filter(header_lines, "header_lines")

CAPTURES_PER_PAGE = 100
# Events listed on a capture page; a first capture of a big thread has one
# "appeared" per comment, which the counts already summarise.
EVENTS_LISTED = 200
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# A raw body may be a whole hostile page: no script, no plugins, no styles,
# and a unique origin even if a browser ignored the content type.
RAW_CSP = "sandbox; default-src 'none'"
# The bytes behind a hash never change, but whether the public may read them
# does (a later redaction): shared caches keep a public body only briefly.
PUBLIC_CACHE = "public, max-age=300"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@bp.get("/captures/<int:capture_id>")
def capture(capture_id: int) -> tuple[str, int] | str:
    session = get_session()
    cap = session.get(Capture, capture_id)
    if cap is None:
        return render_template("public/not_found.html", what=f"capture {capture_id}"), 404
    kinds = dict(session.execute(select(Event.kind, func.count()).where(Event.capture_id == capture_id)
                                 .group_by(Event.kind)).all())
    notable = session.scalars(select(Event).where(Event.capture_id == capture_id,
                                                  Event.kind != "appeared")
                              .order_by(Event.id).limit(EVENTS_LISTED)).all()
    authors = dict(session.execute(select(Comment.id, public_author()).where(
        Comment.id.in_({e.comment_id for e in notable if e.comment_id is not None}))).all())
    shas = {sha for e in cap.exchanges for sha in (e.body_sha256, e.request_body_sha256) if sha}
    shas |= {sha for sha in (cap.dom_sha256, cap.screenshot_sha256) if sha}
    blobs = {b.sha256: b for b in session.scalars(select(Blob).where(Blob.sha256.in_(shas)))}
    return render_template("public/capture.html", cap=cap, kinds=kinds, notable=notable, blobs=blobs,
                           authors=authors, events_listed=EVENTS_LISTED,
                           withheld=withheld_bodies(session, shas),
                           operator=current_user.is_authenticated)


@bp.get("/threads/<int:thread_id>/captures")
def thread_captures(thread_id: int) -> tuple[str, int] | str:
    session = get_session()
    thread = session.get(Thread, thread_id)
    if thread is None:
        return render_template("public/not_found.html", what=f"thread {thread_id}"), 404
    total = session.scalar(select(func.count()).select_from(Capture)
                           .where(Capture.thread_id == thread_id)) or 0
    pages = page_count(total, CAPTURES_PER_PAGE)
    page = clamp(page_arg(), pages)
    timeline = session.scalars(select(Capture).where(Capture.thread_id == thread_id)
                               .order_by(Capture.started_at.desc(), Capture.id.desc())
                               .offset((page - 1) * CAPTURES_PER_PAGE).limit(CAPTURES_PER_PAGE)).all()
    return render_template("public/thread_captures.html", thread=thread, timeline=timeline,
                           page=page, pages=pages, total=total)


@bp.get("/blobs/<sha256>")
def blob(sha256: str) -> Response | tuple[str, int]:
    sha256 = sha256.lower()
    if not _SHA256.match(sha256):
        return render_template("public/not_found.html", what="body with that SHA-256"), 404
    session = get_session()
    stored = session.get(Blob, sha256)
    if stored is None:
        return render_template("public/not_found.html", what=f"stored body {sha256}"), 404
    reasons = withheld_bodies(session, [sha256]).get(sha256)
    body = _readable(stored, reasons)
    if not isinstance(body, bytes):
        return body
    download = request.args.get("download") == "1"
    response = Response(body, mimetype="application/octet-stream" if download else "text/plain")
    if not download:
        response.headers["Content-Type"] = "text/plain; charset=utf-8"
    disposition = "attachment" if download else "inline"
    extension = "bin" if download else "txt"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{sha256}.{extension}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = RAW_CSP
    response.headers["Cache-Control"] = "private, no-store" if reasons else PUBLIC_CACHE
    return response



@bp.get("/captures/<int:capture_id>/screenshot")
def screenshot(capture_id: int) -> Response | tuple[str, int]:
    """A browser capture's screenshot, as an image: only the blob this capture names,
    withheld like any other blob of its thread."""
    session = get_session()
    cap = session.get(Capture, capture_id)
    stored = session.get(Blob, cap.screenshot_sha256) if cap is not None and cap.screenshot_sha256 else None
    if cap is None or stored is None:
        return render_template("public/not_found.html", what=f"screenshot of capture {capture_id}"), 404
    reasons = withheld_bodies(session, [stored.sha256]).get(stored.sha256)
    body = _readable(stored, reasons)
    if not isinstance(body, bytes):
        return body
    if not body.startswith(PNG_SIGNATURE):
        return render_template("public/not_found.html", what=f"screenshot of capture {capture_id}",
                               problem="The kept screenshot is not a PNG image."), 404
    response = Response(body, mimetype="image/png")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = RAW_CSP
    response.headers["Cache-Control"] = "private, no-store" if reasons else PUBLIC_CACHE
    return response


def _readable(stored: Blob, reasons: list[str] | None) -> bytes | tuple[str, int]:
    """A blob's bytes, or the page saying why they cannot be shown (withheld, unreadable)."""
    sha256 = stored.sha256
    if reasons and not current_user.is_authenticated:
        return render_template("public/withheld.html", blob=stored, reasons=reasons), 403
    try:
        return archive_context().evidence.get(sha256)
    except EvidenceError as exc:
        # Said plainly: a reader must know when evidence cannot be produced.
        return render_template("public/not_found.html", what=f"readable copy of body {sha256}",
                               problem=str(exc)), 404
    except BlobStoreError as exc:
        # The store's address and the reason are for operators, not the public.
        log.error("body %s: %s", sha256, exc)
        return render_template("public/not_found.html", what=f"readable copy of body {sha256}",
                               problem="The evidence store cannot be read just now; try again later."), 503
