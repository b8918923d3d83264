"""WordPress-shaped pages (twentytwentyone, html5 comment markup) for pipeline tests and benchmarks.

The adapter's own regression tests use pages saved from a real WordPress
(tests/fixtures/wordpress/); these synthetic pages let pipeline tests change
a thread between captures without a PHP server.
"""
from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class C:
    id: int
    author: str
    text: str
    parent: int = 0
    when: datetime = datetime(2018, 4, 7, 9, 59)


def _item(c: C, base: str, children: str) -> str:
    when = c.when
    return (f'<li id="comment-{c.id}" class="comment even depth-1">'
            f'<article id="div-comment-{c.id}" class="comment-body"><footer class="comment-meta">'
            f'<div class="comment-author vcard"><b class="fn">{html.escape(c.author)}</b> '
            f'<span class="says">says:</span></div><div class="comment-metadata">'
            f'<a href="{base}#comment-{c.id}"><time datetime="{when.isoformat()}+00:00">'
            f'{when:%B %d, %Y at %I:%M %p}</time></a></div></footer>'
            f'<div class="comment-content"><p>{html.escape(c.text)}</p></div>'
            f'<div class="reply"><a rel="nofollow" class="comment-reply-link" href="#">Reply</a></div>'
            f'</article>{children}</li>')


def _tree(comments: list[C], parent: int, base: str) -> str:
    items = []
    for c in comments:
        if c.parent == parent:
            kids = _tree(comments, c.id, base)
            items.append(_item(c, base, f'<ol class="children">{kids}</ol>' if kids else ""))
    return "".join(items)


def wp_page(comments: list[C], base: str = "http://127.0.0.1/cafcass/", title: str = "Cafcass rated outstanding",
            claimed: int | None = -1, pages: Sequence[str] = ()) -> bytes:
    """An article page; `claimed` defaults to the number shown, None omits the heading count."""
    count = len(comments) if claimed == -1 else claimed
    heading = (f'<h2 class="comments-title">{count} comments on &ldquo;{html.escape(title)}&rdquo;</h2>'
               if count is not None else "")
    nav = "".join(f'<a class="page-numbers" href="{p}">page</a>' for p in pages)
    return (
        '<!doctype html><html lang="en-GB"><head><meta charset="UTF-8">'
        '<meta name="generator" content="WordPress 6.1.1">'
        f'<title>{html.escape(title)}</title></head>'
        '<body class="post-template-default single single-post postid-42">'
        f'<main id="main"><article id="post-42"><h1 class="entry-title">{html.escape(title)}</h1></article>'
        '<div id="comments" class="comments-area default-max-width show-avatars">'
        f'{heading}<ol class="comment-list">{_tree(comments, 0, base)}</ol>'
        f'<nav class="navigation comments-pagination">{nav}</nav>'
        '<div id="respond" class="comment-respond"></div></div></main>'
        '<footer id="colophon" class="site-footer"></footer></body></html>').encode()


def many(n: int, start: datetime = datetime(2018, 3, 29, 15, 21)) -> list[C]:
    """n comments, every tenth with two replies."""
    out = []
    for i in range(1, n + 1):
        parent = i - (i % 10) if i % 10 in (1, 2) and i > 10 else 0
        out.append(C(i, f"Reader {i % 300}", f"Comment number {i} about Cafcass and the court report.",
                     parent, start + timedelta(minutes=7 * i)))
    return out
