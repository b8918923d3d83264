"""The Viafoura adapter against captures that must never call a comment removed.

Each case is a way a live thread, a confused API or a hostile answer could make
a capture look good while it misses comments; the pure rules of
archive/rules/assess.py then decide, as the capture pipeline would.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from archive.rules.assess import classify_view
from archive.rules.verdicts import Known, text_hash
from scrapers.base import ThreadView
from tests.scrapers.test_viafoura import CONTAINER, OPTIONS, adapter, capture, load, page
from scrapers.viafoura import comments_url, container_url

CONTAINER_URL = container_url(OPTIONS, "26844213")


def _known(view: ThreadView) -> dict[str, Known]:
    """What the archive knows after a good capture showed `view`."""
    return {r.key: Known(r.key, "visible", text_hash(r.text), r.parent_key, r.posted_at, datetime(2026, 12, 1))
            for r in view.comments if not r.tombstone}


def _outcome(view: ThreadView) -> str:
    before = adapter().combine(capture())
    assert before.recognised, before.reason
    return classify_view(view, _known(before))[0]


def _read(*answers: tuple[str, Any]) -> ThreadView:
    reader = adapter()
    return reader.combine([reader.parse(page(url, body)) for url, body in answers])


def test_an_empty_container_confirms_no_mass_removal() -> None:
    # A changed vf:container_id, or an API that lost the thread, answers a new,
    # empty container: its count of 0 must not confirm that every comment went.
    container = load("container")
    container["total_visible_content"] = 0
    view = _read((CONTAINER_URL, container),
                 (comments_url(OPTIONS, CONTAINER), {"contents": [], "more_available": False}))
    assert view.recognised and view.comments == []
    assert view.claimed_count is None
    assert _outcome(view) == "suspect"
