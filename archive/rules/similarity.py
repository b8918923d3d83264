"""How close a reader's remembered text is to an archived comment (pure, no I/O).

"Find my comment" compares what a reader pastes with archived texts. People
remember their words imperfectly: typos, sentences in another order, a word
changed, a sentence left out. Character trigrams of the normalised words
survive all of these: a typo spoils only the few trigrams around it, and
the order of sentences barely matters to a set of trigrams. The score is the
Dice coefficient of the two trigram sets, 0 (nothing shared) to 1 (same words).

`search_words` and `search_pairs` pick what to look candidates up by in the
full-text index: the likely rarest words (no common English words, longest
first), since a rare word the reader got right narrows the search most, and
pairs of neighbouring words spread over the text, since a pair the reader
kept is rarer still than its words (short comments of common words need it).
"""
from __future__ import annotations

import re
import unicodedata

# At or above: "close" enough to show. Unrelated English texts share common
# trigrams ("the", "ing") and score about 0.1-0.3; a comment missing one of
# three sentences still scores about 0.8.
THRESHOLD = 0.5
# At or above: almost certainly the same text.
VERY_CLOSE = 0.8
# Longer archived texts are compared on their start only: the work per
# candidate stays bounded whatever a page served.
MAX_COMPARED_CHARS = 20_000

_WORD = re.compile(r"[^\W_]+")
# Common English words: in nearly every comment, so useless for finding one.
COMMON_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each even ever every few for
from further get got had has have having he her here hers herself him himself his how i if in
into is it its itself just like made make many may me more most much must my myself no nor not
now of off on once one only or other our ours ourselves out over own people really said same say
see she should so some still such than that the their theirs them themselves then there these
they this those through to too under until up us very was way we well were what when where which
while who whom why will with would yes yet you your yours yourself yourselves
""".split())


def words(text: str) -> list[str]:
    """Lower-case words without accents: what both sides are compared on."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in folded if unicodedata.category(ch) not in ("Mn", "Me"))
    return _WORD.findall(plain)


def trigrams(text: str) -> frozenset[str]:
    """Character trigrams of the normalised words, with word edges marked by spaces."""
    joined = " " + " ".join(words(text[:MAX_COMPARED_CHARS])) + " "
    return frozenset(joined[i:i + 3] for i in range(len(joined) - 2))


def similarity(wanted: frozenset[str], archived: frozenset[str]) -> float:
    """Dice coefficient of two trigram sets (see `trigrams`)."""
    if not wanted or not archived:
        return 0.0
    return 2 * len(wanted & archived) / (len(wanted) + len(archived))


def best_similarity(wanted: frozenset[str], versions: list[str]) -> float:
    """The score of a comment: its closest version (a reader may remember any of them)."""
    return max((similarity(wanted, trigrams(text)) for text in versions), default=0.0)


def search_words(text: str, limit: int, max_chars: int = 64) -> list[str]:
    """Up to `limit` distinct words to look the text up by, likely rarest first.

    Common words are left out unless nothing else is left; one-letter words
    and words longer than `max_chars` (which an index does not keep) never
    count. Longer words first: in any language's texts they are rarer.
    """
    found = list(dict.fromkeys(w for w in words(text) if 2 <= len(w) <= max_chars))
    rare = [w for w in found if w not in COMMON_WORDS] or found
    return sorted(rare, key=lambda w: (-len(w), found.index(w)))[:limit]


def search_pairs(text: str, limit: int, max_chars: int = 64) -> list[tuple[str, str]]:
    """Up to `limit` distinct pairs of neighbouring words, spread evenly over the text.

    Pairs with a rare word come first; pairs of two common words ("to be")
    only fill what is left, for texts made mostly of them. A one-letter word
    or one longer than `max_chars` makes no pair.
    """
    found = words(text)
    pairs = list(dict.fromkeys(
        (a, b) for a, b in zip(found, found[1:])
        if 2 <= len(a) <= max_chars and 2 <= len(b) <= max_chars))
    rare = [p for p in pairs if not (p[0] in COMMON_WORDS and p[1] in COMMON_WORDS)]
    chosen = _spread(rare, limit)
    return chosen + _spread([p for p in pairs if p not in rare], limit - len(chosen))


def _spread(items: list[tuple[str, str]], limit: int) -> list[tuple[str, str]]:
    if len(items) <= limit:
        return items
    if limit <= 0:
        return []
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]
