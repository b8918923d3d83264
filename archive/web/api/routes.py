"""The public JSON API, `/api/v1/`: read-only, no login, described at /api/v1/openapi.json.

Lists use keyset pagination: `?after=<id>&limit=<n>` returns items with ids
above `after`, and `next` is the link to the following page (null on the
last). Items have the same fields as the exports (archive/research/exports.py), so
one data dictionary serves both. A redacted comment keeps its counts but
its text and author are left out (`redacted: true`, `redaction_reason`).

Parameters are checked strictly (a wrong one is a 400 with a one-line
`error`), because a public API gets every kind of input. Every other error
under /api/v1/, a 404, 405 or 500, is the same JSON shape.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from flask.blueprints import BlueprintSetupState
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter
from werkzeug.wrappers import Response as BaseResponse

from archive.clock import EARLIEST, LATEST, iso, parse_date
from archive.errors import ArchiveError
from archive.research.exports import CAPTURES, COMMENT_STATUSES, COMMENTS, EVENTS, ExportFilter, RowSource
from archive.research.stats_queries import GROUPINGS, build_stats
from archive.rules.stats import NOTES
from archive.store.db import get_session
from archive.store.models import MAX_ID, Capture, Comment, CommentVersion, Event, Exchange, Site, Thread
from archive.web.api.openapi import (
    CAPTURE_OUTCOMES,
    EVENT_KINDS,
    FIND_THRESHOLD,
    MAX_LIMIT,
    MAX_SEARCH_PAGE,
    MULTILINE_TEXT_PATTERN,
    SEARCH_SORTS,
    SEARCH_STATUSES,
    TEXT_PATTERN,
    openapi_document,
)
from archive.web.public.finder import MAX_NAME_CHARS as MAX_FIND_NAME
from archive.web.public.finder import MAX_URL_CHARS as MAX_FIND_URL
from archive.web.research.pages import cached

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class _AnyPath(BaseConverter):
    """Like `path`, but also across newlines: every unknown URL under the API gets JSON."""
    regex = r"[\s\S]+"
    part_isolating = False


@bp.record_once
def _register_app_wide(state: BlueprintSetupState) -> None:
    # Runs before the routes below are added, so the catch-all can use it.
    state.app.url_map.converters["api_any"] = _AnyPath
    # App-wide, not on the blueprint: a 405 is raised while routing, before
    # the blueprint is known, and a bug's 500 must be JSON here too.
    state.app.register_error_handler(HTTPException, _http_error)


DEFAULT_LIMIT = 50
_INT = re.compile(r"^-?\d{1,19}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TEXT = re.compile(TEXT_PATTERN)
_MULTILINE_TEXT = re.compile(MULTILINE_TEXT_PATTERN)


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[Response, int]:
    return jsonify(error=exc.message), exc.status


def _http_error(exc: HTTPException) -> BaseResponse | HTTPException:
    """Every error under /api/v1/ as JSON `{"error": ...}`; elsewhere the page it was."""
    if not request.path.startswith(f"{bp.url_prefix}/"):
        return exc
    response = exc.get_response()  # keeps headers such as a 405's Allow
    if (exc.code or 500) >= 500:
        # Never the exception's text: it may show internals to anyone.
        message = "internal error: the archive could not answer this request"
    else:
        message = exc.description or exc.name
    response.set_data(json.dumps({"error": message}))
    response.content_type = "application/json"
    return response


@bp.before_request
def _no_repeated_parameters() -> None:
    for name in request.args:
        if len(request.args.getlist(name)) > 1:
            raise ApiError(400, f"parameter {name!r} given more than once")


@bp.after_request
def _public(response: Response) -> Response:
    # Public, read-only data: any site may read it from a browser.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# --- parameters ---------------------------------------------------------------

def _int(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not _INT.fullmatch(raw) or not low <= int(raw) <= high:
        raise ApiError(400, f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _choice(name: str, choices: tuple[str, ...]) -> str | None:
    raw = request.args.get(name)
    if raw is not None and raw not in choices:
        raise ApiError(400, f"{name} must be one of: {', '.join(choices)}")
    return raw


def _text(name: str, max_length: int, min_length: int = 1) -> str | None:
    raw = request.args.get(name)
    if raw is not None and not min_length <= len(raw) <= max_length:
        raise ApiError(400, f"{name} must be {min_length} to {max_length} characters")
    if raw is not None and not _TEXT.fullmatch(raw):
        raise ApiError(400, f"{name} must not contain control characters")
    return raw


def _date(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError
        return parse_date(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a date, YYYY-MM-DD, from {EARLIEST:%Y-%m-%d} "
                            f"to {LATEST:%Y-%m-%d}") from None


def _filter(status_choices: tuple[str, ...] | None) -> ExportFilter:
    date_to = _date("to")
    return ExportFilter(
        status=_choice("status", status_choices) if status_choices else None,
        site=_text("site", 255), thread_id=_int("thread", None, 1, MAX_ID),
        date_from=_date("from"),
        # `to` is a whole day, inclusive.
        date_to=date_to + timedelta(days=1) if date_to else None)


def _page(source: RowSource, status_choices: tuple[str, ...] | None) -> Response:
    flt = _filter(status_choices)
    after = _int("after", 0, 0, MAX_ID) or 0
    limit = _int("limit", DEFAULT_LIMIT, 1, MAX_LIMIT) or DEFAULT_LIMIT
    id_name = source.columns[0].name if source is not COMMENTS else "archive_id"
    items = source.page(get_session(), flt, after, limit + 1)
    more = len(items) > limit
    items = items[:limit]
    next_link = None
    if more:
        args: dict[str, Any] = {k: v for k, v in request.args.items() if k not in ("after", "limit")}
        next_link = url_for(request.endpoint or "", after=items[-1][id_name], limit=limit, **args)
    if source is COMMENTS:
        items = [public_comment(item) for item in items]
    return jsonify(items=items, next=next_link)


def _found(model: type, ident: int) -> Any:
    found = get_session().get(model, ident)
    if found is None:
        raise ApiError(404, f"no {model.__name__.lower()} with id {ident}")
    return found


def public_comment(record: dict[str, Any]) -> dict[str, Any]:
    """An exported comment row as the public sees it: no text or author when redacted."""
    record = dict(record)
    if record["redacted"]:
        del record["text"], record["author"]
    return record


# --- endpoints ----------------------------------------------------------------

@bp.get("/")
def index() -> Response:
    return jsonify(name="Comment-moderation transparency archive API", version="v1",
                   openapi=url_for("api.openapi"),
                   endpoints={name: url_for(f"api.{name}") for name in
                              ("threads", "comments", "events", "captures", "search", "find",
                               "stats")})


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


def _thread_json(thread: Thread, counts: dict[str, int]) -> dict[str, Any]:
    return {"id": thread.id, "url": thread.url, "title": thread.title, "site": thread.site.host,
            "state": thread.state, "adapter": thread.adapter,
            "created_at": iso(thread.created_at),
            "comments": {status: counts.get(status, 0) for status in COMMENT_STATUSES}}


def _status_counts(thread_ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {}
    if thread_ids:
        for thread_id, status, n in get_session().execute(
                select(Comment.thread_id, Comment.status, func.count())
                .where(Comment.thread_id.in_(thread_ids))
                .group_by(Comment.thread_id, Comment.status)):
            counts.setdefault(thread_id, {})[status] = n
    return counts


@bp.get("/threads")
def threads() -> Response:
    site = _text("site", 255)
    after = _int("after", 0, 0, MAX_ID) or 0
    limit = _int("limit", DEFAULT_LIMIT, 1, MAX_LIMIT) or DEFAULT_LIMIT
    stmt = select(Thread).join(Site, Thread.site_id == Site.id).where(Thread.id > after)
    if site:
        stmt = stmt.where(Site.host == site.strip().lower())
    found = get_session().scalars(stmt.order_by(Thread.id).limit(limit + 1)).all()
    page = found[:limit]
    counts = _status_counts([t.id for t in page])
    next_link = None
    if len(found) > limit:
        args: dict[str, Any] = {k: v for k, v in request.args.items() if k not in ("after", "limit")}
        next_link = url_for("api.threads", after=page[-1].id, limit=limit, **args)
    return jsonify(items=[_thread_json(t, counts.get(t.id, {})) for t in page], next=next_link)


@bp.get("/threads/<int:thread_id>")
def thread(thread_id: int) -> Response:
    found: Thread = _found(Thread, thread_id)
    session = get_session()
    outcomes = dict(session.execute(select(Capture.outcome, func.count())
                                    .where(Capture.thread_id == found.id)
                                    .group_by(Capture.outcome)).all())
    first, last = session.execute(select(func.min(Capture.started_at), func.max(Capture.started_at))
                                  .where(Capture.thread_id == found.id)).one()
    last_good = session.scalar(select(func.max(Capture.started_at)).where(
        Capture.thread_id == found.id, Capture.outcome.in_(("good", "unchanged"))))
    body = _thread_json(found, _status_counts([found.id]).get(found.id, {}))
    body["captures"] = {
        "total": sum(outcomes.values()),
        "good": outcomes.get("good", 0) + outcomes.get("unchanged", 0),
        "failed": outcomes.get("failed", 0), "suspect": outcomes.get("suspect", 0),
        "gone": outcomes.get("gone", 0), "first_at": iso(first), "last_at": iso(last),
        "last_good_at": iso(last_good)}
    body["links"] = {name: url_for(f"api.{name}", thread=found.id)
                     for name in ("comments", "events", "captures")}
    return jsonify(body)


@bp.get("/comments")
def comments() -> Response:
    return _page(COMMENTS, COMMENT_STATUSES)


@bp.get("/comments/<int:comment_id>")
def comment(comment_id: int) -> Response:
    found: Comment = _found(Comment, comment_id)
    session = get_session()
    [record] = COMMENTS.matching(session, Comment.id == found.id)
    body = public_comment(record)
    versions = []
    for version in session.scalars(select(CommentVersion).where(
            CommentVersion.comment_id == found.id).order_by(CommentVersion.seq)):
        item: dict[str, Any] = {"seq": version.seq, "seen_at": iso(version.seen_at),
                                "capture_id": version.capture_id}
        if not found.redacted:
            item["text"] = version.text
        versions.append(item)
    body["versions"] = versions
    body["events"] = EVENTS.matching(session, Event.comment_id == found.id)
    return jsonify(body)


@bp.get("/events")
def events() -> Response:
    return _page(EVENTS, EVENT_KINDS)


@bp.get("/captures")
def captures() -> Response:
    return _page(CAPTURES, CAPTURE_OUTCOMES)


@bp.get("/captures/<int:capture_id>")
def capture(capture_id: int) -> Response:
    found: Capture = _found(Capture, capture_id)
    session = get_session()
    [record] = CAPTURES.matching(session, Capture.id == found.id)
    record["exchanges"] = [
        {"seq": e.seq, "method": e.method, "url": e.url, "final_url": e.final_url,
         "status": e.status, "body_sha256": e.body_sha256, "request_body_sha256": e.request_body_sha256,
         "reused_body": e.reused_body,
         "fetched_at": iso(e.fetched_at), "elapsed_ms": e.elapsed_ms, "error": e.error,
         "provenance": e.provenance}
        for e in session.scalars(select(Exchange).where(Exchange.capture_id == found.id)
                                 .order_by(Exchange.seq))]
    return jsonify(record)


@bp.get("/stats")
def stats() -> Response:
    by = _choice("by", GROUPINGS) or "site"
    flt = _filter(None)
    rows, computed_at = cached(("rows", by, flt), lambda: build_stats(get_session(), by, flt))
    return jsonify(by=by, notes=list(NOTES), rows=rows, computed_at=iso(computed_at))


@bp.get("/search")
def search() -> Response:
    from archive.context import archive_context
    from archive.search import SearchQuery, SearchQueryError, query_index
    date_to = _date("to")
    query = SearchQuery(
        text=_text("q", 500, 0) or "", status=_choice("status", SEARCH_STATUSES),
        site=_text("site", 255), thread_id=_int("thread", None, 1, MAX_ID),
        date_from=_date("from"),
        date_to=date_to + timedelta(days=1) - timedelta(microseconds=1) if date_to else None,
        sort=_choice("sort", SEARCH_SORTS) or "relevance",
        page=_int("page", 1, 1, MAX_SEARCH_PAGE) or 1,
        per_page=_int("per_page", 20, 1, 100) or 20, cursor=_text("cursor", 2000))
    try:
        results = query_index(archive_context(), query)
    except SearchQueryError as exc:
        raise ApiError(400, str(exc)) from None
    except ArchiveError as exc:
        # The query was fine; the index is not (not built for this engine, or unreadable).
        raise ApiError(503, f"search is not available right now: {exc}") from None
    ids = [hit.comment_id for hit in results.hits]
    records = _comments_by_id(ids)
    hits = []
    for hit in results.hits:
        record = records.get(hit.comment_id)
        if record is None:
            continue  # deleted since it was indexed
        item: dict[str, Any] = {"comment": public_comment(record), "score": hit.score}
        if not record["redacted"]:
            item["highlight"] = hit.highlight
        hits.append(item)
    next_link = None
    if results.next_cursor:
        args: dict[str, Any] = {k: v for k, v in request.args.items() if k not in ("cursor", "page")}
        next_link = url_for("api.search", cursor=results.next_cursor, **args)
    return jsonify(total=results.total, total_exact=results.total_exact,
                   ranked_among=results.ranked_among, hits=hits, facets=results.facets,
                   next_cursor=results.next_cursor, next=next_link, stale=results.stale)


@bp.get("/find")
def find() -> Response:
    """Find my comment: the archived comments closest to a remembered text (see finder.py)."""
    from archive.context import archive_context
    from archive.web.public.finder import FindError, checked_request, find_comments
    text = request.args.get("text")
    if text is None:
        raise ApiError(400, "text is required: the comment as you remember it")
    if not _MULTILINE_TEXT.fullmatch(text):
        raise ApiError(400, "text must not contain control characters other than line breaks and tabs")
    try:
        wanted = checked_request(text, _text("author", MAX_FIND_NAME, 0) or "",
                                 _text("url", MAX_FIND_URL, 0) or "")
        found = find_comments(archive_context(), get_session(), wanted)
    except FindError as exc:
        raise ApiError(400, str(exc)) from None
    except ArchiveError as exc:
        raise ApiError(503, f"finding comments is not available right now: {exc}") from None
    records = _comments_by_id([m.comment.id for m in found.matches])
    matches = [{"comment": public_comment(records[m.comment.id]), "similarity": m.score,
                "history": url_for("public.comment", comment_id=m.comment.id, _external=True)}
               for m in found.matches if m.comment.id in records]
    return jsonify(matches=matches, compared=found.compared, threshold=FIND_THRESHOLD,
                   thread_id=found.thread.id if found.thread else None, notes=found.notes,
                   stale=found.stale)


def _comments_by_id(ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    return {r["archive_id"]: r for r in COMMENTS.matching(get_session(), Comment.id.in_(ids))}


@bp.get("/<api_any:unknown>")
def not_found(unknown: str) -> Response:
    """Anything else under /api/v1/ is a JSON 404, not the HTML page."""
    raise ApiError(404, f"not found: /api/v1/{unknown}")
