"""A model of the HTML tree builder's stack of open elements, cheap enough to run before it.

`BuilderStack` reads a text's tags (`scan`: one linear pass, comments and raw
text skipped whole) and keeps only what depth depends on: elements a tag
closes implicitly (<p>, <li>, <td>...), end tags that close only what is in
scope, formatting elements the builder re-opens after a block (<b> left open
re-opens inside every paragraph that follows; three identical ones at most),
elements that close themselves in <svg>/<math>. It may count deeper than the
tree a parser builds, never much shallower, and costs O(1) per tag (tests:
tests/scrapers/test_deep_html.py). scrapers/nesting.py says what is too deep.
"""
from __future__ import annotations

import contextlib
import re
from collections import defaultdict
from collections.abc import Callable

VOID = frozenset(("area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr",
                  "image", "img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr"))
# Elements whose content the tokenizer reads as text up to their end tag.
RAW_TEXT = frozenset(("script", "style", "xmp", "iframe", "noembed", "noframes", "textarea", "title"))
FORMATTING = frozenset(("a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike",
                        "strong", "tt", "u"))
# Where an end tag's search for its element stops (the standard's "default scope").
SCOPE = frozenset(("applet", "caption", "html", "table", "td", "th", "marquee", "object", "template",
                   "mi", "mo", "mn", "ms", "mtext", "annotation-xml", "foreignobject", "desc", "title"))
INTEGRATION = frozenset(("mi", "mo", "mn", "ms", "mtext", "annotation-xml", "foreignobject", "desc",
                         "title"))
SPECIAL = SCOPE | frozenset((
    "address", "area", "article", "aside", "base", "basefont", "bgsound", "blockquote", "body", "br",
    "button", "center", "col", "colgroup", "dd", "details", "dialog", "dir", "div", "dl", "dt",
    "embed", "fieldset", "figcaption", "figure", "footer", "form", "frame", "frameset", "h1", "h2",
    "h3", "h4", "h5", "h6", "head", "header", "hgroup", "hr", "iframe", "img", "input", "keygen",
    "li", "link", "listing", "main", "menu", "meta", "nav", "noembed", "noframes", "noscript", "ol",
    "p", "param", "plaintext", "pre", "script", "search", "section", "select", "source", "style",
    "summary", "tbody", "textarea", "tfoot", "thead", "tr", "track", "ul", "wbr", "xmp"))
# Start tags that leave <svg>/<math> for HTML.
BREAKOUT = frozenset(("b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl",
                      "dt", "em", "embed", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i",
                      "img", "li", "listing", "menu", "meta", "nobr", "ol", "p", "pre", "ruby", "s",
                      "small", "span", "strong", "strike", "sub", "sup", "table", "tt", "u", "ul",
                      "var", "font"))
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# A start tag -> the elements it closes, in order: a <p> in button scope, the others when
# they are the current node.
IMPLIED_CLOSE = {"li": ("p", "li"), "dd": ("p", "dd", "dt"), "dt": ("p", "dd", "dt"),
                 "option": ("option",), "optgroup": ("option", "optgroup"),
                 "tr": ("td", "th", "tr"), "td": ("td", "th"), "th": ("td", "th"),
                 "thead": ("td", "th", "tr", "tbody", "thead", "tfoot"), "a": ("a",),
                 "tbody": ("td", "th", "tr", "tbody", "thead", "tfoot"), "button": ("button",),
                 "tfoot": ("td", "th", "tr", "tbody", "thead", "tfoot"), "nobr": ("nobr",),
                 **{h: ("p",) + HEADINGS for h in HEADINGS}}
CLOSES_P = frozenset(("address", "article", "aside", "blockquote", "center", "details", "dialog",
                      "dir", "div", "dl", "fieldset", "figcaption", "figure", "footer", "form",
                      "header", "hgroup", "hr", "listing", "main", "menu", "nav", "ol", "p", "pre",
                      "search", "section", "summary", "table", "ul", "xmp"))
TABLE_PARTS = frozenset(("table", "tbody", "thead", "tfoot", "tr", "td", "th", "caption"))
# Start tags `BuilderStack.start` must see; any other opens an element and closes nothing (but
# for those in CLOSES_P while a <p> is open). End tags that never simply close the current node.
_SLOW_START = (FORMATTING | VOID | RAW_TEXT | frozenset(IMPLIED_CLOSE) | TABLE_PARTS
               | frozenset(("svg", "math", "html", "head", "body", "plaintext")))
_KEPT_OPEN = FORMATTING | frozenset(("body", "html"))

_TOKEN = re.compile(r"<(?:(/?)([A-Za-z][^\t\n\f\r />]*)([^>]*)>?|!--|[!?/][^>]*>?)")
_COMMENT_END = re.compile(r"--!?>")
_RAW_END = {name: re.compile(rf"</{name}[\t\n\f\r />]", re.IGNORECASE) for name in RAW_TEXT}


