"""Keeping the index right: redaction, hostile text, crashes, stale flags, `reindex`.

Every test runs on SQLite and PostgreSQL (the `app` fixture) with each
engine that database offers.
"""
from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Unpack

import pytest
from flask import Flask

from archive.context import ArchiveContext, archive_context
from archive.errors import ArchiveError
from archive.search import (
    SearchQuery,
    SearchQueryError,
    index_comments,
    query_index,
    reindex,
    remove_from_index,
    tantivy_backend,
    whoosh_backend,
)
from archive.store.db import get_db
from archive.store.models import Comment, CommentVersion
from tests.context_support import with_settings
from tests.test_search_engines import BACKENDS, SPECS, Filters, build_archive, keys_of


def found(app: Flask, ids: dict[str, int], text: str, **filters: Unpack[Filters]) -> list[str]:
    results = query_index(archive_context(app), SearchQuery(text=text, sort="oldest", per_page=100, **filters))
    return keys_of(ids, [hit.comment_id for hit in results.hits])


def reindex_now(app: Flask, comment_ids: list[int]) -> None:
    with get_db(app).read_session() as session:
        index_comments(archive_context(app), session, comment_ids)


@pytest.fixture(params=BACKENDS)
def archive(request: pytest.FixtureRequest, app: Flask) -> dict[str, int]:
    with_settings(app, search_backend=request.param)
    ids = build_archive(app)
    reindex(archive_context(app))
    return ids


@pytest.mark.parametrize("text", [
    "", "   ", '"unbalanced', "NOT", "NOT cafcass", "author:", "cafcass OR", "x" * 2000, "(a OR b"])
def test_malformed_queries_raise_search_query_error(app: Flask, archive: dict[str, int], text: str) -> None:
    with pytest.raises(SearchQueryError) as caught:
        query_index(archive_context(app), SearchQuery(text=text))
    assert str(caught.value) and "\n" not in str(caught.value)


def test_hostile_text_is_escaped_in_highlights(app: Flask, archive: dict[str, int]) -> None:
    results = query_index(archive_context(app), SearchQuery(text="script"))
    [hit] = results.hits
    assert hit.comment_id == archive["c8"]
    assert "<script" not in hit.highlight and "</script" not in hit.highlight
    assert hit.highlight.startswith("&lt;<mark>script</mark>&gt;alert(")
    # Snippets come from the plain text, never from the page's HTML.
    assert "<p>" not in hit.highlight and "&lt;p&gt;" not in hit.highlight


def test_filters_alone_show_escaped_starts_and_no_redacted_text(app: Flask, archive: dict[str, int]) -> None:
    results = query_index(archive_context(app), SearchQuery(status="removed"))
    assert keys_of(archive, [hit.comment_id for hit in results.hits]) == ["c8", "c6", "c2"]
    snippets = {key: hit.highlight for key, hit in zip(("c8", "c6", "c2"), results.hits)}
    # No words: the start of the newest version, escaped, nothing marked.
    assert snippets["c8"] == "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; cafcass &amp; co"
    assert snippets["c2"] == "Cafcass failed my family. The Ofsted rating is a joke."
    assert snippets["c6"] == ""                     # redacted: listed, never its text
    assert "<mark>" not in "".join(snippets.values())


def test_no_words_and_no_filter_is_refused(app: Flask, archive: dict[str, int]) -> None:
    for query in (SearchQuery(), SearchQuery(text="  ", site="", sort="newest")):
        with pytest.raises(SearchQueryError, match="type some words to search for, or choose a status"):
            query_index(archive_context(app), query)


def test_redacted_text_is_never_indexed_but_counted(app: Flask, archive: dict[str, int]) -> None:
    assert found(app, archive, "secret OR allegation OR staff") == []
    assert found(app, archive, "author:private") == []
    freeze = query_index(archive_context(app), SearchQuery(text="title:freeze"))
    assert freeze.total == 2 and freeze.facets["status"]["removed"] == 1
    [redacted] = [hit for hit in freeze.hits if hit.comment_id == archive["c6"]]
    assert redacted.highlight == ""


