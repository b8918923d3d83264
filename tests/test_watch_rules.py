"""The command line, the CSV files and the operator pages apply one set of watch rules.

Each rule lives once in `archive.capture.watches`; these tests pin that every
front end shows the same state and refuses the same input with the same words.
"""
from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from archive.capture.watches import add_watch
from archive.clock import utcnow
from archive.store.db import get_db
from archive.store.models import Feed, Watch
from tests.conftest import ArchiveRunner
from tests.operator_support import count, logged_in, post


@pytest.fixture
def ops(app):
    return logged_in(app)


def _watches(app: Flask) -> dict[str, int]:
    """One watch of each kind, failures included: a paused or ended watch can be failing too."""
    with get_db(app).write() as session:
        ids = {name: add_watch(session, f"http://127.0.0.1:9/article-{n}/", allow_private=True).id
               for n, name in enumerate(("active", "failing", "paused-failing", "ended"))}
        for name in ("failing", "paused-failing"):
            watch = session.get_one(Watch, ids[name])
            watch.consecutive_failures, watch.last_outcome, watch.last_capture_at = 3, "failed", utcnow()
            watch.last_reason = "the article answered HTTP 503"
        session.get_one(Watch, ids["paused-failing"]).paused = True
        session.get_one(Watch, ids["ended"]).until = utcnow() - timedelta(days=1)
    return ids


def _csv_states(text: str) -> dict[int, str]:
    return {int(row["id"]): row["state"] for row in csv.DictReader(io.StringIO(text))}


def test_every_front_end_shows_the_same_state(app, ops, runner):
    ids = _watches(app)
    expected = {ids["active"]: "active", ids["failing"]: "active", ids["paused-failing"]: "paused",
                ids["ended"]: "ended"}

    listed = json.loads(runner.invoke("watch", "list", "--json").output)
    assert {w["id"]: w["state"] for w in listed} == expected
    assert _csv_states(runner.invoke("watch", "export").output) == expected
    assert _csv_states(ops.get("/ops/watches/export.csv").get_data(as_text=True)) == expected
    page = ops.get("/ops/watches").get_data(as_text=True)
    badges = re.findall(r'<td>(\d+)</td>.*?class="badge state-(\w+)"', page, re.S)
    assert {int(i): state for i, state in badges} == expected
    # The status filter is the same rule in SQL.
    for state in ("active", "paused", "ended"):
        page = ops.get("/ops/watches", query_string={"status": state}).get_data(as_text=True)
        shown = {i for i in expected if f"<td>{i}</td>" in page}
        assert shown == {i for i, s in expected.items() if s == state}, state


def test_failures_are_shown_beside_the_state_everywhere(app, ops, runner):
    ids = _watches(app)
    table = runner.invoke("watch", "list").output
    assert table.count("3 failures in a row") == 2 and "failing" not in table
    assert ops.get("/ops/watches").get_data(as_text=True).count("3 failures in a row") == 2
    listed = json.loads(runner.invoke("watch", "list", "--json").output)
    assert {w["id"]: w["consecutive_failures"] for w in listed}[ids["paused-failing"]] == 3


def test_pause_and_resume_refuse_the_same_way_on_both_sides(app, ops, runner):
    with get_db(app).write() as session:
        watch_id = add_watch(session, "http://127.0.0.1:9/a/", allow_private=True).id
    cli = runner.invoke("watch", "resume", str(watch_id))
    web = post(ops, f"/ops/watches/{watch_id}/resume", follow_redirects=True)
    assert cli.output == f"error: watch {watch_id} is not paused\n"
    assert f"watch {watch_id} is not paused" in web.get_data(as_text=True)
    # Paused on the web, resumed on the command line: the same flag, due again at once.
    post(ops, f"/ops/watches/{watch_id}/pause")
    assert runner.invoke("watch", "pause", str(watch_id)).output == f"error: watch {watch_id} is already paused\n"
    before = utcnow()
    assert runner.invoke("watch", "resume", str(watch_id)).exit_code == 0
    with get_db(app).read_session() as session:
        watch = session.get_one(Watch, watch_id)
        assert not watch.paused and watch.next_due_at >= before.replace(microsecond=0)


def _cli_add(runner: ArchiveRunner, option: str, value: str) -> str:
    return runner.invoke("watch", "add", "http://127.0.0.1:9/a/", option, value).output


def _web_add(ops: FlaskClient, field: str, value: str) -> str:
    form = {"url": "http://127.0.0.1:9/a/", field: value, "action": "add"}
    return post(ops, "/ops/watches/new", form, form_path="/ops/watches/new").get_data(as_text=True)


def _csv_import(runner: ArchiveRunner, tmp_path: Path, column: str, value: str) -> str:
    path = tmp_path / "watches.csv"
    path.write_text(f"url,{column}\nhttp://127.0.0.1:9/a/,{value}\n")
    return runner.invoke("watch", "import", str(path)).output


@pytest.mark.parametrize("value", ["30s", "2001-01-01"])
def test_the_same_schedule_rules_and_words_on_every_front_end(app, ops, runner, tmp_path, value):
    if value == "30s":
        words = "must be at least 1m"
        said = [_cli_add(runner, "--every", value), _web_add(ops, "every", value),
                _csv_import(runner, tmp_path, "every", value), _csv_import(runner, tmp_path, "early_every", value),
                runner.invoke("feed", "add", "http://127.0.0.1:9/feed", "--watch-every", value).output,
                post(ops, "/ops/feeds", {"url": "http://127.0.0.1:9/feed", "every": value},
                     form_path="/ops/feeds").get_data(as_text=True)]
    else:
        words = "the end date 2001-01-01 00:00 is already past"
        said = [_cli_add(runner, "--until", value), _web_add(ops, "until", value),
                _csv_import(runner, tmp_path, "until", value)]
    for output in said:
        assert words in output, output
        assert "--every" not in output and "--until" not in output, "no front end's wording in the rule"
    assert count(app, Watch) == 0 and count(app, Feed) == 0


@pytest.mark.parametrize("option, value, words", [
    ("every", "9999999999w", "duration too long: '9999999999w' (at most 36500d)"),
    ("until", "0001-01-01T00:00+01:00",
     "date out of range: '0001-01-01T00:00+01:00' (use a date from 1900-01-01 to 9998-12-31)"),
    ("until", "9999-12-31T23:59-01:00",
     "date out of range: '9999-12-31T23:59-01:00' (use a date from 1900-01-01 to 9998-12-31)"),
])
def test_values_beyond_what_a_date_can_hold_are_refused_alike(app, ops, runner, tmp_path, option, value, words):
    said = [_cli_add(runner, f"--{option}", value), _web_add(ops, option, value),
            _csv_import(runner, tmp_path, option, value)]
    for output in said:
        assert words in html.unescape(output), output
    assert count(app, Watch) == 0
