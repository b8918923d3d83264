"""Comment bodies made safe to show: an allow-list HTML sanitiser (nh3), and
bidirectional isolation for hostile text shown inside the archive's own.

Comment HTML comes from the open web and is hostile. Only a handful of
text-formatting tags survive; links keep an absolute http(s) `href` and get
`rel="nofollow noopener ugc"`; every attribute other than `href` is dropped,
and the content of script-like elements is removed, not shown as text.
A body nested deeper than the archive reads (scrapers/nesting.py: a tree
builder's time grows with the square of the depth) is shown as its plain words.
"""
from __future__ import annotations

import html

import nh3
from markupsafe import Markup

from scrapers.nesting import flat_text, too_deep

ALLOWED_TAGS = frozenset({"p", "br", "a", "em", "strong", "blockquote", "code", "pre",
                          "ul", "ol", "li"})
# Elements whose content is code or embedded media, never readable text.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "iframe", "noscript", "template",
                                  "object", "embed", "svg", "math", "textarea", "select",
                                  "title", "noembed", "noframes", "xmp"})
LINK_REL = "nofollow noopener ugc"
# Longer bodies are cut before sanitising: a multi-megabyte "comment" is an
# attack or an adapter bug, and the whole text stays in the capture evidence.
MAX_BODY_CHARS = 50_000
TRUNCATED_NOTE = "[cut for display: the full body is in the capture evidence]"

_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(DROPPED_WITH_CONTENT),
    attributes={"a": {"href"}},
    url_schemes={"http", "https"},
    url_relative="deny",
    link_rel=LINK_REL,
    strip_comments=True,
)


def clean_html(body: str | None) -> Markup:
    """Hostile comment HTML -> markup safe to embed in a page."""
    body = body or ""
    truncated = len(body) > MAX_BODY_CHARS
    body = body[:MAX_BODY_CHARS]
    if too_deep(body):
        lines = (" ".join(line.split()) for line in flat_text(body).splitlines())
        cleaned = str(text_to_html("\n\n".join(filter(None, lines))))
    else:
        cleaned = _CLEANER.clean(body)
    if truncated:
        cleaned += f'<p class="truncated">{html.escape(TRUNCATED_NOTE)}</p>'
    return Markup(cleaned)


def text_to_html(text: str | None) -> Markup:
    """Plain text -> escaped paragraphs (blank lines split, single newlines break)."""
    text = (text or "")[:MAX_BODY_CHARS]
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    parts = ["<p>" + html.escape(p.strip()).replace("\n", "<br>") + "</p>" for p in paragraphs]
    return Markup("".join(parts))


def comment_body(html_body: str | None, text: str | None) -> Markup:
    """The body to display: the served HTML when kept (sanitised), else the plain text."""
    if html_body and html_body.strip():
        cleaned = clean_html(html_body)
        # Markup that sanitises to nothing visible (all script) must not hide the text.
        if cleaned.striptags().strip() or not (text or "").strip():
            return cleaned
    return text_to_html(text)


def isolate(text: str) -> str:
    """Text that cannot reorder what follows it, where HTML's <bdi> cannot go
    (page titles, messages built as text): a right-to-left override (U+202E)
    in a commenter's name would otherwise turn the archive's own words after
    it backwards. First-strong isolate ... pop directional isolate."""
    return f"\u2068{text}\u2069"


_HIGHLIGHT_CLEANER = nh3.Cleaner(tags={"mark", "b", "strong", "em"}, attributes={},
                                 clean_content_tags=set(DROPPED_WITH_CONTENT), link_rel=None)


def clean_highlight(fragment: str) -> Markup:
    """A search engine's highlighted excerpt: only emphasis marks survive.

    The search module already escapes excerpts; this is the second lock on
    the door, since an excerpt is made from a hostile comment.
    """
    return Markup(_HIGHLIGHT_CLEANER.clean(fragment[:MAX_BODY_CHARS]))
