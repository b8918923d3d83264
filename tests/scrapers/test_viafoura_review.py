"""The Viafoura adapter against captures that must never call a comment removed.

Each case is a way a live thread, a confused API or a hostile answer could make
a capture look good while it misses comments; the pure rules of
archive/rules/assess.py then decide, as the capture pipeline would.
"""
from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import pytest

from archive.rules.assess import classify_view
from archive.rules.verdicts import Known, text_hash
from scrapers.base import ThreadView
from scrapers.viafoura import ViafouraAdapter, comments_url, container_url
from tests.scrapers.test_viafoura import CONTAINER, OPTIONS, R4, SITE, C, E, F, adapter, capture, load, page

CONTAINER_URL = container_url(OPTIONS, "26844213")
NEW = "0192f3a1-7a10-7c01-8a11-0000000000ff"


def _known(view: ThreadView) -> dict[str, Known]:
    """What the archive knows after a good capture showed `view`."""
    return {r.key: Known(r.key, "visible", text_hash(r.text), r.parent_key, r.posted_at, datetime(2026, 12, 1))
            for r in view.comments if not r.tombstone}


def _outcome(view: ThreadView) -> str:
    before = adapter().combine(capture())
    assert before.recognised, before.reason
    return classify_view(view, _known(before))[0]


def _read(*answers: tuple[str, Any]) -> ThreadView:
    reader = adapter()
    return reader.combine([reader.parse(page(url, body)) for url, body in answers])


def test_an_empty_container_confirms_no_mass_removal() -> None:
    # A changed vf:container_id, or an API that lost the thread, answers a new,
    # empty container: its count of 0 must not confirm that every comment went.
    container = load("container")
    container["total_visible_content"] = 0
    view = _read((CONTAINER_URL, container),
                 (comments_url(OPTIONS, CONTAINER), {"contents": [], "more_available": False}))
    assert view.recognised and view.comments == []
    assert view.claimed_count is None
    assert _outcome(view) == "suspect"


COUNTED = "Mon, 30 Nov 2026 10:00:00 GMT"     # after every fixture comment, before _new's
LATER = 1796036400000                         # 2026-11-30 11:00 UTC


def _new(key: str) -> dict[str, Any]:
    item = copy.deepcopy(load("comments_page2")["contents"][2])
    item.update(content_uuid=key, content="Posted while the capture ran.", date_created=LATER, time=LATER)
    return item


def _dated(date: str | None, **changes: Any) -> ThreadView:
    """A whole capture whose container answer (which carries the count) came at `date`."""
    reader = adapter()
    results = []
    for result in capture(**changes):
        if getattr(result, "kind", "") == "container" and date:
            result = reader.parse(page(CONTAINER_URL, changes.get("container", load("container")),
                                       {"content-type": "application/json", "date": date}))
        results.append(result)
    return reader.combine(results)


def test_a_comment_skipped_while_a_new_one_arrived_is_not_hidden_by_the_count() -> None:
    # The second page lost R4 (an API that answered short after its cursor moved), and a
    # comment written during the capture made the listing as long as the count again.
    second = load("comments_page2")
    second["contents"][2] = _new(NEW)
    view = _dated(COUNTED, page2=second)
    assert not view.recognised and view.comments == []
    assert view.reason == "Viafoura counts 9 visible comments but listed 8 posted by then (and 1 newer)"
    assert _outcome(view) == "suspect"


def test_a_comment_written_during_the_capture_is_listed() -> None:
    second = load("comments_page2")
    second["contents"].append(_new(NEW))
    view = _dated(COUNTED, page2=second)
    assert view.recognised, view.reason
    assert view.comments[-1].key == NEW and view.claimed_count == 9


def test_a_comment_listed_in_two_places_is_not_counted_twice() -> None:
    # R2's replies answer lost E but lists R4 (a top-level comment) as one of R2's replies:
    # counted twice, R4 would make up for E in both the reply count and the container's.
    replies = load("replies")
    assert [item["content_uuid"] for item in replies["contents"]] == [C, E, F]
    twice = copy.deepcopy(replies["contents"][1])
    twice["content_uuid"] = R4
    replies["contents"][1] = twice
    view = adapter().combine(capture(replies=replies))
    assert not view.recognised and view.comments == []
    assert view.reason == f"comment {R4} is listed in two places"
    assert _outcome(view) == "suspect"


@pytest.mark.parametrize(("options", "problem"), [
    ({1: "x", "b": 2}, "unknown option(s) 1, b"),
    ({"site": SITE, "api": "http://[::1"}, "not an http(s) API base URL"),
    ({"site": SITE, "api": "http://127.0.0.1:99999/"}, "not an http(s) API base URL"),
    ({"site": SITE, "api": "http://127.0.0.1/\x00x"}, "not an http(s) API base URL"),
    (["site"], '"site"'),
])
def test_any_bad_options_are_one_line_value_errors(options: Any, problem: str) -> None:
    with pytest.raises(ValueError) as caught:
        ViafouraAdapter.validate_options(options)
    message = str(caught.value)
    assert message.startswith("viafoura: ") and problem in message and "\n" not in message
    reader = ViafouraAdapter()
    reader.configure(options)      # never raises: every page is unrecognised instead
    result = reader.parse(page(CONTAINER_URL, load("container")))
    assert not result.recognised and result.reason == message


@pytest.mark.parametrize("created", [253402300800000, 2**48 - 1, -1, 1.7e12, True])
def test_a_time_no_calendar_holds_is_the_adapters_own_reason(created: Any) -> None:
    # Epoch milliseconds past 9999-12-31 (or not an integer at all) name no moment.
    first = load("comments_page1")
    first["contents"][0]["date_created"] = created
    result = adapter().parse(page(comments_url(OPTIONS, CONTAINER), first))
    assert not result.recognised and result.reason.endswith("has no date_created")


def test_a_container_answer_for_another_container_id_is_unrecognised() -> None:
    # The lookup answered for another article's container: its comments are not this thread's.
    container = load("container")
    container["container_id"] = "99999999"
    result = adapter().parse(page(CONTAINER_URL, container))
    assert not result.recognised
    assert result.reason == "the container answer is for container '99999999', not '26844213'"
    assert adapter().parse(page(CONTAINER_URL, {**load("container"), "container_id": 26844213})).recognised
