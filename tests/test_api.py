"""The public JSON API: behaviour, the OpenAPI document, and schemathesis against both."""
from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import CheckFunction
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from archive.context import archive_context
from archive.research.exports import ExportFilter
from archive.research.stats_queries import build_stats
from archive.store.db import get_db
from archive.web.api.openapi import SEARCH_SORTS, SEARCH_STATUSES, openapi_document
from tests.test_exports import build_archive

# The catch-all that turns unknown /api/v1/ paths into JSON 404s is not an operation.
UNDOCUMENTED = {"api.not_found"}


def test_every_route_is_documented_and_every_documented_path_is_a_route(app):
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
              for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("api.") and rule.endpoint not in UNDOCUMENTED}
    documented = set(openapi_document()["paths"])
    assert routes == documented
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            assert rule.methods - {"HEAD", "OPTIONS"} == {"GET"}, "the API is read-only"


def test_search_enums_match_the_search_module():
    from archive.search.types import SORTS, STATUSES
    assert SEARCH_STATUSES == STATUSES and SEARCH_SORTS == SORTS


def test_comments_pages_follow_next_links(app, client):
    ids = build_archive(app)
    seen, url = [], "/api/v1/comments?limit=3"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        body = response.get_json()
        seen += [item["archive_id"] for item in body["items"]]
        url = body["next"]
    assert seen == [ids["kept"], ids["gone"], ids["hidden"], ids["back"]]
    first = client.get("/api/v1/comments?limit=3").get_json()
    assert first["next"] == f"/api/v1/comments?after={ids['hidden']}&limit=3"
    filtered = client.get("/api/v1/comments?status=removed&limit=1").get_json()
    assert [i["archive_id"] for i in filtered["items"]] == [ids["gone"]]
    assert filtered["next"] is None
    by_site = client.get("/api/v1/comments?site=news.example.org").get_json()["items"]
    assert [i["comment_id"] for i in by_site] == ["fp:abc"]
    by_thread = client.get(f"/api/v1/comments?thread={ids['t2']}").get_json()["items"]
    assert [i["archive_id"] for i in by_thread] == [ids["hidden"]]
    april = client.get("/api/v1/comments?from=2024-04-01&to=2024-04-05").get_json()["items"]
    assert [i["archive_id"] for i in april] == [ids["hidden"]]


def test_redacted_comment_has_no_text_anywhere(app, client):
    ids = build_archive(app)
    listed = client.get(f"/api/v1/comments?thread={ids['t2']}").get_json()["items"][0]
    assert "text" not in listed
    assert listed["redacted"] is True and listed["redaction_reason"] == "privacy: names a child"
    detail = client.get(f"/api/v1/comments/{ids['hidden']}")
    assert detail.status_code == 200
    assert b"secret text" not in detail.data
    assert detail.get_json()["versions"] == [
        {"seq": 1, "seen_at": "2024-04-05T00:00:00Z", "capture_id": None}]


def test_comment_detail_has_versions_and_events(app, client):
    ids = build_archive(app)
    body = client.get(f"/api/v1/comments/{ids['kept']}").get_json()
    assert body["text"] == "edited,\nline two ✓" and body["edit_count"] == 1
    assert [v["text"] for v in body["versions"]] == ["first text", "edited,\nline two ✓"]
    assert [e["kind"] for e in body["events"]] == ["appeared"]
    gone = client.get(f"/api/v1/comments/{ids['gone']}").get_json()
    assert gone["events"][0]["kind"] == "removed"
    assert gone["events"][0]["window_end"] == "2024-03-02T06:00:00Z"


