"""No query string makes /search or an /api/v1/ list answer with a server error.

Hypothesis draws parameters from what people and programs really send
(known good values) and what they should not (NUL and other control
characters, any unicode, numbers far past 64 bits, dates at both ends of the
calendar and in any time zone, cursors that are not the archive's).
"""
from __future__ import annotations

import base64
import json
from datetime import timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.search import reindex
from tests.context_support import with_settings
from tests.public_helpers import build_moderated_thread

PATHS = ("/search", "/api/v1/comments", "/api/v1/events", "/api/v1/captures", "/api/v1/threads",
         "/api/v1/search", "/api/v1/stats")

# Each parameter mostly gets values of its own kind: well-formed, at an edge
# (where the crashes hid, behind checks that refuse plain junk; drawn half
# the time, as random draws seldom land on them), or junk.
_text = st.one_of(
    st.sampled_from(("cafcass", "officer*", '"my comment"', "author:paul", "NOT", "a\0b", "author:a\0b")),
    st.text(max_size=20), st.text(alphabet="\0\r\n\t\x7f aé€😀*\"():-", max_size=8))
_numbers = st.one_of(
    st.sampled_from(("2147483647", "2147483648", str(2**63), "9" * 20, "9" * 5000, "-1", "0")),
    st.integers(min_value=-(10**30), max_value=10**30).map(str))
_zones = st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23)))
_dates = st.one_of(
    st.sampled_from(("9999-12-31", "0001-01-01", "0001-01-01T00:00+01:00", "9999-12-31T23:59-05:00",
                     "1900-01-01", "9998-12-31")),
    st.dates().map(str), st.datetimes(timezones=st.none() | _zones).map(lambda moment: moment.isoformat()))
_cursor_fields = st.one_of(st.sampled_from((2**31, 2**63, 10**30, -1, 0)), st.integers(), _dates,
                           st.text(max_size=5), st.booleans(), st.none())
_cursors = st.dictionaries(st.sampled_from(("f", "o", "t", "i")), _cursor_fields, max_size=4).map(
    lambda state: base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("="))


def _kind(*good: str) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(good), _text)


KINDS: dict[str, st.SearchStrategy[str]] = {
    "q": _text, "site": _kind("www.communitycare.co.uk"),
    "status": _kind("visible", "missing", "removed", "reinstated", "edited", "good", "failed"),
    "sort": _kind("relevance", "newest", "oldest"),
    "page": _numbers, "thread": _numbers, "limit": _numbers, "after": _numbers, "per_page": _numbers,
    "from": _dates, "to": _dates, "cursor": st.one_of(_cursors, _text)}
_anything = st.one_of(_text, _numbers, _dates, _cursors)
# One or two parameters: with more, one of them is nearly always refused
# before the others are read.
_queries = st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=2, unique=True).flatmap(
    lambda names: st.fixed_dictionaries({name: st.one_of(KINDS[name], KINDS[name], _anything)
                                         for name in names}))


@pytest.mark.parametrize("backend", ["whoosh", "database", "tantivy"])
def test_no_query_string_makes_a_server_error(app, backend):
    build_moderated_thread(app)
    reindex(with_settings(app, search_backend=backend))
    client = app.test_client()

    @given(path=st.sampled_from(PATHS), query=_queries)
    @settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(path: str, query: dict[str, str]) -> None:
        response = client.get(path, query_string=query)
        assert response.status_code < 500, (path, query, response.get_data(as_text=True)[:300])
        if path.startswith("/api/"):
            assert response.is_json

    check()