def test_redaction_after_indexing_takes_the_text_out(app: Flask, archive: dict[str, int]) -> None:
    assert found(app, archive, '"moderated out"') == ["c1"]
    with get_db(app).write() as session:
        comment = session.get_one(Comment, archive["c1"])
        comment.redacted, comment.redaction_reason = True, "privacy"
    reindex_now(app, [archive["c1"]])
    assert found(app, archive, '"moderated out"') == []
    assert found(app, archive, "author:jane") == []
    # Still counted: the thread title finds it, with an empty snippet.
    results = query_index(archive_context(app), SearchQuery(text="ofsted", thread_id=archive["T1"], per_page=100))
    assert results.total == 4
    assert {hit.comment_id: hit.highlight for hit in results.hits}[archive["c1"]] == ""
    with get_db(app).write() as session:
        session.get_one(Comment, archive["c1"]).redacted = False
    reindex_now(app, [archive["c1"]])
    assert found(app, archive, '"moderated out"') == ["c1"]


def test_reindex_repairs_an_index_the_database_moved_past(app: Flask, archive: dict[str, int]) -> None:
    """A crash between the commit and the index update: reindex alone brings the index back."""
    with get_db(app).write() as session:
        thread_id = session.get_one(Comment, archive["c1"]).thread_id
        text = "A zeppelin landed on the family court"
        new = Comment(thread_id=thread_id, key="late", author="Late Comer", posted_at=datetime(2022, 1, 1),
                      first_seen_at=datetime(2022, 1, 1), last_seen_at=datetime(2022, 1, 1),
                      versions=[CommentVersion(seq=0, text=text, html="",
                                               text_sha256=hashlib.sha256(text.encode()).hexdigest())])
        session.add(new)
        session.delete(session.get_one(Comment, archive["c3"]))
        session.get_one(Comment, archive["c2"]).status = "visible"
        session.get_one(Comment, archive["c4"]).redacted = True
        session.flush()
        archive["late"] = new.id
    # Nothing was indexed: the index still answers from before.
    assert found(app, archive, "zeppelin") == []
    assert found(app, archive, "heavy handed") == ["c4"]
    assert reindex(archive_context(app)) == len(SPECS)  # one added, one deleted
    assert found(app, archive, "zeppelin") == ["late"]
    assert found(app, archive, "explanation") == []
    assert found(app, archive, "heavy handed") == []
    assert found(app, archive, "cafcass", status="removed") == ["c8"]


