"""The pure parts of search: tokenizer, query language, snippets, plans and cursors."""
from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from archive.search import SearchQuery, SearchQueryError
from archive.search import cursor as cursors
from archive.search.highlight import best_version, highlight
from archive.search.plan import make_plan
from archive.search.query import And, Leaf, Not, Or, parse, positive_leaves
from archive.search.tokens import MAX_TOKEN_CHARS, STEM_MARK, stem, stem_tokens, token_spans, tokenize

SECRET = "test-secret"


def word(text: str, field: str | None = None, prefix: bool = False) -> Leaf:
    """A leaf as the parser makes it from unquoted text: one plain word in the
    text or a title also matches its stem."""
    words = tuple(text.split())
    stemmed = len(words) == 1 and not prefix and field in (None, "title")
    return Leaf(field, words, prefix, stem(words[0]) if stemmed else None)


def exact(text: str, field: str | None = None) -> Leaf:
    """A quoted word or phrase: never stemmed."""
    return Leaf(field, tuple(text.split()))


@pytest.mark.parametrize("text, tokens", [
    ("Moderated OUT, twice!", ["moderated", "out", "twice"]),
    ("Café crème brûlée", ["cafe", "creme", "brulee"]),
    ("e\u0301cole", ["ecole"]),                       # decomposed accent
    ("Straße", ["strasse"]),
    ("Don't", ["don", "t"]),
    ("snake_case", ["snake", "case"]),
    ("Москва 2018", ["москва", "2018"]),
    ("ﬁne", ["fine"]),                                 # ligature
    ("a" * (MAX_TOKEN_CHARS + 1) + " kept", ["kept"]),  # over-long tokens are dropped
    ("<script>alert(1)</script>", ["script", "alert", "1", "script"]),
])
def test_tokenize(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens
    assert [token for _s, _e, token in token_spans(text)] == tokens


def test_token_spans_point_into_the_original_text() -> None:
    text = "Le café, c'est Cafcass."
    assert [(text[s:e], token) for s, e, token in token_spans(text)] == [
        ("Le", "le"), ("café", "cafe"), ("c", "c"), ("est", "est"), ("Cafcass", "cafcass")]


@pytest.mark.parametrize("text, tree", [
    ("cafcass", word("cafcass")),
    ("cafcass ofsted", And((word("cafcass"), word("ofsted")))),
    ("cafcass AND ofsted", And((word("cafcass"), word("ofsted")))),
    ('"moderated out"', word("moderated out")),
    ("cafcass OR ofsted", Or((word("cafcass"), word("ofsted")))),
    ("a b OR c", Or((And((word("a"), word("b"))), word("c")))),
    ("cafcass NOT ofsted", And((word("cafcass"), Not(word("ofsted"))))),
    ("cafcass -ofsted", And((word("cafcass"), Not(word("ofsted"))))),
    ("(a OR b) -c", And((Or((word("a"), word("b"))), Not(word("c"))))),
    ("moder*", word("moder", prefix=True)),
    ("author:smith", word("smith", "author")),
    ('author:"Jane Doe"', word("jane doe", "author")),
    ("AUTHOR:Smith*", word("smith", "author", prefix=True)),
    ("site:communitycare.co.uk", word("communitycare co uk", "site")),
    ("title:ofsted", word("ofsted", "title")),
    ('"ofsted"', exact("ofsted")),                 # quoted: exact
    ('title:"ofsted"', exact("ofsted", "title")),
    ("author:smiths", exact("smiths", "author")),  # names are not stemmed
    ("don't", word("don t")),                      # split words are phrases
    ("unknown:field", word("unknown field")),      # not a field: just words
    ("and or not", And((word("and"), word("or"), word("not")))),  # operators only in capitals
    ("cafcass & ofsted", And((word("cafcass"), word("ofsted")))),  # punctuation alone is ignored
    ("a - b", And((word("a"), word("b")))),
    ("((a))", word("a")),
])
def test_parse(text: str, tree: object) -> None:
    assert parse(text) == tree


@pytest.mark.parametrize("text, message", [
    ("", "type some words"),
    ("   ", "type some words"),
    ("&& !!", "letters or digits"),
    ('"moderated out', "unbalanced quote"),
    ('a "b" "c', "unbalanced quote"),
    ("(a OR b", "unbalanced parenthesis"),
    ("a)", "unbalanced parenthesis"),
    ("()", "empty parentheses"),
    ("NOT", "NOT needs a word"),
    ("NOT cafcass", "NOT must be combined"),
    ("-cafcass", "NOT must be combined"),
    ("a OR -b", "NOT must be combined"),
    ("-a -b", "NOT must be combined"),
    ("NOT NOT a", "NOT must be combined"),
    ("cafcass NOT", "NOT needs a word"),
    ("a AND", "AND needs a word"),
    ("AND a", "AND needs a word"),
    ("a OR", "OR needs a word"),
    ("OR a", "OR needs a word"),
    ("author:", "author: needs a value"),
    ("author: smith", "author: needs a value"),
    ("site:!!", "site: needs a value"),
    ("m*", "prefix search needs one word of at least 2"),
    ("*", "type some words"),
    ("foo-bar*", "prefix search needs one word"),
    ("x" * 2000, "query too long"),
    ("a" * (MAX_TOKEN_CHARS + 1), "longer than"),
    (" ".join(f"w{i}" for i in range(40)), "too many words"),
    ("(" * 12 + "a" + ")" * 12, "nested parentheses"),
])
def test_malformed_queries_get_a_one_line_reason(text: str, message: str) -> None:
    with pytest.raises(SearchQueryError) as caught:
        parse(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_stems() -> None:
    assert [stem(w) for w in ("moderation", "moderated", "moderate", "courts", "dying")] == [
        "moder", "moder", "moder", "court", "die"]
    # Documents carry the stems that differ from their word, marked, once each.
    assert stem_tokens(["moderated", "out", "moderation", "court"]) == (STEM_MARK + "moder",)
    assert parse("moderation") == Leaf(None, ("moderation",), stem="moder")
    assert parse("moderation").terms == ("moder", STEM_MARK + "moder")  # type: ignore[union-attr]
    # No word can hold the mark, so no query reaches a stem token except through a stemmed leaf.
    assert tokenize(f"x{STEM_MARK}moder") == ["x", "moder"]


def test_highlight_marks_every_form_of_a_stemmed_word_and_only_exact_phrases() -> None:
    text = "Moderation? It was moderated out, modern moderators moderate."
    stemmed = highlight(text, positive_leaves(parse("moderation")))
    assert stemmed == ("<mark>Moderation</mark>? It was <mark>moderated</mark> out, modern "
                       "<mark>moderators</mark> <mark>moderate</mark>.")
    assert highlight(text, positive_leaves(parse('"moderation"'))) == (
        "<mark>Moderation</mark>? It was moderated out, modern moderators moderate.")


def test_positive_leaves_skip_negations() -> None:
    assert positive_leaves(parse("(a OR b) c -d author:e")) == [
        word("a"), word("b"), word("c"), word("e", "author")]


def test_highlight_escapes_hostile_text_and_marks_matches() -> None:
    text = "<script>alert('x')</script> Comments were moderated out & removed"
    snippet = highlight(text, positive_leaves(parse('script OR "moderated out" OR remov*')))
    assert "<script" not in snippet
    assert snippet == ("&lt;<mark>script</mark>&gt;alert(&#x27;x&#x27;)&lt;/<mark>script</mark>&gt; "
                       "Comments were <mark>moderated</mark> <mark>out</mark> &amp; <mark>removed</mark>")


def test_highlight_marks_phrases_only_where_the_whole_phrase_is() -> None:
    snippet = highlight("out of moderated time, moderated out", positive_leaves(parse('"moderated out"')))
    assert snippet == "out of moderated time, <mark>moderated</mark> <mark>out</mark>"


def test_highlight_marks_accented_words_found_without_accents() -> None:
    assert highlight("Un café noir", positive_leaves(parse("cafe"))) == "Un <mark>café</mark> noir"


def test_highlight_cuts_long_texts_around_the_first_match() -> None:
    text = " ".join(f"word{i}" for i in range(300)) + " needle " + " ".join("tail" for _ in range(100))
    snippet = highlight(text, positive_leaves(parse("needle")))
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<mark>needle</mark>" in snippet
    assert len(snippet) < 400


def test_highlight_without_text_matches_shows_the_start() -> None:
    assert highlight("a <b> comment", positive_leaves(parse("author:smith"))) == "a &lt;b&gt; comment"


def test_best_version_prefers_the_newest_matching_version() -> None:
    leaves = positive_leaves(parse("union"))
    assert best_version(["pay freeze", "the union acts", "final words"], leaves) == "the union acts"
    assert best_version(["pay freeze", "final words"], leaves) == "final words"
    assert best_version([], leaves) == ""


def test_plan_checks_filters() -> None:
    for query, message in [
        (SearchQuery(text="a", status="deleted"), "unknown status"),
        (SearchQuery(text="a", sort="random"), "unknown sort"),
        (SearchQuery(text="a", per_page=0), "per page"),
        (SearchQuery(text="a", per_page=1000), "per page"),
        (SearchQuery(text="a", page=0), "page numbers start at 1"),
        (SearchQuery(text="a", page=10**7), "too far"),
        (SearchQuery(text="a", date_from=datetime(2020, 2, 1), date_to=datetime(2020, 1, 1)), "start date"),
        (SearchQuery(text="a", cursor="not-a-cursor!"), "out of date"),
    ]:
        with pytest.raises(SearchQueryError, match=message):
            make_plan(query, SECRET)


def test_plan_without_words_browses_by_its_filters() -> None:
    plan = make_plan(SearchQuery(status="removed"), SECRET)
    assert plan.expr is None and plan.leaves == []
    assert plan.sort == "newest"                    # nothing to rank by
    assert make_plan(SearchQuery(site="a.example", sort="oldest"), SECRET).sort == "oldest"
    for filtered in (SearchQuery(thread_id=3), SearchQuery(date_from=datetime(2020, 1, 1)),
                     SearchQuery(date_to=datetime(2020, 1, 1))):
        assert make_plan(filtered, SECRET).expr is None
    # Its "relevance" pages continue from a keyset cursor, like newest first.
    cursor = plan.cursor_after(20, (datetime(2020, 5, 1), 42))
    assert make_plan(SearchQuery(status="removed", cursor=cursor), SECRET).after == (datetime(2020, 5, 1), 42)
    with pytest.raises(SearchQueryError, match="out of date"):
        make_plan(SearchQuery(status="missing", cursor=cursor), SECRET)


def test_plan_without_words_or_filters_is_refused() -> None:
    for query in (SearchQuery(), SearchQuery(text=" ", site="", sort="newest")):
        with pytest.raises(SearchQueryError) as caught:
            make_plan(query, SECRET)
        assert "type some words to search for, or choose a status" in str(caught.value)
        assert "\n" not in str(caught.value)


def test_plan_turns_aware_dates_into_naive_utc() -> None:
    plan = make_plan(SearchQuery(text="a", date_from=datetime(2020, 1, 1, 12, tzinfo=UTC)), SECRET)
    assert plan.date_from == datetime(2020, 1, 1, 12)


def test_cursors_carry_the_position_and_belong_to_one_search() -> None:
    newest = make_plan(SearchQuery(text="a", sort="newest", per_page=10), SECRET)
    cursor = newest.cursor_after(10, (datetime(2020, 5, 1, 9, 30), 42))
    assert make_plan(SearchQuery(text="a", sort="newest", per_page=10, cursor=cursor), SECRET).after == (
        datetime(2020, 5, 1, 9, 30), 42)
    relevance = make_plan(SearchQuery(text="a", per_page=10), SECRET)
    offset_cursor = relevance.cursor_after(30, (datetime(2020, 1, 1), 7))
    assert make_plan(SearchQuery(text="a", per_page=10, cursor=offset_cursor), SECRET).offset == 30
    # A cursor of another search (other words, filter, sort or page size) is refused.
    for other in (SearchQuery(text="b", sort="newest", per_page=10, cursor=cursor),
                  SearchQuery(text="a", sort="newest", per_page=10, status="removed", cursor=cursor),
                  SearchQuery(text="a", sort="oldest", per_page=10, cursor=cursor),
                  SearchQuery(text="a", sort="newest", per_page=20, cursor=cursor)):
        with pytest.raises(SearchQueryError, match="out of date"):
            make_plan(other, SECRET)


def test_cursors_are_signed_with_the_archive_key() -> None:
    query = SearchQuery(text="a", sort="newest", per_page=10)
    cursor = make_plan(query, SECRET).cursor_after(10, (datetime(2020, 5, 1), 42))
    query.cursor = cursor
    with pytest.raises(SearchQueryError, match="out of date"):
        make_plan(query, "another archive's key")
    payload, mac = cursor.split(".")
    edited = base64.urlsafe_b64encode(b'{"t":"2020-05-01T00:00:00","i":43}').decode().rstrip("=")
    for forged in (f"{edited}.{mac}", payload, f"{payload}.", f"{payload}.{mac}x", f"{payload}.é"):
        query.cursor = forged
        with pytest.raises(SearchQueryError, match="out of date"):
            make_plan(query, SECRET)


@pytest.mark.parametrize("state, keyset", [
    ({"t": "2020-05-01T00:00:00+01:00", "i": 1}, True),   # aware: not comparable with sort times
    ({"t": "2020-05-01T00:00:00", "i": 10**30}, True),
    ({"t": "2020-05-01T00:00:00", "i": 0}, True),
    ({"t": "2020-05-01T00:00:00", "i": True}, True),
    ({"t": "2020-05-01T00:00:00", "i": "1"}, True),
    ({"t": 1588291200, "i": 1}, True),
    ({"t": "yesterday", "i": 1}, True),
    ({"t": "2020-05-01T00:00:00"}, True),
    ({"o": 10}, True),
    ({"o": -1}, False),
    ({"o": 1.5}, False),
    ({"o": False}, False),
    ({"o": 10, "x": 1}, False),
    ([10], False),
])
def test_signed_cursors_with_bad_fields_are_refused(state, keyset) -> None:
    payload = base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")
    scope = "scope"
    signed = f"{payload}.{cursors._mac(SECRET, scope, payload)}"
    with pytest.raises(SearchQueryError, match="out of date"):
        cursors.read(SECRET, scope, signed, keyset)
