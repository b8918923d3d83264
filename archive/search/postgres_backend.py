"""The `database` engine on PostgreSQL: tsvector columns with GIN indexes.

`search_documents` (created by the 0003 migration) has one row per comment
with a tsvector per field, and (0007) what searches filter, sort and count
by: status, reinstated, edited, site host, thread and sort time. The
searches themselves are in archive/search/postgres_search.py.

The vectors and queries are written as tsvector and tsquery literals from
this package's tokens, so PostgreSQL's parser, stemmer and stop words never
touch them: it matches exactly what the other engines match. A one-position
gap between segments keeps a phrase inside one version. Index writers take
a transaction-level advisory lock and read the comments after taking it, so the last writer indexes the latest committed
state (a redaction can never be overwritten by an older read).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import text
from sqlalchemy.orm import Session

from archive.search import postgres_search
from archive.search.base import Found
from archive.search.documents import SearchDocument, Selection, load_documents
from archive.search.plan import Plan
from archive.search.query import And, Leaf, Node, Not
from archive.store.db import Database

if TYPE_CHECKING:
    import psycopg

VECTORS = {None: "d.body_vec", "title": "d.title_vec", "author": "d.author_vec", "site": "d.site_vec"}
# Any fixed 64-bit number: the key of the index writers' advisory lock.
WRITE_LOCK_KEY = 0x5EA4C4_1D0C


def tsvector_literal(segments: Sequence[Sequence[str]]) -> str:
    """A tsvector literal: each token with its positions, a one-position gap
    between segments. Positions stay under PostgreSQL's 16383 because
    documents are capped (documents.MAX_DOCUMENT_TOKENS); PostgreSQL itself
    keeps the first 256 positions of a lexeme."""
    found: dict[str, str] = {}
    start = 1
    for tokens in segments:
        if not tokens:
            continue
        for position, token in enumerate(tokens, start):
            # Tokens are letters and digits only: nothing to escape in quotes.
            if token in found:
                found[token] += f",{position}"
            else:
                found[token] = f"'{token}':{position}"
        start += len(tokens) + 1
    return " ".join(found.values())


def tsquery_literal(node: Node, loose: bool = False) -> str:
    """A tsquery for a tree whose leaves all search one field. `loose`: a
    phrase needs its words anywhere in the document, not in order (what GIN
    answers without reading each document), except under NOT, where the
    phrase stays exact so that the loose query never finds fewer."""
    if isinstance(node, Leaf):
        if node.prefix:
            return f"'{node.words[0]}':*"
        if node.stem is not None:
            return "(" + " | ".join(f"'{term}'" for term in node.terms) + ")"
        return (" & " if loose else " <-> ").join(f"'{word}'" for word in node.words)
    if isinstance(node, Not):
        return f"!({tsquery_literal(node.item)})"
    joiner = " & " if isinstance(node, And) else " | "
    return joiner.join(f"({tsquery_literal(item, loose)})" for item in node.items)


_MIXED = "mixed"


def _field(node: Node) -> str | None:
    if isinstance(node, Leaf):
        return node.field
    items = [node.item] if isinstance(node, Not) else list(node.items)
    fields = {_field(item) for item in items}
    return fields.pop() if len(fields) == 1 else _MIXED


def match_condition(node: Node, params: dict[str, Any], loose: bool = False) -> str:
    """SQL over the field vectors of `d` for a query tree; tsqueries go in params.

    A subtree on one field becomes one tsquery (one GIN scan); fields mix
    through SQL's AND/OR. `loose`: see tsquery_literal.
    """
    field = _field(node)
    if isinstance(node, Leaf) or field != _MIXED:  # a leaf is always on one field
        name = f"q{len(params)}"
        params[name] = tsquery_literal(node, loose)
        return f"{VECTORS[field]} @@ CAST(:{name} AS tsquery)"
    if isinstance(node, Not):
        return f"NOT ({match_condition(node.item, params)})"
    joiner = " AND " if isinstance(node, And) else " OR "
    return joiner.join(f"({match_condition(item, params, loose)})" for item in node.items)


COPY_COLUMNS = ("comment_id, body_vec, title_vec, author_vec, site_vec, "
                "status, reinstated, edited, site_host, thread_id, sort_at")


def _row(doc: SearchDocument) -> tuple[object, ...]:
    return (doc.comment_id, tsvector_literal(doc.body), tsvector_literal([doc.title]),
            tsvector_literal([doc.author]), tsvector_literal(doc.site),
            doc.status, doc.reinstated, doc.edited, doc.site_host, doc.thread_id, doc.sort_at)


def _delete_clause(selection: Selection) -> tuple[str, dict[str, Any]]:
    if selection.ids is not None:
        return "comment_id = ANY(:ids)", {"ids": list(selection.ids)}
    clauses, params = ["TRUE"], {}
    if selection.low is not None:
        clauses.append("comment_id > :low")
        params["low"] = selection.low
    if selection.high is not None:
        clauses.append("comment_id <= :high")
        params["high"] = selection.high
    return " AND ".join(clauses), params


class PostgresEngine:
    name = "postgres"
    failures: tuple[type[BaseException], ...] = ()  # SQLAlchemy's errors are everyone's

    def __init__(self, db: Database, exact_count: int) -> None:
        self.db = db
        # Results are counted exactly up to this many (ARCHIVE_SEARCH_EXACT_COUNT).
        self.exact_count = exact_count

    def create_missing_index(self) -> bool:
        return False  # the index is a table, made by the migrations

    def prepare_rebuild(self) -> None:
        pass  # rebuilding replaces rows; the table's shape never changes

    def _write(self, selection: Selection, index: bool) -> int:
        with self.db.write() as session:
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
            documents = load_documents(session, selection) if index else []
            clause, params = _delete_clause(selection)
            session.execute(text(f"DELETE FROM search_documents WHERE {clause}"), params)
            if documents:
                # COPY, in the same transaction: several times faster than
                # INSERT when a rebuild writes thousands of rows.
                driver = cast("psycopg.Connection[Any]", session.connection().connection.driver_connection)
                with driver.cursor() as cursor, cursor.copy(
                        f"COPY search_documents ({COPY_COLUMNS}) FROM STDIN") as copy:
                    for doc in documents:
                        copy.write_row(_row(doc))
        return len(documents)

    def replace(self, selection: Selection) -> int:
        return self._write(selection, index=True)

    def delete(self, comment_ids: Sequence[int]) -> None:
        self._write(Selection(ids=tuple(comment_ids)), index=False)

    def refresh_statistics(self, rebuilt: bool) -> None:
        # Autovacuum may be off: without fresh statistics the planner guesses
        # how many comments a word matches (and the "about N" estimates with
        # it), and may walk the date index for a rare word or match every
        # comment holding a common one. A rebuild also
        # leaves a dead row for each live one, which VACUUM (outside any
        # transaction) makes reusable.
        statement = "VACUUM (ANALYZE) search_documents" if rebuilt else "ANALYZE search_documents"
        with self.db.writer.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(statement))

    def search(self, plan: Plan, session: Session) -> Found:
        params: dict[str, Any] = {}
        filters = postgres_search.filter_conditions(plan, params)
        match = loose = None
        if plan.expr is not None:
            match = loose = match_condition(plan.expr, params)
            if any(len(leaf.words) > 1 for leaf in plan.leaves):
                loose = match_condition(plan.expr, params, loose=True)
        rank_query = None
        body_leaves = [leaf for leaf in plan.leaves if leaf.field is None]
        if plan.sort == "relevance" and body_leaves:
            rank_query = " | ".join(f"({tsquery_literal(leaf)})" for leaf in body_leaves)
        # The words as typed rank first (stemming widened the match).
        exact = match_condition(plan.exact_expr, params) if plan.exact_expr is not None else None
        condition, candidates = _conjunction([match, *filters]), _conjunction([loose, *filters])
        return postgres_search.search(session, plan, condition, candidates, params, rank_query,
                                      self.exact_count, exact)


def _conjunction(clauses: Sequence[str | None]) -> str:
    return " AND ".join(f"({clause})" for clause in clauses if clause is not None) or "TRUE"