def test_reindex_in_several_batches(app: Flask, archive: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """Open-ended first and last id ranges, and ranges bounded on both sides."""
    import archive.search as search

    monkeypatch.setattr(search, "REINDEX_BATCH", 7)
    monkeypatch.setattr(search, "REINDEX_BATCHES", {})
    assert reindex(archive_context(app)) == len(SPECS)
    assert found(app, archive, "cafcass") == ["c1", "c2", "c3", "c4", "c7", "c8"]
    assert query_index(archive_context(app), SearchQuery(text="filler")).total == len(SPECS) - 9


def test_remove_from_index(app: Flask, archive: dict[str, int]) -> None:
    remove_from_index(archive_context(app), [archive["c7"]])
    assert found(app, archive, "cafe") == []
    assert found(app, archive, "cafcass") == ["c1", "c2", "c3", "c4", "c8"]


def test_reindex_command(app: Flask, archive: dict[str, int], runner) -> None:
    result = runner.invoke("reindex")
    assert result.exit_code == 0, result.output
    assert f"reindexed {len(SPECS)} comments ({archive_context(app).settings.search_backend})" in result.output
    assert f"indexed {len(SPECS)}/{len(SPECS)} comments" in result.output
    assert "Rebuild the search index" in runner.invoke("reindex", "--help").output


def test_unknown_backend_is_a_one_line_error(app: Flask) -> None:
    with pytest.raises(ArchiveError, match="ARCHIVE_SEARCH_BACKEND must be one of whoosh, database, tantivy"):
        with_settings(app, search_backend="elastic")


# Engines with their own index files (Whoosh, tantivy): one writer per index
# across processes, and a stale flag when an update cannot be made.
FILE_ENGINES = {"whoosh": whoosh_backend, "tantivy": tantivy_backend}


def _stale_flag(app: Flask, backend: str = "whoosh") -> Path:
    return archive_context(app).settings.data_dir / "index" / f"{backend}.stale"


def _index_dir(app: Flask, backend: str) -> Path:
    index = archive_context(app).settings.data_dir / "index"
    return index if backend == "whoosh" else index / backend


@contextmanager
def _writer_held_elsewhere(app: Flask, backend: str) -> Iterator[None]:
    """Another process holds the index's writer for longer than we wait."""
    if backend == "whoosh":
        from whoosh import index as whoosh_index

        whoosh_writer = whoosh_index.open_dir(str(_index_dir(app, backend))).writer()
        try:
            yield
        finally:
            whoosh_writer.cancel()
    else:
        import tantivy

        tantivy_writer = tantivy.Index.open(str(_index_dir(app, backend))).writer()
        try:
            yield
        finally:
            tantivy_writer.rollback()
            tantivy_writer.wait_merging_threads()


@pytest.fixture(params=sorted(FILE_ENGINES))
def file_index(request: pytest.FixtureRequest, app: Flask,
               monkeypatch: pytest.MonkeyPatch) -> tuple[str, dict[str, int]]:
    backend: str = request.param
    with_settings(app, search_backend=backend)
    monkeypatch.setattr(FILE_ENGINES[backend], "WRITE_WAIT_SECONDS", 0.3)
    ids = build_archive(app)
    reindex(archive_context(app))
    return backend, ids


def test_a_locked_index_is_marked_stale_and_reindex_repairs_it(
        app: Flask, file_index: tuple[str, dict[str, int]]) -> None:
    backend, ids = file_index
    with get_db(app).write() as session:
        session.get_one(Comment, ids["c7"]).status = "removed"
    with _writer_held_elsewhere(app, backend):
        reindex_now(app, [ids["c7"]])  # does not raise: the capture is already stored
    assert _stale_flag(app, backend).exists()
    assert "indexing 1 comment(s) failed" in _stale_flag(app, backend).read_text()
    results = query_index(archive_context(app), SearchQuery(text="cafe", status="removed"))
    assert results.stale and results.total == 0  # the index missed the change, and says so
    reindex(archive_context(app))
    assert not _stale_flag(app, backend).exists()
    results = query_index(archive_context(app), SearchQuery(text="cafe", status="removed"))
    assert not results.stale
    assert keys_of(ids, [hit.comment_id for hit in results.hits]) == ["c7"]


def test_a_lost_index_is_recreated_and_searches_say_to_reindex(
        app: Flask, client, file_index: tuple[str, dict[str, int]]) -> None:
    backend, ids = file_index
    index_dir = _index_dir(app, backend)
    if backend == "whoosh":
        for path in index_dir.iterdir():
            if path.suffix not in (".ready", ".stale"):
                path.unlink()
    else:
        shutil.rmtree(index_dir)
    with_settings(app)  # a new process: a new engine, with no index open
    # An empty index over 54 comments would answer wrongly: searches refuse, saying what to run.
    with pytest.raises(ArchiveError, match=f"not been built for the {backend} engine.*archive reindex"):
        query_index(archive_context(app), SearchQuery(text="cafcass"))
    # The page and the API say so too, with what to do.
    page = client.get("/search?q=cafcass")
    assert page.status_code == 503 and b"python -m archive reindex" in page.data
    answer = client.get("/api/v1/search?q=cafcass")
    assert answer.status_code == 503 and "python -m archive reindex" in answer.get_json()["error"]
    text = "the whole comment as I remember writing it"
    assert client.get("/find", query_string={"text": text}).status_code == 503
    found = client.get("/api/v1/find", query_string={"text": text})
    assert found.status_code == 503 and "python -m archive reindex" in found.get_json()["error"]
    # Captures still index what they change meanwhile; that does not make the index whole.
    reindex_now(app, [ids["c1"]])
    with pytest.raises(ArchiveError, match="archive reindex"):
        query_index(archive_context(app), SearchQuery(text="cafcass"))
    reindex(archive_context(app))
    results = query_index(archive_context(app), SearchQuery(text="cafcass"))
    assert results.total == 6 and not results.stale


def test_a_first_index_is_ready_only_if_it_misses_no_comments(app: Flask) -> None:
    """The first capture creates the index: ready. Comments from before it: not ready."""
    with_settings(app, search_backend="whoosh")
    ids = build_archive(app)
    comment_ids = [value for key, value in ids.items() if not key.startswith("T")]
    reindex_now(app, comment_ids)
    assert archive_context(app).search.is_ready() and not _stale_flag(app).exists()
    assert found(app, ids, "cafcass") == ["c1", "c2", "c3", "c4", "c7", "c8"]
    for path in _stale_flag(app).parent.iterdir():
        path.unlink()
    with_settings(app)
    reindex_now(app, [ids["c1"]])
    assert not archive_context(app).search.is_ready()
    with pytest.raises(ArchiveError, match="run `python -m archive reindex`"):
        found(app, ids, "cafcass")


def test_switching_engines_needs_a_reindex_which_init_runs(app: Flask, runner) -> None:
    """Each engine's index is usable only while it holds every comment in this release's format."""
    with_settings(app, search_backend="tantivy")
    ids = build_archive(app)
    reindex(archive_context(app))
    assert found(app, ids, "moderation") == ["c1", "c4", "c9"]
    # The same data folder on another engine: never built for it, so it says so.
    with_settings(app, search_backend="whoosh")
    with pytest.raises(ArchiveError, match="not been built for the whoosh engine"):
        found(app, ids, "moderation")
    result = runner.invoke("init")
    assert result.exit_code == 0, result.output
    assert f"rebuilding the search index of {len(SPECS)} comments (whoosh)" in result.output
    assert f"indexed {len(SPECS)}/{len(SPECS)} comments (100%" in result.output
    assert found(app, ids, "moderation") == ["c1", "c4", "c9"]
    assert "rebuilding" not in runner.invoke("init").output  # built: nothing more to do
    # Nothing changed since tantivy's rebuild: switching back needs nothing.
    with_settings(app, search_backend="tantivy")
    assert found(app, ids, "moderation") == ["c1", "c4", "c9"]
    # An update that only whoosh received leaves tantivy's index behind.
    with_settings(app, search_backend="whoosh")
    reindex_now(app, [ids["c1"]])
    with_settings(app, search_backend="tantivy")
    with pytest.raises(ArchiveError, match="not been built for the tantivy engine"):
        found(app, ids, "moderation")
    assert runner.invoke("reindex").exit_code == 0
    assert found(app, ids, "moderation") == ["c1", "c4", "c9"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_index_from_an_older_release_needs_a_reindex(app: Flask, backend: str) -> None:
    """An index built before stemming lacks the stems: searches say to rebuild it."""
    with_settings(app, search_backend=backend)
    ids = build_archive(app)
    reindex(archive_context(app))
    archive_context(app).search.ready_flag.write_text("1 2026-11-01T00:00:00Z\n")
    if not archive_context(app).search.tracked:
        # PostgreSQL's index is shared by hosts with folders of their own: no flag decides.
        assert backend == "database" and not get_db(app).is_sqlite
        assert found(app, ids, "moderation") == ["c1", "c4", "c9"]
        return
    with pytest.raises(ArchiveError, match="built by an older release"):
        found(app, ids, "moderation")
    reindex(archive_context(app))
    assert found(app, ids, "moderation") == ["c1", "c4", "c9"]


def test_an_empty_archive_is_ready_at_once(app: Flask) -> None:
    results = query_index(archive_context(app), SearchQuery(text="anything"))
    assert results.total == 0 and archive_context(app).search.is_ready()


def test_readers_see_each_commit(app: Flask, file_index: tuple[str, dict[str, int]]) -> None:
    """A second context (another process's view) sees what this one indexes, at once."""
    _backend, ids = file_index
    reader = ArchiveContext.open(archive_context(app).settings)
    try:
        assert query_index(reader, SearchQuery(text="ofqual")).total == 0
        with get_db(app).write() as session:
            comment = session.get_one(Comment, ids["c9"])
            comment.versions.append(CommentVersion(seq=2, text="ofqual now", html="", text_sha256="x"))
        reindex_now(app, [ids["c9"]])
        assert [hit.comment_id for hit in query_index(reader, SearchQuery(text="ofqual")).hits] == [ids["c9"]]
    finally:
        reader.close()
