"""Every response header line is kept, in order, repeated names included: in the
fetch result, the stored exchange, the capture page, the hash chain and the WARC export."""
from __future__ import annotations

from archive.capture.fetch.fetcher import Fetcher
from archive.context import archive_context
from tests.test_capture import SEED, site  # noqa: F401 (a fixture)
from tests.test_warc_verify import read_warc
from tests.wordpress_markup import wp_page

LINES = [("Set-Cookie", "a=1; HttpOnly"), ("X-Between", "m"), ("Set-Cookie", "b=2")]
KEPT = {"set-cookie", "x-between"}


def _serve(site) -> None:  # noqa: F811 (the imported fixture)
    site.server.route(site.path, wp_page(SEED, base=site.url), content_type="text/html; charset=UTF-8",
                      header_lines=LINES)


def _ours(lines) -> list[tuple[str, str]]:
    return [(name, value) for name, value in lines if name.lower() in KEPT]


def test_fetch_keeps_repeated_header_lines_in_order(app, site):  # noqa: F811
    _serve(site)
    with Fetcher.from_settings(archive_context(app).settings) as fetcher:
        result = fetcher.fetch(site.url)
    assert _ours(result.header_lines) == LINES
    assert result.headers["content-type"] == "text/html; charset=UTF-8", "lookups by lower-case name"


def test_capture_page_warc_and_verify_keep_every_line(app, runner, site, tmp_path):  # noqa: F811
    _serve(site)
    assert site.capture().outcome == "good"
    page = app.test_client().get("/captures/1").get_data(as_text=True)
    assert page.count("<th>Set-Cookie</th>") == 2 and "a=1; HttpOnly" in page and "b=2" in page

    target = tmp_path / "thread.warc.gz"
    assert runner.invoke("export", "warc", "--output", str(target)).exit_code == 0
    [response] = [r for r in read_warc(target) if r["type"] == "response"]
    assert _ours(response["http"]) == LINES

    verified = runner.invoke("verify")
    assert verified.exit_code == 0, verified.output
