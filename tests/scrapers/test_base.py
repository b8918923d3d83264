"""The adapter contract's own promise: parse never raises, whatever the page."""
from scrapers import ADAPTERS
from scrapers.base import Adapter, Page, PageResult


class Exploding(Adapter):
    name = "exploding"
    label = "raises on every page"

    def read(self, page: Page) -> PageResult:
        raise RecursionError("nested too deep")


def _page(body: bytes, content_type: str = "text/html") -> Page:
    return Page("http://127.0.0.1/a/", "http://127.0.0.1/a/", 200, {"content-type": content_type}, body)


def test_an_adapter_that_raises_reports_an_unreadable_page() -> None:
    result = Exploding().parse(_page(b"<html>"))
    assert result.recognised is False
    assert result.reason == "unreadable page: RecursionError: nested too deep"


def test_every_registered_adapter_survives_garbage() -> None:
    garbage = [b"", b"\xff\xfe\x00<", b"<" * 10000, b"{\"comments\": [", b"<rss><channel><item>"]
    for name, cls in ADAPTERS.items():
        for body in garbage:
            for content_type in ("text/html", "application/json", "application/rss+xml"):
                result = cls().parse(_page(body, content_type))
                assert isinstance(result, PageResult), name
                assert not (result.recognised and result.comments), (name, body, content_type)
