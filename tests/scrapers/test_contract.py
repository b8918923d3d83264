"""Every registered adapter keeps the contract's promises (scrapers/base.py), whatever
the page: `score` is 0 and never raises on hostile bytes, `parse` and `combine`
never raise, `validate_options` refuses what it does not know in one line, and
follow-ups only ask about the comments they are given. A new adapter is checked
here as soon as it is registered."""
from __future__ import annotations

import random

import pytest

from scrapers import ADAPTERS, choose_adapter, get_adapter
from scrapers.base import Adapter, BrowserPlan, FollowUp, Page, PageResult, ThreadView

THREAD = "http://127.0.0.1:8080/2026/12/a-post/"
_RANDOM = random.Random(12)
RANDOM_BYTES = bytes(_RANDOM.randrange(256) for _ in range(8192))
NESTED_ARRAYS = b"[" * 100_000 + b"]" * 100_000
NESTED_OBJECTS = b'{"replies":' * 50_000 + b"1" + b"}" * 50_000
HOSTILE = [
    (b"", "text/html"),
    (b"", "application/json"),
    (b"", ""),
    (RANDOM_BYTES, "text/html"),
    (RANDOM_BYTES, "application/json"),
    (RANDOM_BYTES, ""),
    (NESTED_ARRAYS, "application/json"),
    (NESTED_OBJECTS, "application/json"),
    (NESTED_OBJECTS, ""),
    (b"\x00\x01\xfe\xff" * 4096, "text/html"),
    (b"\x89PNG\r\n\x1a\n" + RANDOM_BYTES, "text/html; charset=no-such-charset"),
    (b"<div>" * 20_000, "text/html"),
    (b"<rss><channel>" + b"<item>" * 5000, "application/rss+xml"),
]
IDS = [f"{body[:8]!r}-{kind or 'no type'}" for body, kind in HOSTILE]
NAMES = sorted(ADAPTERS)


def _page(body: bytes, content_type: str) -> Page:
    headers = {"content-type": content_type} if content_type else {}
    return Page(THREAD, THREAD, 200, headers, body)


def _one_line(exc: BaseException) -> str:
    message = str(exc)
    assert message and "\n" not in message and len(message) < 500, repr(message)
    return message


@pytest.mark.parametrize("name", NAMES)
def test_the_registry_entry_describes_the_adapter(name: str) -> None:
    cls = ADAPTERS[name]
    assert cls.name == name and cls.label.strip()
    assert cls.fetch_mode in ("http", "browser")
    if cls.fetch_mode == "browser":
        plan = cls().browser_plan(THREAD)
        assert isinstance(plan, BrowserPlan) and plan.url.startswith(("http://", "https://"))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("body", "content_type"), HOSTILE, ids=IDS)
def test_hostile_bytes_score_0_and_parse_to_nothing(name: str, body: bytes, content_type: str) -> None:
    adapter = ADAPTERS[name]()
    page = _page(body, content_type)
    assert adapter.score(page) == 0
    result = adapter.parse(page)
    assert isinstance(result, PageResult)
    assert not (result.recognised and result.comments), result
    view = adapter.combine([result])
    assert isinstance(view, ThreadView) and not view.comments


@pytest.mark.parametrize("name", NAMES)
def test_unknown_options_are_refused_in_one_line(name: str) -> None:
    with pytest.raises(ValueError) as refused:
        ADAPTERS[name].validate_options({"nonsense": 1})
    assert name in _one_line(refused.value)


@pytest.mark.parametrize("name", NAMES)
def test_no_options_are_accepted_or_refused_in_one_line(name: str) -> None:
    cls = ADAPTERS[name]
    try:
        cleaned = cls.validate_options(None)
    except ValueError as exc:
        # An adapter that cannot work without options (generic-css's selectors) says which.
        _one_line(exc)
        return
    if cls.validate_options.__func__ is Adapter.validate_options.__func__:  # type: ignore[attr-defined]
        assert cleaned is None, "an adapter that takes no options needs none"
    else:
        assert cleaned is None or cls.validate_options(cleaned) == cleaned


@pytest.mark.parametrize("name", NAMES)
def test_bad_stored_options_never_raise_when_an_adapter_is_built(name: str) -> None:
    # Options stored before a rule changed reach `configure` unchecked: it must not raise.
    adapter = get_adapter(name, {"nonsense": 1})
    assert isinstance(adapter.first_url(THREAD), str)
    assert not adapter.parse(_page(b"<html><body><p>hi</p></body></html>", "text/html")).comments


@pytest.mark.parametrize("name", NAMES)
def test_follow_ups_ask_only_about_the_keys_given(name: str) -> None:
    adapter = ADAPTERS[name]()
    keys = ["12", "fp:0123456789abcdef01234567", "", "../../etc/passwd", "9" * 40]
    asks = adapter.follow_ups(THREAD, keys)
    assert all(isinstance(ask, FollowUp) and ask.key in keys for ask in asks)
    assert all(ask.url.startswith(("http://", "https://")) for ask in asks)
    for status in (None, 200, 404, 500, 999):
        assert isinstance(adapter.read_follow_up(status, RANDOM_BYTES), str)


class _RaisingDetect(Adapter):
    name = "raising-detect"
    label = "raises in detect"

    def detect(self, page: Page) -> int:
        raise RecursionError("nested too deep")

    def read(self, page: Page) -> PageResult:
        return PageResult(recognised=False)


class _Greedy(Adapter):
    name = "greedy"
    label = "claims every page"

    def detect(self, page: Page) -> int:
        return 1000

    def read(self, page: Page) -> PageResult:
        return PageResult(recognised=False)


class _GreedyBrowser(_Greedy):
    name = "greedy-browser"
    fetch_mode = "browser"


def test_score_guards_detect_and_caps_it() -> None:
    page = _page(b"<html></html>", "text/html")
    assert _RaisingDetect().score(page) == 0
    assert _Greedy().score(page) == 100


def test_browser_adapters_are_never_chosen_from_a_plain_page(monkeypatch: pytest.MonkeyPatch) -> None:
    page = _page(b"<html></html>", "text/html")
    monkeypatch.setitem(ADAPTERS, _GreedyBrowser.name, _GreedyBrowser)
    assert choose_adapter(page) is None
    monkeypatch.setitem(ADAPTERS, _Greedy.name, _Greedy)
    assert isinstance(choose_adapter(page), _Greedy)
