"""Exports: the command-line contract, filters, and round trips through every format."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
from flask import Flask

from archive.research.exports import (
    CAPTURE_COLUMNS,
    COMMENT_COLUMNS,
    EVENT_COLUMNS,
    Column,
    ExportFilter,
    capture_rows,
    comment_rows,
    event_rows,
    read_rows,
    write_rows,
)
from archive.rules.verdicts import text_hash
from archive.store.db import get_db
from archive.store.models import Capture, Comment, CommentVersion, Event, Site, Thread
from tests.conftest import ArchiveRunner

T0 = datetime(2024, 3, 1, 12, 0, 0)


def _version(seq: int, text: str, at: datetime) -> CommentVersion:
    return CommentVersion(seq=seq, text=text, html=f"<p>{text}</p>", text_sha256=text_hash(text),
                          seen_at=at)


def build_archive(app: Flask) -> dict[str, int]:
    """Two sites, three threads, comments in every status, one redacted and one edited."""
    with get_db(app).write() as s:
        cc = Site(host="www.communitycare.co.uk", name="communitycare.co.uk")
        other = Site(host="news.example.org", name="example")
        t1 = Thread(site=cc, url="https://www.communitycare.co.uk/2024/03/01/cafcass/")
        t2 = Thread(site=cc, url="https://www.communitycare.co.uk/2024/03/02/other/")
        t3 = Thread(site=other, url="https://news.example.org/a/")
        s.add_all([cc, other, t1, t2, t3])
        s.flush()
        cap = Capture(thread=t1, started_at=T0, outcome="good", coverage="complete",
                      comments_found=3)
        cap2 = Capture(thread=t1, started_at=datetime(2024, 3, 1, 14), outcome="failed",
                       reason="HTTP 503")
        s.add_all([cap, cap2])
        kept = Comment(thread=t1, key="101", author="Ann, \"quoted\"", posted_at=T0,
                       first_seen_at=T0, last_seen_at=datetime(2024, 3, 3), status="visible",
                       edit_count=1, versions=[_version(1, "first text", T0),
                                               _version(2, "edited,\nline two ✓", T0)])
        gone = Comment(thread=t1, key="102", parent_key="101", author="Bob", posted_at=None,
                       first_seen_at=T0, last_seen_at=datetime(2024, 3, 2),
                       removed_after=datetime(2024, 3, 2), removed_before=datetime(2024, 3, 2, 6),
                       status="removed", times_removed=1,
                       versions=[_version(1, "Cafcass ignored us", T0)])
        hidden = Comment(thread=t2, key="7", author="Cy", first_seen_at=datetime(2024, 4, 5),
                         last_seen_at=datetime(2024, 4, 5), status="visible", redacted=True,
                         redaction_reason="privacy: names a child",
                         versions=[_version(1, "secret text", datetime(2024, 4, 5))])
        back = Comment(thread=t3, key="fp:abc", author="", first_seen_at=datetime(2024, 5, 1),
                       last_seen_at=datetime(2024, 5, 9), status="missing", times_removed=1,
                       times_reinstated=1, removed_after=datetime(2024, 5, 9),
                       removed_before=datetime(2024, 5, 10),
                       versions=[_version(1, "=SUM(A1) looks like a formula", datetime(2024, 5, 1))])
        s.add_all([kept, gone, hidden, back])
        s.flush()
        s.add_all([
            Event(thread_id=t1.id, comment_id=kept.id, capture_id=cap.id, kind="appeared", at=T0),
            Event(thread_id=t1.id, comment_id=gone.id, capture_id=cap.id, kind="removed",
                  at=datetime(2024, 3, 2, 6), window_start=datetime(2024, 3, 2),
                  window_end=datetime(2024, 3, 2, 6), details={"misses": 2}),
            Event(thread_id=t1.id, kind="thread-gone", at=datetime(2024, 3, 9),
                  details={"status": 410}),
        ])
        return {"kept": kept.id, "gone": gone.id, "hidden": hidden.id, "back": back.id,
                "t1": t1.id, "t2": t2.id}


def _export(runner: ArchiveRunner, *args: str) -> str:
    result = runner.invoke("export", "comments", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_export_comments_json_has_contract_fields(app, runner):
    ids = build_archive(app)
    rows = json.loads(_export(runner, "--format", "json"))
    assert [r["archive_id"] for r in rows] == [ids["kept"], ids["gone"], ids["hidden"], ids["back"]]
    kept, gone, hidden, back = rows
    assert kept == {
        "comment_id": "101", "archive_id": ids["kept"], "thread_id": ids["t1"],
        "thread_url": "https://www.communitycare.co.uk/2024/03/01/cafcass/",
        "site": "www.communitycare.co.uk", "parent_id": None, "author": "Ann, \"quoted\"",
        "posted_at": "2024-03-01T12:00:00Z", "text": "edited,\nline two ✓", "status": "visible",
        "first_seen_at": "2024-03-01T12:00:00Z", "last_seen_at": "2024-03-03T00:00:00Z",
        "removed_after": None, "removed_before": None, "edit_count": 1, "times_removed": 0,
        "times_reinstated": 0, "redacted": False, "redaction_reason": None, "source": "live"}
    assert (gone["status"], gone["removed_after"], gone["removed_before"], gone["parent_id"]) == (
        "removed", "2024-03-02T00:00:00Z", "2024-03-02T06:00:00Z", "101")
    assert gone["posted_at"] is None
    assert (hidden["text"], hidden["redacted"], hidden["redaction_reason"]) == (
        "", True, "privacy: names a child")
    assert (back["comment_id"], back["times_reinstated"]) == ("fp:abc", 1)


def test_export_filters(app, runner):
    ids = build_archive(app)
    removed = json.loads(_export(runner, "--format", "json", "--status", "removed"))
    assert [r["archive_id"] for r in removed] == [ids["gone"]]
    thread = json.loads(_export(runner, "--format", "json", "--thread", str(ids["t2"])))
    assert [r["archive_id"] for r in thread] == [ids["hidden"]]
    site = json.loads(_export(runner, "--format", "json", "--site", "NEWS.example.org"))
    assert [r["archive_id"] for r in site] == [ids["back"]]
    # A bare --to date includes that whole day.
    april = json.loads(_export(runner, "--format", "json", "--from", "2024-04-01",
                               "--to", "2024-04-05"))
    assert [r["archive_id"] for r in april] == [ids["hidden"]]
    assert json.loads(_export(runner, "--format", "json", "--status", "missing",
                              "--site", "www.communitycare.co.uk")) == []


def test_export_rejects_bad_input(app, runner, tmp_path):
    result = runner.invoke("export", "comments", "--from", "yesterday")
    assert result.exit_code == 1
    assert "not a date" in result.output
    assert runner.invoke("export", "comments", "--status", "deleted").exit_code == 2
    result = runner.invoke("export", "comments", "--output", str(tmp_path / "no" / "x.csv"))
    assert result.exit_code == 1 and "no such folder" in result.output


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_export_file_round_trips(app, runner, tmp_path, fmt):
    build_archive(app)
    with get_db(app).read_session() as session:
        expected = list(comment_rows(session))
    target = tmp_path / f"comments.{fmt}"
    result = runner.invoke("export", "comments", "--format", fmt, "--output", str(target))
    assert result.exit_code == 0, result.output
    assert "4 rows written" in result.output
    with target.open(encoding="utf-8", newline="") as handle:
        assert list(read_rows(handle, COMMENT_COLUMNS, fmt)) == expected
    assert not list(tmp_path.glob(".*part")), "the temporary file is renamed into place"


def test_csv_is_standard_and_keeps_hostile_text_verbatim(app, runner):
    build_archive(app)
    rows = list(csv.DictReader(io.StringIO(_export(runner, "--format", "csv"))))
    assert rows[0]["text"] == "edited,\nline two ✓"
    assert rows[0]["author"] == "Ann, \"quoted\""
    assert rows[2]["redacted"] == "true" and rows[2]["text"] == ""
    assert rows[3]["text"] == "=SUM(A1) looks like a formula"


def test_excel_safe_csv_neutralises_formulas_in_text_only(app, runner):
    ids = build_archive(app)
    with get_db(app).write() as session:
        session.get_one(Comment, ids["kept"]).author = "@cmd|' /C calc'!A0"
        session.get_one(Comment, ids["gone"]).author = "\tTabbed"
    rows = list(csv.DictReader(io.StringIO(_export(runner, "--format", "csv", "--excel-safe"))))
    assert [r["author"] for r in rows] == ["'@cmd|' /C calc'!A0", "'\tTabbed", "", ""]  # the third is redacted: no name
    assert rows[3]["text"] == "'=SUM(A1) looks like a formula"
    assert rows[0]["text"] == "edited,\nline two ✓", "other text is left alone"
    assert rows[0]["redacted"] == "false" and rows[0]["edit_count"] == "1"
    result = runner.invoke("export", "comments", "--format", "json", "--excel-safe")
    assert result.exit_code == 1 and "CSV only" in result.output


def test_excel_safe_leaves_numbers_alone():
    columns = (Column("name", "str", ""), Column("delta", "int", ""), Column("rate", "float", "", True))
    out = io.StringIO()
    write_rows(iter([{"name": "-minus", "delta": -3, "rate": None}]), columns, "csv", out, excel_safe=True)
    assert out.getvalue().splitlines()[1] == "'-minus,-3,"


def test_jsonl_on_empty_archive(app, runner):
    assert _export(runner, "--format", "jsonl") == ""
    assert json.loads(_export(runner, "--format", "json")) == []


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_events_and_captures_round_trip(app, fmt):
    build_archive(app)
    with get_db(app).read_session() as session:
        for rows, columns in ((event_rows, EVENT_COLUMNS), (capture_rows, CAPTURE_COLUMNS)):
            expected = list(rows(session))
            buffer = io.StringIO(newline="")
            assert write_rows(iter(expected), columns, fmt, buffer) == len(expected)
            buffer.seek(0)
            assert list(read_rows(buffer, columns, fmt)) == expected


def test_event_and_capture_rows(app):
    ids = build_archive(app)
    with get_db(app).read_session() as session:
        events = list(event_rows(session))
        removed = list(event_rows(session, ExportFilter(status="removed")))
        failed = list(capture_rows(session, ExportFilter(status="failed")))
    assert [e["kind"] for e in events] == ["appeared", "removed", "thread-gone"]
    assert removed[0]["comment_id"] == "102" and removed[0]["archive_comment_id"] == ids["gone"]
    assert removed[0]["window_start"] == "2024-03-02T00:00:00Z"
    assert removed[0]["details"] == {"misses": 2}
    assert events[2]["comment_id"] is None and events[2]["details"] == {"status": 410}
    assert [(c["outcome"], c["reason"], c["exchanges"]) for c in failed] == [
        ("failed", "HTTP 503", 0)]


def test_dataset_package(app, runner, tmp_path):
    import hashlib
    import zipfile

    import yaml

    ids = build_archive(app)
    target = tmp_path / "pkg"
    result = runner.invoke("dataset", "--output", str(target), "--zip",
                           "--site", "www.communitycare.co.uk", "--author", "Jo Researcher")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in target.iterdir())
    for table in ("comments", "events", "captures", "stats_by_site", "stats_by_thread",
                  "stats_by_month"):
        assert f"{table}.csv" in names and f"{table}.jsonl" in names
    for extra in ("DATA_DICTIONARY.md", "query.json", "CITATION.cff", "README.md", "SHA256SUMS"):
        assert extra in names
    sums = (target / "SHA256SUMS").read_text().splitlines()
    assert len(sums) == len(names) - 1
    for line in sums:
        digest, name = line.split("  ")
        assert hashlib.sha256((target / name).read_bytes()).hexdigest() == digest
    with (target / "comments.jsonl").open(encoding="utf-8") as handle:
        rows = list(read_rows(handle, COMMENT_COLUMNS, "jsonl"))
    assert [r["archive_id"] for r in rows] == [ids["kept"], ids["gone"], ids["hidden"]]
    query = json.loads((target / "query.json").read_text())
    assert query["filters"]["site"] == "www.communitycare.co.uk"
    assert query["row_counts"]["comments"] == 3 and query["schema_revision"]
    assert query["created_at"].endswith("Z")
    dictionary = (target / "DATA_DICTIONARY.md").read_text()
    for column in COMMENT_COLUMNS + EVENT_COLUMNS + CAPTURE_COLUMNS:
        assert f"| `{column.name}` |" in dictionary
    assert "Detection floor" in dictionary
    cff = yaml.safe_load((target / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "dataset"
    assert cff["authors"] == [{"name": "Jo Researcher"}]
    with zipfile.ZipFile(tmp_path / "pkg.zip") as packed:
        assert sorted(packed.namelist()) == sorted(f"pkg/{n}" for n in names)
    # An existing folder is never overwritten.
    again = runner.invoke("dataset", "--output", str(target))
    assert again.exit_code == 1 and "already exists" in again.output
    assert not list(tmp_path.glob(".pkg*"))


def test_dataset_package_says_when_its_csv_is_excel_safe(app, runner, tmp_path):
    build_archive(app)
    plain, safe = tmp_path / "plain", tmp_path / "safe"
    assert runner.invoke("dataset", "--output", str(plain)).exit_code == 0
    assert runner.invoke("dataset", "--output", str(safe), "--excel-safe").exit_code == 0
    assert "Text is kept exactly as published" in (plain / "DATA_DICTIONARY.md").read_text()
    assert "The CSV files are excel-safe" in (safe / "DATA_DICTIONARY.md").read_text()
    assert json.loads((safe / "query.json").read_text())["csv_excel_safe"] is True
    assert json.loads((plain / "query.json").read_text())["csv_excel_safe"] is False
    assert "'=SUM(A1)" in (safe / "comments.csv").read_text()
    assert "'=SUM(A1)" not in (safe / "comments.jsonl").read_text(), "JSON Lines keep the text"
    assert "'=SUM(A1)" not in (plain / "comments.csv").read_text()
