"""Highlighted snippets: escaped plain text with <mark> around the matches (pure).

The snippet is made here from the comment's plain text, never from an
engine's highlighter and never from the page's HTML, so it looks the same
whatever engine found the comment and it is always safe to render.
"""
from __future__ import annotations

from collections.abc import Sequence
from html import escape

from archive.search.query import Leaf
from archive.search.tokens import stem, token_spans

SNIPPET_CHARS = 300
# Characters of context shown before the first match.
LEAD_CHARS = 80


def matched_spans(text: str, leaves: Sequence[Leaf]) -> list[tuple[int, int]]:
    """Character spans of `text` that the body leaves of a query match."""
    leaves = [leaf for leaf in leaves if leaf.field is None]
    if not leaves:
        return []
    spans = list(token_spans(text))
    tokens = [token for _s, _e, token in spans]
    marked: set[int] = set()
    for leaf in leaves:
        size = len(leaf.words)
        for i in range(len(tokens) - size + 1):
            if size == 1 and leaf.prefix:
                hit = tokens[i].startswith(leaf.words[0])
            elif leaf.stem is not None:
                hit = tokens[i] == leaf.stem or stem(tokens[i]) == leaf.stem
            else:
                hit = tuple(tokens[i:i + size]) == leaf.words
            if hit:
                marked.update(range(i, i + size))
    return sorted({(spans[i][0], spans[i][1]) for i in marked})


def _window(text: str, first: int | None) -> tuple[int, int]:
    if len(text) <= SNIPPET_CHARS:
        return 0, len(text)
    start = 0 if first is None else max(0, first - LEAD_CHARS)
    if start:
        # Start at a word boundary rather than in the middle of a word.
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < (first or 0) else start
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    return start, end


def highlight(text: str, leaves: Sequence[Leaf]) -> str:
    """A snippet of `text` around its first match, escaped, matches in <mark>."""
    spans = matched_spans(text, leaves)
    start, end = _window(text, spans[0][0] if spans else None)
    out: list[str] = ["…"] if start > 0 else []
    pos = start
    for s, e in spans:
        if s < start or e > end:
            continue
        out.append(escape(text[pos:s]))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        pos = e
    out.append(escape(text[pos:end]))
    if end < len(text):
        out.append("…")
    return "".join(out)


def best_version(texts: Sequence[str], leaves: Sequence[Leaf]) -> str:
    """The newest version with a match, else the newest version (texts oldest first)."""
    for text in reversed(texts if len(texts) > 1 else ()):
        if matched_spans(text, leaves):
            return text
    return texts[-1] if texts else ""
