"""The pure CDX parser and snapshot plan (archive/backfill/cdx.py) and the chain state (chain.py).

`tests/fixtures/backfill/wayback_cdx_sample.json` is in the Wayback Machine's
`output=json` layout: one array whose first row names the fields
(urlkey, timestamp, original, mimetype, statuscode, digest, length), with the
kinds of rows the Wayback Machine lists: redirects (301), revisits
(`warc/revisit`, status `-`), server errors, and one page archived several
times with the same bytes (the same digest).
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from archive.backfill.cdx import (
    CdxError,
    CdxRow,
    cdx_query,
    parse_cdx,
    parse_timestamp,
    plan_snapshots,
    replay_prefix,
    replay_url,
    replayed_timestamp,
)
from archive.backfill.chain import ChainState, dump_chain, load_chain
from archive.rules.verdicts import Known, ThreadState

SAMPLE = Path(__file__).parent / "fixtures" / "backfill" / "wayback_cdx_sample.json"
ARTICLE = "https://www.communitycare.co.uk/2018/03/15/cafcass-rated-outstanding-effective-leaders/"


def test_the_wayback_machines_array_with_a_header_row_is_read():
    rows = parse_cdx(SAMPLE.read_text())
    assert len(rows) == 9
    first = rows[0]
    assert first == CdxRow(timestamp="20180315174423", url=ARTICLE, status=200,
                           digest="QX7M4O2SSE3NHZ6WNMZZ3XKGOL6YJ5CJ", mime="text/html")
    assert first.at == datetime(2018, 3, 15, 17, 44, 23)
    assert [r.status for r in rows] == [200, 301, 200, None, 200, 200, 200, 503, 200]


def test_pywbs_one_object_per_line_is_read_by_the_same_code():
    lines = "\n".join(json.dumps(r) for r in [
        {"urlkey": "1,0,0,127)/?p=5", "timestamp": "20180301120000", "url": "http://127.0.0.1/?p=5",
         "mime": "text/html", "status": "200", "digest": "AAA", "length": "900", "offset": "0",
         "filename": "one.warc.gz", "source": "coll/indexes/index.cdxj"},
        {"urlkey": "1,0,0,127)/?p=5", "timestamp": "20180401120000", "url": "http://127.0.0.1/?p=5",
         "mime": "warc/revisit", "status": "-", "digest": "AAA"},
    ]) + "\n"
    rows = parse_cdx(lines)
    assert [(r.timestamp, r.status, r.digest) for r in rows] == [
        ("20180301120000", 200, "AAA"), ("20180401120000", None, "AAA")]


@pytest.mark.parametrize("text", ["", "[]", "  \n"])
def test_an_empty_answer_has_no_rows(text):
    assert parse_cdx(text) == []


@pytest.mark.parametrize("text", ["[[\"urlkey\"", "{not json}", "[1, 2]"])
def test_a_broken_answer_is_one_clear_error(text):
    with pytest.raises(CdxError):
        parse_cdx(text)


def test_rows_without_a_full_timestamp_or_url_are_skipped():
    table = [["timestamp", "original", "statuscode"], ["2018", ARTICLE, "200"],
             ["20180315174423", "", "200"], ["20180315174423", ARTICLE, "200"], "junk"]
    assert [r.timestamp for r in parse_cdx(json.dumps(table))] == ["20180315174423"]


def test_the_plan_keeps_successes_in_order_and_cuts_repeated_digests_to_first_and_last():
    plan = plan_snapshots(parse_cdx(SAMPLE.read_text()))
    assert [(p.row.timestamp, p.repeat) for p in plan] == [
        ("20180315174423", False),
        ("20180319220911", False),   # first of three with the same bytes
        ("20180524150233", True),    # last of them: where a removal window must start
        ("20180608002146", False),
        ("20190302190134", False),
    ]


def test_the_plan_resumes_after_a_cursor_and_ignores_rows_read_twice():
    rows = parse_cdx(SAMPLE.read_text())
    plan = plan_snapshots(rows + rows[-3:])
    cursor = plan[2].row.order_key
    assert [p.row.timestamp for p in plan_snapshots(rows, after=cursor)] == ["20180608002146", "20190302190134"]


def test_warc_rows_of_one_second_keep_their_file_order():
    rows = [CdxRow("20261202100000", ARTICLE, 200, "B", ref="00000:000000000000900"),
            CdxRow("20261202100000", ARTICLE, 200, "A", ref="00000:000000000000100")]
    assert [p.row.digest for p in plan_snapshots(rows)] == ["A", "B"]


def test_the_query_asks_for_exactly_the_url_successes_and_a_page_at_a_time():
    wayback = parse_qs(urlsplit(cdx_query("https://web.archive.org/cdx/search/cdx", ARTICLE,
                                          datetime(2018, 1, 1), datetime(2019, 6, 30, 12), 500)).query)
    assert wayback == {"url": [ARTICLE], "output": ["json"], "limit": ["500"], "filter": ["statuscode:200"],
                       "from": ["20180101000000"], "to": ["20190630120000"]}
    pywb = parse_qs(urlsplit(cdx_query("http://127.0.0.1:8080/coll/cdx", ARTICLE, None, None, 10,
                                       resume_from="20180524150233")).query)
    assert pywb["filter"] == ["=status:200"] and pywb["from"] == ["20180524150233"] and "to" not in pywb


def test_replay_addresses_ask_for_the_original_bytes():
    assert replay_prefix("https://web.archive.org/cdx/search/cdx") == "https://web.archive.org/web/"
    assert replay_prefix("http://127.0.0.1:8080/coll/cdx") == "http://127.0.0.1:8080/coll/"
    with pytest.raises(CdxError, match="cannot tell where"):
        replay_prefix("http://127.0.0.1:8080/somewhere")
    url = replay_url("https://web.archive.org/web/", "20180315174423", ARTICLE)
    assert url == f"https://web.archive.org/web/20180315174423id_/{ARTICLE}"
    assert replayed_timestamp(f"https://web.archive.org/web/20180316000000id_/{ARTICLE}") == "20180316000000"
    assert replayed_timestamp(ARTICLE) is None


@pytest.mark.parametrize("value, expected", [("2018", datetime(2018, 1, 1)), ("201803", datetime(2018, 3, 1)),
                                             ("20180315174423", datetime(2018, 3, 15, 17, 44, 23))])
def test_timestamps_and_their_prefixes(value, expected):
    assert parse_timestamp(value) == expected


@pytest.mark.parametrize("value", ["", "2018x", "20181315000000", "123"])
def test_bad_timestamps_are_refused(value):
    with pytest.raises(CdxError):
        parse_timestamp(value)


def test_the_chain_state_survives_a_round_trip():
    seen = datetime(2018, 3, 19, 22, 9, 11)
    state = ChainState({"5": Known("5", "missing", "ab" * 32, None, datetime(2018, 3, 15), seen, 1,
                                   datetime(2018, 5, 24), False)}, ThreadState("active", 1), seen)
    again = load_chain(json.loads(json.dumps(dump_chain(state))))
    assert again == state
    assert load_chain(None) == ChainState()


def test_a_reply_hidden_since_an_earlier_removal_still_explains_the_pages_count():
    """WordPress keeps counting an approved reply of a trashed parent; when another
    parent is held later, the count check must allow for both hidden replies."""
    from archive.rules.assess import classify_view
    from scrapers.base import CommentRecord, ThreadView

    seen = datetime(2018, 3, 1)

    def known(key: str, status: str, parent: str | None = None) -> Known:
        return Known(key, status, "x", parent, None, seen)  # type: ignore[arg-type]

    before = {"1": known("1", "visible"), "2": known("2", "removed"), "3": known("3", "missing", "2"),
              "4": known("4", "visible"), "5": known("5", "visible", "4")}
    page = ThreadView(True, "", [CommentRecord("1", "A", "a")], "complete", claimed_count=3)
    assert classify_view(page, before) == ("good", "")
    worse = ThreadView(True, "", [CommentRecord("1", "A", "a")], "complete", claimed_count=4)
    assert classify_view(worse, before)[0] == "suspect"


@pytest.mark.parametrize("listed, same", [
    ("http://www.communitycare.co.uk:80/2018/03/15/cafcass/", True),
    ("https://WWW.CommunityCare.co.uk/2018/03/15/cafcass/", True),
    ("https://www.communitycare.co.uk:8443/2018/03/15/cafcass/", False),
    ("https://www.communitycare.co.uk/2018/03/15/cafcass/comment-page-2/", False),
    ("https://evil.example/2018/03/15/cafcass/", False),
    ("https://www.communitycare.co.uk:bad/2018/03/15/cafcass/", False),
])
def test_only_snapshots_of_the_threads_own_page_are_read(listed, same):
    from archive.backfill.cdx import same_page

    assert same_page(listed, "https://www.communitycare.co.uk/2018/03/15/cafcass/") is same


def test_hostile_fields_are_capped():
    table = [["timestamp", "original", "statuscode", "digest", "mimetype"],
             ["20180315174423", ARTICLE + "x" * 5000, "200", "D" * 10_000, "m" * 10_000]]
    [row] = parse_cdx(json.dumps(table))
    assert (len(row.url), len(row.digest), len(row.mime)) == (2000, 128, 128)