class _Enough(Exception):
    """Past the depth or the re-openings worth counting."""


class BuilderStack:
    """The tree builder's stack of open elements, as far as depth goes. Each name's
    positions, and those of scope and special elements, are kept so that an end tag
    finds in O(1) whether it closes anything."""

    __slots__ = ("names", "foreign", "where", "scopes", "specials", "reopen", "reopen_total", "deepest",
                 "detached", "detached_total", "reopened", "identical", "keys", "counted_depth",
                 "max_reopened")

    def __init__(self, text: str, counted_depth: int, max_reopened: int) -> None:
        self.counted_depth = counted_depth   # past these, reading on is pointless
        self.max_reopened = max_reopened
        self.names: list[str] = []
        self.foreign: list[bool] = []        # is each element's content svg/math
        self.where: defaultdict[str, list[int]] = defaultdict(list)
        self.scopes: list[int] = [-1]
        self.specials: list[int] = [-1]
        self.reopen: defaultdict[str, int] = defaultdict(int)   # formatting elements to re-open
        self.reopen_total = 0
        self.deepest = 0
        # Formatting elements the builder will re-open at the next text (closed by a block's
        # end, not their own), and how many it re-opened in all.
        self.detached: defaultdict[str, int] = defaultdict(int)
        self.detached_total = 0
        self.reopened = 0
        self.identical: defaultdict[str, int] = defaultdict(int)   # formatting elements by name+attributes
        self.keys: defaultdict[str, list[str]] = defaultdict(list)   # each name's, in order
        with contextlib.suppress(_Enough):
            scan(text, self.tag)

    def tag(self, closing: bool, name: str, attrs: str, after_text: bool) -> bool:
        """Take one tag; True when its content is raw text. Most tags of a page open an
        ordinary element or close the current one: those two are done here, inline, as
        this runs for every tag of every page read."""
        if self.detached_total and (after_text or not closing and (
                name in FORMATTING or name not in SPECIAL or name in ("img", "br", "input"))):
            self.reconstruct()
        names = self.names
        if closing:
            if names and names[-1] == name and name not in _KEPT_OPEN:
                names.pop()
                self.foreign.pop()
                self.where[name].pop()
                index = len(names)
                if self.scopes[-1] == index:
                    self.scopes.pop()
                if self.specials[-1] == index:
                    self.specials.pop()
            elif names and names[-1] == name and name in FORMATTING:
                html_element = not self.foreign[-1]   # not <svg>'s <a>
                self.pop()
                if html_element and self.reopen[name]:
                    self.closed(name)
            else:
                self.end(name)
            return False
        if name in _SLOW_START or (self.foreign and self.foreign[-1]) or (
                name in CLOSES_P and self.where.get("p")):
            return self.start(name, attrs)
        index = len(names)
        names.append(name)
        self.foreign.append(False)
        self.where[name].append(index)
        if name in SCOPE:
            self.scopes.append(index)
        if name in SPECIAL:
            self.specials.append(index)
        if index + self.reopen_total >= self.deepest:
            self.deepest = index + 1 + self.reopen_total
            if self.deepest > self.counted_depth:
                raise _Enough
        return False

    def reconstruct(self) -> None:
        self.reopened += self.detached_total
        if self.reopened > self.max_reopened:
            raise _Enough
        for name, count in list(self.detached.items()):
            for _ in range(count):
                self.push(name, False)
        self.detached.clear()
        self.detached_total = 0

    def forget(self, name: str) -> None:
        """`name` leaves the list of formatting elements to re-open."""
        if self.detached[name]:
            self.detached[name] -= 1
            self.detached_total -= 1

    def opened(self, name: str, attrs: str) -> None:
        """A formatting element joins the builder's list of them; of three identical ones
        (same name and attributes) it drops the earliest (the standard's "Noah's Ark")."""
        key = name + attrs
        if self.identical[key] >= 3:
            self.forget(name)
        else:
            self.identical[key] += 1
            self.reopen[name] += 1
            self.reopen_total += 1
        self.keys[name].append(key)

    def closed(self, name: str) -> None:
        """The last formatting element `name` leaves the list (its end tag came)."""
        self.reopen[name] -= 1
        self.reopen_total -= 1
        self.forget(name)
        if self.keys[name]:
            self.identical[self.keys[name].pop()] -= 1

    def push(self, name: str, foreign: bool) -> None:
        index = len(self.names)
        self.names.append(name)
        self.foreign.append(foreign)
        self.where[name].append(index)
        if name in SCOPE:
            self.scopes.append(index)
        if name in SPECIAL:
            self.specials.append(index)
        if index + self.reopen_total >= self.deepest:
            self.deepest = index + 1 + self.reopen_total
            if self.deepest > self.counted_depth:
                raise _Enough

    def pop(self) -> None:
        name = self.names.pop()
        if not self.foreign.pop() and name in FORMATTING and self.detached[name] < self.reopen[name]:
            self.detached[name] += 1   # re-opened at the next text, unless its end tag comes first
            self.detached_total += 1
        self.where[name].pop()
        index = len(self.names)
        if self.scopes[-1] == index:
            self.scopes.pop()
        if self.specials[-1] == index:
            self.specials.pop()

    def pop_to(self, index: int) -> None:
        while len(self.names) > index:
            self.pop()

    def last(self, name: str) -> int:
        spots = self.where.get(name)
        return spots[-1] if spots else -1

    def start(self, name: str, attrs: str) -> bool:
        """Take a start tag; True when it is HTML's raw text (its content is no markup)."""
        self_closing = attrs.endswith("/")
        if name in ("html", "head", "body") and self.where.get(name):
            return False   # a second one only adds its attributes to the first
        if self.foreign and self.foreign[-1]:
            if name not in BREAKOUT:
                if not self_closing:
                    self.push(name, name not in INTEGRATION)
                return False
            while self.foreign and self.foreign[-1]:
                self.pop()
        if name in VOID or name in RAW_TEXT or name == "plaintext":
            return name not in VOID   # raw text's end tag closes it at once
        if name in ("svg", "math"):
            if not self_closing:
                self.push(name, True)
            return False
        for closed in IMPLIED_CLOSE.get(name, ("p",) if name in CLOSES_P else ()):
            if closed == "p":   # a <p> in button scope closes, with what is open inside it
                at = self.last("p")
                if at >= 0 and at >= self.scopes[-1] and at > self.last("button"):
                    self.pop_to(at)
            elif self.names and self.names[-1] == closed:
                self.pop()
        if name in ("a", "nobr") and self.reopen[name]:
            self.closed(name)   # the builder closes the one left open first
        if name in FORMATTING:
            self.opened(name, attrs)
        top = self.names[-1] if self.names else ""
        if name in ("td", "th") and top != "tr":
            top = self.implied("tr", top)
        if name == "tr" and top not in ("tbody", "thead", "tfoot"):
            self.push("tbody", False)
        self.push(name, False)
        return False

    def implied(self, name: str, top: str) -> str:
        """Push the row (and body) a table cell implies; the new current node's name."""
        if top not in ("tbody", "thead", "tfoot"):
            self.push("tbody", False)
        self.push(name, False)
        return name

    def end(self, name: str) -> None:
        at = self.last(name)
        if name == "form" and at != len(self.names) - 1:
            return   # the builder takes the form out of the stack, leaving what is in it
        if name in FORMATTING and self.reopen[name]:
            if 0 <= at < self.specials[-1]:
                return   # a block inside: the builder clones the element, no shallower
            if at >= 0:
                self.pop_to(at)
            self.closed(name)
            return
        if name in HEADINGS:
            at = max(self.last(h) for h in HEADINGS)
        if at < 0 or name in ("body", "html"):
            return   # the builder keeps them open: what follows goes in <body> still
        if name in TABLE_PARTS:
            barrier = max(self.last("template"), self.last("html"), -1 if name == "table" else
                          self.last("table"))
        elif name in SPECIAL:
            barrier = self.scopes[-1]
            if name == "li":
                barrier = max(barrier, self.last("ul"), self.last("ol"))
            elif name == "p":
                barrier = max(barrier, self.last("button"))
        else:
            barrier = self.specials[-1]
        if at >= barrier:
            self.pop_to(at)


