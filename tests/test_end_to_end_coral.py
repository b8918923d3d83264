"""End to end through a real headless Chromium: a Coral stream, seen as a reader sees it.

An article on one loopback origin embeds a (minimal) Coral stream from a second
origin (tests/coral_server.py): two top-level comments and one reply each at
first, the rest behind "Load More" and "Show All Replies", which the capture
clicks; every page of comments is a GraphQL POST. The watch names the `coral`
adapter. Then a moderator rejects a comment and a reader deletes her account
(her comment with a reply stays as a tombstone, her leaf goes) and an
author edits a comment; the archive must say so after the confirming capture, through `export comments`. A
load whose clicks are capped proves nothing (suspect), and with the site or
Coral alone down nothing new is removed.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from archive.capture.fetch.browser import browser_problem
from archive.context import archive_context
from tests import archive_commands as cli
from tests.conftest import IN_CI, ArchiveRunner
from tests.context_support import with_settings
from tests.coral_server import CoralServer

pytestmark = pytest.mark.browser
# Generous: two cores shared with other work; a load ends as soon as the page is done.
LOAD_SECONDS = 90.0
# With Coral down the stream never shows, and the load waits for it until this deadline.
DOWN_SECONDS = 10.0
SEED = [
    # (name, author, body, parent name); oldest first, the stream shows the newest first
    ("ann", "Ann", "<p>Cafcass ignored the <b>Parental Conflict Tool</b>.</p>", None),
    ("bob", "Bob", "<p>Same here: no sibling was interviewed.</p>", "ann"),
    ("cy", "Cy", "<p>Mine too.</p>", "ann"),
    ("fay", "Fay", "<p>I will delete my account after this.</p>", None),
    ("gus", "Gus", "<p>Answering Fay.</p>", "fay"),
    ("fay_leaf", "Fay", "<p>A second thought, unanswered.</p>", None),
    ("rude", "Eve", "<p>Something a moderator will reject.</p>", None),
    ("hal", "Hal", "<p>Complaints data shows the opposite.</p>", None),
    ("ida", "Ida", "<p>Line one<br>line two</p>", None),
]


@pytest.fixture(scope="module")
def coral() -> Iterator[CoralServer]:
    with CoralServer(page_size=2, reply_page=1) as server:
        yield server


@pytest.fixture
def browser_app(sqlite_app: Flask) -> Flask:
    problem = browser_problem(archive_context(sqlite_app).settings)
    if problem:
        if IN_CI:
            pytest.fail(problem)
        pytest.skip(problem)
    with_settings(sqlite_app, browser_seconds=LOAD_SECONDS)
    return sqlite_app










def _watch(runner: ArchiveRunner, folder: Path, url: str) -> None:
    cli.watch(runner, folder, url, "coral", None)


def test_coral_stream_through_the_browser(browser_app: Flask, coral: CoralServer, tmp_path: Path) -> None:
    runner = ArchiveRunner(browser_app)
    url = coral.story("/2026/12/cafcass-inspection/", "Cafcass rated outstanding")
    key: dict[str, str] = {}
    for name, author, body, parent in SEED:
        key[name] = coral.post(url, author, body, parent=key[parent] if parent else None)
    _watch(runner, tmp_path, url)

    coral.first_answer_delay = 2.5   # longer than the plan settles: the capture must wait for it
    first = cli.capture(runner, url)
    coral.first_answer_delay = 0.0
    assert "[good]" in first and f"{len(SEED)} comments" in first, first
    rows = cli.comments(runner)
    assert set(rows) == set(key.values())
    assert set(cli.statuses(runner).values()) == {"visible"}
    assert rows[key["cy"]]["parent_id"] == key["ann"], "the second reply came by Show All Replies"
    assert rows[key["ann"]]["author"] == "Ann"
    assert rows[key["ann"]]["text"] == "Cafcass ignored the Parental Conflict Tool."
    assert rows[key["ida"]]["text"] == "Line one\nline two"

    # Clicks capped: the stream showed part of the thread, which proves nothing.
    with_settings(browser_app, browser_max_clicks=0)
    partial = cli.capture(runner, url)
    assert "[suspect]" in partial and "loaded" in partial, partial
    assert set(cli.statuses(runner).values()) == {"visible"}
    with_settings(browser_app, browser_max_clicks=20)

    coral.reject(key["rude"])
    coral.delete_account("Fay")     # her comment with a reply: a tombstone; her leaf: rejected
    coral.edit(key["hal"], "<p>Complaints data shows the opposite, as Ofsted knew.</p>")
    assert "[good]" in cli.capture(runner, url)
    statuses = cli.statuses(runner)
    assert statuses[key["fay"]] == "removed", "a deleted account's tombstone is a removal at once"
    assert statuses[key["rude"]] == statuses[key["fay_leaf"]] == "missing"
    assert statuses[key["gus"]] == "visible", "a reply under a tombstone stays"
    hal = cli.comments(runner)[key["hal"]]
    assert (hal["status"], hal["edit_count"]) == ("visible", 1)
    assert hal["text"] == "Complaints data shows the opposite, as Ofsted knew."

    assert "[good]" in cli.capture(runner, url)
    rows = cli.comments(runner)
    removed = {cid for cid, row in rows.items() if row["status"] == "removed"}
    assert removed == {key["fay"], key["rude"], key["fay_leaf"]}
    for cid in removed:
        assert rows[cid]["times_removed"] == 1
        assert rows[cid]["removed_after"] <= rows[cid]["removed_before"], rows[cid]
    assert {rows[key[n]]["status"] for n in ("ann", "bob", "cy", "gus", "hal", "ida")} == {"visible"}
    kinds = {(e["comment_id"], e["kind"]) for e in cli.export(runner, "events")}
    assert (key["fay"], "tombstoned") in kinds and (key["rude"], "removed") in kinds
    assert (key["hal"], "edited") in kinds

    # Coral and the article go down: the captures fail, nothing new is removed.
    before = cli.statuses(runner)
    with coral.stopped():
        for _ in range(2):
            assert "[failed]" in cli.capture(runner, url)
    assert cli.statuses(runner) == before
    # Coral alone goes down: the article loads, its stream never does.
    with_settings(browser_app, browser_seconds=DOWN_SECONDS)
    with coral.stopped(site=False):
        for _ in range(2):
            down = cli.capture(runner, url)
            assert "[failed]" in down and "#comments-allComments-log" in down, down
    assert cli.statuses(runner) == before
    with_settings(browser_app, browser_seconds=LOAD_SECONDS)
    assert "[good]" in cli.capture(runner, url)
    assert cli.statuses(runner) == before
