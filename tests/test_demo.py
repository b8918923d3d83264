"""`python -m archive demo`: the Community Care case captured by the real pipeline, offline,
under the sites' real names and on a simulated clock over the days after each article."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from archive.capture.watches import add_watch
from archive.clock import utcnow
from archive.context import archive_context
from archive.demo import load_demo
from archive.demo.content import COMMUNITY_CARE, TRANSPARENCY_BLOG
from archive.demo.simulation import DemoFetcher, SimulatedClock
from archive.demo.site import DEMO_HEADER
from archive.errors import ArchiveError
from archive.research.stats_queries import build_stats
from archive.search import SearchQuery, query_index
from archive.store.db import get_db
from archive.store.headers import header_lines, header_map
from archive.store.models import Capture, Comment, Event, Exchange, Site, Thread, Watch

HOSTS = {"www.communitycare.co.uk", "familycourtblog.example"}


def _comments(app: Flask) -> dict[tuple[str, str], Comment]:
    with get_db(app).read_session() as session:
        rows = session.scalars(select(Comment)).all()
        return {(c.author, c.key): c for c in rows}


def _counts(app: Flask) -> tuple[int | None, ...]:
    with get_db(app).read_session() as session:
        return tuple(session.scalar(select(func.count()).select_from(table))
                     for table in (Site, Thread, Capture, Comment, Event))


def test_demo_records_removals_and_reads_like_a_real_archive(app, runner, client) -> None:
    # One run checked twice: a demo run captures about a hundred times.
    result = runner.invoke("demo", "--no-backfill")
    assert result.exit_code == 0, result.output
    assert "[failed]" in result.output and "[suspect]" in result.output
    assert "This is a simulation" in result.output
    _removals_edits_and_reinstatement_with_evidence(app, runner, client)
    _named_and_timed_like_a_real_archive(app, runner, client)


def _removals_edits_and_reinstatement_with_evidence(app, runner, client) -> None:
    comments = _comments(app)
    removed = {author for (author, _key), c in comments.items() if c.status == "removed"}
    assert removed == {"Sarah T", "Dave R", "Mike", "A father"}
    assert comments[("Mike", "108")].status == "visible"     # his reply stays; his first comment went
    assert comments[("Nell", "103")].times_reinstated == 1
    assert comments[("Nell", "103")].status == "visible"
    assert comments[("WL", "101")].edit_count == 1

    with get_db(app).read_session() as session:
        outcomes = dict(session.execute(select(Capture.outcome, func.count()).group_by(Capture.outcome)).all())
        assert outcomes.get("failed") == 1 and outcomes.get("suspect") == 1
        # Every removal names the good capture that confirmed it, and that
        # capture's bodies are in the evidence store.
        removals = session.scalars(select(Event).where(Event.kind == "removed")).all()
        assert len(removals) == 5          # Nell's was removed too, then reinstated
        store = archive_context(app).evidence
        for event in removals:
            capture = session.get_one(Capture, event.capture_id)
            assert capture.outcome in ("good", "unchanged")
            bodies = [x.body_sha256 for x in capture.exchanges if x.body_sha256]
            assert bodies and all(b"comment-list" in store.get(sha) for sha in bodies)
        # The REST look-up after each first miss is kept as evidence too.
        checks = session.scalars(select(Event).where(Event.kind == "api-check")).all()
        assert {(c.details or {}).get("http_status") for c in checks} == {401, 404}
        # Every exchange names the real address it stands for, and says it was the demo's.
        exchanges = session.scalars(select(Exchange)).all()
        assert len(exchanges) >= 96
        for exchange in exchanges:
            assert exchange.url.startswith((COMMUNITY_CARE.origin, TRANSPARENCY_BLOG.origin))
            demo = header_map(header_lines(exchange.response_headers)).get(DEMO_HEADER.lower(), "")
            assert exchange.status is None or "simulated by the archive's offline demo" in demo
        # The finished threads keep no watch: their addresses are real sites'.
        assert session.scalar(select(func.count()).select_from(Watch)) == 0

    verify = runner.invoke("verify")
    assert verify.exit_code == 0, verify.output
    assert "no mismatches" in verify.output

    results = query_index(archive_context(app), SearchQuery(text='"marks its own homework"'))
    assert not results.stale
    assert [hit.comment_id for hit in results.hits] == [comments[("Mike", "110")].id]
    with get_db(app).read_session() as session:
        thread_id = session.scalar(select(Thread.id).where(Thread.url == COMMUNITY_CARE.url))
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "marks its own homework" in page and "Removed between" in page
    assert "Community Care (offline demo)" in page


def _named_and_timed_like_a_real_archive(app, runner, client) -> None:
    with get_db(app).read_session() as session:
        # Named as the real sites are, in the statistics as in the pages.
        stats = {row["site"]: row for row in build_stats(session, "site")}
        assert set(stats) == HOSTS
        assert set(session.scalars(select(Site.host))) == HOSTS
        for article in (COMMUNITY_CARE, TRANSPARENCY_BLOG):
            thread = session.scalar(select(Thread).where(Thread.url == article.url))
            assert thread is not None and thread.site.name == article.site_name
            # Captures every few hours over the days after the article, in order.
            starts = list(session.scalars(select(Capture.started_at)
                                          .where(Capture.thread_id == thread.id).order_by(Capture.seq)))
            scheduled = article.capture_times()
            assert len(starts) == len(scheduled) > 30
            assert starts == scheduled
            assert scheduled[0] == article.published + timedelta(hours=1)
            assert scheduled[-1] - scheduled[0] >= timedelta(days=10)
            assert {b - a for a, b in zip(scheduled, scheduled[1:], strict=False)} == {article.capture_every}
            assert timedelta(hours=1) <= article.capture_every <= timedelta(hours=8)
            exchanges = session.scalars(select(Exchange.fetched_at).join(Capture)
                                        .where(Capture.thread_id == thread.id)).all()
            assert all(starts[0] <= at < starts[-1] + timedelta(minutes=1) for at in exchanges)
        # Removal windows are hours wide: between two captures, not a second apart.
        windows = session.execute(select(Event.window_start, Event.window_end)
                                  .where(Event.kind == "removed")).all()
        assert len(windows) == 5
        assert {end - start for start, end in windows if start and end} == {
            COMMUNITY_CARE.capture_every, TRANSPARENCY_BLOG.capture_every}
        sarah = session.scalars(select(Comment).where(Comment.author == "Sarah T")).one()
        assert (sarah.removed_after, sarah.removed_before) == (datetime(2018, 4, 5, 18), datetime(2018, 4, 6))
    # Time to removal: hours after posting, within the simulated span.
    community = stats["www.communitycare.co.uk"]
    span_hours = COMMUNITY_CARE.watched_for / timedelta(hours=1)
    lower = community["time_to_removal_lower_median_hours"]
    upper = community["time_to_removal_upper_median_hours"]
    assert 1 < lower < upper < span_hours
    assert community["removed"] == 4 and community["captures_failed"] == 1
    assert community["max_gap_hours"] <= 18

    stats_page = client.get("/stats").get_data(as_text=True)
    assert "www.communitycare.co.uk" in stats_page and "127.0.0.1" not in stats_page
    exported = runner.invoke("export", "comments", "--format", "csv")
    assert exported.exit_code == 0, exported.output
    sites = {row["site"] for row in csv.DictReader(io.StringIO(exported.output))}
    assert sites == HOSTS


def test_an_interrupted_demo_carries_on_and_a_second_run_loads_nothing(app, runner) -> None:
    class Stop(Exception):
        """Stands for the process being killed between two captures."""

    def stop_when_sarah_is_held(line: str) -> None:
        if "holds Sarah T's comment" in line:
            raise Stop

    ctx = archive_context(app)
    with pytest.raises(Stop):
        load_demo(ctx, say=stop_when_sarah_is_held)
    with get_db(app).read_session() as session:
        halfway = session.scalars(select(func.count()).select_from(Capture)).one()
    assert 0 < halfway < len(COMMUNITY_CARE.capture_times())

    again = runner.invoke("demo", "--no-backfill")
    assert again.exit_code == 0, again.output
    assert "already loaded" not in again.output
    with get_db(app).read_session() as session:
        assert session.scalar(select(func.count()).select_from(Capture)) == (
            len(COMMUNITY_CARE.capture_times()) + len(TRANSPARENCY_BLOG.capture_times()))
        assert session.scalar(select(func.count()).select_from(Event).where(Event.kind == "removed")) == 5
    assert {a for (a, _k), c in _comments(app).items() if c.status == "removed"} == {
        "Sarah T", "Dave R", "Mike", "A father"}
    verify = runner.invoke("verify")
    assert verify.exit_code == 0 and "no mismatches" in verify.output, verify.output

    before = _counts(app)
    third = runner.invoke("demo", "--no-backfill")
    assert third.exit_code == 0
    assert third.output.count("already loaded, nothing changed") == 2
    assert _counts(app) == before


def test_the_demo_leaves_real_sites_and_real_captures_alone(app, runner, local_server) -> None:
    """An archive that watches one of the real sites keeps it to itself; the demo's
    sites take no real watch; a real capture after the demo is dated by the wall clock."""
    ctx = archive_context(app)
    with ctx.db.write() as session:
        # Paused: this test must not fetch the real site.
        add_watch(session, "https://www.communitycare.co.uk/some-other-article/", allow_private=True).paused = True
    result = runner.invoke("demo", "--no-backfill")
    assert result.exit_code == 0, result.output
    assert "not loaded: Cafcass rated" in result.output
    assert "already holds www.communitycare.co.uk as a real site" in result.output
    with ctx.db.read_session() as session:
        real = session.scalar(select(Site).where(Site.host == "www.communitycare.co.uk"))
        assert real is not None and real.name == "communitycare.co.uk"
        assert [t.url for t in real.threads] == ["https://www.communitycare.co.uk/some-other-article/"]
        assert not session.scalars(select(Capture).join(Thread).where(Thread.site_id == real.id)).all()

    with ctx.db.write() as session, pytest.raises(ArchiveError, match="simulated copy"):
        add_watch(session, TRANSPARENCY_BLOG.origin + "/another-post/", allow_private=True)

    local_server.route("/article", "<html><body><p>An article</p></body></html>")
    assert runner.invoke("watch", "add", local_server.url("/article")).exit_code == 0
    assert runner.invoke("capture", "--all").exit_code == 0
    with ctx.db.read_session() as session:
        started = session.scalar(select(Capture.started_at).join(Thread)
                                 .where(Thread.url == local_server.url("/article")))
    assert started is not None and abs(utcnow() - started) < timedelta(minutes=5)


def test_an_archive_with_the_earlier_demo_on_loopback_counts_as_loaded(app, runner) -> None:
    """Earlier versions captured the demo as 127.0.0.1:<port>; running the demo again
    on such an archive changes nothing, as it did then."""
    with get_db(app).write() as session:
        for port, article in ((36357, COMMUNITY_CARE), (36358, TRANSPARENCY_BLOG)):
            site = Site(host=f"127.0.0.1:{port}", name=article.site_name)
            session.add(Thread(url=f"http://127.0.0.1:{port}{article.path}", site=site, title=article.title))
    before = _counts(app)
    result = runner.invoke("demo", "--no-backfill")
    assert result.exit_code == 0, result.output
    assert result.output.count("already loaded, nothing changed") == 2
    assert _counts(app) == before


def test_the_demo_fetcher_reaches_its_own_sites_only(local_server) -> None:
    """Loopback is allowed to the demo's fetcher because it maps each real address to
    a local site it was given, and refuses every other URL before any request."""
    local_server.route("/post/", "<p>the local copy</p>")
    clock = SimulatedClock(datetime(2018, 3, 29, 12))
    routes = {"https://www.communitycare.co.uk": local_server.base_url}
    with DemoFetcher(routes, clock, user_agent="DemoTest/1", max_bytes=100_000) as fetcher:
        mapped = fetcher.fetch("https://www.communitycare.co.uk/post/")
        assert mapped.ok and mapped.body == b"<p>the local copy</p>"
        assert (mapped.url, mapped.final_url) == ("https://www.communitycare.co.uk/post/",) * 2
        assert datetime(2018, 3, 29, 12) < mapped.fetched_at < datetime(2018, 3, 29, 12, 1)  # after robots.txt
        assert local_server.count("/post/") == 1
        for elsewhere in ("https://example.org/post/", local_server.url("/post/"),
                          "http://www.communitycare.co.uk/post/"):
            refused = fetcher.fetch(elsewhere)
            assert refused.status is None and "only its own simulated sites" in (refused.error or "")
        assert local_server.count("/post/") == 1
    clock.set(datetime(2018, 4, 1))
    assert clock() == datetime(2018, 4, 1)     # the first reading after set(): the moment itself
    assert datetime(2018, 4, 1) <= clock() < datetime(2018, 4, 1, 0, 1)
