"""The allow-list sanitiser: hostile comment bodies come out inert."""
from __future__ import annotations

import re

import pytest

from archive.web.sanitize import MAX_BODY_CHARS, TRUNCATED_NOTE, clean_html, comment_body, text_to_html

ALLOWED = {"p", "br", "a", "em", "strong", "blockquote", "code", "pre", "ul", "ol", "li"}

HOSTILE = [
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "<a href=\"javascript:alert(1)\">click</a>",
    "<a href=\" JaVaScRiPt:alert(1)\">click</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD4=\">data</a>",
    "<iframe src=\"https://evil.example/\"></iframe>",
    "</textarea><script>alert(1)</script>",
    "<svg onload=alert(1)><script>alert(1)</script></svg>",
    "<math><mi xlink:href=\"javascript:alert(1)\">m</mi></math>",
    "<p style=\"position:fixed;top:0\" onclick=\"x()\">styled",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<div><p>unclosed <em>nesting <a href=\"https://ok.example/\">",
    "<object data=\"x.swf\"></object><embed src=\"x\">",
    "<form action=\"https://evil.example/\"><input name=q><button>go</button></form>",
    "<base href=\"https://evil.example/\"><meta http-equiv=refresh content=\"0;url=https://evil\">",
    "<style>body{display:none}</style>text",
    "<<script>script>alert(1)<</script>/script>",
]


def _tags(markup: str) -> set[str]:
    return {m.lower() for m in re.findall(r"<\s*/?\s*([a-zA-Z0-9]+)", markup)}


@pytest.mark.parametrize("body", HOSTILE)
def test_hostile_bodies_come_out_inert(body: str) -> None:
    out = str(clean_html(body))
    assert _tags(out) <= ALLOWED
    lowered = out.lower()
    assert "javascript:" not in lowered
    assert "onerror" not in lowered and "onclick" not in lowered and "onload" not in lowered
    assert "style=" not in lowered
    assert "data:" not in lowered


def test_script_content_is_dropped_not_shown() -> None:
    assert str(clean_html("<script>alert('boom')</script>after")) == "after"
    assert "body{" not in str(clean_html("<style>body{display:none}</style>x"))


def test_allowed_formatting_survives() -> None:
    body = ("<p>One <strong>bold</strong> and <em>em</em><br>line</p>"
            "<blockquote>quoted</blockquote><pre><code>x = 1</code></pre><ul><li>a</li></ul><ol><li>b</li></ol>")
    assert str(clean_html(body)) == body


def test_links_keep_http_href_and_get_rel() -> None:
    out = str(clean_html('<a href="https://example.org/a?b=1&amp;c=2" target="_blank" rel="me">x</a>'))
    assert out == '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener ugc">x</a>'
    relative = str(clean_html('<a href="/wp-admin/">admin</a>'))
    assert "href" not in relative and ">admin</a>" in relative


def test_unclosed_markup_is_balanced() -> None:
    out = str(clean_html("<p>open <em>never closed"))
    assert out == "<p>open <em>never closed</em></p>"


def test_huge_body_is_cut_with_a_note() -> None:
    out = str(clean_html("<p>" + "a" * (MAX_BODY_CHARS * 3) + "</p>"))
    assert len(out) < MAX_BODY_CHARS + 500
    assert TRUNCATED_NOTE in out


def test_plain_text_is_escaped_into_paragraphs() -> None:
    out = str(text_to_html("first <b>line</b>\nsecond\n\nnext & last"))
    assert out == "<p>first &lt;b&gt;line&lt;/b&gt;<br>second</p><p>next &amp; last</p>"


def test_comment_body_prefers_html_but_falls_back_to_text() -> None:
    assert str(comment_body("<p>kept</p>", "kept")) == "<p>kept</p>"
    # Markup that sanitises to nothing must not hide a text the adapter did read.
    assert str(comment_body("<script>only()</script>", "the text")) == "<p>the text</p>"
    assert str(comment_body("", "<i>plain</i>")) == "<p>&lt;i&gt;plain&lt;/i&gt;</p>"
