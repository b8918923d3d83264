"""The `tantivy` engine: a Tantivy index in <DATA_DIR>/index/tantivy/.

Its schema, documents and queries are in tantivy_query.py. Tantivy allows
one writer per index across processes: a process serialises its own writers
with a lock, waits briefly for other processes' writers, and reads the
comments only once it holds the writer, so the last writer always indexes
the latest committed state. Searches reload the index first, so they
see every commit, this process's or another's.
"""
from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import tantivy
from sqlalchemy.orm import Session
from tantivy import Order, Query

from archive.search.base import Found, facet_counts
from archive.search.documents import Selection, load_documents
from archive.search.plan import Plan
from archive.search.tantivy_query import EPOCH, SCHEMA, document, filtered_query, ids_after, ids_in
from archive.store.db import Database

# How long a write waits for another process's writer before giving up.
WRITE_WAIT_SECONDS = 5.0
WRITER_HEAP_BYTES = 64_000_000
# Distinct status|reinstated|edited|host keys counted per search (12 per site at
# most): Tantivy's own cap on buckets. More sites would be an error, not wrong counts.
FACET_KEYS = 65_000


class TantivyIndexError(Exception):
    """The index cannot be opened, locked, read or written. Tantivy raises ValueError
    for these; only calls on the index are turned into this, so that other
    ValueErrors stay bugs rather than a "stale index"."""


@contextmanager
def _unavailable() -> Iterator[None]:
    try:
        yield
    except ValueError as exc:
        raise TantivyIndexError(str(exc)) from exc


# (sort value, comment id, micros) of one hit, as the page needs them.
Row = tuple[float, int, int]


def _page_rows(searcher: tantivy.Searcher, query: Query, plan: Plan, want: int) -> list[Row]:
    """The first `want` hits: by score, or by date then id like the other engines.

    Relevance ties keep Tantivy's own order (document address): the same on
    every page while the index is unchanged. Fetching each tied group whole
    to order it by id, as date sorts do, would fetch every match of a prefix
    (all its matches score alike) or of a common word: 0.5 s at a million
    comments.

    A date sort's keyset cursor needs (date, id) order, so the group tied
    with the last wanted hit is fetched whole (doubling the limit until the
    tie ends) and sorted by id here; comments rarely share a microsecond.
    """
    by_date = plan.sort != "relevance"
    newest = plan.sort == "newest"
    order = Order.Desc if newest else Order.Asc

    def fetch(n: int) -> list[tuple[Any, tantivy.DocAddress]]:
        if by_date:
            return searcher.search(query, n, count=False, order_by_field="sort_at", order=order).hits
        return searcher.search(query, n, count=False).hits

    limit = want
    while True:
        hits = fetch(limit)
        if not by_date or len(hits) < limit or hits[-1][0] != hits[want - 1][0]:
            break
        limit *= 2
    addresses = [address for _value, address in hits]
    ids = searcher.fast_field_values("comment_id", addresses)
    # Ordered by date, each hit's value is its date already.
    micros = [value for value, _a in hits] if by_date else searcher.fast_field_values("sort_at", addresses)
    rows = [(float(value), int(comment_id or 0), int(at or 0))
            for (value, _a), comment_id, at in zip(hits, ids, micros)]
    if by_date:
        rows.sort(key=lambda row: (row[2], row[1]), reverse=newest)
    return rows[:want]


class TantivyEngine:
    name = "tantivy"
    failures: tuple[type[BaseException], ...] = (TantivyIndexError,)

    def __init__(self, db: Database, path: Path) -> None:
        self.db = db
        self.path = path
        # Re-entrant: a writer may have to create the index it writes to.
        self.lock = threading.RLock()
        self.index: tantivy.Index | None = None

    def exists(self) -> bool:
        return self.index is not None or (self.path / "meta.json").exists()

    def _open(self) -> tantivy.Index:
        with self.lock:
            if self.index is None:
                if self.exists():
                    with _unavailable():
                        self.index = tantivy.Index.open(str(self.path))
                        self.index.config_reader(reload_policy="manual")
                else:
                    self.create()
            assert self.index is not None
            return self.index

    def create(self) -> None:
        """Start an empty index (dropping any index already there)."""
        with self.lock:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path.mkdir(parents=True, exist_ok=True)
            with _unavailable():
                self.index = tantivy.Index(SCHEMA, path=str(self.path), reuse=False)
                # Searches reload explicitly: the default policy picks commits up after a delay.
                self.index.config_reader(reload_policy="manual")

    def create_missing_index(self) -> bool:
        if self.exists():
            return False
        self.create()
        return True

    def prepare_rebuild(self) -> None:
        # An index written with another schema cannot take the new documents.
        try:
            compatible = self._open().schema == SCHEMA
        except TantivyIndexError:
            compatible = False
        if not compatible:
            self.create()

    @contextmanager
    def _writer(self) -> Iterator[tantivy.IndexWriter]:
        """This index's writer, committed when the block ends, rolled back if it raises."""
        with self.lock:
            index = self._open()
            deadline = time.monotonic() + WRITE_WAIT_SECONDS
            while True:
                try:
                    writer = index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=1)
                    break
                except ValueError as exc:
                    # Another process's writer holds the lock file.
                    if "LockBusy" not in str(exc) or time.monotonic() > deadline:
                        raise TantivyIndexError(str(exc)) from exc
                    time.sleep(0.05)
            try:
                yield writer
                with _unavailable():
                    writer.commit()
            except BaseException:
                writer.rollback()
                raise
            finally:
                # Releases the lock file for other processes once merges end.
                writer.wait_merging_threads()

    def replace(self, selection: Selection) -> int:
        with self._writer() as writer:
            with self.db.read_session() as session:
                documents = load_documents(session, selection)
            stale = ids_in(selection.ids) if selection.ids is not None else ids_after(selection.low, selection.high)
            with _unavailable():
                writer.delete_documents_by_query(stale)
                for doc in documents:
                    writer.add_document(document(doc))
        return len(documents)

    def delete(self, comment_ids: Sequence[int]) -> None:
        gone = ids_in(comment_ids)
        with self._writer() as writer, _unavailable():
            writer.delete_documents_by_query(gone)

    def refresh_statistics(self, rebuilt: bool) -> None:
        pass  # Tantivy keeps no statistics for a planner

    def search(self, plan: Plan, session: Session) -> Found:
        del session  # the index is not in the database
        index = self._open()
        everything = filtered_query(plan, keyset=False, ranked=False)
        after_cursor = filtered_query(plan, keyset=True)
        with _unavailable():
            index.reload()
            searcher = index.searcher()
            grouped = searcher.aggregate(everything, {"facet": {"terms": {"field": "facet", "size": FACET_KEYS}}})
        rows = []
        for bucket in grouped["facet"]["buckets"]:
            status, reinstated, edited, host = str(bucket["key"]).split("|", 3)
            rows.append((status, reinstated == "1", edited == "1", host, int(bucket["doc_count"])))
        total, facets = facet_counts(rows)
        if total == 0:
            return Found(0, [], facets)
        want = plan.offset + plan.limit + 1
        with _unavailable():
            page = _page_rows(searcher, after_cursor, plan, want)[plan.offset:]
        hits = [(comment_id, score if plan.sort == "relevance" else 0.0, EPOCH + timedelta(microseconds=at))
                for score, comment_id, at in page]
        return Found(total, hits, facets)
