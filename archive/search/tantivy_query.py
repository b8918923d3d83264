"""Tantivy's side of the `tantivy` engine: its schema, documents and queries (no I/O).

Text fields hold this package's tokens separated by spaces, split by
Tantivy's `whitespace` tokenizer (no lower-casing or stemming of its own), so
Tantivy matches exactly what the other engines match; the segment break token
keeps phrases inside one version. Status, site, thread and the
reinstated/edited flags are exact terms to filter on; dates, ids and the
facet key are fast fields (date ranges and sorts, ids of hits, facet counts).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import tantivy
from tantivy import FieldType, Occur, Query

from archive.search.documents import SearchDocument, segments_text
from archive.search.plan import EXACT_BONUS, Plan
from archive.search.query import And, Leaf, Node, Not

EPOCH = datetime(1970, 1, 1)


def make_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    # Indexed for deletes by id and id ranges, fast to read hits' ids without stored documents.
    builder.add_unsigned_field("comment_id", indexed=True, fast=True)
    for name in ("body", "title", "author", "site"):
        builder.add_text_field(name, tokenizer_name="whitespace")
    for name in ("status", "reinstated", "edited", "site_host"):
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    builder.add_unsigned_field("thread_id", indexed=True)
    # Microseconds since 1970 (naive UTC): date ranges and date sorts on the fast field.
    builder.add_integer_field("sort_at", fast=True)
    # status|reinstated|edited|host in one fast field: one terms aggregation gives every facet.
    builder.add_text_field("facet", tokenizer_name="raw", index_option="basic", fast=True)
    return builder.build()


SCHEMA = make_schema()
FIELD_NAMES = {None: "body", "title": "title", "author": "author", "site": "site"}


def micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def document(doc: SearchDocument) -> tantivy.Document:
    flags = ("1" if doc.reinstated else "0", "1" if doc.edited else "0")
    # Through the schema: plain keywords would make the ids signed, which unsigned fields refuse.
    return tantivy.Document.from_dict({
        "comment_id": doc.comment_id, "body": segments_text(doc.body), "title": " ".join(doc.title),
        "author": " ".join(doc.author), "site": segments_text(doc.site), "status": doc.status,
        "reinstated": flags[0], "edited": flags[1], "site_host": doc.site_host, "thread_id": doc.thread_id,
        "sort_at": micros(doc.sort_at), "facet": "|".join((doc.status, *flags, doc.site_host))}, SCHEMA)


def to_query(node: Node) -> Query:
    if isinstance(node, Leaf):
        field = FIELD_NAMES[node.field]
        if node.prefix:
            # Tokens are letters and digits only: nothing to escape in the pattern.
            return Query.regex_query(SCHEMA, field, f"{node.words[0]}.*")
        if node.stem is not None:
            return Query.boolean_query([(Occur.Should, Query.term_query(SCHEMA, field, term))
                                        for term in node.terms])
        if len(node.words) == 1:
            return Query.term_query(SCHEMA, field, node.words[0])
        return Query.phrase_query(SCHEMA, field, list(node.words))
    if isinstance(node, Not):
        raise ValueError(f"NOT cannot stand alone: {node!r}")  # the parser puts it inside an And
    if isinstance(node, And):
        return Query.boolean_query([(Occur.MustNot, to_query(item.item)) if isinstance(item, Not)
                                    else (Occur.Must, to_query(item)) for item in node.items])
    return Query.boolean_query([(Occur.Should, to_query(item)) for item in node.items])


def _range(field: str, kind: FieldType, low: int | None, high: int | None,
           include_low: bool = True, include_high: bool = True) -> Query:
    # Tantivy refuses an exclusive flag on a missing bound.
    return Query.range_query(SCHEMA, field, kind, low, high, include_lower=include_low or low is None,
                             include_upper=include_high or high is None)


def ids_in(comment_ids: Sequence[int]) -> Query:
    # A query, not delete_documents_by_term: that one makes the id a signed term, which matches nothing.
    return Query.term_set_query(SCHEMA, "comment_id", list(comment_ids))


def ids_after(low: int | None, high: int | None) -> Query:
    """Comment ids in (low, high]; None: unbounded."""
    if low is None and high is None:
        return Query.all_query()  # Tantivy refuses a range with no bounds
    return _range("comment_id", FieldType.Unsigned, low, high, include_low=False)


def filter_queries(plan: Plan, keyset: bool) -> list[Query]:
    """The filters; with `keyset`, also "after the cursor"."""
    parts: list[Query] = []
    if plan.status in ("reinstated", "edited"):
        parts.append(Query.term_query(SCHEMA, plan.status, "1"))
    elif plan.status:
        parts.append(Query.term_query(SCHEMA, "status", plan.status))
    if plan.site:
        parts.append(Query.term_query(SCHEMA, "site_host", plan.site))
    if plan.thread_id is not None:
        parts.append(Query.term_query(SCHEMA, "thread_id", plan.thread_id))
    if plan.date_from or plan.date_to:
        parts.append(_range("sort_at", FieldType.Integer, micros(plan.date_from) if plan.date_from else None,
                            micros(plan.date_to) if plan.date_to else None))
    if keyset and plan.after:
        at, comment_id = micros(plan.after[0]), plan.after[1]
        before = plan.sort == "newest"
        beyond = (_range("sort_at", FieldType.Integer, None, at, include_high=False) if before
                  else _range("sort_at", FieldType.Integer, at, None, include_low=False))
        tied = _range("comment_id", FieldType.Unsigned, None, comment_id, include_high=False) if before \
            else ids_after(comment_id, None)
        same_time = Query.boolean_query([(Occur.Must, _range("sort_at", FieldType.Integer, at, at)),
                                         (Occur.Must, tied)])
        parts.append(Query.boolean_query([(Occur.Should, beyond), (Occur.Should, same_time)]))
    return parts


def filtered_query(plan: Plan, keyset: bool, ranked: bool = True) -> Query:
    """The query with its filters as non-scoring conjuncts (scores unchanged).
    Without words, the filters are the query (date sorts only: nothing to score).
    `ranked=False` leaves out what only orders the hits (for counts and facets)."""
    filters = filter_queries(plan, keyset)
    if plan.expr is None:
        return Query.all_query() if not filters else Query.boolean_query([(Occur.Must, q) for q in filters])
    words = to_query(plan.expr)
    if ranked and plan.exact_expr is not None:
        # Matches as before; the words as typed add a bonus that ranks them first.
        words = Query.boolean_query([(Occur.Must, words),
                                     (Occur.Should, Query.const_score_query(to_query(plan.exact_expr),
                                                                            EXACT_BONUS))])
    if not filters:
        return words
    return Query.boolean_query([(Occur.Must, words),
                                *((Occur.Must, Query.const_score_query(q, 0.0)) for q in filters)])
