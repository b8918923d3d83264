"""The `database` engine on SQLite: an FTS5 table in the archive's own database.

`search_fts` (created by the 0002 migration) has one row per comment, rowid =
comment id, with the columns body, title, author and site holding this
package's tokens separated by spaces. The `ascii` tokenizer splits only on
ASCII punctuation and spaces, so FTS5 sees exactly the tokens we made.
Writes happen inside the archive's writer transaction (BEGIN IMMEDIATE), which
serialises them with every other writer: the last writer always indexes the
latest committed state of a comment.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.orm import Session

from archive.search.base import Found
from archive.search.documents import SearchDocument, Selection, load_documents, segments_text
from archive.search.plan import EXACT_BONUS, Plan
from archive.search.query import And, Leaf, Node, Not, Or
from archive.search.sql_search import browse, run_search
from archive.store.db import Database

COLUMNS = {None: "body", "title": "title", "author": "author", "site": "site"}


def match_expression(node: Node) -> str:
    """The FTS5 MATCH string for a query tree."""
    if isinstance(node, Leaf):
        if node.stem is not None:
            either = " OR ".join(f'"{term}"' for term in node.terms)
            return f"{COLUMNS[node.field]} : ({either})"
        star = " *" if node.prefix else ""
        return f'{COLUMNS[node.field]} : "{" ".join(node.words)}"{star}'
    if isinstance(node, Or):
        return " OR ".join(f"({match_expression(item)})" for item in node.items)
    if isinstance(node, And):
        positive = " AND ".join(f"({match_expression(i)})" for i in node.items if not isinstance(i, Not))
        negative = [f"({match_expression(i.item)})" for i in node.items if isinstance(i, Not)]
        # FTS5's NOT is binary: "a NOT b". The parser guarantees a positive side.
        return f"({positive}) NOT ({' OR '.join(negative)})" if negative else positive
    raise ValueError(f"NOT cannot stand alone: {node!r}")


def _row(doc: SearchDocument) -> dict[str, object]:
    return {"rowid": doc.comment_id, "body": segments_text(doc.body), "title": " ".join(doc.title),
            "author": " ".join(doc.author), "site": segments_text(doc.site)}


def _delete_statement(selection: Selection) -> TextClause:
    if selection.ids is not None:
        return text("DELETE FROM search_fts WHERE rowid IN :ids").bindparams(
            bindparam("ids", list(selection.ids), expanding=True))
    clauses, params = ["1 = 1"], {}
    if selection.low is not None:
        clauses.append("rowid > :low")
        params["low"] = selection.low
    if selection.high is not None:
        clauses.append("rowid <= :high")
        params["high"] = selection.high
    return text(f"DELETE FROM search_fts WHERE {' AND '.join(clauses)}").bindparams(**params)


class SqliteEngine:
    name = "sqlite-fts5"
    failures: tuple[type[BaseException], ...] = ()  # SQLAlchemy's errors are everyone's

    def __init__(self, db: Database) -> None:
        self.db = db

    def create_missing_index(self) -> bool:
        return False  # the index is a table, made by the migrations

    def prepare_rebuild(self) -> None:
        pass  # rebuilding replaces rows; the table's shape never changes

    def replace(self, selection: Selection) -> int:
        with self.db.write() as session:
            documents = load_documents(session, selection)
            session.execute(_delete_statement(selection))
            if documents:
                session.execute(
                    text("INSERT INTO search_fts (rowid, body, title, author, site) "
                         "VALUES (:rowid, :body, :title, :author, :site)"),
                    [_row(doc) for doc in documents])
        return len(documents)

    def delete(self, comment_ids: Sequence[int]) -> None:
        with self.db.write() as session:
            session.execute(_delete_statement(Selection(ids=tuple(comment_ids))))

    def refresh_statistics(self, rebuilt: bool) -> None:
        pass  # SQLite plans an FTS5 MATCH without statistics

    def search(self, plan: Plan, session: Session) -> Found:
        if plan.expr is None:
            return browse(session, plan)
        match = "SELECT rowid AS id, {score} AS score FROM search_fts WHERE search_fts MATCH :m_query"
        # bm25 is "lower is better"; the shared SQL sorts higher first.
        score = "-bm25(search_fts, 1.0, 0.5, 0.5, 0.5)" if plan.sort == "relevance" else "0.0"
        params = {"m_query": match_expression(plan.expr)}
        if plan.exact_expr is not None:
            # The words as typed rank first: one more match, run once (an uncorrelated IN).
            score += (f" + CASE WHEN rowid IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :m_exact) "
                      f"THEN {EXACT_BONUS} ELSE 0 END")
            params["m_exact"] = match_expression(plan.exact_expr)
        return run_search(session, match, params, plan, score=score)
