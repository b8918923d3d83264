"""Find my comment: the /find page and /api/v1/find over the real search index."""
from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from selectolax.lexbor import LexborHTMLParser

import config
from archive import create_app
from archive.context import archive_context
from archive.search import reindex
from archive.store.db import get_db
from archive.store.models import Comment
from archive.web.public.finder import MAX_TEXT_CHARS
from tests.html_support import attr, find_first
from tests.public_helpers import T0, capture, comment_id, new_thread, rec

SENTENCES = ["Outstanding for whom?",
             "Our Cafcass officer met my daughter once, for twenty minutes, and wrote that she "
             "showed no wish to see her father.",
             "She had told us the opposite at home every week.",
             "Nobody listened to the child's views in our case."]
REMOVED = " ".join(SENTENCES)
OTHERS = [
    ("Paul", "Cafcass officers are overworked; our officer met my son twice and listened well."),
    ("Mike", "Outstanding is what Ofsted says when it reads the files Cafcass chose to show."),
    ("Ann", "Every week we hear that the views of the child come first. Not in our case."),
]
SECRET = "A private family matter about a named child in the Leeds court last spring."
UNRELATED = ("The council approved a new budget for road repairs while residents asked about "
             "parking fees and library hours at the spring consultation meeting.")
URL = "https://news.example/2018/cafcass-outstanding/"


@pytest.fixture
def ids(app):
    return _build(app)


def _build(app) -> dict[str, int]:
    """Sarah's removed comment among others sharing its words, a copy of its first
    words on another site, and Jo's redacted comment; indexed."""
    records = [rec("1", "Sarah T", REMOVED, position=1),
               *[rec(str(n), author, text, position=n) for n, (author, text) in enumerate(OTHERS, 2)],
               rec("9", "Jo", SECRET, position=9)]
    with get_db(app).write() as session:
        thread = new_thread(session, URL, "Cafcass rated outstanding")
        other = new_thread(session, "https://other.example/story/", "Another story")
        capture(session, other, T0, [rec("1", "Sarah T", "Outstanding for whom? A copy of "
                                                         "the words on another site.")])
        capture(session, thread, T0, records)
        for hours in (1, 2):   # Sarah's comment is absent twice: removed
            capture(session, thread, T0 + timedelta(hours=hours), records[1:])
        thread_id, other_id = thread.id, other.id
    found = {"thread": thread_id, "other": other_id, "sarah": comment_id(app, thread_id, "1"),
             "paul": comment_id(app, thread_id, "2"), "jo": comment_id(app, thread_id, "9")}
    with get_db(app).write() as session:
        jo = session.get_one(Comment, found["jo"])
        jo.redacted, jo.redaction_reason = True, "personal data of a child"
    reindex(archive_context(app))
    return found


def _find(client, status: int = 200, **args: str) -> LexborHTMLParser:
    response = client.get("/find", query_string=args)
    assert response.status_code == status, response.data[:500]
    return LexborHTMLParser(response.get_data(as_text=True))


def _matches(doc: LexborHTMLParser) -> list[int]:
    return [int(attr(a, "href").rsplit("/", 1)[1]) for a in doc.css("ol.matches a.history")]


