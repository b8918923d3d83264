"""Text to search tokens: the one tokenizer every engine and the highlighter share.

Every engine is fed tokens this module made (lower-case letters and digits,
accents removed, separated by single spaces), and every query word goes
through the same function, so the engines never disagree about what a word
is: no stemming, no stop words, no engine-specific splitting rules.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

# Longer "words" are base64 blobs, URLs run together or keyboard mashing:
# they are not indexed (and a query for one is refused).
MAX_TOKEN_CHARS = 64

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
