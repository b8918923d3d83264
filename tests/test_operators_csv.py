"""Watches as CSV: every bad row named by its line, all or nothing, round trips."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from archive.capture.watches import add_watch
from archive.operators.watch_csv import parse_watch_csv
from archive.store.db import get_db
from archive.store.models import Thread, Watch
from tests.operator_support import audit_actions, count, logged_in, post

NOW = datetime(2025, 3, 1, 12, 0)
ADAPTERS = ("generic-css", "guardian")
SELECTORS = '"{""area"": ""#c"", ""item"": ""li"", ""body"": ""p""}"'


def test_good_rows_parse() -> None:
    text = ("\ufeffurl,adapter,every,until,paused,early_every,early_for,options\n"
            "https://example.org/a/,,30m,2025-12-31,,,,\n"
            f"https://example.org/b/,generic-css,1h,,true,15m,1d,{SELECTORS}\n"
            ",,,,,,,\n")
    rows, problems = parse_watch_csv(text, ADAPTERS, NOW)
    assert problems == []
    assert [(r.line, r.url, r.adapter, r.every, r.paused) for r in rows] == [
        (2, "https://example.org/a/", None, timedelta(minutes=30), False),
        (3, "https://example.org/b/", "generic-css", timedelta(hours=1), True)]
    assert rows[0].until == datetime(2025, 12, 31)
    assert rows[1].options == {"area": "#c", "item": "li", "body": "p"}
    assert (rows[1].early_every, rows[1].early_for) == (timedelta(minutes=15), timedelta(days=1))


def test_every_bad_row_is_reported_with_its_line_number() -> None:
    text = ("url,adapter,every,until,paused,options\n"
            "https://example.org/ok/,,,,,\n"
            "ftp://example.org/a/,,,,,\n"
            "https://example.org/b/,nope,,,,\n"
            "https://example.org/c/,,soon,,,\n"
            "https://example.org/d/,,,2001-01-01,,\n"
            "https://example.org/e/,,,,maybe,\n"
            'https://example.org/f/,,,,,"{not json"\n'
            "https://example.org/g/,generic-css,,,,\n"
            "https://example.org/ok/#comments,,,,,\n"
            "https://example.org/h/,,,,,,extra\n")
    rows, problems = parse_watch_csv(text, ADAPTERS, NOW)
    assert [p.split(":")[0] for p in problems] == [f"line {n}" for n in range(3, 12)]
    assert "line 3: url 'ftp://example.org/a/' is not an http(s) URL" in problems
    assert "unknown adapter 'nope'" in problems[1]
    assert "every: not a duration" in problems[2]
    assert "the end date 2001-01-01 00:00 is already past" in problems[3]
    assert "paused must be true or false" in problems[4]
    assert "options is not valid JSON" in problems[5]
    assert "generic-css needs the option(s)" in problems[6]
    assert problems[7] == "line 10: same thread as line 2"
    assert problems[8] == "line 11: more fields than columns"
    assert [r.line for r in rows] == [2]


def test_options_are_checked_by_the_rows_adapter() -> None:
    text = ("url,adapter,options\n"
            'https://example.org/a/,isso,"{""isso"": ""https://comments.example.org""}"\n'
            'https://example.org/b/,wordpress,"{""isso"": ""https://comments.example.org/""}"\n'
            'https://example.org/c/,,"{""isso"": ""https://comments.example.org/""}"\n'
            'https://example.org/d/,isso,"{""nonsense"": 1}"\n')
    rows, problems = parse_watch_csv(text, ("isso", "wordpress"), NOW)
    assert [(r.adapter, r.options) for r in rows] == [("isso", {"isso": "https://comments.example.org/"})]
    assert problems == ["line 3: wordpress: this adapter takes no options",
                        "line 4: options need an adapter: name the adapter they are for",
                        "line 5: isso: unknown option(s) nonsense (known: isso, uri)"]


@pytest.mark.parametrize("text, problem", [
    ("", "line 1: the header must name a 'url' column"),
    ("address\nhttps://example.org/\n", "line 1: the header must name a 'url' column"),
    ("url,colour\nhttps://example.org/,red\n", "line 1: unknown column(s) colour"),
    ("url\n", "the file has no rows"),
])
def test_header_problems(text: str, problem: str) -> None:
    assert parse_watch_csv(text, ADAPTERS, NOW)[1][0].startswith(problem)


@pytest.fixture
def ops(app):
    return logged_in(app)


def upload(client: FlaskClient, text: str) -> TestResponse:
    return post(client, "/ops/watches/import",
                {"file": (io.BytesIO(text.encode("utf-8")), "watches.csv")},
                form_path="/ops/watches/import", content_type="multipart/form-data")


def test_web_import_writes_every_row_or_nothing(app, ops):
    with get_db(app).write() as session:
        add_watch(session, "http://127.0.0.1:9/taken/", allow_private=True)
    bad = upload(ops, "url,every\nhttp://127.0.0.1:9/new/,1h\nhttp://127.0.0.1:9/taken/,1h\nnot-a-url,1h\n")
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Nothing imported" in page
    assert "line 4: url &#39;not-a-url&#39; is not an http(s) URL" in page
    assert count(app, Watch) == 1

    late = upload(ops, "url,every\nhttp://127.0.0.1:9/new/,1h\nhttp://127.0.0.1:9/taken/,1h\n")
    assert late.status_code == 400
    assert "line 3: already watched as watch 1" in late.get_data(as_text=True), \
        "problems found only while storing are reported by line too"
    assert count(app, Watch) == 1 and count(app, Thread) == 1, "nothing of the file was kept"

    good = upload(ops, "url,every,paused\nhttp://127.0.0.1:9/new/,2h,true\nhttp://127.0.0.1:9/other/,,\n")
    assert good.status_code == 302
    assert "Imported 2 watches" in ops.get("/ops/watches").get_data(as_text=True)
    with get_db(app).read_session() as session:
        rows = [(w.url, w.interval_seconds, w.paused) for w in session.scalars(select(Watch).order_by(Watch.id))]
    assert rows[1:] == [("http://127.0.0.1:9/new/", 7200, True), ("http://127.0.0.1:9/other/", 3600, False)]
    assert [(a, t) for _u, a, t, _r in audit_actions(app) if a == "import"] == [("import", "2 watches")]


def test_web_import_from_the_text_box_and_non_utf8_file(app, ops):
    pasted = post(ops, "/ops/watches/import", {"csv": "url\nhttp://127.0.0.1:9/pasted/\n"},
                  form_path="/ops/watches/import")
    assert pasted.status_code == 302 and count(app, Watch) == 1
    latin = post(ops, "/ops/watches/import", {"file": (io.BytesIO(b"url\nhttp://x/\xe9\n"), "w.csv")},
                 form_path="/ops/watches/import", content_type="multipart/form-data")
    assert latin.status_code == 400 and "not UTF-8" in latin.get_data(as_text=True)


def test_export_then_import_elsewhere_gives_the_same_watches(app, ops, runner, tmp_path):
    options = {"area": "#c", "item": "li", "body": "p"}
    with get_db(app).write() as session:
        add_watch(session, "http://127.0.0.1:9/a/", allow_private=True, every=timedelta(minutes=30),
                  until=datetime(2099, 1, 1))
        add_watch(session, "http://127.0.0.1:9/b/", allow_private=True, adapter="generic-css", options=options,
                  every=timedelta(hours=6), early_every=timedelta(hours=1), early_for=timedelta(days=2))
    exported = ops.get("/ops/watches/export.csv")
    assert exported.mimetype == "text/csv" and "attachment" in exported.headers["Content-Disposition"]
    text = exported.get_data(as_text=True)
    assert text.splitlines()[0] == ("url,adapter,every,until,paused,early_every,early_for,options,"
                                    "id,state,last_outcome,next_due_at")
    cli_file = tmp_path / "watches.csv"
    assert runner.invoke("watch", "export", "--output", str(cli_file)).output == f"wrote 2 watches to {cli_file}\n"
    assert cli_file.read_text() == text

    rows, problems = parse_watch_csv(text, ADAPTERS, datetime(2025, 1, 1))
    assert problems == []
    assert [(r.url, r.adapter, r.every, r.until, r.early_every, r.early_for, r.options) for r in rows] == [
        ("http://127.0.0.1:9/a/", None, timedelta(minutes=30), datetime(2099, 1, 1), None, None, None),
        ("http://127.0.0.1:9/b/", "generic-css", timedelta(hours=6), None, timedelta(hours=1),
         timedelta(days=2), options)]


def test_cli_import(app, runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("url,every\nhttp://127.0.0.1:9/a/,1h\nhttp://127.0.0.1:9/b/,often\n")
    result = runner.invoke("watch", "import", str(bad))
    assert result.exit_code == 1
    assert "line 3: every: not a duration" in result.output
    assert "error: nothing imported: 1 problem(s)" in result.output
    assert count(app, Watch) == 0
    good = tmp_path / "good.csv"
    out = io.StringIO()
    csv.writer(out).writerows([["url", "adapter", "options"], ["http://127.0.0.1:9/a/", "generic-css",
                               json.dumps({"area": "#c", "item": "li", "body": "p"})]])
    good.write_text(out.getvalue())
    done = runner.invoke("watch", "import", str(good))
    assert done.exit_code == 0, done.output
    assert done.output == "imported 1 watches\n"
    assert [(a, act) for a, act, _t, _r in audit_actions(app)] == [("command line", "import")]


def test_cli_import_of_a_non_utf8_file_is_one_line(app, runner, tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"url\nhttp://127.0.0.1:9/caf\xe9/\n")
    result = runner.invoke("watch", "import", str(latin))
    assert (result.exit_code, result.output) == (1, "error: nothing imported: the file is not UTF-8 text\n")
    assert count(app, Watch) == 0
    with_bom = tmp_path / "bom.csv"
    with_bom.write_bytes("url\nhttp://127.0.0.1:9/café/\n".encode("utf-8-sig"))
    assert runner.invoke("watch", "import", str(with_bom)).output == "imported 1 watches\n"
