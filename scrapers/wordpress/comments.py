"""The comments of a parsed WordPress page: which element is which comment, and what it says.

A comment is an element with a WordPress comment id (`comment-N`, `li-comment-N`,
`div-comment-N`); every element inside it belongs to it, up to the next comment
nested in it. An id inside what a commenter wrote (the comment's content
element) is text, not a comment, and nothing under a content element belongs to
any comment's author, date or body markup.

A page of 5,000 comments must read in a few times the cost of parsing it, so
each selector is run once over the whole page and every match is given to its
comment through `Owners`, which walks each element's ancestors at most once.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import Enum
from typing import Final

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scrapers.base import CommentRecord
from scrapers.text import children_text, fragment_text, nodes_text, parse_iso_utc, parse_text_date

COMMENT_ID = re.compile(r"(?:li-|div-)?comment-(\d{1,19})")
CONTENT_CLASSES_SET = frozenset(("comment-content", "wp-block-comment-content"))
TOP = frozenset(("body", "html"))
# Every element whose id can match COMMENT_ID, with a CONTENT_CLASSES_SET class or
# named in TOP (<svg><html> too, as tags say), and a few more.
MARKED_SELECTOR = ('[id^="comment-"], [id^="li-comment-"], [id^="div-comment-"], '
                   '[class*="comment-content"], html, body')
# Elements holding only what the commenter wrote.
CONTENT_SELECTORS = (".comment-content", ".wp-block-comment-content", ".comment-text",
                     ".comment-entry")
# Inside a generic comment body (`.comment-body`, the comment element itself),
# these are the theme's furniture, not what was written.
FURNITURE_CLASSES = frozenset((
    "comment-author", "comment-meta", "commentmetadata", "comment-metadata", "reply",
    "comment-reply-link", "comment-awaiting-moderation", "says", "avatar", "children",
    "wp-block-comment-author-name", "wp-block-comment-date", "wp-block-comment-reply-link",
    "wp-block-comment-edit-link"))
FURNITURE_TAGS = frozenset(("footer", "header", "ol", "ul"))
AUTHOR_SELECTORS = (".comment-author .fn", ".fn", ".wp-block-comment-author-name",
                    ".comment-author-name", ".comment-author", "cite")
DATE_LINK_SELECTORS = (".comment-metadata a", ".commentmetadata a", ".comment-meta a",
                       ".wp-block-comment-date a", ".comment-date a", "a")
SAYS = re.compile(r"\s*says:?$")
OFFSET_SOURCES = 'meta[property="article:published_time"], time[datetime]'
WRITTEN = 0  # Owners' mark for "inside somebody's written body"


class _Unknown(Enum):
    # An enum member, not a bare object(), so the checker can tell it from the
    # values it stands in for (`x is UNKNOWN` narrows).
    UNKNOWN = "unknown"


UNKNOWN: Final = _Unknown.UNKNOWN


def comment_number(node: LexborNode) -> str | None:
    match = COMMENT_ID.fullmatch(node.id or "")
    return match.group(1) if match else None


class Owners:
    """The comments of one page and, for any element, the comment it belongs to.

    Elements are known by `mem_id` (cheap, unlike comparing nodes, which
    serialises them). The nearest comment or content element above each element
    is remembered, so a page costs one walk up each branch, not one per lookup.
    """

    def __init__(self, tree: LexborHTMLParser) -> None:
        self.tree = tree
        self.numbered: dict[int, str] = {}  # element -> its comment number
        self.nodes: dict[int, LexborNode] = {}
        self._keys: dict[int, str | None] = {}  # comment element -> comment it holds
        # element -> the nearest comment element at or above it, or WRITTEN (a content
        # element comes first), or None (neither, below <body>); filled in as asked.
        above: dict[int, int | None] = {}
        # <body> and <html> end every walk up, whatever their id or class.
        self._top: set[int] = set()
        candidates = []
        # One pass finds them all (a page-long pass costs more than telling them apart).
        for node in tree.css(MARKED_SELECTOR):
            mem_id = node.mem_id
            if node.tag in TOP:
                self._top.add(mem_id)
            match = COMMENT_ID.fullmatch(node.id or "")  # .id: far cheaper than .attributes
            if match:
                if mem_id not in self.numbered:  # the selector lists some elements twice
                    self.numbered[mem_id] = match.group(1)
                    self.nodes[mem_id] = node
                    candidates.append(node)
            elif not CONTENT_CLASSES_SET.isdisjoint((node.attributes.get("class") or "").split()):
                above[mem_id] = WRITTEN
        above.update(zip(self.numbered, self.numbered))
        above.update(dict.fromkeys(self._top))
        self._above = above
        # Each comment is its first element with that id outside a written body; its
        # parent is the comment of the nearest comment element above it.
        self.outers: dict[str, LexborNode] = {}
        self.parents: dict[str, str | None] = {}
        for node in candidates:
            key = self.numbered[node.mem_id]
            if key in self.outers:
                continue
            parent = node.parent
            found = above.get(parent.mem_id, UNKNOWN) if parent is not None else None
            known = self.above(parent) if found is UNKNOWN else found
            if known != WRITTEN:
                self.outers[key] = node
                self.parents[key] = self.numbered[known] if known else None

    def above(self, node: LexborNode | None) -> int | None:
        """The nearest comment element at or above `node` (its mem_id), WRITTEN when a
        content element comes first, None when neither does below <body>."""
        known = self._above
        path = []
        found = None
        while node is not None:
            mem_id = node.mem_id
            if mem_id in known:
                found = known[mem_id]
                break
            path.append(mem_id)
            node = node.parent
        for mem_id in path:
            known[mem_id] = found
        return found

    def key_of(self, node: LexborNode) -> str | None:
        """The comment `node` belongs to, if it is one of this page's comments."""
        # Its owner is the nearest comment element at or above it; a content element
        # above it makes it written text, but `node` itself being one does not.
        owner: int | None = node.mem_id
        if owner in self._top:
            return None
        if owner not in self.numbered:
            parent = node.parent
            found = self._above.get(parent.mem_id, UNKNOWN) if parent is not None else None
            owner = self.above(parent) if found is UNKNOWN else found
        if not owner:
            return None
        key = self._keys.get(owner, UNKNOWN)
        if key is UNKNOWN:
            key = self._keys[owner] = self._comment_of(owner)
        return key

    def _comment_of(self, owner: int) -> str | None:
        """The comment whose elements `owner` owns: a second element with the comment's id
        (div-comment-N in comment-N) counts only inside the comment's own element."""
        key = self.numbered[owner]
        outer = self.outers.get(key)
        if outer is None:
            return None
        target = outer.mem_id
        node: LexborNode | None = self.nodes[owner]
        while node is not None and node.mem_id != target:
            node = node.parent
        return key if node is not None else None

    def first_owned(self, selectors: Iterable[str], keys: Iterable[str]) -> dict[str, LexborNode]:
        """For each of `keys`, its first element matching the first selector that matches
        one of its elements at all."""
        wanted = set(keys)
        found: dict[str, LexborNode] = {}
        key_of = self.key_of
        for selector in selectors:
            if not wanted:
                break
            for node in self.tree.css(selector):
                key = key_of(node)
                if key in wanted:
                    found[key] = node
                    wanted.discard(key)
        return found


