"""`capture --due`, `capture --all` and `capture URL`: which watches one round captures."""
from __future__ import annotations

from datetime import timedelta

import pytest

from archive.capture.watches import add_watch
from archive.clock import utcnow
from archive.store.db import get_db
from archive.store.models import Feed

PAGE = "<html><body><p>No comment area here</p></body></html>"


@pytest.fixture
def watched(app, local_server):
    """Four watches on the local server: due, not yet due, paused and ended; and a due feed."""
    now = utcnow()
    states: dict[str, dict[str, object]] = {"/due/": {}, "/later/": {"next_due_at": now + timedelta(hours=1)},
              "/paused/": {"paused": True}, "/ended/": {"until": now - timedelta(hours=1)}}
    with app.app_context(), get_db(app).write() as session:
        for path, changes in states.items():
            local_server.route(path, PAGE)
            watch = add_watch(session, local_server.url(path), allow_private=True, adapter="wordpress")
            for name, value in changes.items():
                setattr(watch, name, value)
        session.add(Feed(url=local_server.url("/feed"), interval_seconds=3600, watch_for_seconds=86400,
                         next_due_at=now))
    local_server.route("/feed", "<rss version='2.0'><channel><title>t</title></channel></rss>",
                       content_type="application/rss+xml")
    return local_server


def fetched(server) -> list[str]:
    return [p for p in ("/due/", "/later/", "/paused/", "/ended/", "/feed") if server.count(p)]


def test_capture_due_takes_the_due_watches_and_feeds(runner, watched):
    result = runner.invoke("capture", "--due")
    assert result.exit_code == 0, result.output
    assert fetched(watched) == ["/due/", "/feed"]
    assert result.output.splitlines()[-1] == "captured 1 thread(s): 1 suspect"


def test_capture_all_takes_every_active_watch_due_or_not(runner, watched):
    result = runner.invoke("capture", "--all")
    assert result.exit_code == 0, result.output
    assert fetched(watched) == ["/due/", "/later/"], "paused and ended watches stay alone; so do feeds"
    assert result.output.splitlines()[-1] == "captured 2 thread(s): 2 suspect"


def test_capture_round_with_nothing_to_do_says_so(runner):
    assert runner.invoke("capture", "--due").output == "captured 0 thread(s): nothing was due\n"
    assert runner.invoke("capture", "--all").output == "captured 0 thread(s): no active watch\n"


@pytest.mark.parametrize("args", [[], ["--due", "--all"], ["--all", "http://127.0.0.1:9/a/"]])
def test_capture_needs_exactly_one_choice(runner, args):
    result = runner.invoke("capture", *args)
    assert result.exit_code == 2 and "give one of --due, --all or a URL" in result.output
