"""The OpenAPI 3.1 description of `/api/v1/`, built from the same column
definitions the exports use, so the document cannot drift from the data.

A test checks that every API route is documented here and every documented
path is a route; another runs schemathesis against the app with it.
"""
from __future__ import annotations

from typing import Any

from archive.research.exports import CAPTURE_COLUMNS, COMMENT_COLUMNS, COMMENT_STATUSES, EVENT_COLUMNS, Column
from archive.research.stats_queries import GROUPINGS, stats_columns
from archive.rules.similarity import THRESHOLD as FIND_THRESHOLD
from archive.store.models import MAX_ID
from archive.web.public.finder import MAX_NAME_CHARS, MAX_TEXT_CHARS, MAX_URL_CHARS

MAX_LIMIT = 500
MAX_SEARCH_PAGE = 10_000
CAPTURE_OUTCOMES = ("good", "unchanged", "failed", "suspect", "gone")
EVENT_KINDS = ("appeared", "edited", "moved", "missing", "removed", "reinstated", "tombstoned",
               "thread-gone", "thread-returned", "api-check")
# archive.search's statuses and sorts (a test keeps them equal).
SEARCH_STATUSES = ("visible", "missing", "removed", "reinstated", "edited")
SEARCH_SORTS = ("relevance", "newest", "oldest")

_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
          "time": "string", "json": "object"}


def column_schema(column: Column) -> dict[str, Any]:
    kind = _TYPES[column.kind]
    schema: dict[str, Any] = {"type": [kind, "null"] if column.nullable else kind,
                              "description": column.doc}
    if column.kind == "time":
        schema["format"] = "date-time"
    return schema


def _object(columns: tuple[Column, ...], optional: tuple[str, ...] = (),
            extra: dict[str, Any] | None = None) -> dict[str, Any]:
    properties = {c.name: column_schema(c) for c in columns} | (extra or {})
    return {"type": "object", "properties": properties,
            "required": [name for name in properties if name not in optional]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **more: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **more}


def _schemas() -> dict[str, Any]:
    counts = {"type": "object", "properties": {s: {"type": "integer"} for s in COMMENT_STATUSES},
              "required": list(COMMENT_STATUSES)}
    thread: dict[str, Any] = {"type": "object", "properties": {
        "id": {"type": "integer"}, "url": {"type": "string"}, "title": {"type": "string"},
        "site": {"type": "string"}, "state": {"type": "string", "enum": ["active", "gone"]},
        "adapter": _nullable("string"), "created_at": {"type": "string", "format": "date-time"},
        "comments": counts}, "required": ["id", "url", "title", "site", "state", "adapter",
                                          "created_at", "comments"]}
    captures_summary = {"type": "object", "properties": {
        **{k: {"type": "integer"} for k in ("total", "good", "failed", "suspect", "gone")},
        **{k: _nullable("string", format="date-time")
           for k in ("first_at", "last_at", "last_good_at")}}}
    captures_summary["required"] = list(captures_summary["properties"])
    links = {"type": "object", "additionalProperties": {"type": "string"}}
    version = {"type": "object", "properties": {
        "seq": {"type": "integer"}, "seen_at": {"type": "string", "format": "date-time"},
        "capture_id": _nullable("integer"),
        "text": {"type": "string", "description": "Left out when the comment is redacted."}},
        "required": ["seq", "seen_at", "capture_id"]}
    exchange = {"type": "object", "properties": {
        "seq": {"type": "integer"}, "method": {"type": "string"}, "url": {"type": "string"},
        "final_url": {"type": "string"}, "status": _nullable("integer"),
        "body_sha256": _nullable("string"),
        "request_body_sha256": _nullable("string", description="The body a browser capture's page sent "
                                         "(a POST), when it had one."),
        "reused_body": {"type": "boolean"},
        "fetched_at": {"type": "string", "format": "date-time"},
        "elapsed_ms": {"type": "integer"}, "error": _nullable("string"),
        "provenance": _nullable("object", description="For a backfilled capture: where the bytes came from "
                                "(archive, snapshot_url, timestamp, digest).")}}
    exchange["required"] = list(exchange["properties"])
    stat_columns: dict[str, Column] = {}
    for by in GROUPINGS:
        stat_columns.update({c.name: c for c in stats_columns(by)})
    figures = [c.name for c in stats_columns("author")[1:]]
    stats_row = {"type": "object",
                 "properties": {n: column_schema(c) for n, c in stat_columns.items()},
                 "required": figures,
                 "description": "The group's key (site, thread_url + thread_id + site, month, "
                                "author or group) then the figures; captures_* and "
                                "max_gap_hours are absent when grouping by author."}
    hit = {"type": "object", "properties": {
        "comment": _ref("Comment"), "score": {"type": "number"},
        "highlight": {"type": "string", "description": "Escaped text with <mark> around "
                                                       "matches; left out when redacted."}},
        "required": ["comment", "score"]}
    return {
        "Comment": _object(COMMENT_COLUMNS, optional=("text", "author")),
        "CommentDetail": _object(COMMENT_COLUMNS, optional=("text", "author"), extra={
            "versions": {"type": "array", "items": version},
            "events": {"type": "array", "items": _ref("Event")}}),
        "Event": _object(EVENT_COLUMNS),
        "Capture": _object(CAPTURE_COLUMNS),
        "CaptureDetail": _object(CAPTURE_COLUMNS, extra={
            "exchanges": {"type": "array", "items": exchange}}),
        "Thread": thread,
        "ThreadDetail": {**thread, "properties": {**thread["properties"],
                                                  "captures": captures_summary, "links": links},
                         "required": thread["required"] + ["captures", "links"]},
        "StatsRow": stats_row,
        "Hit": hit,
        "Match": {"type": "object", "properties": {
            "comment": _ref("Comment"),
            "similarity": {"type": "number", "minimum": 0, "maximum": 1,
                           "description": "Dice coefficient of character trigrams of the "
                                          "closest version: 1 is the same words."},
            "history": {"type": "string", "description": "The comment's public history page."}},
            "required": ["comment", "similarity", "history"]},
        "Error": {"type": "object", "properties": {"error": {"type": "string"}},
                  "required": ["error"]},
    }


