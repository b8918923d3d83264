"""`watch add|list|pause|resume|remove`: clear one-line errors, nothing half-written."""
from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import func, select

from archive.store.db import get_db
from archive.store.models import Base, Thread, Watch
from tests.context_support import with_settings

URL = "http://127.0.0.1:9/cafcass-rated-outstanding/"


def _count(app: Flask, model: type[Base]) -> int:
    with get_db(app).read_session() as session:
        return session.scalars(select(func.count()).select_from(model)).one()


def test_add_list_pause_resume_remove(app, runner):
    result = runner.invoke("watch", "add", URL, "--every", "30m", "--until", "2099-01-01")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("watch 1: http://127.0.0.1:9/cafcass-rated-outstanding/ every 30m")
    listed = json.loads(runner.invoke("watch", "list", "--json").output)
    assert [(w["id"], w["url"], w["every"], w["state"], w["until"]) for w in listed] == [
        (1, URL, "30m", "active", "2099-01-01T00:00:00Z")]
    assert "paused" in runner.invoke("watch", "pause", "1").output
    assert json.loads(runner.invoke("watch", "list", "--json").output)[0]["state"] == "paused"
    again = runner.invoke("watch", "pause", "1")
    assert again.exit_code == 1 and "already paused" in again.output
    assert "resumed" in runner.invoke("watch", "resume", "1").output
    removed = runner.invoke("watch", "remove", "1")
    assert removed.exit_code == 0 and "evidence stays" in removed.output
    assert _count(app, Watch) == 0
    assert _count(app, Thread) == 1, "removing a watch keeps the thread and its evidence"


def test_empty_list_says_how_to_start(runner):
    assert "watch add URL" in runner.invoke("watch", "list").output


@pytest.mark.parametrize("url, message", [
    ("ftp://example.org/article", "http"),
    ("not a url", "http"),
    ("http://user:secret@127.0.0.1/a", "credentials"),
])
def test_bad_urls_are_refused_in_one_line(app, runner, url, message):
    result = runner.invoke("watch", "add", url)
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and result.output.count("\n") == 1, result.output
    assert message in result.output.lower()
    assert _count(app, Watch) == 0 and _count(app, Thread) == 0


def test_private_address_refused_unless_allowed(app, runner):
    with_settings(app, allow_private_addresses=False)
    result = runner.invoke("watch", "add", "http://10.1.2.3/article/")
    assert result.exit_code == 1 and "ARCHIVE_ALLOW_PRIVATE_ADDRESSES" in result.output
    assert _count(app, Thread) == 0


def test_duplicate_watch_refused(app, runner):
    assert runner.invoke("watch", "add", URL).exit_code == 0
    # The same thread, spelt differently: fragment, comment page, upper-case scheme.
    for same in (URL + "#comment-5", URL + "comment-page-2/", URL.replace("http://", "HTTP://")):
        result = runner.invoke("watch", "add", same)
        assert result.exit_code == 1 and "already watched as watch 1" in result.output, result.output
    assert _count(app, Watch) == 1


@pytest.mark.parametrize("args, message", [
    (["--every", "soon"], "not a duration"),
    (["--every", "10s"], "at least 1m"),
    (["--until", "2001-01-01"], "already past"),
    (["--until", "tomorrow"], "not a date"),
    (["--adapter", "myspace"], "unknown adapter"),
    (["--every", "9999999999w"], "duration too long"),
    (["--options", "{not json"], "not valid JSON"),
    (["--options", "[1]"], "must be a JSON object"),
    (["--options", '{"isso": "http://127.0.0.1:9/"}'], "options need an adapter"),
    (["--adapter", "wordpress", "--options", '{"isso": "x"}'], "takes no options"),
    (["--adapter", "isso", "--options", '{"isso": "ftp://x/"}'], "not an http(s) server URL"),
    (["--until", "0001-01-01T00:00+01:00"], "date out of range"),
    (["--until", "9999-12-31T23:59-01:00"], "date out of range"),
])
def test_bad_options_are_refused(app, runner, args, message):
    result = runner.invoke("watch", "add", URL, *args)
    assert result.exit_code != 0 and message in result.output, result.output
    assert _count(app, Watch) == 0


def test_options_are_cleaned_by_the_adapter_and_stored(app, runner):
    result = runner.invoke("watch", "add", URL, "--adapter", "isso",
                           "--options", '{"isso": "http://127.0.0.1:9/comments", "uri": "/a/"}')
    assert result.exit_code == 0, result.output
    with get_db(app).read_session() as session:
        watch = session.scalars(select(Watch)).one()
        assert watch.options == {"isso": "http://127.0.0.1:9/comments/", "uri": "/a/"}


def test_unknown_watch_id(runner):
    result = runner.invoke("watch", "pause", "42")
    assert result.exit_code == 1 and result.output == "error: no watch with id 42\n"