VARIANTS = {
    "typos": REMOVED.replace("officer", "oficer").replace("daughter", "daugther")
                    .replace("listened", "listend").replace("Nobody", "Noboddy"),
    "reordered": " ".join([SENTENCES[2], SENTENCES[3], SENTENCES[1], SENTENCES[0]]),
    "missing sentence": " ".join([SENTENCES[0], SENTENCES[1], SENTENCES[3]]),
    "words changed": REMOVED.replace("daughter", "girl").replace("every week", "each week"),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_remembered_text_finds_the_removed_comment_first(client, ids, variant) -> None:
    doc = _find(client, text=VARIANTS[variant])
    assert _matches(doc)[0] == ids["sarah"]
    first = find_first(doc, "ol.matches > li")
    text = " ".join(first.text().split())
    assert "Removed" in find_first(first, ".badges").text()
    assert "Removed between 2018-04-01 12:00 UTC and 2018-04-01 13:00 UTC" in text
    assert "% similar" in text and "Sarah T" in text and "for twenty minutes" in text


def test_unrelated_text_finds_nothing_and_says_what_that_means(client, ids) -> None:
    doc = _find(client, text=UNRELATED)
    assert _matches(doc) == []
    empty = " ".join(find_first(doc, ".empty").text().split())
    assert "No archived comment is close to this text." in empty
    assert "does not mean: that your comment was never published" in empty


def test_a_redacted_comment_is_never_matched(client, ids) -> None:
    doc = _find(client, text=SECRET)
    assert ids["jo"] not in _matches(doc)
    # Only the reader's own words, in the form, carry the text.
    assert doc.text().count("Leeds") == 1 and "Leeds" in find_first(doc, "textarea").text()


def test_name_and_article_narrow_the_search(client, ids) -> None:
    both = _matches(_find(client, text="Outstanding for whom? A copy of the words"))
    assert len(both) >= 1
    only_here = _find(client, text=REMOVED, url=URL + "#comments")
    assert _matches(only_here) == [ids["sarah"]]
    assert "Only in" in find_first(only_here, ".scope").text()
    by_name = _find(client, text=REMOVED, author="Sarah T")
    assert _matches(by_name)[0] == ids["sarah"]
    wrong_name = _find(client, text=REMOVED, author="Somebody Else")
    assert _matches(wrong_name)[0] == ids["sarah"]
    assert "No close comment has that name" in wrong_name.text()
    unwatched = _find(client, text=REMOVED, url="https://unknown.example/")
    assert _matches(unwatched)[0] == ids["sarah"]
    assert "does not watch that article" in unwatched.text()


def test_input_caps_are_clear_errors(client, ids) -> None:
    assert find_first(_find(client), "textarea#text") is not None      # the empty form
    too_long = _find(client, 400, text="word " * (MAX_TEXT_CHARS // 5 + 1))
    assert f"paste at most {MAX_TEXT_CHARS:,}" in find_first(too_long, "[role=alert]").text()
    too_short = _find(client, 400, text="removed, why")
    assert "at least 3 words" in find_first(too_short, "[role=alert]").text()
    assert "longer than 200" in _find(client, 400, text=REMOVED, author="x" * 201).text()


def test_the_api_answers_the_same(client, ids) -> None:
    for variant in VARIANTS.values():
        body = client.get("/api/v1/find", query_string={"text": variant}).get_json()
        first = body["matches"][0]
        assert first["comment"]["archive_id"] == ids["sarah"]
        assert first["comment"]["status"] == "removed"
        assert first["comment"]["removed_after"] == "2018-04-01T12:00:00Z"
        assert first["comment"]["removed_before"] == "2018-04-01T13:00:00Z"
        assert first["history"] == f"http://localhost/comments/{ids['sarah']}"
        assert 0.5 <= first["similarity"] <= 1
    nothing = client.get("/api/v1/find", query_string={"text": UNRELATED}).get_json()
    assert nothing["matches"] == [] and nothing["compared"] >= 0 and nothing["threshold"] == 0.5
    scoped = client.get("/api/v1/find", query_string={"text": REMOVED, "url": URL}).get_json()
    assert scoped["thread_id"] == ids["thread"]
    secret = client.get("/api/v1/find", query_string={"text": SECRET}).get_json()
    assert ids["jo"] not in [m["comment"]["archive_id"] for m in secret["matches"]]
    for args, message in (({}, "text is required"),
                          ({"text": "x " * MAX_TEXT_CHARS}, "paste at most"),
                          ({"text": "two words"}, "at least 3 words"),
                          ({"text": "a\x07b c d"}, "control characters"),
                          ({"text": REMOVED, "author": "x" * 201}, "author must be")):
        response = client.get("/api/v1/find", query_string=args)
        assert response.status_code == 400, args
        assert message in response.get_json()["error"]


@pytest.mark.parametrize("engine", ["whoosh", "database", "tantivy"])
def test_every_search_engine_gives_the_candidates(tmp_path, sqlite_template, engine) -> None:
    """The finder only uses the search layer's query language, so each engine must do."""
    data_dir = tmp_path / "instance"
    data_dir.mkdir()
    shutil.copy(sqlite_template, data_dir / "archive.db")
    app = create_app(config.TestConfig(DATA_DIR=str(data_dir), SEARCH_BACKEND=engine))
    try:
        found = _build(app)
        client = app.test_client()
        for variant in VARIANTS.values():
            assert _matches(_find(client, text=variant))[0] == found["sarah"], variant
        assert _matches(_find(client, text=UNRELATED)) == []
    finally:
        archive_context(app).close()
