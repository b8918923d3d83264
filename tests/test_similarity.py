"""The pure similarity rules behind "Find my comment"."""
from __future__ import annotations

import random

from archive.rules.similarity import (
    COMMON_WORDS,
    THRESHOLD,
    VERY_CLOSE,
    best_similarity,
    search_pairs,
    search_words,
    similarity,
    trigrams,
    words,
)

ORIGINAL = ("Outstanding for whom? Our Cafcass officer met my daughter once, for twenty minutes, "
            "and wrote that she showed no wish to see her father. She had told us the opposite at "
            "home every week. Nobody listened to the child's views in our case.")
SENTENCES = ["Outstanding for whom?",
             "Our Cafcass officer met my daughter once, for twenty minutes, and wrote that she "
             "showed no wish to see her father.",
             "She had told us the opposite at home every week.",
             "Nobody listened to the child's views in our case."]


def _score(a: str, b: str) -> float:
    return similarity(trigrams(a), trigrams(b))


def test_same_words_score_one_whatever_the_case_accents_and_punctuation() -> None:
    assert _score(ORIGINAL, ORIGINAL) == 1.0
    assert _score(ORIGINAL, ORIGINAL.upper().replace(",", " ;")) == 1.0
    assert _score("Café déjà vu here", "cafe deja vu HERE") == 1.0
    assert words("Don’t SHOUT, café!") == ["don", "t", "shout", "cafe"]


def test_remembered_variants_stay_close() -> None:
    typos = ORIGINAL.replace("officer", "oficer").replace("daughter", "daugther") \
        .replace("listened", "listend").replace("opposite", "oposite")
    reordered = " ".join([SENTENCES[2], SENTENCES[0], SENTENCES[3], SENTENCES[1]])
    missing = " ".join(SENTENCES[:2] + SENTENCES[3:])
    changed = ORIGINAL.replace("daughter", "son").replace("week", "weekend")
    for variant in (typos, reordered, changed):
        assert _score(variant, ORIGINAL) >= VERY_CLOSE, variant
    assert _score(missing, ORIGINAL) >= THRESHOLD


def test_unrelated_texts_stay_below_the_threshold() -> None:
    rng = random.Random(7)
    vocabulary = words("the council approved a new budget for road repairs while residents asked "
                       "about parking fees and library hours in the spring consultation meeting")
    for _ in range(50):
        text = " ".join(rng.choice(vocabulary) for _ in range(40))
        assert _score(text, ORIGINAL) < THRESHOLD, text


def test_empty_texts_share_nothing_and_the_best_version_counts() -> None:
    assert similarity(frozenset(), trigrams(ORIGINAL)) == 0.0
    assert best_similarity(trigrams(ORIGINAL), []) == 0.0
    assert best_similarity(trigrams(ORIGINAL), ["something else entirely", ORIGINAL]) == 1.0


def test_search_words_prefer_rare_words_and_can_never_be_operators() -> None:
    # Longest first; among equals, the first in the text.
    assert search_words(ORIGINAL, 3) == ["outstanding", "daughter", "opposite"]
    # Nothing but letters and digits: no quotes, fields, prefixes or capital operators.
    picked = search_words('NOT "quoted" author:mallory prefix* (group) OR AND -minus', 20)
    assert picked == ["mallory", "quoted", "author", "prefix", "group", "minus"]
    assert search_words("it was the one that is", 5) == ["that", "was", "the", "one", "it"]
    assert search_words("a " + "x" * 65 + " b", 5) == []
    assert len(search_words(ORIGINAL, 4)) == 4


def test_search_pairs_are_neighbours_spread_over_the_text_rare_ones_first() -> None:
    # Only common words: their pairs still count (7 distinct here), spread out.
    assert search_pairs("to be or not to be, that is it", 3) == [("to", "be"), ("or", "not"),
                                                                 ("be", "that")]
    pairs = search_pairs(ORIGINAL, 4)
    assert len(pairs) == 4 and pairs[0] == ("outstanding", "for")
    text = words(ORIGINAL)
    assert all((a, b) in zip(text, text[1:]) for a, b in pairs)
    assert not any(a in COMMON_WORDS and b in COMMON_WORDS for a, b in pairs)
    # Spread: from the start of the text to near its end, not the first four.
    assert text.index(pairs[-1][0]) > len(text) // 2
    assert search_pairs("a b c", 3) == [] and search_pairs("one two three", 0) == []
