"""A reader's path through the archive in a real browser, on desktop and phone widths.

Search a phrase only a removed comment contains, open its thread, see it
marked removed in its place, open its history and the capture behind it.
No JavaScript is needed: the phone pass runs with JavaScript turned off.
Screenshots go to test-output/screenshots/ for a person to look at.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

PHRASE = '"for twenty minutes"'
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}, "java_script_enabled": True},
    "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
              "is_mobile": True, "has_touch": True, "java_script_enabled": False},
}


def _fits_width(page: Page) -> bool:
    # clientWidth is the layout viewport; a phone browser may zoom out (and
    # widen innerWidth) to fit a page that is too wide.
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


@pytest.mark.parametrize("device", sorted(VIEWPORTS))
def test_reader_finds_a_removed_comment_and_its_evidence(browser, base_url: str, screenshots: Path,
                                                         device: str) -> None:
    context = browser.new_context(**VIEWPORTS[device])
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    def shot(name: str) -> None:
        assert _fits_width(page), f"{name} scrolls sideways at {device} width"
        page.screenshot(path=str(screenshots / f"{device}-{name}.png"), full_page=True)

    page.goto(base_url + "/")
    assert "What was published, and what disappeared" in page.inner_text("h1")
    assert "Recently disappeared" in page.inner_text("main")
    shot("home")

    page.click("header nav >> text=Search")
    page.fill("#q", PHRASE)
    page.click("form.search button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".facets .flash").count() == 0     # the index is up to date
    hits = page.locator("ol.hits > li")
    assert hits.count() == 1
    hit = hits.first
    assert "Removed" in hit.locator(".badges").inner_text()
    assert [m.inner_text() for m in hit.locator("mark").all()] == ["for", "twenty", "minutes"]
    shot("search")

    hit.locator("a", has_text="Cafcass rated").click()
    page.wait_for_load_state()
    anchor = page.url.rsplit("#", 1)[1]
    removed = page.locator(f"li#{anchor}")
    assert "removed" in (removed.get_attribute("class") or "").split()
    text = removed.inner_text()
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d(\.\d{3})?)? UTC"
    assert re.search(rf"Removed between {stamp} and {stamp} \(a window of [^)]+\)", text), text
    assert "for twenty minutes" in text
    # In its place: between the comments that were around it on the page.
    order = page.eval_on_selector_all("ol.comment-tree > li", "items => items.map(li => li.id)")
    assert 0 < order.index(anchor) < len(order) - 1
    page.locator(f"li#{anchor}").scroll_into_view_if_needed()
    shot("thread")

    page.click("p.toggle a")
    page.wait_for_load_state()
    only = page.eval_on_selector_all("ol.comment-tree > li", "items => items.map(li => li.id)")
    assert anchor in only and len(only) < len(order)
    shot("thread-disappeared")
    page.go_back()

    page.locator(f"li#{anchor} a.history").click()
    page.wait_for_load_state()
    events = page.locator("table.events tbody tr").all_inner_texts()
    assert [e.split()[0] for e in events] == ["appeared", "missing", "asked", "removed"]
    assert "asked the site's API: exists but hidden (HTTP 401)" in events[2]
    shot("comment")

    page.locator("table.events tbody tr", has_text="removed").locator("a").first.click()
    page.wait_for_load_state()
    assert page.locator("article.exchange").count() >= 1
    assert "Good" in page.inner_text("h1") or "Unchanged" in page.inner_text("h1")
    shot("capture")

    raw = page.locator("article.exchange a", has_text="view raw").first.get_attribute("href")
    response = page.goto(base_url + raw)
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert page.evaluate("document.contentType") == "text/plain"
    assert "comment-list" in page.inner_text("body")      # the page source, shown as text

    assert problems == [], problems       # no CSP violation, no script error anywhere
    context.close()


def test_edited_comment_diff_is_readable(browser, base_url: str, screenshots: Path) -> None:
    context = browser.new_context(**VIEWPORTS["desktop"])
    page = context.new_page()
    page.goto(base_url + "/search?q=author%3AWL+bonkers")
    page.locator("ol.hits a", has_text="history").first.click()
    page.wait_for_load_state()
    inserted = page.locator(".diff ins").all_inner_texts()
    assert any("great workers" in text for text in inserted)
    assert "Edited (2 versions)" in page.inner_text(".badges")
    page.screenshot(path=str(screenshots / "desktop-comment-edited.png"), full_page=True)
    context.close()
