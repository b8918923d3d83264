"""The archive's query language, parsed into a small tree (pure, no I/O).

    cafcass ofsted              both words (AND is implied)
    "moderated out"             an exact phrase
    cafcass OR ofsted           either word
    cafcass NOT ofsted          (also `cafcass -ofsted`) the first without the second
    moder*                      words starting with "moder" (two letters at least)
    author:smith  author:"jane doe"  site:communitycare  title:ofsted
    (a OR b) c                  parentheses group

AND, OR and NOT are operators only in capitals; `and`, `or`, `not` are words.
A plain word searches the comment text (every version) and the thread title.
A word that the tokenizer splits (`don't`, `co.uk`) is searched as a phrase.
A plain word in the text or a title (not in a phrase, not a prefix, not an
author or site) also finds the other forms of its English stem:
`moderation` finds "moderated"; comments with the word as typed rank first.
NOT must sit beside a word to search for: `NOT a` alone, `a OR -b` are refused,
because "everything except" is not a search.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TypeAlias

from archive.search.tokens import MAX_TOKEN_CHARS, STEM_MARK, stem, tokenize
from archive.search.types import SearchQueryError

MAX_QUERY_CHARS = 500
MAX_WORDS = 32
MAX_DEPTH = 8
MIN_PREFIX_CHARS = 2
FIELDS = ("author", "site", "title")
# Fields whose plain words also match their stems (names are not stemmed).
STEMMED_FIELDS = (None, "title")
OPERATORS = ("AND", "OR", "NOT")


@dataclass(frozen=True)
class Leaf:
    """Words to find in one field (None: comment text and thread title).

    One word is a term, several a phrase; `prefix` makes a single word a
    prefix. `stem`: the word's stem when any word of that stem matches.
    """
    field: str | None
    words: tuple[str, ...]
    prefix: bool = False
    stem: str | None = None

    @property
    def terms(self) -> tuple[str, ...]:
        """Index terms any one of which matches a stemmed leaf: the stem as a
        word, and the marked stem that documents carry for words whose stem
        differs from the word (archive/search/tokens.py)."""
        assert self.stem is not None
        return (self.stem, STEM_MARK + self.stem)


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node: TypeAlias = Leaf | And | Or | Not


@dataclass(frozen=True)
class _Tok:
    kind: str  # word, phrase, op, open, close, minus
    value: str = ""
    field: str | None = None


def _lex(text: str) -> Iterator[_Tok]:
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "(":
            yield _Tok("open")
            i += 1
        elif ch == ")":
            yield _Tok("close")
            i += 1
        elif ch == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise SearchQueryError('unbalanced quote: close the phrase with another "')
            yield _Tok("phrase", text[i + 1:end])
            i = end + 1
        elif ch == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] not in "-)":
            yield _Tok("minus")
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '()"':
                j += 1
            yield from _word(text[i:j], text[j:j + 1] == '"')
            i = j


def _word(raw: str, phrase_follows: bool) -> Iterator[_Tok]:
    if raw in OPERATORS:
        yield _Tok("op", raw)
        return
    name, colon, value = raw.partition(":")
    if colon and name.lower() in FIELDS:
        field = name.lower()
        if value:
            yield _Tok("word", value, field)
        elif phrase_follows:
            yield _Tok("field", field=field)
        else:
            raise SearchQueryError(f'{field}: needs a value, e.g. {field}:smith or {field}:"jane doe"')
        return
    yield _Tok("word", raw)


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = list(_lex(text))
        self.pos = 0
        self.words = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def is_op(self, name: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "op" and tok.value == name

    def parse(self) -> Node | None:
        node = self.or_expr(0)
        if self.peek() is not None:
            # Only a stray ")" can stop or_expr early.
            raise SearchQueryError("unbalanced parenthesis: a ) has no matching (")
        return node

    def or_expr(self, depth: int) -> Node | None:
        items = [self.and_expr(depth)]
        while self.is_op("OR"):
            self.take()
            items.append(self.and_expr(depth))
        if len(items) > 1 and any(item is None for item in items):
            raise SearchQueryError("OR needs a word to search for on both sides")
        return _join(Or, [item for item in items if item is not None])

    def and_expr(self, depth: int) -> Node | None:
        items: list[Node] = []
        while True:
            tok = self.peek()
            if tok is None or tok.kind == "close" or self.is_op("OR"):
                break
            if self.is_op("AND"):
                self.take()
                if not items or self._at_end_of_group():
                    raise SearchQueryError("AND needs a word to search for on both sides")
                continue
            item = self.unary(depth)
            if item is not None:
                items.append(item)
        return _join(And, items)

    def _at_end_of_group(self) -> bool:
        tok = self.peek()
        return tok is None or tok.kind == "close" or self.is_op("OR") or self.is_op("AND")

    def unary(self, depth: int) -> Node | None:
        tok = self.peek()
        assert tok is not None
        if tok.kind == "op" and tok.value == "NOT" or tok.kind == "minus":
            self.take()
            if self._at_end_of_group():
                raise SearchQueryError("NOT needs a word after it, e.g. cafcass NOT ofsted")
            item = self.unary(depth)
            if item is None:
                raise SearchQueryError("NOT needs a word after it, e.g. cafcass NOT ofsted")
            return Not(item)
        return self.atom(depth)

    def atom(self, depth: int) -> Node | None:
        tok = self.take()
        if tok.kind == "open":
            if depth >= MAX_DEPTH:
                raise SearchQueryError(f"too many nested parentheses (at most {MAX_DEPTH})")
            node = self.or_expr(depth + 1)
            closing = self.peek()
            if closing is None or closing.kind != "close":
                raise SearchQueryError("unbalanced parenthesis: a ( has no matching )")
            self.take()
            if node is None:
                raise SearchQueryError("empty parentheses: put words to search for inside")
            return node
        if tok.kind == "field":
            # `author:"jane doe"`: the phrase right after the colon.
            phrase = self.take()
            return self.leaf(tok.field, phrase.value, quoted=True, label=f'{tok.field}:"{phrase.value}"')
        if tok.kind == "phrase":
            return self.leaf(None, tok.value, quoted=True, label=f'"{tok.value}"')
        if tok.kind == "word":
            label = f"{tok.field}:{tok.value}" if tok.field else tok.value
            return self.leaf(tok.field, tok.value, quoted=False, label=label)
        raise SearchQueryError(f"{tok.value or tok.kind} needs a word to search for on both sides")

    def leaf(self, field: str | None, raw: str, quoted: bool, label: str) -> Leaf | None:
        prefix = not quoted and raw.endswith("*")
        words = tuple(tokenize(raw.rstrip("*") if prefix else raw))
        if _has_long_run(raw):
            raise SearchQueryError(f"words longer than {MAX_TOKEN_CHARS} characters are not indexed")
        if not words:
            if field is not None:
                raise SearchQueryError(f"{field}: needs a value made of letters or digits")
            return None  # punctuation only, like "&": nothing to look for
        if prefix and (len(words) > 1 or len(words[0]) < MIN_PREFIX_CHARS):
            raise SearchQueryError(
                f"{label}: a prefix search needs one word of at least {MIN_PREFIX_CHARS} letters before *")
        self.words += len(words)
        if self.words > MAX_WORDS:
            raise SearchQueryError(f"too many words in the query (at most {MAX_WORDS})")
        stemmed = not quoted and not prefix and len(words) == 1 and field in STEMMED_FIELDS
        return Leaf(field, words, prefix, stem(words[0]) if stemmed else None)


def _has_long_run(raw: str) -> bool:
    # tokenize() silently drops over-long tokens; a query must say so instead.
    run = 0
    for ch in raw:
        run = run + 1 if ch.isalnum() else 0
        if run > MAX_TOKEN_CHARS:
            return True
    return False


def _join(kind: type[And] | type[Or], items: list[Node]) -> Node | None:
    flat: list[Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, kind) else (item,))
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


def _check_negations(node: Node, parent: Node | None) -> None:
    if isinstance(node, Not):
        beside_positive = isinstance(parent, And) and any(not isinstance(i, Not) for i in parent.items)
        if not beside_positive:
            raise SearchQueryError(
                "NOT must be combined with a word to search for, e.g. cafcass NOT ofsted")
        _check_negations(node.item, node)
    elif isinstance(node, (And, Or)):
        for item in node.items:
            _check_negations(item, node)


def parse(text: str) -> Node:
    """The query tree of `text`; SearchQueryError with a one-line reason otherwise."""
    if len(text) > MAX_QUERY_CHARS:
        raise SearchQueryError(f"query too long ({len(text)} characters; at most {MAX_QUERY_CHARS})")
    if not text.strip():
        raise SearchQueryError("type some words to search for")
    node = _Parser(text).parse()
    if node is None:
        raise SearchQueryError("type some words to search for (letters or digits)")
    _check_negations(node, None)
    return node


def positive_leaves(node: Node) -> list[Leaf]:
    """The leaves a result matched because of (not those under NOT)."""
    if isinstance(node, Leaf):
        return [node]
    if isinstance(node, Not):
        return []
    return [leaf for item in node.items for leaf in positive_leaves(item)]


def exact(node: Node) -> Node:
    """The tree with no stemming: every word as typed."""
    if isinstance(node, Leaf):
        return replace(node, stem=None)
    if isinstance(node, Not):
        return Not(exact(node.item))
    return type(node)(tuple(exact(item) for item in node.items))


def has_stems(node: Node) -> bool:
    if isinstance(node, Leaf):
        return node.stem is not None
    if isinstance(node, Not):
        return has_stems(node.item)
    return any(has_stems(item) for item in node.items)
