"""The /stats page and its server-side SVG plots."""
from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET

from archive.store.db import get_db
from archive.store.models import Site, Thread
from archive.web.research.plots import RatePoint, capture_coverage, rate_over_time, time_to_removal
from tests.test_stats_queries import build


def _svgs(html: str) -> list[str]:
    return re.findall(r"<svg.*?</svg>", html, flags=re.S)


def test_page_shows_figures_and_three_charts(app, client):
    build(app)
    response = client.get("/stats")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    charts = _svgs(html)
    assert len(charts) == 3
    for chart in charts:
        ET.fromstring(chart)  # well-formed
    assert "<script" not in html and " style=" not in html
    assert "Detection floor" in html
    assert "60.0%" in html and "a.example" in html   # a.example: 3 of 5 removed
    assert "36 h" in html                              # its largest gap
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_page_groupings_and_site_filter(app, client):
    build(app)
    by_thread = client.get("/stats?by=thread").get_data(as_text=True)
    assert "https://a.example/1/" in by_thread and "/threads/" in by_thread
    only_b = client.get("/stats?site=b.example&by=month").get_data(as_text=True)
    assert "2024-02" in only_b and "a.example" not in only_b.split("<h2>By month</h2>")[1]
    # Unknown values fall back to the defaults rather than failing.
    assert client.get("/stats?by=planet&site=nowhere").status_code == 200


def test_csv_download(app, client):
    build(app)
    response = client.get("/stats.csv?by=month")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "stats-by-month.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["month"] for r in rows] == ["2024-01", "2024-02"]


def test_csv_download_for_spreadsheets(app, client):
    build(app)
    with get_db(app).write() as session:
        session.get_one(Site, 1).host = "=HYPERLINK(\"http://evil.example\")"
    link = re.search(r'href="(/stats\.csv\?[^"]*excel_safe=1[^"]*)"', client.get("/stats").get_data(as_text=True))
    assert link, "the page offers the spreadsheet download"
    plain = list(csv.DictReader(io.StringIO(client.get("/stats.csv").get_data(as_text=True))))
    safe = client.get("/stats.csv?excel_safe=1")
    assert "excel" in safe.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(safe.get_data(as_text=True))))
    assert [r["site"] for r in rows] == ["'" + r["site"] if r["site"].startswith("=") else r["site"]
                                          for r in plain]
    assert any(r["site"].startswith("'=HYPERLINK") for r in rows)


def test_empty_archive_explains_itself(client):
    html = client.get("/stats").get_data(as_text=True)
    assert "Nothing to measure yet" in html
    assert "No capture has been made yet" in html
    assert _svgs(html) == []


def test_hostile_site_name_is_escaped_in_svg(app, client):
    with get_db(app).write() as s:
        site = Site(host='evil"><script>alert(1)</script>')
        s.add_all([site, Thread(site=site, url="https://evil.example/")])
    chart = capture_coverage([{"site": '<script>x</script>', "captures_good": 1}])
    assert "<script>" not in chart and "&lt;script&gt;" in chart
    html = client.get("/stats").get_data(as_text=True)
    assert "<script>alert(1)" not in html


def test_plots_are_well_formed_and_say_what_they_show():
    rate = rate_over_time({"a & b": [RatePoint("2024-01", 0.2, 0.1, 0.4),
                                     RatePoint("2024-02", 0.5, 0.2, 0.8)]})
    root = ET.fromstring(str(rate))
    assert root.get("role") == "img" and "Removal rate" in root.get("aria-label", "")
    assert len(root.findall("{http://www.w3.org/2000/svg}polyline")) == 1
    assert "a &amp; b 2024-02: 50.0% (95% CI 20.0%–80.0%)" in rate
    ttr = time_to_removal([0.5, 2.0, 30.0], [1.5, 5.0, 200.0])
    bars = ET.fromstring(str(ttr)).findall("{http://www.w3.org/2000/svg}rect")
    titles = [b.find("{http://www.w3.org/2000/svg}title") for b in bars]
    titled = [title.text for title in titles if title is not None]
    assert "lower bound, <1h: 1" in titled and "upper bound, ≥7d: 1" in titled
    assert "upper bound, 3–6h: 1" in titled and "lower bound, 1–2d: 1" in titled


def test_count_axis_ticks_are_whole_numbers():
    from archive.web.research.plots import _count_max
    assert [_count_max(v) for v in (0, 2, 4, 5, 9, 21, 41, 81, 150, 201)] == [
        4, 4, 4, 8, 20, 40, 80, 200, 200, 400]


def test_figures_are_reused_for_a_few_minutes(app, client):
    from archive.web.research import pages as research
    build(app)
    first = client.get("/api/v1/stats").get_json()
    with get_db(app).write() as s:
        s.add(Site(host="late.example"))
    again = client.get("/api/v1/stats").get_json()
    assert again == first
    # Only a bounded number of results is kept.
    for n in range(research.CACHE_ENTRIES + 5):
        client.get(f"/api/v1/stats?from=2024-{n // 28 + 1:02d}-{n % 28 + 1:02d}")
    assert len(app.extensions["archive.stats_cache"][1]) == research.CACHE_ENTRIES
