"""A real headless Chromium against the archive served on loopback, loaded with the demo.

Chromium comes from Debian (/usr/bin/chromium); Playwright only drives it
(`playwright install` is never needed). Without Chromium the browser tests
are skipped with the reason, except in CI (CI=true), where they fail.
"""
from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from archive import create_app
from archive.context import archive_context
from archive.demo import load_demo
from archive.store.db import get_db
from config import TestConfig

CHROMIUM = Path(os.environ.get("ARCHIVE_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
IN_CI = os.environ.get("CI") == "true"


def _require_chromium() -> None:
    problem = None
    if not CHROMIUM.exists():
        problem = f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set ARCHIVE_TEST_CHROMIUM)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "Playwright for Python is not installed (pip install -r requirements-dev.txt)"
    if problem:
        if IN_CI:
            pytest.fail(problem)
        pytest.skip(problem)


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Flask]:
    data_dir = tmp_path_factory.mktemp("browser") / "instance"
    data_dir.mkdir()
    shutil.copy(sqlite_template, data_dir / "archive.db")
    app = create_app(TestConfig(DATA_DIR=str(data_dir)))
    load_demo(archive_context(app), say=lambda _line: None)
    yield app
    get_db(app).dispose()


@pytest.fixture(scope="module")
def base_url(demo_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, demo_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
