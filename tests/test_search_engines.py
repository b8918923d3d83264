"""Every search engine answers the same queries with the same comments.

One small archive (two sites, four threads, comments with several versions,
every status, a redaction, hostile text, accents) is built through the
models on each database, indexed by each engine that database offers
(whoosh, tantivy and SQLite FTS5 on SQLite; whoosh, tantivy and tsvector on
PostgreSQL), and queried with a fixed set of queries: each engine must return
exactly the expected comments, in the expected order where the order is defined.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypedDict, Unpack

import pytest
from flask import Flask

from archive.context import archive_context
from archive.search import SearchQuery, index_comments, query_index, reindex
from archive.store.db import get_db
from archive.store.models import Comment, CommentVersion, Site, Thread
from tests.context_support import with_settings

BACKENDS = ("whoosh", "database", "tantivy")
FILLERS = 45
FILLER_START = datetime(2021, 1, 1)


class Filters(TypedDict, total=False):
    """SearchQuery's filters, for helpers that pass them on as keywords."""
    status: str | None
    site: str | None
    thread_id: int | None
    date_from: datetime | None
    date_to: datetime | None


class Query(Filters, total=False):
    text: str


@dataclass
class Spec:
    key: str
    thread: str
    author: str
    versions: list[str]
    posted_at: datetime | None
    status: str = "visible"
    reinstated: int = 0
    redacted: bool = False
    first_seen_at: datetime = field(default_factory=lambda: datetime(2017, 1, 1))


SITES = {"cc": ("www.communitycare.co.uk", "Community Care"),
         "gu": ("www.theguardian.com", "The Guardian")}
THREADS = {"T1": ("cc", "Cafcass rated outstanding by Ofsted"),
           "T2": ("cc", "Social workers face pay freeze"),
           "T3": ("gu", "Family courts under pressure"),
           "T4": ("gu", "Letters page")}
