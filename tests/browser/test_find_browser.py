"""Find my comment in a real browser: a commenter pastes what they wrote and learns
it was removed, when, and where the evidence is.

The removed comment is picked from the demo's database, not written here, so
the test follows whatever `python -m archive demo` loads.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from sqlalchemy import select

from archive.store.db import get_db
from archive.store.models import Comment, CommentVersion
from tests.browser.test_public_browser import VIEWPORTS

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d(\.\d{3})?)? UTC"


def _a_removed_comment(app: Flask) -> tuple[int, str]:
    """The demo's first removed comment with text to remember (not a site's placeholder)."""
    with get_db(app).read_session() as session:
        found = session.execute(
            select(Comment.id, CommentVersion.text).join(CommentVersion)
            .where(Comment.status == "removed", Comment.redacted.is_(False),
                   Comment.tombstone_text.is_(None))
            .order_by(Comment.id, CommentVersion.seq.desc())).first()
    assert found is not None, "the demo has no removed comment"
    return found[0], found[1]


@pytest.mark.parametrize("device", sorted(VIEWPORTS))
def test_a_commenter_finds_their_removed_comment(browser, base_url: str, demo_app: Flask,
                                                 screenshots: Path, device: str) -> None:
    comment_id, text = _a_removed_comment(demo_app)
    context = browser.new_context(**VIEWPORTS[device])
    page: Page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    page.goto(base_url + "/")
    page.click("header nav >> text=Find my comment")
    page.wait_for_load_state()
    # As remembered: the words in lower case, the last sentence's full stop forgotten.
    page.fill("#text", text.lower().rstrip("."))
    page.click("form.find button[type=submit]")
    page.wait_for_load_state()

    first = page.locator("ol.matches > li").first
    assert first.locator("a.history").get_attribute("href") == f"/comments/{comment_id}"
    assert "Removed" in first.locator(".badges").inner_text()
    said = first.inner_text()
    assert re.search(rf"Removed between {STAMP} and {STAMP} \(a window of [^)]+\)", said), said
    assert "% similar, almost certainly the same text" in said
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.screenshot(path=str(screenshots / f"{device}-find.png"), full_page=True)

    first.locator("a.history").click()
    page.wait_for_load_state()
    assert page.url == f"{base_url}/comments/{comment_id}"
    events = page.locator("table.events tbody tr").all_inner_texts()
    assert any(e.split()[0] == "removed" for e in events), events
    assert "Removed" in page.inner_text(".badges")
    assert problems == [], problems
    context.close()
