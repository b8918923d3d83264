"""The `whoosh` engine: a Whoosh index in <DATA_DIR>/index/.

Fields hold this package's tokens separated by spaces and are analysed by a
plain space tokenizer, so Whoosh matches exactly what the other engines
match. Whoosh allows one writer per index: a process serialises its own
writers with a lock, waits briefly for other processes' writers, and reads
the comments only once it holds the writer, so the last writer always
indexes the latest committed state. A search reuses an idle searcher only
while no commit has happened since it was opened, so it sees every commit.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, NUMERIC, TEXT, Schema
from whoosh.index import LockError
from whoosh.searching import Searcher
from whoosh.sorting import Count, FieldFacet, MultiFacet, ScoreFacet

from archive.search.base import Found, facet_counts
from archive.search.documents import SearchDocument, Selection, load_documents, segments_text
from archive.search.plan import EXACT_BONUS, Plan
from archive.search.query import And, Leaf, Node, Not
from archive.store.db import Database

# How long a write waits for another process's writer before giving up.
WRITE_WAIT_SECONDS = 5.0
WRITER_MEMORY_MB = 128
IDLE_SEARCHERS = 4
EPOCH = datetime(1970, 1, 1)


def _text_field() -> TEXT:
    return TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=True)


def make_schema() -> Schema:
    return Schema(
        # Ids as zero-padded text: one term per document (a NUMERIC field
        # indexes 16 trie terms, which made indexing three times slower),
        # and text order is number order.
        comment_id=ID(stored=True, unique=True),
        # The id again as a number column, for tie-breaks: Whoosh sorts a text
        # column in reverse by scanning every value (seconds per search).
        order=COLUMN(NumericColumn("q")),
        body=_text_field(), title=_text_field(), author=_text_field(), site=_text_field(),
        status=ID(), reinstated=ID(), edited=ID(),
        # status|reinstated|edited|host in one sortable column: one facet pass.
        facet=ID(sortable=True),
        site_host=ID(),
        thread_id=ID(),
        # Microseconds since 1970 (naive UTC); 8 trie terms per document are
        # enough for date ranges.
        sort_at=NUMERIC(int, bits=64, stored=True, sortable=True, shift_step=8),
    )


def _padded(number: int) -> str:
    return f"{number:012d}"


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def _fields(doc: SearchDocument) -> dict[str, Any]:
    flags = ("1" if doc.reinstated else "0", "1" if doc.edited else "0")
    return {"comment_id": _padded(doc.comment_id), "order": doc.comment_id, "body": segments_text(doc.body),
            "title": " ".join(doc.title), "author": " ".join(doc.author),
            "site": segments_text(doc.site), "status": doc.status,
            "reinstated": flags[0], "edited": flags[1],
            "facet": "|".join((doc.status, *flags, doc.site_host)),
            "site_host": doc.site_host, "thread_id": _padded(doc.thread_id), "sort_at": _micros(doc.sort_at)}


FIELD_NAMES = {None: "body", "title": "title", "author": "author", "site": "site"}


def to_query(node: Node) -> wq.Query:
    if isinstance(node, Leaf):
        field = FIELD_NAMES[node.field]
        if node.prefix:
            return wq.Prefix(field, node.words[0])
        if node.stem is not None:
            return wq.Or([wq.Term(field, term) for term in node.terms])
        if len(node.words) == 1:
            return wq.Term(field, node.words[0])
        return wq.Phrase(field, list(node.words))
    if isinstance(node, Not):
        return wq.Not(to_query(node.item))
    kind = wq.And if isinstance(node, And) else wq.Or
    return kind([to_query(item) for item in node.items])


def filter_query(plan: Plan, keyset: bool) -> wq.Query | None:
    """The filters as a query; with `keyset`, also "after the cursor"."""
    parts: list[wq.Query] = []
    if plan.status in ("reinstated", "edited"):
        parts.append(wq.Term(plan.status, "1"))
    elif plan.status:
        parts.append(wq.Term("status", plan.status))
    if plan.site:
        parts.append(wq.Term("site_host", plan.site))
    if plan.thread_id is not None:
        parts.append(wq.Term("thread_id", _padded(plan.thread_id)))
    if plan.date_from or plan.date_to:
        parts.append(wq.NumericRange("sort_at", plan.date_from and _micros(plan.date_from),
                                     plan.date_to and _micros(plan.date_to)))
    if keyset and plan.after:
        at, comment_id = _micros(plan.after[0]), plan.after[1]
        before = plan.sort == "newest"
        parts.append(wq.Or([
            wq.NumericRange("sort_at", None if before else at, at if before else None,
                            startexcl=not before, endexcl=before),
            wq.And([wq.NumericRange("sort_at", at, at),
                    wq.TermRange("comment_id", None if before else _padded(comment_id),
                                 _padded(comment_id) if before else None,
                                 startexcl=not before, endexcl=before)]),
        ]))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else wq.And(parts)


def filtered_query(plan: Plan, keyset: bool) -> wq.Query:
    """The query with its filters as a zero-scoring conjunct: Whoosh skips
    through them with the query (its `filter=` argument would first collect
    every document the filters match), and scores are unchanged. Without
    words, the filters are the query (date sorts only: nothing to score)."""
    filters = filter_query(plan, keyset)
    if plan.expr is None:
        # A plan without words always has a filter; Every() keeps this total.
        return wq.Every() if filters is None else filters
    query = to_query(plan.expr)
    if plan.exact_expr is not None:
        # Matches as before; the words as typed add a bonus that ranks them first.
        query = wq.AndMaybe(query, wq.ConstantScoreQuery(to_query(plan.exact_expr), EXACT_BONUS))
    return query if filters is None else wq.And([query, wq.ConstantScoreQuery(filters, 0.0)])


def sort_facet(sort: str) -> MultiFacet:
    if sort == "relevance":
        return MultiFacet([ScoreFacet(), FieldFacet("order")])
    newest = sort == "newest"
    return MultiFacet([FieldFacet("sort_at", reverse=newest), FieldFacet("order", reverse=newest)])


class WhooshState:
    """Per archive context: the open index, the lock that keeps one writer per process,
    and idle searchers to reuse (opening one reads every segment's files)."""

    def __init__(self) -> None:
        # Re-entrant: a writer may have to create the index it writes to.
        self.lock = threading.RLock()
        self.index: whoosh_index.Index | None = None
        self.pool_lock = threading.Lock()
        # (index the searcher was opened on, searcher)
        self.idle: list[tuple[whoosh_index.Index, Searcher]] = []


class WhooshEngine:
    name = "whoosh"
    failures: tuple[type[BaseException], ...] = (LockError, whoosh_index.IndexError)

    def __init__(self, db: Database, path: Path) -> None:
        self.db = db
        self.path = path
        self.state = WhooshState()

    def exists(self) -> bool:
        """Whether there is an index (checked on disk until this process opens it)."""
        return self.state.index is not None or whoosh_index.exists_in(str(self.path))

    def _open(self) -> whoosh_index.Index:
        with self.state.lock:
            if self.state.index is None:
                if self.exists():
                    self.state.index = whoosh_index.open_dir(str(self.path))
                else:
                    self.create()
            assert self.state.index is not None
            return self.state.index

    def create(self) -> None:
        """Start an empty index (dropping any index already there)."""
        with self.state.lock:
            self.path.mkdir(parents=True, exist_ok=True)
            self.state.index = whoosh_index.create_in(str(self.path), make_schema())

    def create_missing_index(self) -> bool:
        if self.exists():
            return False
        self.create()
        return True

    def prepare_rebuild(self) -> None:
        # An index written with another schema cannot take the new documents.
        if not self.compatible():
            self.create()

    def compatible(self) -> bool:
        """Whether the index on disk can be opened and has this schema."""
        try:
            return set(self._open().schema.names()) == set(make_schema().names())
        except (OSError, whoosh_index.IndexError, EOFError, ValueError):
            return False

    def replace(self, selection: Selection) -> int:
        with self.state.lock:
            writer = self._open().writer(timeout=WRITE_WAIT_SECONDS, delay=0.05,
                                         limitmb=WRITER_MEMORY_MB)
            try:
                with self.db.read_session() as session:
                    documents = load_documents(session, selection)
                if selection.ids is not None:
                    for comment_id in selection.ids:
                        writer.delete_by_term("comment_id", _padded(comment_id))
                else:
                    writer.delete_by_query(wq.TermRange(
                        "comment_id", None if selection.low is None else _padded(selection.low),
                        None if selection.high is None else _padded(selection.high), startexcl=True))
                for doc in documents:
                    writer.add_document(**_fields(doc))
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
        return len(documents)

    def delete(self, comment_ids: Sequence[int]) -> None:
        with self.state.lock:
            writer = self._open().writer(timeout=WRITE_WAIT_SECONDS, delay=0.05)
            try:
                for comment_id in comment_ids:
                    writer.delete_by_term("comment_id", _padded(comment_id))
                writer.commit()
            except BaseException:
                writer.cancel()
                raise

    def refresh_statistics(self, rebuilt: bool) -> None:
        pass  # Whoosh keeps no statistics for a planner

    def search(self, plan: Plan, session: Session) -> Found:
        del session  # the index is not in the database
        index = self._open()
        searcher = self._borrow(index)
        try:
            return self._search(searcher, plan)
        finally:
            self._give_back(index, searcher)

    def _borrow(self, index: whoosh_index.Index) -> Searcher:
        with self.state.pool_lock:
            opened_on, searcher = self.state.idle.pop() if self.state.idle else (None, None)
        if searcher is not None and opened_on is index and searcher.up_to_date():
            return searcher
        # A commit since (or a recreated index): a new searcher sees it.
        # (Whoosh-Reloaded's Searcher.refresh() mixes old segments back in.)
        if searcher is not None:
            searcher.close()
        return index.searcher()

    def _give_back(self, index: whoosh_index.Index, searcher: Searcher) -> None:
        with self.state.pool_lock:
            if index is self.state.index and len(self.state.idle) < IDLE_SEARCHERS:
                self.state.idle.append((index, searcher))
                return
        searcher.close()

    @staticmethod
    def _search(searcher: Searcher, plan: Plan) -> Found:
        groups = {"facet": FieldFacet("facet")}
        want = plan.offset + plan.limit + 1
        if plan.after is None:
            # Facets and the page in one pass.
            results = searcher.search(filtered_query(plan, keyset=False), sortedby=sort_facet(plan.sort),
                                      limit=want, groupedby=groups, maptype=Count)
            grouped = results
        else:
            grouped = searcher.search(filtered_query(plan, keyset=False), groupedby=groups, maptype=Count,
                                      scored=False, limit=None)
            results = searcher.search(filtered_query(plan, keyset=True), sortedby=sort_facet(plan.sort),
                                      limit=want)
        rows = []
        for key, n in grouped.groups("facet").items():
            status, reinstated, edited, host = key.split("|", 3)
            rows.append((status, reinstated == "1", edited == "1", host, n))
        total, facets = facet_counts(rows)
        hits = []
        for hit in results[plan.offset:want]:
            stored = hit.fields()
            score = -hit.score[0] if plan.sort == "relevance" else 0.0
            hits.append((int(stored["comment_id"]), float(score), EPOCH + timedelta(microseconds=stored["sort_at"])))
        return Found(total, hits, facets)
