"""Web-archive snapshots of a live test site, written as WARC files dated in the past."""
from __future__ import annotations

from datetime import datetime
from io import BytesIO
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.wordpress_site import WordPressSite


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def archive_page(wordpress: WordPressSite, url: str, warc: Path, when: datetime) -> None:
    """The page as WordPress serves it now, recorded as if archived at `when`."""
    # Importing it swaps http.client.HTTPConnection process-wide (recording only
    # inside the block), so only the tests that record pay for it.
    from warcio.capture_http import capture_http

    def dated(request, response, _recorder):
        for record in (request, response):
            record.rec_headers.replace_header("WARC-Date", _stamp(when))
        return request, response

    with capture_http(str(warc), filter_func=dated, gzip=True):
        assert wordpress.get(url).status == 200


def archive_wall(url: str, warc: Path, when: datetime, body: bytes) -> None:
    """A wall some servers answer with 200: what a web archive then keeps as the page."""
    with warc.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=UTF-8"),
                                           ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=BytesIO(body), length=len(body),
                                                      http_headers=http,
                                                      warc_headers_dict={"WARC-Date": _stamp(when)}))
