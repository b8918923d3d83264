"""Backfill then live, paging, and a backfilled archive's own WARC, against a
Wayback-shaped server on loopback (tests/test_backfill_politeness.py's)."""
from __future__ import annotations

import json
import shutil
from urllib.parse import urlsplit

from sqlalchemy import select

import config
from archive import create_app
from archive.backfill.cdx import cdx_query
from archive.backfill.sources import CdxSource
from archive.capture.fetch.fetcher import Fetcher
from archive.context import archive_context
from archive.store.db import get_db
from archive.store.models import Comment, Event
from tests.conftest import ArchiveRunner
from tests.test_backfill_politeness import HEADER, SNAPSHOTS
from tests.wordpress_markup import C, wp_page


def _archive_of(server, url: str) -> str:
    """A Wayback-shaped archive on `server` holding SNAPSHOTS of `url`."""
    rows = [HEADER] + [["key", ts, url, "text/html", "200", f"DIGEST{i}", "1"]
                       for i, (ts, _c) in enumerate(SNAPSHOTS)]
    server.route("/cdx/search/cdx", json.dumps(rows), content_type="application/json")
    for ts, comments in SNAPSHOTS:
        server.route(f"/web/{ts}id_/{url}", wp_page(comments, base=url), content_type="text/html; charset=UTF-8")
    return server.url("/cdx/search/cdx")


def _rows(runner: ArchiveRunner) -> dict[str, dict]:
    return {r["comment_id"]: r for r in json.loads(runner.invoke("export", "comments", "--format", "json").stdout)}


def test_a_live_watch_after_a_backfill_takes_over_what_it_sees_and_invents_no_removal(app, runner, local_server):
    url = local_server.url("/article/")
    cdx = _archive_of(local_server, url)
    assert runner.invoke("backfill", url, "--cdx", cdx).exit_code == 0
    before = _rows(runner)
    assert {k: (r["status"], r["source"]) for k, r in before.items()} == {
        "1": ("visible", "backfill"), "2": ("removed", "backfill"), "3": ("visible", "backfill")}

    local_server.route("/article/", wp_page([C(1, "WL", "This is bonkers."), C(3, "Cha", "Well done, all."),
                                             C(4, "Liz", "Ofsted saw what Cafcass chose to show.")], base=url))
    assert runner.invoke("watch", "add", url).exit_code == 0
    out = runner.invoke("capture", url).output
    assert "[good] " in out and "missing" not in out, out
    after = _rows(runner)
    assert {k: (r["status"], r["source"]) for k, r in after.items()} == {
        "1": ("visible", "live"), "2": ("removed", "backfill"), "3": ("visible", "live"), "4": ("visible", "live")}
    assert after["3"]["text"] == "Well done, all." and after["2"]["removed_before"] == before["2"]["removed_before"]
    with get_db(app).read_session() as session:
        cha = session.scalars(select(Comment).where(Comment.key == "3")).one()
        assert [v.text for v in cha.versions] == ["Well done.", "Well done, all."]
        live = session.scalars(select(Event.kind).where(Event.source == "live")).all()
        assert sorted(live) == ["appeared", "appeared", "appeared"]
    again = runner.invoke("capture", url).output
    assert "[good]" in again and "missing" not in again


def test_a_long_listing_is_read_a_page_at_a_time(app, local_server):
    url = "https://www.communitycare.co.uk/a/"
    cdx = local_server.url("/cdx/search/cdx")
    rows = [["k", ts, url, "text/html", "200", f"D{i}", "1"] for i, (ts, _c) in enumerate(SNAPSHOTS)]
    pages = {None: rows[0:2], rows[1][1]: rows[1:3], rows[2][1]: rows[2:4], rows[3][1]: rows[3:4]}
    for resume, page in pages.items():
        asked = urlsplit(cdx_query(cdx, url, None, None, 2, resume))
        local_server.route(f"{asked.path}?{asked.query}", json.dumps([HEADER] + page),
                           content_type="application/json")
    with Fetcher(user_agent="test", min_host_delay=0, timeout=5, max_bytes=10**6, retries=0,
                 allow_private=True) as fetcher:
        lines: list[str] = []
        found = CdxSource(fetcher, cdx, page_rows=2).snapshots(url, None, None, lines.append)
    assert [r.timestamp for r in sorted(found, key=lambda r: r.timestamp)] == [ts for ts, _c in SNAPSHOTS]
    assert len(lines) == 4 and lines[-1].endswith("1 rows, 4 so far")


def test_a_backfilled_archive_exports_a_warc_that_backfills_the_same(app, runner, local_server, tmp_path,
                                                                      sqlite_template):
    url = local_server.url("/article/")
    assert runner.invoke("backfill", url, "--cdx", _archive_of(local_server, url)).exit_code == 0
    warc = tmp_path / "backfilled.warc.gz"
    assert runner.invoke("export", "warc", "--output", str(warc)).exit_code == 0
    data = tmp_path / "other"
    data.mkdir()
    shutil.copy(sqlite_template, data / "archive.db")
    other = create_app(config.TestConfig(DATA_DIR=str(data)))
    try:
        result = ArchiveRunner(other).invoke("backfill", url, "--warc", str(warc))
        # The WARC's digests are the bodies' own: of three snapshots with the same
        # bytes, the middle one is dropped (the source archive's made-up digests differed).
        assert "3 of 3 snapshots judged (2 good, 1 unchanged)" in result.output, result.output
        keep = ("status", "removed_after", "removed_before", "first_seen_at", "source", "text")
        mine, theirs = _rows(runner), _rows(ArchiveRunner(other))
        assert ({k: [r[f] for f in keep] for k, r in theirs.items()}
                == {k: [r[f] for f in keep] for k, r in mine.items()})
    finally:
        archive_context(other).close()


def test_a_watchs_adapter_and_its_settings_read_the_snapshots(app, runner, local_server):
    from archive.capture.watches import add_watch
    from archive.store.models import Capture
    from tests.test_operators_watches import ARTICLE, OPTIONS

    url = local_server.url("/article/")
    with get_db(app).write() as session:
        add_watch(session, url, allow_private=True, adapter="generic-css", options=OPTIONS)
    rows = [HEADER, ["key", "20180315174423", url, "text/html", "200", "D0", "1"]]
    local_server.route("/cdx/search/cdx", json.dumps(rows), content_type="application/json")
    local_server.route(f"/web/20180315174423id_/{url}", ARTICLE, content_type="text/html; charset=UTF-8")
    result = runner.invoke("backfill", url, "--cdx", local_server.url("/cdx/search/cdx"))
    assert "[good] 3 comments; 3 appeared" in result.output, result.output
    with get_db(app).read_session() as session:
        assert session.scalars(select(Capture.adapter)).one() == "generic-css"