def read_comments(tree: LexborHTMLParser, page_number: int) -> list[CommentRecord]:
    """Every comment on the page, in reading order."""
    owners = Owners(tree)
    keys = list(owners.outers)
    authors = owners.first_owned(AUTHOR_SELECTORS, keys)
    bodies = _bodies(owners, keys)
    dates = _dates(owners, keys)
    records = []
    for index, key in enumerate(owners.outers):
        author_node = authors.get(key)
        author, link = "", None
        if author_node is not None:
            author = " ".join(author_node.text().split())
            if author.endswith(("says", "says:")):  # SAYS cannot match otherwise
                author = SAYS.sub("", author)
            if author_node.tag == "a":
                link = author_node
            else:
                child = author_node.child
                # Only text inside (the usual name): nothing to look for a link in.
                if child is not None and (child.next is not None or child.tag != "-text"):
                    link = author_node.css_first("a[href]")
        html, text = bodies[key]
        records.append(CommentRecord(
            key=key, author=author, text=text, html=html, posted_at=dates.get(key),
            parent_key=owners.parents[key],
            author_url=link.attributes.get("href") if link is not None else None,
            position=page_number * 100_000 + index))
    return records


def _bodies(owners: Owners, keys: list[str]) -> dict[str, tuple[str, str]]:
    """Each comment's written body: (its HTML as served, its text)."""
    bodies: dict[str, tuple[str, str]] = {}
    for key, content in owners.first_owned(CONTENT_SELECTORS, keys).items():
        html = (content.inner_html or "").strip()
        text = children_text(content)
        bodies[key] = html, fragment_text(html) if text is None else text
    rest = [key for key in keys if key not in bodies]
    # No dedicated content element: take the comment's body minus the furniture.
    generics = owners.first_owned((".comment-body",), rest)
    for key in rest:
        generic = generics.get(key)
        if generic is None:
            generic = _innermost(owners.outers[key], key)
        kept = [node for node in generic.iter(include_text=True)
                if not node.is_element_node or not _is_furniture(node)]
        html = "".join(node.html or "" for node in kept).strip()
        text = nodes_text(generic, kept)
        bodies[key] = html, fragment_text(html) if text is None else text
    return bodies


