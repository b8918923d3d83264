"""What the public may see of a redacted comment: no text and no author name on any
public page, in the API, search, exports or statistics, and no raw body that holds it."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from archive.operators.redaction import set_redacted
from archive.research.stats_queries import build_stats
from archive.store.db import get_db
from archive.store.models import Blob, Comment, Exchange
from tests.operator_support import logged_in
from tests.test_operators_redaction import SECRET, captured  # noqa: F401 (a fixture)

AUTHOR = re.compile(r"\bAnn\b")
REASON = "Names a child in care"


@pytest.fixture
def redacted(app, captured):  # noqa: F811 (the imported fixture)
    """The captured thread with Ann's comment redacted; returns ids and the page body's hash."""
    thread_id, comment_id = captured
    with get_db(app).write() as session:
        set_redacted(session, comment_id, True, reason=REASON, actor="alice", user_id=None)
    with get_db(app).read_session() as session:
        exchange = session.scalars(select(Exchange)).one()
        size = session.get_one(Blob, exchange.body_sha256).size
        return {"thread": thread_id, "comment": comment_id, "capture": exchange.capture_id,
                "sha": exchange.body_sha256, "size": size}


def test_raw_body_holding_redacted_text_is_withheld_from_the_public(app, redacted):
    public = app.test_client().get(f"/blobs/{redacted['sha']}")
    page = public.get_data(as_text=True)
    assert public.status_code == 403
    assert SECRET not in page and not AUTHOR.search(page)
    assert redacted["sha"] in page and f"{redacted['size']} bytes" in page and REASON in page
    download = app.test_client().get(f"/blobs/{redacted['sha']}?download=1")
    assert download.status_code == 403 and SECRET.encode() not in download.data

    operator = logged_in(app).get(f"/blobs/{redacted['sha']}")
    assert operator.status_code == 200 and SECRET.encode() in operator.data
    assert "no-store" in operator.headers["Cache-Control"], "never kept by a shared cache"


def test_capture_page_shows_hash_and_size_but_no_link_to_a_withheld_body(app, redacted):
    page = app.test_client().get(f"/captures/{redacted['capture']}").get_data(as_text=True)
    assert redacted["sha"] in page and f"({redacted['size']} bytes)" in page
    assert f"/blobs/{redacted['sha']}" not in page
    assert "withheld" in page and REASON in page
    operator = logged_in(app).get(f"/captures/{redacted['capture']}").get_data(as_text=True)
    assert f"/blobs/{redacted['sha']}" in operator


def test_redacted_author_is_hidden_on_every_public_page(app, redacted):
    client = app.test_client()
    for url in (f"/threads/{redacted['thread']}", f"/comments/{redacted['comment']}",
                "/search?q=author:ann", "/search?q=responses"):
        page = client.get(url).get_data(as_text=True)
        assert not AUTHOR.search(page), url
    assert "Sam" in client.get(f"/threads/{redacted['thread']}").get_data(as_text=True)


def test_redacted_author_is_left_out_of_the_api_exports_and_stats(app, runner, redacted):
    client = app.test_client()
    one = client.get(f"/api/v1/comments/{redacted['comment']}").get_json()
    assert one["redacted"] and "author" not in one and "text" not in one
    listed = {c["archive_id"]: c for c in client.get("/api/v1/comments").get_json()["items"]}
    assert "author" not in listed[redacted["comment"]] and listed[redacted["comment"]]["redacted"]
    assert {c["author"] for i, c in listed.items() if i != redacted["comment"]} == {"Sam", "Jo"}

    rows = json.loads(runner.invoke("export", "comments", "--format", "json").output)
    exported = {row["archive_id"]: row for row in rows}
    assert exported[redacted["comment"]]["author"] == "" and exported[redacted["comment"]]["text"] == ""
    with get_db(app).read_session() as session:
        assert "Ann" not in {row["author"] for row in build_stats(session, "author")}
        assert session.get_one(Comment, redacted["comment"]).author == "Ann", "the archive keeps it"
