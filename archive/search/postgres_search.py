"""PostgreSQL searches over `search_documents`: bounded work however many comments match.

The table holds what searches filter, sort and count by beside the vectors
(migration 0007), so a search never joins the comments. One statement reads
the matches once, at most `exact + 1` of them (ranking each for a relevance
sort), and gives both the counts by status and site and the page: when no
more match, that is the whole search. A phrase is different only in that GIN
finds the comments holding its words, and the order of the words is checked
in each; at most `exact + 1` of them are read.

When more match (or more phrase candidates are left), the total is the
planner's estimate of the candidates times the share of those read that
matched, rounded to two significant figures; the counts by status and site
are the matches' shares of it, and the result says so (`total_exact` false).
"Relevance" then ranks only the first `exact` matches read (`ranked_among`);
a date-sorted page is read by a second statement that walks the (sort_at,
comment_id) btree and stops at the page's end, so newest first never sorts
every match.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from archive.search.base import FacetRow, Found, facet_counts
from archive.search.plan import EXACT_BONUS, Plan
from archive.search.types import STATUSES

FACETS = "status, reinstated, edited, site_host"


def filter_conditions(plan: Plan, params: dict[str, Any]) -> list[str]:
    """SQL conditions over `d` (search_documents) for the plan's filters."""
    where: list[str] = []
    if plan.status in ("reinstated", "edited"):
        where.append(f"d.{plan.status}")
    elif plan.status in STATUSES:
        # A literal, not a parameter (the plan admits only STATUSES): the
        # planner must see it to use the partial index of missing and
        # removed comments.
        where.append(f"d.status = '{plan.status}'")
    if plan.site:
        where.append("d.site_host = :f_site")
        params["f_site"] = plan.site
    if plan.thread_id is not None:
        where.append("d.thread_id = :f_thread")
        params["f_thread"] = plan.thread_id
    if plan.date_from:
        where.append("d.sort_at >= :f_from")
        params["f_from"] = plan.date_from
    if plan.date_to:
        where.append("d.sort_at <= :f_to")
        params["f_to"] = plan.date_to
    return where


def _keyset(plan: Plan, table: str, params: dict[str, Any]) -> str:
    """Where a date-sorted page continues: after the cursor's (sort_at, id)."""
    if plan.sort == "relevance" or not plan.after:
        return "TRUE"
    params["k_at"], params["k_id"] = plan.after
    compare = "<" if plan.sort == "newest" else ">"
    return f"({table}.sort_at, {table}.comment_id) {compare} (:k_at, :k_id)"


def two_significant(n: float) -> int:
    """n rounded to two significant figures: an estimate should not look exact."""
    digits = max(len(str(int(n))) - 2, 0)
    return int(round(n, -digits))


def search(session: Session, plan: Plan, condition: str, candidates: str, params: dict[str, Any],
           rank_query: str | None, exact: int, exact_words: str | None = None) -> Found:
    """Page and counts of the comments `condition` (SQL over `d`, with `params`)
    selects. `candidates`: a condition selecting at least those, that the
    indexes answer alone (the same unless there is a phrase). `rank_query`:
    the tsquery to rank by for a relevance sort (None: by id). `exact_words`:
    a condition met by comments holding the words as typed, which rank first."""
    direction = "ASC" if plan.sort == "oldest" else "DESC"
    # Candidates read at most: one more than are counted exactly.
    scan = exact + 1
    hit = "TRUE" if candidates == condition else f"({condition})"
    params = {**params, "m_limit": scan, "r_limit": exact, "p_limit": plan.limit + 1,
              "p_offset": plan.offset}
    score = "0.0::float8"
    parts = []
    if rank_query is not None:
        params["rank_query"] = rank_query
        parts.append("ts_rank(d.body_vec, CAST(:rank_query AS tsquery))")
    if exact_words is not None:
        parts.append(f"CASE WHEN {exact_words} THEN {EXACT_BONUS} ELSE 0 END")
    if parts:
        score = f"CASE WHEN {hit} THEN {' + '.join(parts)} ELSE 0 END::float8"
    if plan.sort == "relevance":
        # The first `exact` found: all of them unless there are more.
        page = (f"SELECT 1, {_NO_FACET}, n.comment_id, n.score, n.sort_at "
                "FROM (SELECT * FROM m WHERE hit LIMIT :r_limit) AS n "
                "ORDER BY n.score DESC, n.comment_id LIMIT :p_limit OFFSET :p_offset")
    else:
        page = (f"SELECT 1, {_NO_FACET}, m.comment_id, m.score, m.sort_at FROM m "
                f"WHERE hit AND {_keyset(plan, 'm', params)} ORDER BY m.sort_at {direction}, "
                f"m.comment_id {direction} LIMIT :p_limit OFFSET :p_offset")
    # No order in `m`: the rows come as the GIN index finds them, and the
    # LIMIT stops the scan (and the ranking) early. Part 2 counts the
    # candidates read.
    rows = session.execute(text(
        f"WITH m AS MATERIALIZED (SELECT d.comment_id, d.sort_at, {score} AS score, {FACETS}, "
        f"{hit} AS hit FROM search_documents d WHERE {candidates} LIMIT :m_limit) "
        f"SELECT 0, {FACETS}, COUNT(*), NULL::integer, NULL::float8, NULL::timestamp FROM m "
        f"WHERE hit GROUP BY {FACETS} "
        f"UNION ALL ({page}) "
        f"UNION ALL SELECT 2, NULL, NULL, NULL, NULL, COUNT(*), NULL, NULL, NULL FROM m"),
        params).all()
    facet_rows: list[FacetRow] = [(r[1], r[2], r[3], r[4], r[5]) for r in rows if r[0] == 0]
    hits = [(r[6], float(r[7]), r[8]) for r in rows if r[0] == 1]
    [read] = [r[5] for r in rows if r[0] == 2]
    matched, facets = facet_counts(facet_rows)
    if read < scan and matched <= exact:
        return Found(matched, hits, facets)
    # The share of the candidates read that match, of all the candidates.
    estimate = _estimate(session, candidates, params) * matched / read
    total = max(two_significant(estimate), min(matched, exact))
    scaled = [(*row[:4], round(row[4] * total / matched)) for row in facet_rows]
    _sum, facets = facet_counts(scaled)
    if plan.sort == "relevance":
        return Found(total, hits, facets, total_exact=False, ranked_among=min(matched, exact))
    # More matches than were read: the page comes from the date index itself.
    hits = [(r[0], 0.0, r[1]) for r in session.execute(text(
        f"SELECT d.comment_id, d.sort_at FROM search_documents d "
        f"WHERE ({condition}) AND {_keyset(plan, 'd', params)} "
        f"ORDER BY d.sort_at {direction}, d.comment_id {direction} LIMIT :p_limit OFFSET :p_offset"),
        params)]
    return Found(total, hits, facets, total_exact=False)


# The facet columns of a page row.
_NO_FACET = "NULL, NULL::boolean, NULL::boolean, NULL, NULL::bigint"


def _estimate(session: Session, condition: str, params: dict[str, Any]) -> float:
    """The planner's estimate of the rows `condition` selects (nothing is run)."""
    plan = session.execute(text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM search_documents d "
                                f"WHERE {condition}"), params).scalar_one()
    return float(plan[0]["Plan"]["Plan Rows"])
