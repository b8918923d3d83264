"""Reading rendered pages in tests: selectolax lookups that fail loudly.

selectolax answers None for a selector that matches nothing, an attribute
without a value, or a node it cannot serialise; a test that expects the thing
to be there asserts it here, with a message saying what was missing.
"""
from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode


def find_first(node: LexborHTMLParser | LexborNode, query: str) -> LexborNode:
    """The first match of `query` under `node`; fails the test if there is none."""
    found = node.css_first(query)
    assert found is not None, f"nothing on the page matches {query!r}"
    return found


def attr(node: LexborNode, name: str) -> str:
    """The value of `node`'s attribute `name`; fails the test if it is absent or has no value."""
    value = node.attributes.get(name)
    assert value is not None, f"<{node.tag}> has no value for {name!r}"
    return value


def markup(node: LexborHTMLParser | LexborNode) -> str:
    """`node`'s HTML, itself included."""
    html = node.html
    assert html is not None, "the node has no HTML"
    return html


def body_of(doc: LexborHTMLParser) -> LexborNode:
    """The document's <body>."""
    found = doc.body
    assert found is not None, "the document has no body"
    return found
