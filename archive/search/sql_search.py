"""The SQL around SQLite FTS5's full-text match: filters, sorts, pages, facets.

The engine gives a statement yielding (id, score); the rest joins it to the
live comments table, so a comment's status filter is never out of date. A
plan without words (filters alone) is answered from the comments table by
`browse`. PostgreSQL keeps its filter columns in its search table instead
and bounds its counts (archive/search/postgres_search.py).
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, Integer, TextClause, bindparam, column, text
from sqlalchemy.orm import Session

from archive.search.base import Found, facet_counts
from archive.search.plan import Plan

SORT_AT = "COALESCE(c.posted_at, c.first_seen_at)"
SITE_JOIN = " JOIN threads t ON t.id = c.thread_id JOIN sites s ON s.id = t.site_id"
_STATUS_SQL = {"reinstated": "c.times_reinstated > 0", "edited": "c.edit_count > 0"}


def _filters(plan: Plan) -> tuple[list[str], dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {}
    if plan.status in _STATUS_SQL:
        where.append(_STATUS_SQL[plan.status])
    elif plan.status:
        where.append("c.status = :f_status")
        params["f_status"] = plan.status
    if plan.site:
        where.append("s.host = :f_site")
        params["f_site"] = plan.site
    if plan.thread_id is not None:
        where.append("c.thread_id = :f_thread")
        params["f_thread"] = plan.thread_id
    if plan.date_from:
        where.append(f"{SORT_AT} >= :f_from")
        params["f_from"] = plan.date_from
    if plan.date_to:
        where.append(f"{SORT_AT} <= :f_to")
        params["f_to"] = plan.date_to
    return where, params


def _order(plan: Plan, where: list[str], params: dict[str, Any]) -> str:
    if plan.sort == "relevance":
        return "m.score DESC, c.id ASC"
    direction, compare = ("DESC", "<") if plan.sort == "newest" else ("ASC", ">")
    if plan.after:
        where.append(f"({SORT_AT}, c.id) {compare} (:k_at, :k_id)")
        params["k_at"], params["k_id"] = plan.after
    return f"{SORT_AT} {direction}, c.id {direction}"


def _typed(sql: str, params: dict[str, Any]) -> TextClause:
    # Datetimes go through SQLAlchemy's DateTime type so that SQLite compares
    # them in the same text format it stores them in.
    # Only the parameters this statement names (the facet query has no score).
    used = {name: value for name, value in params.items() if re.search(rf":{name}\b", sql)}
    binds = [bindparam(name, value, type_=DateTime()) if isinstance(value, datetime)
             else bindparam(name, value) for name, value in used.items()]
    return text(sql).bindparams(*binds)


def run_search(session: Session, match: str, match_params: dict[str, Any], plan: Plan,
               score: str) -> Found:
    """Page and facets of the comments `match` finds.

    `match` is a SELECT of `id` and `{score}`; the score expression (higher
    is better) is computed only for the page of a relevance sort, not for
    the facet counts. Materialized: SQLite must run the full-text match
    once, first, rather than probe it once per comment.
    """
    return _page_and_facets(
        session, plan, match_params, source="m JOIN comments c ON c.id = m.id", score="m.score",
        facet_head=f"WITH m AS MATERIALIZED ({match.format(score='0.0')}) ",
        page_head=f"WITH m AS MATERIALIZED ({match.format(score=score)}) ")


def browse(session: Session, plan: Plan) -> Found:
    """Page and facets of every comment the filters of a plan without words select.

    The comments table alone answers: no index is involved, and the plan's
    sort is a date sort (nothing to rank by).
    """
    return _page_and_facets(session, plan, {}, source="comments c", score="0.0",
                            facet_head="", page_head="")


def _page_and_facets(session: Session, plan: Plan, match_params: dict[str, Any], source: str,
                     score: str, facet_head: str, page_head: str) -> Found:
    where, params = _filters(plan)
    params.update(match_params)
    body = f"FROM {source}{SITE_JOIN}"
    condition = " AND ".join(where) or "1 = 1"
    facet_rows = session.execute(_typed(
        f"{facet_head}SELECT c.status, CASE WHEN c.times_reinstated > 0 THEN 1 ELSE 0 END, "
        f"CASE WHEN c.edit_count > 0 THEN 1 ELSE 0 END, s.host, COUNT(*) {body} "
        f"WHERE {condition} GROUP BY 1, 2, 3, 4", params)).all()
    total, facets = facet_counts((row[0], bool(row[1]), bool(row[2]), row[3], row[4]) for row in facet_rows)
    if total == 0:
        return Found(0, [], facets)
    order = _order(plan, where, params)
    condition = " AND ".join(where) or "1 = 1"
    params.update(p_limit=plan.limit + 1, p_offset=plan.offset)
    # The page needs threads and sites only to filter by site.
    body = body if plan.site else f"FROM {source}"
    statement = _typed(
        f"{page_head}SELECT c.id, {score} AS score, {SORT_AT} AS sort_at {body} WHERE {condition} "
        f"ORDER BY {order} LIMIT :p_limit OFFSET :p_offset", params
    ).columns(column("id", Integer), column("score", Float), column("sort_at", DateTime))
    hits = [(row.id, float(row.score), row.sort_at) for row in session.execute(statement)]
    return Found(total, hits, facets)