def _page_of(item: str) -> dict[str, Any]:
    return {"type": "object", "properties": {
        "items": {"type": "array", "items": _ref(item)},
        "next": _nullable("string", description="Link to the next page; null on the last.")},
        "required": ["items", "next"]}


def _param(name: str, schema: dict[str, Any], description: str,
           where: str = "query") -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "schema": schema,
            "description": description}


# No control characters in text parameters (PostgreSQL refuses NUL in text).
TEXT_PATTERN = "^[^\\u0000-\\u001F\\u007F]*$"
# The same, but a pasted comment keeps its line breaks and tabs.
MULTILINE_TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$"
_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
# Years 1900 to 9998: the dates archive.clock.parse_date accepts.
DATE_PATTERN = r"^(19\d\d|[2-8]\d{3}|9[0-8]\d\d|99[0-8]\d|999[0-8])-\d{2}-\d{2}$"
_DATE = {"type": "string", "format": "date", "pattern": DATE_PATTERN}
_SITE = _param("site", {"type": "string", "minLength": 1, "maxLength": 255,
                        "pattern": TEXT_PATTERN},
               "Only this site (host name, e.g. www.communitycare.co.uk).")
_THREAD = _param("thread", _ID, "Only this thread id.")
_PAGING = [_param("after", {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                  "Items with ids above this (the last id of the previous page)."),
           _param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                  "Items per page (default 50).")]


def _dates(what: str) -> list[dict[str, Any]]:
    return [_param("from", _DATE, f"{what} on or after this day (UTC)."),
            _param("to", _DATE, f"{what} on or before this day (UTC).")]


def _status(choices: tuple[str, ...], description: str) -> dict[str, Any]:
    return _param("status", {"type": "string", "enum": list(choices)}, description)


def _get(summary: str, schema: dict[str, Any], parameters: list[dict[str, Any]],
         not_found: bool = False) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
        "400": {"description": "A parameter is wrong",
                "content": {"application/json": {"schema": _ref("Error")}}}}
    if not_found:
        responses["404"] = {"description": "No such item",
                            "content": {"application/json": {"schema": _ref("Error")}}}
    return {"get": {"summary": summary, "parameters": parameters, "responses": responses}}


def _detail(summary: str, item: str, name: str) -> dict[str, Any]:
    return _get(summary, _ref(item), [_param(name, _ID, "The archive's id.", "path")],
                not_found=True)


