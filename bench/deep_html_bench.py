"""Parse time of deeply nested hostile HTML, before and after the nesting cap.

    .venv/bin/python bench/deep_html_bench.py [--depths 1000,10000,100000,1000000] [--before-max 100000]

For each depth, a page of that many nested <div>s around "deep words": *before* is
a bare lexbor parse and text (what every adapter did, and what `fragment_text`
did with such a comment body); *after* is the WordPress page adapter's `parse`
(the page must come out unrecognised with the nesting reason), `fragment_text`
(the body must read "deep words") and the sanitiser (it must show the words).
Bare parses deeper than --before-max are skipped: their time grows with the
square of the depth (a million would take hours). Then the worst page the cap
still lets through (MAX_DEPTH deep, 10 MB of end tags that search the whole stack),
and what the scan adds to an ordinary page. First, a page that makes the builder
re-open formatting elements in every paragraph (quadratic in elements, not depth).
Every figure's outcome is checked.
"""
from __future__ import annotations

import argparse
import re
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nh3  # noqa: E402
from selectolax.lexbor import LexborHTMLParser  # noqa: E402

from archive.web.sanitize import MAX_BODY_CHARS, clean_html  # noqa: E402
from scrapers.base import Page  # noqa: E402
from scrapers.nesting import MAX_DEPTH, nesting_depth, parse_html, refusal  # noqa: E402
from scrapers.text import fragment_text  # noqa: E402
from scrapers.wordpress.page import WordPressAdapter  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REASON = re.compile(rf"nested (over )?[\d,]+ levels deep: more than the {MAX_DEPTH} the archive reads")
T = TypeVar("T")


def timed(work: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def check(ok: bool, what: str) -> None:
    if not ok:
        sys.exit(f"wrong outcome: {what}; the figures are void")


def deep(depth: int) -> str:
    return "<div>" * depth + "deep words" + "</div>" * depth


def page(body: str) -> Page:
    url = "https://example.org/post/"
    return Page(url, url, 200, {"content-type": "text/html; charset=utf-8"}, body.encode())


def one_depth(depth: int, before_max: int) -> None:
    body = deep(depth)
    html = f"<!doctype html><html><body><div id='comments'>{body}</div></body></html>"
    before = "skipped (quadratic)"
    if depth <= before_max:
        seconds, text = timed(lambda: LexborHTMLParser(html).text())
        check("deep words" in text, "the bare parse lost the words")
        before = f"{seconds:8.3f} s"
    shown = ("<p>first words</p>" + body)[:MAX_BODY_CHARS]
    nh3_s, cleaned = timed(lambda: nh3.clean(shown))
    check("first words" in cleaned, "nh3 lost the words")
    adapter = WordPressAdapter()
    page_s, result = timed(lambda: adapter.parse(page(html)))
    check(depth <= MAX_DEPTH or (not result.recognised and bool(REASON.fullmatch(result.reason))),
          f"page at {depth}: {result.reason!r}")
    text_s, text = timed(lambda: fragment_text(body))
    check(text == "deep words", f"fragment_text at {depth}: {text[:40]!r}")
    shown_s, shown = timed(lambda: clean_html("<p>first words</p>" + body))
    check("first words" in shown and "<div" not in shown, f"sanitiser at {depth}")
    print(f"{depth:>9,} deep {len(html) / 1e6:6.2f} MB | before: lexbor parse {before}, "
          f"nh3 {nh3_s:6.3f} s | after: "
          f"page parse {page_s:6.3f} s, fragment_text {text_s:6.3f} s, sanitiser {shown_s:6.3f} s")


def reopening(kept: int, paragraphs: int) -> None:
    """`kept` formatting elements closed by a block's end, then paragraphs that re-open them all."""
    html = "<div>" + "".join(f"<b id={i}>" for i in range(kept)) + "</div>" + "<p>x" * paragraphs
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    before_s, tree = timed(lambda: LexborHTMLParser(html))
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) / 1024
    elements = len(tree.css("b"))
    check(elements >= kept * paragraphs, f"lexbor built {elements} <b>")
    del tree
    after_s, reason = timed(lambda: refusal(html))
    check(reason is not None and reason.startswith("re-opens"), f"re-opening page: {reason!r}")
    print(f"{kept} <b> left open, then {paragraphs:,} paragraphs ({len(html) / 1e3:.0f} KB): before: lexbor "
          f"{before_s:.2f} s, {elements:,} <b> elements, +{grown:,.0f} MB peak | after: refused in {after_s:.3f} s")
    body = html[:MAX_BODY_CHARS]
    nh3_s, cleaned = timed(lambda: nh3.clean(body))
    shown_s, shown = timed(lambda: clean_html(body))
    check("<b>" not in shown and len(shown) < len(body) * 3, "the sanitiser re-opened the <b>s")
    print(f"  as a comment body, cut to {len(body):,} characters: before: nh3 {nh3_s:.2f} s, "
          f"{len(cleaned) / 1e6:.1f} MB of HTML to show | after: sanitiser {shown_s:.3f} s, "
          f"{len(shown) / 1e3:.0f} KB")


def worst_accepted() -> None:
    """MAX_DEPTH open <div>s, then 10 MB of </p> (each searches the whole stack for a <p>)."""
    html = "<div>" * MAX_DEPTH + "</p>" * (10_000_000 // 4)
    scan_s, depth = timed(lambda: nesting_depth(html))
    check(depth <= MAX_DEPTH, f"the worst accepted page counted {depth}")
    parse_s, _ = timed(lambda: parse_html(html))
    print(f"worst page within the cap ({MAX_DEPTH} deep, 10 MB of </p>): scan {scan_s:.3f} s, "
          f"scan and parse {parse_s:.3f} s")


def ordinary() -> None:
    text = (ROOT / "tests" / "fixtures" / "wordpress" / "t21-thread.html").read_text()
    scan_cost("a 28 KB WordPress page", text)
    scan_cost("the same page repeated to 10 MB", text * (10_000_000 // len(text)))


def scan_cost(label: str, html: str) -> None:
    scan_s, depth = timed(lambda: nesting_depth(html))
    check(depth <= MAX_DEPTH, f"{label} counted {depth}")
    parse_s, _ = timed(lambda: LexborHTMLParser(html))
    print(f"{label}: scan {scan_s * 1000:.1f} ms, lexbor parse {parse_s * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", default="1000,10000,100000,1000000")
    parser.add_argument("--before-max", type=int, default=100_000)
    args = parser.parse_args()
    reopening(100, 10_000)
    for depth in (int(d) for d in args.depths.split(",")):
        one_depth(depth, args.before_max)
    worst_accepted()
    ordinary()


if __name__ == "__main__":
    main()
