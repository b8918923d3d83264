"""Nothing local stops the archive from capturing: a corrupt kept body, or a capture
that raises, becomes a recorded problem and the watch carries on with its back-off."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import zstandard
from sqlalchemy import select

from archive.capture import jobs, pipeline
from archive.context import archive_context
from archive.research.verify import verify_archive
from archive.rules.verdicts import Verdict
from archive.store.db import get_db
from archive.store.models import Capture, Watch
from scrapers.base import Adapter, Page, PageResult, ThreadView
from tests.context_support import blob_file
from tests.operator_support import logged_in
from tests.test_capture import ALL_VISIBLE, SEED, site  # noqa: F401 (a fixture)
from tests.wordpress_markup import wp_page


def _serve_with_etag(site) -> None:  # noqa: F811 (the imported fixture)
    site.server.route(site.path, wp_page(SEED, base=site.url), content_type="text/html; charset=UTF-8",
                      etag='"v1"')


def _flip_one_byte(app, sha256: str) -> None:
    store = archive_context(app).evidence
    body = bytearray(store.get(sha256))
    body[len(body) // 2] ^= 0x01
    blob_file(app, sha256).write_bytes(zstandard.ZstdCompressor().compress(bytes(body)))


def _first_body(app) -> str:
    sha = _captures(app)[0].exchanges[0].body_sha256
    assert sha is not None
    return sha


def _captures(app) -> list[Capture]:
    with get_db(app).read_session() as session:
        captures = session.scalars(select(Capture).order_by(Capture.id)).all()
        for capture in captures:
            capture.exchanges  # noqa: B018 (loaded before the session closes)
        return list(captures)


def test_a_corrupt_kept_body_is_fetched_again_and_reported(app, runner, site):  # noqa: F811
    _serve_with_etag(site)
    assert site.capture().outcome == "good"
    assert site.capture().outcome == "unchanged"
    sha = _first_body(app)
    _flip_one_byte(app, sha)

    summary = site.capture()
    assert summary.outcome == "good", summary.line()
    assert site.server.last(site.path).header("if-none-match") is None, "refetched without validators"
    assert site.statuses() == ALL_VISIBLE
    answered, refetched = _captures(app)[-1].exchanges
    assert answered.status == 304 and not answered.reused_body and sha in str(answered.error)
    assert refetched.status == 200 and refetched.body_sha256 == sha
    assert archive_context(app).evidence.verify(sha), "identical bytes refetched repair the copy"
    assert site.capture().outcome == "unchanged", "and the next capture may trust it again"

    health = logged_in(app).get("/ops/health").get_data(as_text=True)
    assert "Evidence problems" in health and sha in health
    result = runner.invoke("verify")
    assert result.exit_code == 0, result.output
    assert f"REPAIRED blob {sha}" in result.output


def test_a_corrupt_body_that_cannot_be_refetched_fails_the_capture_and_verify(app, site):  # noqa: F811
    _serve_with_etag(site)
    site.capture()
    sha = _first_body(app)
    _flip_one_byte(app, sha)
    site.server.route(site.path, "<html>Briefly unavailable</html>", status=503)
    summary = site.capture()
    assert summary.outcome == "failed" and "HTTP 503" in summary.reason
    with get_db(app).read_session() as session:
        report = verify_archive(session, archive_context(app).evidence)
    assert not report.ok and any(sha in line for line in report.problems)
    _serve_with_etag(site)
    assert site.capture().outcome == "good", "the site's answer mends the thread"


def test_a_capture_that_raises_is_a_failed_capture_with_back_off(app, site, monkeypatch):  # noqa: F811
    site.serve()
    assert site.capture().outcome == "good"

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("verdict engine exploded")

    monkeypatch.setattr(pipeline, "judge", broken)
    summary = site.capture()
    assert summary.outcome == "failed" and "RuntimeError: verdict engine exploded" in summary.reason
    last = _captures(app)[-1]
    assert (last.outcome, last.record_hash is not None) == ("failed", True)
    assert last.prev_hash == _captures(app)[-2].record_hash
    assert site.statuses() == ALL_VISIBLE
    with get_db(app).read_session() as session:
        watch = session.scalars(select(Watch)).one()
        assert watch.consecutive_failures == 1 and watch.last_outcome == "failed"
        assert watch.last_capture_at is not None
        assert watch.next_due_at - watch.last_capture_at >= timedelta(hours=1)
    assert jobs.due_watches(archive_context(app), "schedule") == []


def test_capture_all_goes_on_after_a_capture_that_raises(app, runner, site, monkeypatch):  # noqa: F811
    site.serve()
    other = site.server.url("/other-article/")
    site.server.route("/other-article/", wp_page(SEED[:2], base=other),
                      content_type="text/html; charset=UTF-8")
    runner.invoke("watch", "add", other, "--adapter", "wordpress")
    real_judge = pipeline.judge
    calls: list[int] = []

    def first_call_breaks(*args: Any) -> Verdict:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return real_judge(*args)

    monkeypatch.setattr(pipeline, "judge", first_call_breaks)
    result = runner.invoke("capture", "--all")
    assert result.exit_code == 0, result.output
    assert sorted(c.outcome for c in _captures(app)) == ["failed", "good"]


class _Exploding(Adapter):
    name = "exploding"
    label = "Exploding"

    def read(self, page: Page) -> PageResult:
        return PageResult(recognised=True)

    def join(self, results: Sequence[PageResult]) -> ThreadView:
        raise KeyError("parent")


def test_combine_never_raises():
    view = _Exploding().combine([PageResult(recognised=True)])
    assert not view.recognised and view.coverage == "none"
    assert "KeyError" in view.reason