def openapi_document() -> dict[str, Any]:
    any_object = {"type": "object"}
    search_params = [
        _param("q", {"type": "string", "maxLength": 500, "pattern": TEXT_PATTERN},
               'Query: words, "phrases", OR, NOT, prefix*, author:, site:, title:.'),
        _param("status", {"type": "string", "enum": list(SEARCH_STATUSES)}, "Only these."),
        _SITE, _THREAD, *_dates("Comments posted (or first seen)"),
        _param("sort", {"type": "string", "enum": list(SEARCH_SORTS)}, "Order of hits."),
        _param("page", {"type": "integer", "minimum": 1, "maximum": MAX_SEARCH_PAGE},
               "Page number (a cursor wins over it)."),
        _param("per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "Hits per page."),
        _param("cursor", {"type": "string", "minLength": 1, "maxLength": 2000,
                          "pattern": TEXT_PATTERN},
               "next_cursor of the previous page.")]
    search = {"type": "object", "properties": {
        "total": {"type": "integer", "description": "Comments found; an estimate (rounded to two "
                  "significant figures) when total_exact is false."},
        "total_exact": {"type": "boolean", "description": "False when total and facets are estimates: "
                        "the PostgreSQL engine counts exactly up to ARCHIVE_SEARCH_EXACT_COUNT "
                        "(10,000 by default) results. Other engines always count exactly."},
        "ranked_among": _nullable("integer", description="Set when sort=relevance ranked only this "
                                  "many of the matches (too many to rank them all)."),
        "hits": {"type": "array", "items": _ref("Hit")},
        "facets": {"type": "object", "description": "Results by status and by site host, over every "
                   "result (estimates when total_exact is false).", "additionalProperties": {
                       "type": "object", "additionalProperties": {"type": "integer"}}},
        "next_cursor": _nullable("string"), "next": _nullable("string"),
        "stale": {"type": "boolean"}},
        "required": ["total", "total_exact", "ranked_among", "hits", "facets", "next_cursor", "next",
                     "stale"]}
    find_params = [
        {**_param("text", {"type": "string", "minLength": 1, "maxLength": MAX_TEXT_CHARS,
                           "pattern": MULTILINE_TEXT_PATTERN},
                  "The comment as you remember it (at least 3 words)."), "required": True},
        _param("author", {"type": "string", "maxLength": MAX_NAME_CHARS, "pattern": TEXT_PATTERN},
               "Your name on the site: narrows the search, dropped when nothing close has it."),
        _param("url", {"type": "string", "maxLength": MAX_URL_CHARS, "pattern": TEXT_PATTERN},
               "The article's address: only its thread, when the archive watches it.")]
    find = {"type": "object", "properties": {
        "matches": {"type": "array", "items": _ref("Match"),
                    "description": "Closest first, at most 10, only those at or above threshold; "
                                   "redacted comments are never matched."},
        "compared": {"type": "integer", "description": "Candidate comments compared."},
        "threshold": {"type": "number", "const": FIND_THRESHOLD},
        "thread_id": _nullable("integer", description="The thread `url` named, when watched."),
        "notes": {"type": "array", "items": {"type": "string"}},
        "stale": {"type": "boolean"}},
        "required": ["matches", "compared", "threshold", "thread_id", "notes", "stale"]}
    stats = {"type": "object", "properties": {
        "by": {"type": "string", "enum": list(GROUPINGS)},
        "notes": {"type": "array", "items": {"type": "string"}},
        "rows": {"type": "array", "items": _ref("StatsRow")},
        "computed_at": {"type": "string", "format": "date-time",
                        "description": "Figures are reused for a few minutes."}},
        "required": ["by", "notes", "rows", "computed_at"]}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Comment-moderation transparency archive", "version": "1",
                 "description": "Read-only public data: threads, comments with their versions "
                                "and events, captures, search and removal statistics. Lists "
                                "use keyset pagination (`after`, `limit`, `next`). Times are "
                                "UTC. Redacted comments have no `text` and no `author`."},
        "paths": {
            "/api/v1/": _get("What the API offers", any_object, []),
            "/api/v1/openapi.json": _get("This document", any_object, []),
            "/api/v1/threads": _get("Watched threads", _page_of("Thread"), [_SITE, *_PAGING]),
            "/api/v1/threads/{thread_id}": _detail("One thread, its counts and captures",
                                                   "ThreadDetail", "thread_id"),
            "/api/v1/comments": _get("Comments", _page_of("Comment"), [
                _status(COMMENT_STATUSES, "Only comments with this status."), _SITE, _THREAD,
                *_dates("Comments first seen"), *_PAGING]),
            "/api/v1/comments/{comment_id}": _detail("One comment with its versions and events",
                                                     "CommentDetail", "comment_id"),
            "/api/v1/events": _get("Events (every transition, with its capture)",
                                   _page_of("Event"), [
                _status(EVENT_KINDS, "Only events of this kind."), _SITE, _THREAD,
                *_dates("Events"), *_PAGING]),
            "/api/v1/captures": _get("Captures (every attempt, with its outcome)",
                                     _page_of("Capture"), [
                _status(CAPTURE_OUTCOMES, "Only captures with this outcome."), _SITE, _THREAD,
                *_dates("Captures started"), *_PAGING]),
            "/api/v1/captures/{capture_id}": _detail("One capture and its HTTP exchanges",
                                                     "CaptureDetail", "capture_id"),
            "/api/v1/search": _get("Full-text search", search, search_params),
            "/api/v1/find": _get("Find my comment: the archived comments closest to a text",
                                 find, find_params),
            "/api/v1/stats": _get("Removal statistics, one row per group", stats, [
                _param("by", {"type": "string", "enum": list(GROUPINGS)}, "Grouping."),
                _SITE, _THREAD, *_dates("Comments first seen, removals ending, captures")]),
        },
        "components": {"schemas": _schemas()},
    }
