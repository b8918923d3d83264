"""Text to search tokens: the one tokenizer every engine and the highlighter share.

Every engine is fed tokens this module made (lower-case letters and digits,
accents removed, separated by single spaces), and every query word goes
through the same function, so the engines never disagree about what a word
is: no stop words, no engine-specific splitting or stemming rules.

Stemming is done here too, by one English (Snowball "Porter2") stemmer for
every engine: a document also carries, as extra tokens, the stems of its words
that stemming changes, each behind STEM_MARK ("moderated" adds "\ue000moder").
The mark is a private-use character, which no word can contain, so a stem
token never equals a word, never starts a prefix match and never sits inside
a phrase of words.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache

# Longer "words" are base64 blobs, URLs run together or keyboard mashing:
# they are not indexed (and a query for one is refused).
MAX_TOKEN_CHARS = 64

# Marks a stem token in an index (see above): category Co, never a token character.
STEM_MARK = "\ue000"
# Distinct words whose stems are remembered: an archive's vocabulary is mostly
# far smaller, and stemming a word costs ~25 us in pure Python.
STEM_CACHE_WORDS = 500_000

_ASCII_TOKEN = re.compile(r"[a-z0-9]+")
_ASCII_SPAN = re.compile(r"[A-Za-z0-9]+")


def _is_token_char(ch: str) -> bool:
    # Letters and digits, plus spacing marks (Devanagari vowel signs and the
    # like) which belong inside words although str.isalnum() says otherwise.
    return ch.isalnum() or unicodedata.category(ch) == "Mc"


def _fold(span: str) -> list[str]:
    """Case-fold a non-ASCII span, drop its accents, and split what is left."""
    decomposed = unicodedata.normalize("NFKD", span.casefold())
    kept = "".join(ch if unicodedata.category(ch) not in ("Mn", "Me") else "" for ch in decomposed)
    kept = unicodedata.normalize("NFC", kept)
    words: list[str] = []
    current: list[str] = []
    for ch in kept:
        if _is_token_char(ch):
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def _raw_spans(text: str) -> Iterator[tuple[int, int]]:
    """Runs of word characters (including the accents inside them)."""
    start = -1
    for i, ch in enumerate(text):
        inside = _is_token_char(ch) or (start >= 0 and unicodedata.category(ch) in ("Mn", "Me"))
        if inside and start < 0:
            start = i
        elif not inside and start >= 0:
            yield start, i
            start = -1
    if start >= 0:
        yield start, len(text)


def token_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, token) for every token, with its place in `text`.

    A span can give more than one token (a ligature or a fraction folds into
    several); each then carries the whole span.
    """
    if text.isascii():
        for match in _ASCII_SPAN.finditer(text):
            token = match.group().lower()
            if len(token) <= MAX_TOKEN_CHARS:
                yield match.start(), match.end(), token
        return
    for start, end in _raw_spans(text):
        for token in _fold(text[start:end]):
            if len(token) <= MAX_TOKEN_CHARS:
                yield start, end, token


def tokenize(text: str) -> list[str]:
    """The tokens of `text`, in order."""
    if text.isascii():
        return [t for t in _ASCII_TOKEN.findall(text.lower()) if len(t) <= MAX_TOKEN_CHARS]
    return [token for _start, _end, token in token_spans(text)]


@lru_cache(maxsize=STEM_CACHE_WORDS)
def stem(token: str) -> str:
    """The English stem of a token ("moderation", "moderated" -> "moder")."""
    # Imported on first use: the package loads 30 languages (60 ms), which a
    # command that never searches or indexes need not pay for.
    from snowballstemmer import EnglishStemmer

    # A new stemmer each time: a stemmer object is not safe to share between
    # threads, and making one is cheap next to the stemming (done once a word).
    return str(EnglishStemmer().stemWord(token))


def stem_tokens(tokens: Iterable[str]) -> tuple[str, ...]:
    """The marked stems of `tokens` that differ from their word, each once, in order.

    A word whose stem is itself needs none: a search for any form of it
    matches the word itself (see query.Leaf.terms).
    """
    # C-level loops over cached lookups: this runs for every comment a rebuild indexes.
    return tuple(dict.fromkeys(filter(None, map(_marked_stem, dict.fromkeys(tokens)))))


@lru_cache(maxsize=STEM_CACHE_WORDS)
def _marked_stem(token: str) -> str:
    """The token's marked stem, or "" when stemming leaves it as it is."""
    root = stem(token)
    return "" if root == token else STEM_MARK + root
