"""An operator in a real headless Chromium: log in, preview and add a watch, queue a capture, check health.

Uses the `browser` and `screenshots` fixtures of tests/browser/conftest.py and
its own fresh archive (no demo), served on loopback next to a local article.
"""
from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from archive import create_app
from archive.store.db import get_db
from config import TestConfig as ArchiveTestConfig
from tests.operator_support import PASSWORD, make_user
from tests.test_operators_watches import ARTICLE, OPTIONS, dispatch_once

pytestmark = pytest.mark.browser


@pytest.fixture
def ops_app(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[str, Flask]]:
    data_dir = tmp_path / "instance"
    data_dir.mkdir()
    shutil.copy(sqlite_template, data_dir / "archive.db")
    app: Flask = create_app(ArchiveTestConfig(DATA_DIR=str(data_dir)))
    make_user(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    thread.join(timeout=5)
    get_db(app).dispose()


def test_login_preview_add_capture_and_see_health(browser, screenshots, ops_app, local_server):
    ops_url, app = ops_app
    local_server.route("/cafcass/", ARTICLE)
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    page.goto(f"{ops_url}/ops/watches")
    assert "/ops/login" in page.url
    page.fill("input[name=name]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:has-text('Log in')")
    page.wait_for_url(f"{ops_url}/ops/watches")
    assert "No watches match" in page.inner_text("main")

    page.click("text=Add a watch")
    page.fill("input[name=url]", local_server.url("/cafcass/"))
    page.select_option("select[name=adapter]", "generic-css")
    page.fill("textarea[name=options]", json.dumps(OPTIONS))
    page.click("button[value=preview]")
    preview = page.locator("section.preview")
    preview.wait_for()
    text = preview.inner_text()
    assert "3 found, the page claims 3" in text and "They never listened to us." in text
    assert page.locator("section.preview img").count() == 0, "hostile markup is not rendered"
    page.screenshot(path=str(screenshots / "operator-1-preview.png"), full_page=True)

    page.click("button[value=add]")
    page.wait_for_url(f"{ops_url}/ops/watches")
    assert "Watch 1 added" in page.inner_text("main")
    page.screenshot(path=str(screenshots / "operator-2-watches.png"), full_page=True)

    page.click("button:has-text('Capture now')")
    page.wait_for_url(f"{ops_url}/ops/watches")
    assert "Capture of watch 1 queued" in page.inner_text("main")
    dispatch_once(app)
    page.goto(f"{ops_url}/ops/health")
    row = page.locator("tr.capture").first
    assert "good" in row.inner_text() and "3 of 3 claimed" in row.inner_text()
    page.screenshot(path=str(screenshots / "operator-3-health.png"), full_page=True)

    page.click("text=Audit log")
    log = page.inner_text("table.audit")
    assert "capture-now" in log and "watch-add" in log and "login" in log
    assert errors == [], f"console errors (CSP?): {errors}"
    context.close()
