"""Input that used to get a server error: each case is a 4xx with a clear message.

Dates at the edges of the calendar, ids past the id columns' range, forged
search cursors, NUL bytes in parameters, and a login `next` with a line
break; under /api/v1/ every error, a 500 included, is JSON.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import datetime, timedelta

import pytest

from archive.clock import EARLIEST, LATEST, parse_date
from archive.search import reindex
from archive.web.api.openapi import DATE_PATTERN
from tests.context_support import with_settings
from tests.operator_support import PASSWORD, csrf_token, logged_in, make_user
from tests.public_helpers import build_moderated_thread

BIG = "99999999999999999999"
API_LISTS = ("comments", "events", "captures", "search", "stats")


def test_dates_have_one_range_everywhere():
    assert parse_date("1900-01-01") == EARLIEST
    assert parse_date("9998-12-31T23:59-05:00") == datetime(9999, 1, 1, 4, 59)
    for text in ("1899-12-31T23:59", "9999-01-01", "0001-01-01T00:00+01:00", "9999-12-31T23:59-05:00"):
        with pytest.raises(ValueError, match="out of range"):
            parse_date(text)
    # The API's documented pattern says the same.
    for day, inside in ((EARLIEST, True), (LATEST, True), (EARLIEST - timedelta(days=1), False),
                        (LATEST + timedelta(days=1), False)):
        assert bool(re.fullmatch(DATE_PATTERN, f"{day:%Y-%m-%d}")) is inside


@pytest.mark.parametrize("url", [
    "/search?q=x&to=9999-12-31",
    "/search?q=x&from=0001-01-01T00:00%2B01:00",
    "/search?q=x&from=0001-01-01",
])
def test_search_page_refuses_dates_out_of_range(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "1900-01-01 to 9998-12-31" in response.get_data(as_text=True)


@pytest.mark.parametrize("endpoint", API_LISTS)
@pytest.mark.parametrize("dates", ["to=9999-12-31", "from=0001-01-01"])
def test_api_lists_refuse_dates_out_of_range(client, endpoint, dates):
    response = client.get(f"/api/v1/{endpoint}?q=x&{dates}")
    assert response.status_code == 400
    assert "1900-01-01 to 9998-12-31" in response.get_json()["error"]


@pytest.mark.parametrize("number", [BIG, str(2**40), str(2**63), "9" * 5000])
@pytest.mark.parametrize("path", ["/threads/{}", "/threads/{}/captures", "/comments/{}", "/captures/{}"])
def test_public_pages_answer_404_for_ids_out_of_range(client, path, number):
    assert client.get(path.format(number)).status_code == 404


@pytest.mark.parametrize("path", ["/threads/{}", "/comments/{}", "/feeds/{}", "/watches/{}/edit"])
def test_operator_pages_answer_404_for_ids_out_of_range(app, path):
    client = logged_in(app)
    assert client.get("/ops" + path.format(BIG)).status_code == 404
    assert client.get("/ops" + path.format(2**40)).status_code == 404


@pytest.mark.parametrize("path", ["/threads/{}", "/comments/{}", "/captures/{}"])
def test_api_answers_json_404_for_ids_out_of_range(client, path):
    response = client.get("/api/v1" + path.format(BIG))
    assert response.status_code == 404
    assert response.get_json()["error"]


def test_search_page_refuses_a_thread_filter_out_of_range(client):
    response = client.get(f"/search?q=x&thread={BIG}")
    assert response.status_code == 400
    assert "thread filter must be a thread number" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/threads/{}/captures", "/ops/watches", "/ops/audit"])
def test_huge_page_numbers_show_a_page(app, path):
    path = path.format(build_moderated_thread(app)["thread"])
    client = logged_in(app)
    for page in (BIG, "9" * 5000):
        assert client.get(f"{path}?page={page}").status_code == 200


def _forged(fields: dict[str, object], text: str = "cafcass", sort: str = "newest") -> str:
    """A cursor made the way anyone could make one before cursors were signed."""
    query = json.dumps([text, None, None, None, None, None, sort, 20])
    state = {"f": hashlib.sha256(query.encode()).hexdigest()[:16], **fields}
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


# (sort, cursor): each names its search's sort, as its fingerprint does.
FORGED = [
    ("newest", _forged({"t": "2018-04-01T12:00:00+01:00", "i": 1})),
    ("newest", _forged({"t": "2018-04-01T12:00:00", "i": 10**30})),
    ("oldest", _forged({"t": "9999-12-31T23:59:59", "i": -(10**30)}, sort="oldest")),
    ("newest", _forged({"t": [], "i": "1"})),
    ("relevance", _forged({"o": True}, sort="relevance")),
    ("relevance", _forged({"o": 10**30}, sort="relevance")),
]


@pytest.mark.parametrize("backend", ["whoosh", "database", "tantivy"])
def test_forged_cursors_are_400(app, client, backend):
    build_moderated_thread(app)
    reindex(with_settings(app, search_backend=backend))
    for sort, cursor in FORGED:
        page = client.get(f"/search?q=cafcass&sort={sort}&cursor={cursor}")
        assert page.status_code == 400, cursor
        assert "out of date" in page.get_data(as_text=True)
        api = client.get(f"/api/v1/search?q=cafcass&sort={sort}&cursor={cursor}")
        assert api.status_code == 400, cursor
        assert "out of date" in api.get_json()["error"]


@pytest.mark.parametrize("url", [
    "/search?q=cafcass&site=a%00b", "/search?q=a%00b", "/search?q=author:a%00b",
    "/search?status=removed&to=2020-01-01%00", "/stats?site=a%00b", "/stats.csv?site=a%00b",
    "/api/v1/comments?site=a%00b", "/api/v1/search?q=a%00b",
])
def test_nul_in_a_parameter_is_400(app, client, url):
    build_moderated_thread(app)
    reindex(with_settings(app, search_backend="database"))
    response = client.get(url)
    assert response.status_code == 400
    assert "must not contain a NUL character" in response.get_data(as_text=True)


def test_nul_in_operator_parameters_is_400(app):
    client = logged_in(app)
    for url in ("/ops/watches?site=a%00b", "/ops/audit?action=a%00b", "/ops/health?outcome=a%00b"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "NUL" in response.get_data(as_text=True)
    fresh = app.test_client()
    refused = fresh.post("/ops/login", data={"name": "al\x00ice", "password": PASSWORD,
                                              "csrf_token": csrf_token(fresh)})
    assert refused.status_code == 400


@pytest.mark.parametrize("target", [
    "/ops/%0D%0ALocation:https://evil.example/", "/ops/%0Ax", "/ops/%09x", "/ops/a%20b", "/ops/%7F",
    "https://evil.example/ops/", "//evil.example/ops/", "/ops/\\evil.example",
])
def test_login_ignores_an_unsafe_next(app, target):
    make_user(app)
    client = app.test_client()
    response = client.post(f"/ops/login?next={target}",
                           data={"name": "alice", "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/ops/watches"


def test_login_follows_a_safe_next(app):
    make_user(app)
    client = app.test_client()
    response = client.post("/ops/login?next=/ops/health%3Foutcome%3Dfailed%26site%3D%C3%A9",
                           data={"name": "alice", "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert response.headers["Location"] in ("/ops/health?outcome=failed&site=é",
                                            "/ops/health?outcome=failed&site=%C3%A9")


def test_api_errors_are_json(app, client, monkeypatch):
    wrong_method = client.post("/api/v1/threads")
    assert wrong_method.status_code == 405 and "GET" in wrong_method.headers["Allow"]
    assert wrong_method.get_json()["error"]

    def broken(*_args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("archive.web.api.routes.build_stats", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    failed = client.get("/api/v1/stats?by=month")
    assert failed.status_code == 500
    assert failed.get_json() == {"error": "internal error: the archive could not answer this request"}
    assert "a bug" not in failed.get_data(as_text=True)
    # Elsewhere errors stay pages.
    assert not client.get("/no-such-page").is_json

