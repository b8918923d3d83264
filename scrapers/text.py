"""Text and date rules shared by the adapters: a comment body's HTML as a reader sees it.

Two rules, each kept byte for byte: a comment's stored text is compared with
its next capture's, so a rule that changed would make every comment read by it
look edited.

- `fragment_text` (WordPress page, REST API and feed; Isso): one line per
  block, blank lines dropped, <script>/<style>/<noscript>/<template>/<iframe>
  removed. The three WordPress adapters must agree on a comment's text, or a
  comment read one way and then another would look edited; `children_text`
  and `nodes_text` read the same text off the nodes of a page already parsed,
  which saves parsing every body a second time.
- `html_to_text` (generic-css; the Guardian): paragraphs kept apart by a
  blank line, runs of blank lines cut to one, and embedded media (svg, math,
  object, textarea) removed too.

They stay distinct because comments already stored were read with them: a
new adapter picks the rule whose output suits its platform's markup, and
neither may change.
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
# html_to_text's rule: line breaks, block ends, and what is not part of what a reader reads.
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_BLOCK_END = re.compile(r"</(p|div|blockquote|li|h[1-6]|pre)\s*>", re.IGNORECASE)
_NOT_TEXT = "script, style, template, noscript, iframe, object, svg, math, textarea"


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


def html_to_text(fragment: str) -> str:
    """A comment's HTML as plain text: paragraphs kept, spaces collapsed."""
    marked = _BLOCK_END.sub(lambda m: m.group(0) + "\n\n", _BREAK.sub("\n", fragment))
    tree = LexborHTMLParser(f"<body>{marked}</body>")
    for node in tree.css(_NOT_TEXT):
        node.decompose()
    raw = tree.body.text(separator="") if tree.body is not None else ""
    lines = [" ".join(line.split()) for line in raw.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


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
