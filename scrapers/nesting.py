"""How deep hostile HTML nests, measured in one linear pass before any parser sees it.

An HTML tree builder (lexbor's in selectolax, html5ever's in nh3) checks the
stack of open elements for most tags it reads ("is a <p> open in button
scope?", "is an <li> open?"), so its time grows with the square of the
nesting depth: 100,000 nested <div>s took 26 s to parse, a million would take
most of an hour (bench/deep_html_bench.py). Browsers cap the depth too
(Chromium's parser nests nothing deeper than 512).

`refusal` reads a text's tags once with a model of the tree builder's stack
(scrapers/tree_builder.py: it may count deeper than a parser builds, never much
shallower, at O(1) a tag) and says why a parser must not read it.

`parse_html` is the one way adapters parse a page: a page nested deeper than
MAX_DEPTH, or making the builder re-open more than MAX_REOPENED formatting
elements, raises `TooDeep`, which `Adapter.parse` reports as an unrecognised
page (never a removal). `flat_text` is a comment body's words read with no tree
at all, for the text rules and the sanitiser to fall back on.
"""
from __future__ import annotations

import html

from selectolax.lexbor import LexborHTMLParser

from scrapers.tree_builder import RAW_TEXT, BuilderStack, scan

MAX_DEPTH = 512
# Formatting elements left open are re-opened in every block that follows: 250 of them
# before 40,000 paragraphs made lexbor build 10 million elements (3.6 GB) from 160 KB.
# A sloppy ordinary page re-opens one or two per block, tens of thousands in all.
MAX_REOPENED = 200_000
# Deeper than this a page is not counted on: the count would only cost memory.
COUNTED_DEPTH = 100 * MAX_DEPTH
# flat_text: what ends a line (fragment_text's blocks, and <br>).
LINE_TAGS = frozenset(("br", "p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5",
                       "h6", "tr", "ul", "ol", "table", "figure", "hr"))


class TooDeep(Exception):
    """HTML nested deeper than the archive reads; the message is the one-line reason. Not a
    ValueError, which adapters catch for their own reasons: `Adapter.parse` reports it."""


def parse_html(text: str, limit: int = MAX_DEPTH) -> LexborHTMLParser:
    """A page's tree, or TooDeep when the page nests so deep that parsing it would take minutes."""
    reason = refusal(text, limit)
    if reason:
        raise TooDeep(reason)
    return LexborHTMLParser(text)


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    return refusal(text, limit) is not None


def refusal(text: str, limit: int = MAX_DEPTH) -> str | None:
    """Why a tree builder must not read `text` (one line), or None when it may."""
    tags = text.count("<")
    if tags * 2 <= limit:   # each tag adds at most 2: an element, and a formatting one to re-open
        return None
    stack = BuilderStack(text, COUNTED_DEPTH, MAX_REOPENED)
    if stack.reopened > MAX_REOPENED:
        return (f"re-opens unclosed formatting elements more than {MAX_REOPENED:,} times: "
                "more than the archive reads")
    if stack.deepest > limit:
        depth = f"over {COUNTED_DEPTH:,}" if stack.deepest > COUNTED_DEPTH else f"{stack.deepest:,}"
        return f"nested {depth} levels deep: more than the {limit} the archive reads"
    return None


def nesting_depth(text: str) -> int:
    """The deepest the tree builder's stack of open elements (plus the formatting elements
    it would re-open) can get reading `text`, so far as it was read (see COUNTED_DEPTH and
    MAX_REOPENED)."""
    return BuilderStack(text, COUNTED_DEPTH, MAX_REOPENED).deepest


def flat_text(text: str) -> str:
    """A body's words read with no tree, in linear time: tags dropped, a line break at <br>
    and at each block's start and end, raw text (<script>, <style>, <textarea>...),
    <noscript> and <template> dropped with their content, character references decoded."""
    parts: list[str] = []
    hidden = 0

    def on_text(chunk: str) -> None:
        if not hidden:
            parts.append(chunk)

    def on_tag(closing: bool, name: str, attrs: str, after_text: bool) -> bool:
        nonlocal hidden
        if name in ("noscript", "template"):
            hidden = max(0, hidden - 1) if closing else hidden + 1
        if name in LINE_TAGS:
            parts.append("\n")
        return not closing and (name in RAW_TEXT or name == "plaintext")

    scan(text, on_tag, on_text)
    return html.unescape("".join(parts))
