"""Any site whose comments can be described with CSS selectors.

The operator describes the page (in the watch's options, a JSON object,
checked by the operator preview before the watch is stored):

    area         (required) the comment area; present even when there are no comments
    item         (required) one comment, searched inside the area
    body         (required) the comment's text, inside the item
    id_attr      attribute of the item holding the platform's stable id
    id_pattern   regex with one group taking the id out of that value ("comment-(\\d+)")
    author       the author's name, inside the item (a link gives the author URL)
    time         the posting time, inside the item ...
    time_attr    ... read from this attribute ("datetime") instead of its text
    parent_attr  attribute of the item naming its parent's id; without it, a
                 comment nested inside another item is that item's reply
    next         a link to the next page of comments
    count        an element whose first number is the page's own comment count
    tombstone    marks an item as the platform's "comment deleted" placeholder

`validate_options` checks them wherever a watch is stored (operator form,
CSV, preview); they reach the adapter through `configure(options)`, which
`scrapers.get_adapter` calls with `Watch.options`. Without a stable id,
comments are keyed by `fingerprint_key`. `detect` is 0: this adapter is only
used when chosen.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from scrapers.base import Adapter, CommentRecord, Page, PageResult, ThreadView, decode_body, fingerprint_key
from scrapers.text import html_to_text

REQUIRED = ("area", "item", "body")
SELECTORS = REQUIRED + ("author", "time", "next", "count", "tombstone")
ATTRIBUTES = ("id_attr", "time_attr", "parent_attr")
KNOWN = SELECTORS + ATTRIBUTES + ("id_pattern",)
MAX_OPTION_CHARS = 500
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z_:][-A-Za-z0-9_:.]*$")
_NUMBER = re.compile(r"\d[\d,.\u00a0 ]*")


@dataclass(frozen=True)
class CssOptions:
    area: str
    item: str
    body: str
    author: str | None = None
    time: str | None = None
    next: str | None = None
    count: str | None = None
    tombstone: str | None = None
    id_attr: str | None = None
    time_attr: str | None = None
    parent_attr: str | None = None
    id_pattern: str | None = None


def parse_options(raw: object) -> CssOptions:
    """Checked options, or ValueError saying which one is wrong and why."""
    if not isinstance(raw, Mapping):
        raise ValueError("generic-css options must be a JSON object")
    unknown = sorted(set(raw) - set(KNOWN))
    if unknown:
        raise ValueError(f"unknown generic-css option(s): {', '.join(unknown)} (known: {', '.join(KNOWN)})")
    values: dict[str, str] = {}
    for name, value in raw.items():
        if value is None or value == "":
            continue
        if not isinstance(value, str) or len(value) > MAX_OPTION_CHARS:
            raise ValueError(
                f"generic-css option {name} must be text of at most {MAX_OPTION_CHARS} characters")
        values[name] = value.strip()
    missing = [name for name in REQUIRED if not values.get(name)]
    if missing:
        raise ValueError(f"generic-css needs the option(s): {', '.join(missing)}")
    probe = LexborHTMLParser("<p></p>")
    for name in SELECTORS:
        if name in values:
            try:
                probe.css(values[name])
            except SelectolaxError:
                raise ValueError(
                    f"generic-css option {name}: {values[name]!r} is not a CSS selector") from None
    for name in ATTRIBUTES:
        if name in values and not _ATTRIBUTE_NAME.match(values[name]):
            raise ValueError(f"generic-css option {name}: {values[name]!r} is not an attribute name")
    if "id_pattern" in values:
        try:
            groups = re.compile(values["id_pattern"]).groups
        except re.error as exc:
            raise ValueError(f"generic-css option id_pattern is not a regex: {exc}") from None
        if groups != 1:
            raise ValueError("generic-css option id_pattern must have exactly one (group)")
    return CssOptions(**values)


def first_number(text: str) -> int | None:
    match = _NUMBER.search(text)
    if not match:
        return None
    digits = re.sub(r"\D", "", match.group(0))
    return int(digits) if digits else None


def _parse_time(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


class GenericCssAdapter(Adapter):
    name = "generic-css"
    label = "Any site, described by CSS selectors"

    def __init__(self, options: CssOptions | None = None) -> None:
        self.options = options
        self.problem = "" if options else "generic-css has no selectors: set the watch's options"

    @classmethod
    def validate_options(cls, options: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The selectors, checked and stripped; ValueError (one line) naming what is wrong."""
        checked = parse_options(options if options is not None else {})
        return {name: value for name, value in dataclasses.asdict(checked).items() if value is not None}

    def configure(self, options: Mapping[str, Any]) -> None:
        """Take the watch's options; bad ones make every page unrecognised, never an exception."""
        try:
            self.options, self.problem = parse_options(options), ""
        except ValueError as exc:
            self.options, self.problem = None, str(exc)

    # detect() stays 0 (the base class): selectors describe one site, so this
    # adapter is never chosen automatically.

    def read(self, page: Page) -> PageResult:
        if self.options is None:
            return PageResult(recognised=False, reason=self.problem)
        opts = self.options
        tree = LexborHTMLParser(decode_body(page))
        title_node = tree.css_first("title")
        title = " ".join(title_node.text().split()) if title_node else ""
        area = tree.css_first(opts.area)
        if area is None:
            return PageResult(recognised=False, title=title,
                              reason=f"comment area {opts.area!r} not found on the page")
        claimed = None
        if opts.count:
            count_node = tree.css_first(opts.count)
            claimed = first_number(count_node.text()) if count_node else None
        try:
            comments = self._comments(area, opts)
        except ValueError as exc:
            return PageResult(recognised=False, reason=str(exc), title=title, claimed_count=claimed)
        return PageResult(recognised=True, comments=comments, title=title, claimed_count=claimed,
                          follow=self._next(tree, page, opts))

    def _comments(self, area: LexborNode, opts: CssOptions) -> list[CommentRecord]:
        items = area.css(opts.item)
        ids = {node.mem_id for node in items}
        keys: dict[int, str] = {}
        records = []
        for position, node in enumerate(items):
            body = _own(node, opts.body, ids)
            if body is None:
                raise ValueError(f"comment {position + 1} has no body ({opts.body!r})")
            html = body.inner_html or ""
            text = html_to_text(html)
            author_node = _own(node, opts.author, ids) if opts.author else None
            author = " ".join(author_node.text().split()) if author_node else ""
            posted = self._time(node, opts, ids)
            key = self._key(node, opts, position) or fingerprint_key(author, posted, text)
            keys[node.mem_id] = key
            records.append(CommentRecord(
                key=key, author=author, text=text, html=html, posted_at=posted,
                parent_key=self._parent(node, opts, ids, keys), author_url=_link(author_node),
                position=position,
                tombstone=bool(opts.tombstone and _own(node, opts.tombstone, ids) is not None)))
        return records

    @staticmethod
    def _time(node: LexborNode, opts: CssOptions, ids: set[int]) -> datetime | None:
        time_node = _own(node, opts.time, ids) if opts.time else None
        if time_node is None:
            return None
        value = time_node.attributes.get(opts.time_attr) if opts.time_attr else time_node.text()
        return _parse_time(value or "")

    @staticmethod
    def _key(node: LexborNode, opts: CssOptions, position: int) -> str | None:
        if not opts.id_attr:
            return None
        value = _extract(node.attributes.get(opts.id_attr), opts.id_pattern)
        if not value:
            # A configured id that is missing means the layout changed: never guess.
            raise ValueError(f"comment {position + 1} has no id in attribute {opts.id_attr!r}")
        return value

    @staticmethod
    def _parent(node: LexborNode, opts: CssOptions, ids: set[int], keys: dict[int, str]) -> str | None:
        if opts.parent_attr:
            value = _extract(node.attributes.get(opts.parent_attr), opts.id_pattern)
            return value if value and value != "0" else None
        ancestor = _item_ancestor(node.parent, ids)
        return keys.get(ancestor.mem_id) if ancestor is not None else None

    @staticmethod
    def _next(tree: LexborHTMLParser, page: Page, opts: CssOptions) -> list[str]:
        link = tree.css_first(opts.next) if opts.next else None
        href = (link.attributes.get("href") or "").strip() if link else ""
        if not href:
            return []
        target = urljoin(page.final_url or page.url, href).split("#", 1)[0]
        if urlsplit(target).scheme not in ("http", "https") or target in (page.url, page.final_url):
            return []
        return [target]

    def join(self, results: Sequence[PageResult]) -> ThreadView:
        # Positions restart on each page: renumber them in page order.
        offset = 0
        renumbered = []
        for result in results:
            comments = [dataclasses.replace(c, position=offset + c.position) for c in result.comments]
            offset += len(result.comments)
            renumbered.append(dataclasses.replace(result, comments=comments))
        return super().join(renumbered)


def _item_ancestor(node: LexborNode | None, ids: set[int]) -> LexborNode | None:
    while node is not None:
        if node.mem_id in ids:
            return node
        node = node.parent
    return None


def _own(item: LexborNode, selector: str | None, ids: set[int]) -> LexborNode | None:
    """The first match inside `item` that belongs to it, not to a nested reply."""
    if not selector:
        return None
    for match in item.css(selector):
        owner = _item_ancestor(match if match.mem_id not in ids else match.parent, ids)
        if owner is not None and owner.mem_id == item.mem_id:
            return match
    return None


def _extract(value: str | None, pattern: str | None) -> str | None:
    if not value:
        return None
    if pattern:
        match = re.search(pattern, value)
        return match.group(1) if match else None
    return value.strip()


def _link(node: LexborNode | None) -> str | None:
    if node is None:
        return None
    anchor = node if node.tag == "a" else node.css_first("a")
    href = (anchor.attributes.get("href") or "").strip() if anchor else ""
    return href if href.startswith(("http://", "https://")) else None