SPECS = [
    Spec("c1", "T1", "Jane Doe", ["Critical comments were moderated out of this thread."],
         datetime(2018, 3, 1, 9)),
    Spec("c2", "T1", "John Smith", ["Cafcass failed my family. The Ofsted rating is a joke."],
         datetime(2018, 3, 2, 9), status="removed"),
    Spec("c3", "T1", "Anon", ["My comment was removed without explanation: they are dying to hide it."],
         datetime(2018, 3, 3, 9), status="missing"),
    Spec("c4", "T1", "Mary Jones", ["Moderation here is heavy handed."],
         datetime(2018, 3, 4, 9), reinstated=1),
    # No posted date: sorted and filtered by when it was first seen.
    Spec("c5", "T2", "John Smith", ["Pay freeze again", "Pay freeze again and again, the union must act"],
         None, first_seen_at=datetime(2019, 1, 10, 9)),
    Spec("c6", "T2", "Private Person", ["secret allegation about cafcass staff"],
         datetime(2019, 1, 11, 9), status="removed", redacted=True),
    Spec("c7", "T3", "Élodie Brûlé", ["Les tribunaux familiaux: café talk about Cafcass"],
         datetime(2020, 5, 5, 9)),
    Spec("c8", "T3", "Hostile", ["<script>alert('x')</script> cafcass & co"],
         datetime(2020, 5, 6, 9), status="removed"),
    # "moderated" ends one version and "out" starts the next: not the phrase.
    Spec("c9", "T3", "Patient Reader", ["we were moderated", "out of patience now"],
         datetime(2020, 5, 7, 9)),
] + [
    # Two fillers share each posted time: pages must break ties by id.
    Spec(f"f{i:02d}", "T4", "Filler Writer", [f"filler letter number {i} about the courts"],
         FILLER_START + timedelta(hours=i // 2))
    for i in range(FILLERS)
]


def build_archive(app: Flask) -> dict[str, int]:
    """Create the archive above; returns comment ids by key (and thread ids by name)."""
    ids: dict[str, int] = {}
    with get_db(app).write() as session:
        sites = {name: Site(host=host, name=label) for name, (host, label) in SITES.items()}
        threads = {name: Thread(site=sites[site], url=f"https://{sites[site].host}/{name}", title=title)
                   for name, (site, title) in THREADS.items()}
        session.add_all([*sites.values(), *threads.values()])
        comments = {}
        for spec in SPECS:
            comment = Comment(
                thread=threads[spec.thread], key=spec.key, author=spec.author,
                posted_at=spec.posted_at, status=spec.status, first_seen_at=spec.first_seen_at,
                last_seen_at=spec.first_seen_at, edit_count=len(spec.versions) - 1,
                times_reinstated=spec.reinstated, times_removed=spec.reinstated + (spec.status == "removed"),
                redacted=spec.redacted, redaction_reason="privacy" if spec.redacted else None)
            comment.versions = [
                CommentVersion(seq=seq, text=text, html=f"<p>{text}</p>",
                               text_sha256=hashlib.sha256(text.encode()).hexdigest())
                for seq, text in enumerate(spec.versions)]
            comments[spec.key] = comment
        session.add_all(comments.values())
        session.flush()
        ids.update({key: comment.id for key, comment in comments.items()})
        ids.update({name: thread.id for name, thread in threads.items()})
    return ids


def keys_of(ids: dict[str, int], comment_ids: list[int]) -> list[str]:
    by_id = {value: key for key, value in ids.items() if not key.startswith("T")}
    return [by_id[comment_id] for comment_id in comment_ids]


T1 = ["c1", "c2", "c3", "c4"]
CAFCASS = T1 + ["c7", "c8"]
FILLER_KEYS = [f"f{i:02d}" for i in range(FILLERS)]
GUARDIAN = ["c7", "c8", "c9"] + FILLER_KEYS

# (query keyword arguments, expected keys); a list is an exact order, a set is
# any order (relevance ranks differ between engines; the set must not).
CASES: list[tuple[dict, set[str] | list[str]]] = [
    ({"text": "cafcass"}, set(CAFCASS)),
    ({"text": "CAFCASS"}, set(CAFCASS)),
    ({"text": '"moderated out"'}, {"c1"}),
    ({"text": "moderat*"}, {"c1", "c4", "c9"}),
    ({"text": "cafcass ofsted"}, set(T1)),
    ({"text": "cafcass AND ofsted"}, set(T1)),
    ({"text": "cafcass OR pay"}, set(CAFCASS) | {"c5", "c6"}),
    ({"text": "cafcass NOT ofsted"}, {"c7", "c8"}),
    ({"text": "cafcass -ofsted"}, {"c7", "c8"}),
    ({"text": "(cafcass OR union) -ofsted"}, {"c5", "c7", "c8"}),
    ({"text": "author:smith"}, {"c2", "c5"}),
    ({"text": 'author:"john smith" union'}, {"c5"}),
    ({"text": "author:brule"}, {"c7"}),
    ({"text": "brule"}, set()),
    ({"text": "cafe"}, {"c7"}),
    ({"text": "café"}, {"c7"}),
    ({"text": "site:guardian"}, set(GUARDIAN)),
    ({"text": "site:communitycare.co.uk cafcass"}, set(T1)),
    ({"text": "site:communitycare OR author:patient"}, set(T1) | {"c5", "c6", "c9"}),
    ({"text": "title:freeze"}, {"c5", "c6"}),
    ({"text": 'title:"rated outstanding"'}, set(T1)),
    ({"text": "union"}, {"c5"}),
    ({"text": '"pay freeze again and again"'}, {"c5"}),
    ({"text": "script"}, {"c8"}),
    ({"text": "secret OR allegation"}, set()),
    ({"text": "cafcass", "status": "removed"}, {"c2", "c8"}),
    ({"text": "cafcass", "status": "missing"}, {"c3"}),
    ({"text": "cafcass", "status": "visible"}, {"c1", "c4", "c7"}),
    ({"text": "cafcass", "status": "reinstated"}, {"c4"}),
    ({"text": "pay", "status": "edited"}, {"c5"}),
    ({"text": "cafcass", "site": "www.theguardian.com"}, {"c7", "c8"}),
    ({"text": "cafcass", "thread_id": "T1"}, set(T1)),
    ({"text": "cafcass", "date_from": datetime(2020, 1, 1)}, {"c7", "c8"}),
    ({"text": "cafcass", "date_to": datetime(2018, 3, 2, 9)}, {"c1", "c2"}),
    ({"text": "pay", "date_from": datetime(2019, 1, 10), "date_to": datetime(2019, 1, 10, 23)}, {"c5"}),
    ({"text": "cafcass", "sort": "newest"}, ["c8", "c7", "c4", "c3", "c2", "c1"]),
    ({"text": "cafcass", "sort": "oldest"}, ["c1", "c2", "c3", "c4", "c7", "c8"]),
    ({"text": "cafcass OR pay", "sort": "oldest"}, ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"]),
    # No words, filters alone: every comment they select, newest first for
    # "relevance" (nothing to rank by). The redacted c6 is listed too.
    ({"status": "removed"}, ["c8", "c6", "c2"]),
    ({"text": "   ", "status": "removed", "sort": "oldest"}, ["c2", "c6", "c8"]),
    ({"status": "missing"}, ["c3"]),
    ({"status": "reinstated"}, ["c4"]),
    ({"status": "edited"}, ["c9", "c5"]),
    ({"site": "www.communitycare.co.uk"}, ["c6", "c5", "c4", "c3", "c2", "c1"]),
    # Fillers share posted times in pairs; ids break the ties, newest first.
    ({"site": "www.theguardian.com"}, FILLER_KEYS[::-1] + ["c9", "c8", "c7"]),
    ({"thread_id": "T3"}, ["c9", "c8", "c7"]),
    ({"thread_id": "T1", "sort": "oldest"}, T1),
    ({"date_from": datetime(2019, 1, 1), "date_to": datetime(2020, 5, 6, 23)}, ["c8", "c7", "c6", "c5"]),
    ({"date_to": datetime(2018, 3, 2, 9)}, ["c2", "c1"]),
    ({"status": "removed", "site": "www.communitycare.co.uk"}, ["c6", "c2"]),
    ({"status": "removed", "site": "www.theguardian.com"}, ["c8"]),
    ({"status": "visible", "site": "nowhere.example"}, []),
    # Stemming: a plain word finds every form of its stem, in the text and titles...
    ({"text": "moderation"}, {"c1", "c4", "c9"}),
    ({"text": "moderated"}, {"c1", "c4", "c9"}),
    ({"text": "die"}, {"c3"}),                     # "dying" stems to "die"
    ({"text": "court"}, {"c7", "c8", "c9"} | set(FILLER_KEYS)),
    ({"text": "title:court"}, {"c7", "c8", "c9"}),
    ({"text": "moderation NOT heavy"}, {"c1", "c9"}),
    ({"text": "moderations", "status": "reinstated"}, {"c4"}),
    # ...but a quoted word or phrase is exact, a prefix is a prefix of words
    # (never of stems), and names are not stemmed.
    ({"text": '"moderation"'}, {"c4"}),
    ({"text": '"moderated"'}, {"c1", "c9"}),
    ({"text": '"moderation out"'}, set()),
    ({"text": 'title:"court"'}, set()),
    ({"text": "die*"}, set()),
    ({"text": "moder*"}, {"c1", "c4", "c9"}),
    ({"text": "author:smiths"}, set()),
    ({"text": "moderation", "sort": "oldest"}, ["c1", "c4", "c9"]),
]


def _run(app: Flask, ids: dict[str, int], kwargs: dict) -> list[str]:
    if kwargs.get("thread_id"):
        kwargs = {**kwargs, "thread_id": ids[kwargs["thread_id"]]}
    results = query_index(archive_context(app), SearchQuery(per_page=100, **kwargs))
    # Far below ARCHIVE_SEARCH_EXACT_COUNT: every engine counts exactly and ranks every match.
    assert results.total == len(results.hits) and results.total_exact and results.ranked_among is None
    return keys_of(ids, [hit.comment_id for hit in results.hits])


@pytest.mark.parametrize("backend", BACKENDS)
def test_engines_return_the_expected_comments(app: Flask, backend: str) -> None:
    with_settings(app, search_backend=backend)
    ids = build_archive(app)
    assert reindex(archive_context(app)) == len(SPECS)
    wrong = []
    for kwargs, expected in CASES:
        found = _run(app, ids, kwargs)
        got: set[str] | list[str] = set(found) if isinstance(expected, set) else found
        if got != expected:
            wrong.append(f"{kwargs}: expected {sorted(expected) if isinstance(expected, set) else expected}, got {got}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("backend", BACKENDS)
def test_words_as_typed_rank_before_other_forms(app: Flask, backend: str) -> None:
    """Relevance: the comments with the word as typed first, then those found by its stem."""
    with_settings(app, search_backend=backend)
    ids = build_archive(app)
    reindex(archive_context(app))
    for text, first, then in [("moderation", {"c4"}, {"c1", "c9"}),
                              ("moderated", {"c1", "c9"}, {"c4"}),
                              ("moderated heavy", set(), {"c4"}),
                              ("moderation OR cafcass", {"c4"} | set(CAFCASS), {"c9"}),
                              ("courts", {"c7", "c8", "c9"} | set(FILLER_KEYS), set()),
                              ("title:court", set(), {"c7", "c8", "c9"})]:
        results = query_index(archive_context(app), SearchQuery(text=text, per_page=100))
        order = keys_of(ids, [hit.comment_id for hit in results.hits])
        assert set(order[:len(first)]) == first and set(order[len(first):]) == then, (text, order)
        assert results.total == len(first | then)
    # Snippets mark every form that matched.
    [hit] = query_index(archive_context(app), SearchQuery(text="moderation", status="reinstated")).hits
    assert hit.highlight == "<mark>Moderation</mark> here is heavy handed."
    [hit] = query_index(archive_context(app), SearchQuery(text="die")).hits
    assert "they are <mark>dying</mark> to hide it" in hit.highlight


def _walk(app: Flask, ids: dict[str, int], sort: str, per_page: int, **query: Unpack[Query]) -> list[str]:
    """Every page of `query` (default: the word filler) through next_cursor."""
    query = query or {"text": "filler"}
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        results = query_index(archive_context(app), SearchQuery(sort=sort, per_page=per_page, cursor=cursor, **query))
        assert results.total == FILLERS
        seen.extend(keys_of(ids, [hit.comment_id for hit in results.hits]))
        pages += 1
        cursor = results.next_cursor
        if cursor is None:
            break
    assert pages == -(-FILLERS // per_page)
    return seen


@pytest.mark.parametrize("backend", BACKENDS)
def test_pagination_is_stable_and_complete(app: Flask, backend: str) -> None:
    with_settings(app, search_backend=backend)
    ids = build_archive(app)
    reindex(archive_context(app))
    by_time = sorted(FILLER_KEYS, key=lambda key: (FILLER_START + timedelta(hours=int(key[1:]) // 2), ids[key]))
    assert _walk(app, ids, "oldest", 10) == by_time
    assert _walk(app, ids, "newest", 10) == by_time[::-1]
    relevance = _walk(app, ids, "relevance", 10)
    assert sorted(relevance) == FILLER_KEYS  # every filler once, none twice
    # Page numbers give the same pages as cursors.
    page3 = query_index(archive_context(app), SearchQuery(text="filler", sort="newest", per_page=10, page=3))
    assert keys_of(ids, [h.comment_id for h in page3.hits]) == by_time[::-1][20:30]
    again = [keys_of(ids, [h.comment_id for h in query_index(
        archive_context(app), SearchQuery(text="filler", per_page=10, page=page)).hits]) for page in range(1, 6)]
    assert sum(again, []) == relevance
    # Filters alone (the fillers' thread) page the same way; "relevance" is newest first.
    letters: Filters = {"thread_id": ids["T4"]}
    assert _walk(app, ids, "oldest", 10, **letters) == by_time
    assert _walk(app, ids, "newest", 7, **letters) == by_time[::-1]
    assert _walk(app, ids, "relevance", 10, **letters) == by_time[::-1]
    page2 = query_index(archive_context(app), SearchQuery(per_page=10, page=2, **letters))
    assert keys_of(ids, [h.comment_id for h in page2.hits]) == by_time[::-1][10:20]


@pytest.mark.parametrize("backend", BACKENDS)
def test_facets_count_the_whole_result_set(app: Flask, backend: str) -> None:
    with_settings(app, search_backend=backend)
    build_archive(app)
    reindex(archive_context(app))
    results = query_index(archive_context(app), SearchQuery(text="cafcass OR pay", per_page=2))
    assert results.total == 8 and len(results.hits) == 2
    assert results.facets["status"] == {"visible": 4, "missing": 1, "removed": 3,
                                        "reinstated": 1, "edited": 1}
    assert results.facets["site"] == {"www.communitycare.co.uk": 6, "www.theguardian.com": 2}
    removed = query_index(archive_context(app), SearchQuery(text="cafcass OR pay", status="removed"))
    assert removed.facets["status"]["removed"] == removed.total == 3
    # Filters alone count every comment they select.
    browsed = query_index(archive_context(app), SearchQuery(site="www.communitycare.co.uk", per_page=2))
    assert browsed.total == 6 and len(browsed.hits) == 2 and browsed.next_cursor
    assert browsed.facets["status"] == {"visible": 3, "missing": 1, "removed": 2,
                                        "reinstated": 1, "edited": 1}
    assert browsed.facets["site"] == {"www.communitycare.co.uk": 6}


@pytest.mark.parametrize("backend", BACKENDS)
def test_index_follows_changes(app: Flask, backend: str) -> None:
    """index_comments after a commit: new text found, old text gone, status filters follow."""
    with_settings(app, search_backend=backend)
    ids = build_archive(app)
    reindex(archive_context(app))
    with get_db(app).write() as session:
        comment = session.get_one(Comment, ids["c1"])
        comment.versions.append(CommentVersion(seq=1, text="Edited to mention Ofqual instead",
                                               html="", text_sha256="x"))
        comment.edit_count = 1
        comment.status = "removed"
    with get_db(app).read_session() as session:
        index_comments(archive_context(app), session, [ids["c1"]])
    assert _run(app, ids, {"text": "ofqual", "status": "removed"}) == ["c1"]
    assert _run(app, ids, {"text": "ofqual", "status": "edited"}) == ["c1"]
    # Every version stays searchable.
    assert _run(app, ids, {"text": '"moderated out"'}) == ["c1"]


def test_engines_agree_on_every_word_prefix_and_phrase(app: Flask) -> None:
    """Every engine of this database, side by side, over queries made from the corpus itself."""
    from archive.search.tokens import tokenize

    build_archive(app)
    for backend in BACKENDS:
        with_settings(app, search_backend=backend)
        reindex(archive_context(app))
    queries: set[str] = set()
    forms: set[str] = set()  # made-up forms ("thiss") may rightly find nothing
    for spec in SPECS[:12]:
        if spec.redacted:
            continue  # its words must find nothing; other tests check that
        for text in spec.versions + [THREADS[spec.thread][1]]:
            words = tokenize(text)
            queries.update(words)
            queries.update(f"{w[:3]}*" for w in words if len(w) >= 3)
            queries.update(f'"{a} {b}"' for a, b in zip(words, words[1:]))
            # Other forms of the words: found through their stems, the same everywhere.
            forms.update(f"{w}{ending}" for w in words if len(w) >= 4 for ending in ("s", "ing"))
        queries.update(f"author:{w}" for w in tokenize(spec.author))
    assert len(queries) > 100
    differ = []
    for text in sorted(queries | forms):
        answers = []
        for backend in BACKENDS:
            with_settings(app, search_backend=backend)
            results = query_index(archive_context(app), SearchQuery(text=text, sort="oldest", per_page=100))
            answers.append([hit.comment_id for hit in results.hits])
        if any(answer != answers[0] for answer in answers[1:]):
            differ.append(f"{text}: {dict(zip(BACKENDS, answers))}")
        elif not answers[0] and not text.startswith("author:") and text not in forms - queries:
            differ.append(f"{text}: nothing found for a word of the corpus")
    assert not differ, "\n".join(differ)


def test_engines_agree_on_filters_alone(app: Flask) -> None:
    """Every engine of this database, side by side, over every status x site x thread x dates."""
    from itertools import product

    from archive.search.types import STATUSES

    ids = build_archive(app)
    for backend in BACKENDS:
        with_settings(app, search_backend=backend)
        reindex(archive_context(app))
    dates = [(None, None), (datetime(2019, 1, 1), None), (None, datetime(2019, 1, 10, 9))]
    grid = product((None, *STATUSES), (None, *(host for host, _name in SITES.values())),
                   (None, ids["T1"], ids["T3"]), dates)
    differ, found = [], 0
    for status, site, thread_id, (date_from, date_to) in grid:
        filters: Filters = {"status": status, "site": site, "thread_id": thread_id, "date_from": date_from,
                            "date_to": date_to}
        if all(value is None for value in filters.values()):
            continue
        answers = []
        for backend in BACKENDS:
            with_settings(app, search_backend=backend)
            results = query_index(archive_context(app), SearchQuery(per_page=100, **filters))
            answers.append(([hit.comment_id for hit in results.hits], results.total, results.total_exact,
                            results.facets))
        found += len(answers[0][0])
        if any(answer != answers[0] for answer in answers[1:]):
            differ.append(f"{filters}: {dict(zip(BACKENDS, answers))}")
    assert not differ, "\n".join(differ)
    assert found > 100