def _innermost(outer: LexborNode, key: str) -> LexborNode:
    inner = [n for n in outer.css('[id^="comment-"], [id^="div-comment-"]')
             if comment_number(n) == key]
    return inner[-1] if inner else outer


def _is_furniture(node: LexborNode) -> bool:
    if node.tag in FURNITURE_TAGS or comment_number(node) is not None:
        return True
    return not FURNITURE_CLASSES.isdisjoint((node.attributes.get("class") or "").split())


def _dates(owners: Owners, keys: list[str]) -> dict[str, datetime]:
    """From <time datetime>, else the permalink's text, moved to UTC by the page's own offset
    when it shows one (a comment on the other side of a DST change is then an hour out)."""
    dates: dict[str, datetime] = {}
    for key, stamp in owners.first_owned(("time[datetime]",), keys).items():
        moment = parse_iso_utc(stamp.attributes.get("datetime"))
        if moment is not None:
            dates[key] = moment
    pending = {key for key in keys if key not in dates}
    offset = page_utc_offset(owners.tree) if pending else None
    for selector in DATE_LINK_SELECTORS:
        if not pending:
            break
        for node in owners.tree.css(selector):
            owner = owners.key_of(node)
            if owner in pending and (node.attributes.get("href") or "").endswith(f"comment-{owner}"):
                moment = parse_text_date(node.text())
                if moment is not None:
                    dates[owner] = moment - offset if offset is not None else moment
                    pending.discard(owner)
    return dates


def page_utc_offset(tree: LexborHTMLParser) -> timedelta | None:
    """The site's UTC offset as the page's own machine-readable times show it (post date)."""
    # The first one nearly always tells; a long thread has thousands more to read if not.
    first = tree.css_first(OFFSET_SOURCES)
    offset = _utc_offset(first) if first is not None else None
    if offset is not None:
        return offset
    for node in tree.css(OFFSET_SOURCES):
        offset = _utc_offset(node)
        if offset is not None:
            return offset
    return None


def _utc_offset(node: LexborNode) -> timedelta | None:
    value = node.attributes.get("content") or node.attributes.get("datetime") or ""
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).utcoffset()
    except ValueError:
        return None
