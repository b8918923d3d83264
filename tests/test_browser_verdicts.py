"""How a browser capture's load decides its outcome before the adapter's view does
(archive/capture/browser_capture.py): a bad load never lets a capture be diffed."""
from __future__ import annotations

import pytest

from archive.capture.browser_capture import classify_browser, with_notes
from archive.capture.fetched import BrowserEvidence


def _evidence(error: str | None = None, read_any: bool = True, notes: tuple[str, ...] = ()) -> BrowserEvidence:
    return BrowserEvidence(dom_sha256=None, screenshot_sha256=None, error=error, read_any=read_any, notes=notes)


@pytest.mark.parametrize(("decided", "evidence", "expected"), [
    (None, _evidence(), None),
    (None, _evidence(error="the browser capture passed its 60 s deadline"),
     ("failed", "the browser: the browser capture passed its 60 s deadline")),
    # The page's own words are more precise than "the widget never showed".
    (("gone", "the article answered HTTP 404"), _evidence(error="the page never showed it"),
     ("gone", "the article answered HTTP 404")),
    (("failed", "comment page X: refused"), _evidence(error="renderer crashed"),
     ("failed", "the browser: renderer crashed")),
    (("failed", "comment page X: refused"), _evidence(), ("failed", "comment page X: refused")),
    (None, _evidence(read_any=False),
     ("suspect", "the page made no request the adapter reads (its comments never loaded)")),
], ids=["the view decides", "a bad load fails", "gone stays gone", "the load's error first",
        "a refused answer fails", "nothing read is suspect"])
def test_classify_browser(decided, evidence, expected) -> None:  # noqa: ANN001 - parametrised
    assert classify_browser(decided, evidence) == expected


def test_notes_explain_only_what_is_not_good() -> None:
    evidence = _evidence(notes=("the 'load more' button still showed after 20 clicks",))
    assert with_notes("good", "", evidence) == ""
    assert with_notes("suspect", "Isso counts 9", evidence) == (
        "Isso counts 9; the 'load more' button still showed after 20 clicks")
    assert with_notes("failed", "x", _evidence()) == "x"
