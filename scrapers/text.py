"""Text and date rules shared by the adapters: a comment body's HTML as a reader sees it.

All three must agree on a comment's text, or a comment read one way and then
another would look edited. `fragment_text` is the rule: the plain text of a
comment body's HTML as a reader sees it. `children_text` and `nodes_text` read
the same text off the nodes of a page already parsed, which saves parsing every
body a second time.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from selectolax.lexbor import LexborHTMLParser, LexborNode

BLOCK_TAGS = ("p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
              "ul", "ol", "table", "figure", "hr")
BLOCK_TAG_SET = frozenset(BLOCK_TAGS)
# Elements whose serialised HTML parses back into the very same tree in a
# comment body: a page's nodes made only of these read as their HTML would.
# Everything else (tables, forms, <pre>'s leading newline, svg/math, <noscript>,
# raw-text and head elements; headings, as misnested inline tags can leave one
# heading directly in another) can come back different, so its HTML is parsed again.
ROUND_TRIP_TAGS = frozenset((
    "a", "abbr", "acronym", "address", "article", "aside", "b", "bdi", "bdo", "big", "blockquote",
    "br", "center", "cite", "code", "data", "dd", "del", "dfn", "div", "dl", "dt", "em",
    "figcaption", "figure", "footer", "header", "hr", "i", "img", "ins", "kbd", "li", "main",
    "mark", "nav", "ol", "p", "q", "s", "samp", "section", "small", "span", "strike", "strong",
    "sub", "sup", "time", "tt", "u", "ul", "var", "wbr"))
TEXT_DATE_FORMATS = ("%B %d %Y %I:%M %p", "%B %d %Y %H:%M", "%d %B %Y %I:%M %p", "%d %B %Y %H:%M",
                     "%b %d %Y %I:%M %p", "%d %b %Y %H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M",
                     "%B %d %Y", "%d %B %Y", "%Y-%m-%d", "%d/%m/%Y")


def fragment_text(html: str) -> str:
    """Plain text of a comment body as a reader sees it: no markup, no script, one line per block."""
    tree = LexborHTMLParser(html)
    tree.strip_tags(["script", "style", "noscript", "template", "iframe"])
    body = tree.body
    if body is None:
        return ""
    for node in body.css("br"):
        node.replace_with("\n")
    for node in body.css(", ".join(BLOCK_TAGS)):
        node.insert_after("\n")
    return _lines(body.text(deep=True, separator=""))


def children_text(parent: LexborNode) -> str | None:
    """`fragment_text` of `parent`'s inner HTML (a page's comment body), read off the nodes
    themselves; None when that HTML might not parse back into the same nodes (the caller
    then parses it). The parent counts: the text of a <script> is its HTML."""
    if parent.tag not in ROUND_TRIP_TAGS:
        return None
    parts: list[str] = []
    return _lines("".join(parts)) if _node_text(parent.child, parts, True) else None


def nodes_text(parent: LexborNode, children: Iterable[LexborNode]) -> str | None:
    """`children_text` of only these children of `parent`."""
    if parent.tag not in ROUND_TRIP_TAGS:
        return None
    parts: list[str] = []
    for node in children:
        if not _node_text(node, parts, False):
            return None
    return _lines("".join(parts))


def _lines(text: str) -> str:
    return "\n".join(filter(None, [" ".join(line.split()) for line in text.splitlines()]))


def _node_text(first: LexborNode | None, parts: list[str], siblings: bool) -> bool:
    """Append the text of `first`'s subtree (and of its following siblings' with `siblings`)
    to `parts` as `fragment_text` reads it: a line break for <br> and after each block.
    False at an element not in ROUND_TRIP_TAGS.

    Iterative (an explicit stack) because hostile pages nest thousands deep."""
    # Each entry is a node still to read, or the line break closing a block.
    pending: list[LexborNode | str | None] = [first]
    while pending:
        item = pending.pop()
        if item is None:
            continue
        if isinstance(item, str):
            parts.append(item)
            continue
        if siblings or item is not first:
            pending.append(item.next)
        tag = item.tag
        if tag == "-text":
            parts.append(item.text_content or "")
            continue
        if tag is None or tag.startswith("-"):
            continue  # comments have no text
        if tag not in ROUND_TRIP_TAGS:
            return False
        if tag == "br":
            parts.append("\n")
            continue
        child = item.child
        if child is not None and child.next is None and child.tag == "-text":
            parts.append(child.text_content or "")  # most paragraphs: skip the stack
            child = None
        if tag in BLOCK_TAG_SET:
            pending.append("\n")
        pending.append(child)
    return True


def parse_iso_utc(value: str | None) -> datetime | None:
    """An ISO 8601 time as naive UTC (naive input is taken as already UTC); None if unreadable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def parse_text_date(value: str) -> datetime | None:
    """A theme's printed date ("March 29, 2018 at 3:21 pm"), site-local; None if unreadable."""
    cleaned = " ".join(re.sub(r"(?i)\b(at|on)\b|[,@|]|(?<=\d)(st|nd|rd|th)\b", " ", value).split())
    for pattern in TEXT_DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, pattern)
        except ValueError:
            continue
    return None
