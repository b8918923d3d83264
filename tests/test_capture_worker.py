"""A capture worker needs no web app: settings, database, evidence store, search.

The capture runs in a fresh Python process that builds its context from
ARCHIVE_* settings alone, as a Celery worker on another machine would.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from archive.capture.watches import add_watch
from archive.context import archive_context
from archive.search import SearchQuery, query_index
from tests.wordpress_markup import C, wp_page

ROOT = Path(__file__).resolve().parent.parent
WORKER = """
import json, sys
from archive.capture.fetch.fetcher import Fetcher
from archive.capture.pipeline import capture_watch
from archive.context import ArchiveContext
from archive.settings import Settings
from config import Config

ctx = ArchiveContext.open(Settings.from_config(Config()))
with Fetcher.from_settings(ctx.settings) as fetcher:
    summary = capture_watch(ctx, int(sys.argv[1]), fetcher)
ctx.close()
print(json.dumps({"outcome": summary.outcome, "comments": summary.comments_found,
                  "flask_loaded": "flask" in sys.modules}))
"""


def test_a_capture_runs_in_a_process_without_flask(app, local_server) -> None:
    ctx = archive_context(app)
    url = local_server.url("/cafcass/")
    local_server.route("/cafcass/", wp_page([C(1, "WL", "Cafcass marks its own homework."),
                                             C(2, "Nell", "Agreed.", parent=1)], base=url),
                       content_type="text/html; charset=UTF-8")
    with ctx.db.write() as session:
        watch_id = add_watch(session, url, allow_private=True, adapter="wordpress").id
    settings = ctx.settings
    env = {**os.environ, "ARCHIVE_DATA_DIR": str(settings.data_dir),
           "ARCHIVE_DATABASE_URL": settings.database_url,
           "ARCHIVE_SEARCH_BACKEND": settings.search_backend,
           "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1", "ARCHIVE_MIN_HOST_DELAY": "0",
           "ARCHIVE_FETCH_RETRIES": "0"}
    done = subprocess.run([sys.executable, "-c", WORKER, str(watch_id)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {
        "outcome": "good", "comments": 2, "flask_loaded": False}
    # What the worker stored and indexed is what the web side reads.
    results = query_index(ctx, SearchQuery(text="homework"))
    assert results.total == 1 and not results.stale