def scan(text: str, on_tag: Callable[[bool, str, str, bool], bool],
          on_text: Callable[[str], None] | None = None) -> None:
    """Call `on_tag(closing, lower-case name, attributes, whether text came since the last tag)`
    for each tag the tokenizer sees, and `on_text` with the text between them, in linear time;
    when `on_tag` answers True the element's content is raw text, skipped up to its end tag.
    Comments are skipped whole."""
    done = 0   # where the text not yet read starts: tokens before it were inside a comment or raw text
    after_text = False
    for match in _TOKEN.finditer(text):
        begin = match.start()
        if begin < done:
            continue
        after_text = after_text or begin > done
        if on_text is not None:
            on_text(text[done:begin])
        done = match.end()
        closing, name, attrs = match.group(1, 2, 3)
        if name is None:
            if match.group() == "<!--":
                if text.startswith(">", done) or text.startswith("->", done):
                    done = text.index(">", done) + 1   # <!--> and <!---> end at once
                else:
                    end = _COMMENT_END.search(text, done)
                    done = end.end() if end else len(text)
            continue
        name = name.lower()
        raw = on_tag(bool(closing), name, attrs, after_text)
        after_text = False
        if raw and not closing:
            end = None if name == "plaintext" else _RAW_END[name].search(text, done)
            if end is None:
                return   # the rest is text
            done = end.start()
    if on_text is not None:
        on_text(text[done:])
