"""Politeness toward a web archive, against a Wayback-shaped server on loopback:
pacing, Retry-After honoured, a long 429 stops the run, and running it again
resumes where it stopped without fetching a snapshot twice."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from archive.backfill.run import open_source
from archive.backfill.sources import CdxSource
from archive.context import archive_context
from archive.settings import Settings
from archive.store.db import get_db
from archive.store.models import BackfillRun
from config import Config
from tests.wordpress_markup import C, wp_page

ARTICLE = "https://www.communitycare.co.uk/2018/03/15/cafcass-rated-outstanding/"
HEADER = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
EVERYONE = [C(1, "WL", "This is bonkers."), C(2, "Paul", "Moderated out, as usual."), C(3, "Cha", "Well done.")]
SNAPSHOTS = [("20180315174423", EVERYONE), ("20180319220911", EVERYONE[::2]),
             ("20180411065015", EVERYONE[::2]), ("20180608002146", EVERYONE[::2])]


def _wayback(server) -> str:
    rows = [HEADER] + [["uk,co,communitycare)/2018/03/15/cafcass-rated-outstanding", ts, ARTICLE, "text/html",
                        "200", f"DIGEST{i}", "1000"] for i, (ts, _c) in enumerate(SNAPSHOTS)]
    server.route("/cdx/search/cdx", json.dumps(rows), content_type="application/json")
    for ts, comments in SNAPSHOTS:
        server.route(_replay(ts), wp_page(comments, base=ARTICLE), content_type="text/html; charset=UTF-8")
    return server.url("/cdx/search/cdx")


def _replay(ts: str) -> str:
    return f"/web/{ts}id_/{ARTICLE}"


def _statuses(runner) -> dict[str, str]:
    result = runner.invoke("export", "comments", "--format", "json")
    return {row["comment_id"]: row["status"] for row in json.loads(result.output)}


def test_a_long_429_stops_the_run_and_the_same_command_resumes_it(app, runner, local_server):
    cdx = _wayback(local_server)
    local_server.push(_replay(SNAPSHOTS[2][0]), "slow down", status=429, headers={"Retry-After": "3600"})
    stopped = runner.invoke("backfill", ARTICLE, "--cdx", cdx)
    assert stopped.exit_code == 0, stopped.output
    assert "backfill run 1 stopped: 2 of 4 snapshots judged" in stopped.output
    assert "HTTP 429 Too Many Requests (Retry-After: 3600)" in stopped.output
    assert "run the backfill again later and it resumes where it stopped" in stopped.output
    assert _statuses(runner) == {"1": "visible", "2": "missing", "3": "visible"}

    resumed = runner.invoke("backfill", ARTICLE, "--cdx", cdx)
    assert resumed.exit_code == 0, resumed.output
    assert "backfill run 1 resumed" in resumed.output and "resuming after 20180319220911" in resumed.output
    assert "backfill run 1 done: 2 of 2 snapshots judged (2 good)" in resumed.output
    assert _statuses(runner) == {"1": "visible", "2": "removed", "3": "visible"}
    assert [local_server.count(_replay(ts)) for ts, _c in SNAPSHOTS] == [1, 1, 2, 1]
    with get_db(app).read_session() as session:
        run = session.scalars(select(BackfillRun)).one()
        assert (run.state, run.snapshots_done, run.cursor) == ("done", 4, "20180608002146|DIGEST3")


def test_a_short_retry_after_is_waited_for(app, runner, local_server):
    cdx = _wayback(local_server)
    local_server.push(_replay(SNAPSHOTS[1][0]), "slow down", status=429, headers={"Retry-After": "1"})
    result = runner.invoke("backfill", ARTICLE, "--cdx", cdx)
    assert "backfill run 1 done: 4 of 4 snapshots judged (4 good)" in result.output, result.output
    assert local_server.count(_replay(SNAPSHOTS[1][0])) == 2


def test_the_wayback_machine_is_asked_at_most_24_times_a_minute_by_default(app):
    settings = Settings.from_config(Config(DATA_DIR=archive_context(app).settings.data_dir))
    assert settings.backfill_rate == 24
    assert settings.backfill_cdx_url == "https://web.archive.org/cdx/search/cdx"
    source = open_source(settings, "cdx", settings.backfill_cdx_url)
    assert isinstance(source, CdxSource)
    assert source.fetcher.min_host_delay == pytest.approx(2.5)
    assert source.prefix == "https://web.archive.org/web/"


def test_dates_bound_the_listing_and_a_bad_cdx_address_is_refused(app, runner, local_server):
    cdx = _wayback(local_server)
    result = runner.invoke("backfill", ARTICLE, "--cdx", cdx, "--from", "2018-03-16", "--to", "2018-05-01")
    assert result.exit_code == 0, result.output
    asked = local_server.requests_for("/cdx/search/cdx")[0].path
    assert "from=20180316000000" in asked and "to=20180501000000" in asked
    refused = runner.invoke("backfill", ARTICLE, "--cdx", local_server.url("/somewhere"))
    assert refused.exit_code == 1 and "cannot tell where" in refused.output
    both = runner.invoke("backfill", ARTICLE, "--cdx", cdx, "--warc", "x.warc")
    assert both.exit_code == 2 and "give --cdx or --warc, not both" in both.output


def test_readers_see_the_archived_moments_the_window_and_the_evidence(app, runner, local_server, client):
    from archive.store.models import Capture, Comment, Thread

    cdx = _wayback(local_server)
    assert runner.invoke("backfill", ARTICLE, "--cdx", cdx).exit_code == 0
    with get_db(app).read_session() as session:
        thread_id = session.scalars(select(Thread.id)).one()
        paul = session.scalars(select(Comment).where(Comment.key == "2")).one().id
        first = session.scalars(select(Capture).where(Capture.seq == 1)).one()
        sha = first.exchanges[0].body_sha256
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "Rebuilt in part from web archives." in page and "4 archived snapshots" in page
    assert page.count("Archived snapshot</span> from") == 4
    assert f'href="{local_server.url(_replay(SNAPSHOTS[0][0]))}"' in page
    assert ("Removed: after the archived snapshot of 2018-03-15 17:44:23 UTC, before the one of "
            "2018-03-19 22:09:11 UTC") in page
    assert "when in between it went, and why, they cannot say" in page
    assert "From web archives" in page

    history = client.get(f"/comments/{paul}").get_data(as_text=True)
    assert history.count("archived snapshot</span>") == 3  # appeared, missing, removed

    capture = client.get(f"/captures/{first.id}").get_data(as_text=True)
    assert "archived snapshot (backfill)" in capture and "snapshot 20180315174423" in capture
    assert f"/blobs/{sha}" in capture and "DIGEST0" in capture

    api = client.get(f"/api/v1/captures/{first.id}").get_json()
    assert api["source"] == "backfill"
    assert api["exchanges"][0]["provenance"]["timestamp"] == "20180315174423"
    comment = client.get(f"/api/v1/comments/{paul}").get_json()
    assert comment["source"] == "backfill" and comment["status"] == "removed"
    assert {e["source"] for e in comment["events"]} == {"backfill"}


def test_statistics_say_what_came_from_snapshots(app, runner, local_server):
    assert runner.invoke("backfill", ARTICLE, "--cdx", _wayback(local_server)).exit_code == 0
    result = runner.invoke("stats", "--by", "thread", "--format", "json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert (row["comments_seen"], row["removed"]) == (3, 1)
    assert (row["comments_from_snapshots"], row["removed_in_snapshots"], row["captures_from_snapshots"]) == (3, 1, 4)
    # The longest gap: 2018-04-11 06:50:15 to 2018-06-08 00:21:46.
    assert row["captures_good"] == 4 and row["max_gap_hours"] == pytest.approx(1385.525)
