"""One page-number parser and one page count for every paged web page."""
from __future__ import annotations

import pytest
from flask import Flask

from archive.capture.watches import add_watch
from archive.store.db import get_db
from archive.web.paging import clamp, page_arg, page_count
from tests.operator_support import logged_in


@pytest.mark.parametrize("query, page", [
    ("", 1), ("?page=3", 3), ("?page=0", 1), ("?page=-2", 1), ("?page=two", 1), ("?page=%C2%B2", 1),
    ("?page=" + "9" * 5000, 1),
])
def test_a_bad_page_number_is_the_first_page(query: str, page: int) -> None:
    with Flask(__name__).test_request_context(f"/{query}"):
        assert page_arg() == page


def test_page_count_and_clamp() -> None:
    assert [page_count(total, 50) for total in (0, 1, 50, 51, 100, 101)] == [1, 1, 1, 2, 2, 3]
    assert [clamp(page, 3) for page in (-1, 1, 3, 4, 10**9)] == [1, 1, 3, 3, 3]


@pytest.mark.parametrize("page", ["%C2%B2", "-1", "999999999999"])
def test_every_paged_page_accepts_any_page_number(app, page: str) -> None:
    with get_db(app).write() as session:
        thread_id = add_watch(session, "http://127.0.0.1:9/a/", allow_private=True).thread_id
    client = logged_in(app)
    for path in ("/", f"/threads/{thread_id}", f"/threads/{thread_id}/captures", "/ops/watches", "/ops/audit"):
        assert client.get(f"{path}?page={page}").status_code == 200, path