def test_threads_events_captures_and_stats(app, client):
    ids = build_archive(app)
    threads = client.get("/api/v1/threads").get_json()["items"]
    assert [t["id"] for t in threads] == [ids["t1"], ids["t2"], ids["t2"] + 1]
    assert threads[0]["comments"] == {"visible": 1, "missing": 0, "removed": 1}
    detail = client.get(f"/api/v1/threads/{ids['t1']}").get_json()
    assert detail["captures"]["good"] == 1 and detail["captures"]["failed"] == 1
    assert detail["captures"]["last_good_at"] == "2024-03-01T12:00:00Z"
    assert detail["links"]["comments"] == f"/api/v1/comments?thread={ids['t1']}"
    events = client.get("/api/v1/events?status=removed").get_json()["items"]
    assert [e["comment_id"] for e in events] == ["102"]
    captures = client.get("/api/v1/captures?status=failed").get_json()["items"]
    assert [c["reason"] for c in captures] == ["HTTP 503"]
    one = client.get(f"/api/v1/captures/{captures[0]['capture_id']}").get_json()
    assert one["outcome"] == "failed" and one["exchanges"] == []
    stats = client.get("/api/v1/stats?by=month").get_json()
    with get_db(app).read_session() as session:
        assert stats["rows"] == build_stats(session, "month", ExportFilter())
    assert any("Detection floor" in note for note in stats["notes"])


@pytest.mark.parametrize("url, message", [
    ("/api/v1/comments?limit=0", "limit must be"),
    ("/api/v1/comments?limit=abc", "limit must be"),
    ("/api/v1/comments?after=-1", "after must be"),
    ("/api/v1/comments?status=deleted", "status must be one of"),
    ("/api/v1/comments?from=2024-13-01", "from must be a date"),
    ("/api/v1/comments?from=20240101", "from must be a date"),
    ("/api/v1/comments?thread=99999999999999999999", "thread must be"),
    ("/api/v1/comments?limit=1&limit=2", "more than once"),
    ("/api/v1/comments?limit=5%0A", "limit must be"),
    ("/api/v1/comments?site=a%01b", "control characters"),
    ("/api/v1/comments?site=a%00b", "must not contain a NUL"),
    ("/api/v1/stats?by=planet", "by must be one of"),
    ("/api/v1/search?per_page=101", "per_page must be"),
])
def test_bad_parameters_are_400_json(client, url, message):
    response = client.get(url)
    assert response.status_code == 400
    assert message in response.get_json()["error"]


@pytest.mark.parametrize("url", ["/api/v1/comments/999", "/api/v1/comments/99999999999999999999",
                                 "/api/v1/threads/5", "/api/v1/captures/7", "/api/v1/nothing",
                                 "/api/v1/comments/abc", "/api/v1/captures/a%0Ab"])
def test_unknown_things_are_404_json(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response.is_json and response.get_json()["error"]


def test_search_endpoint(app, client):
    from archive.search import reindex
    ids = build_archive(app)
    reindex(archive_context(app))
    body = client.get("/api/v1/search?q=cafcass").get_json()
    assert body["total"] == 1
    [hit] = body["hits"]
    assert hit["comment"]["archive_id"] == ids["gone"]
    assert "<mark>" in hit["highlight"].lower()
    assert client.get("/api/v1/search?q=secret").get_json()["total"] == 0
    removed = client.get("/api/v1/search?q=cafcass&status=removed").get_json()
    assert [h["comment"]["archive_id"] for h in removed["hits"]] == [ids["gone"]]
    assert client.get("/api/v1/search?q=cafcass&status=visible").get_json()["hits"] == []
    bad = client.get("/api/v1/search?q=NOT")
    assert bad.status_code == 400 and bad.get_json()["error"]


def test_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"] == "3.1.0"


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_schema(app, mode):
    """Every operation, with generated valid (then invalid) parameters: no 5xx, every
    response documented and matching its schema, invalid input refused with a 4xx.

    Driven from inside the test rather than with the pytest plugin, whose
    fixture support does not run on this pytest version.
    """
    from archive.search import reindex
    build_archive(app)
    reindex(archive_context(app))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operations.append(result.ok())
    # schemathesis leaves out the path that serves the document itself.
    assert {op.path for op in operations} == set(openapi_document()["paths"]) - {
        "/api/v1/openapi.json"}
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not operation.query and not operation.path_parameters:
            continue  # nothing to get wrong
        excluded: list[CheckFunction] = []
        if operation.path in ("/api/v1/search", "/api/v1/find"):
            # The query language ("NOT" alone, a stale cursor, from after to) and find's
            # "at least 3 words" cannot be written as JSON Schema: such well-formed
            # strings are rightly a 400.
            excluded.append(positive_data_acceptance)

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=30, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: Case) -> None:
            case.call_and_validate(excluded_checks=excluded)  # noqa: B023 (called within this iteration)

        check()
