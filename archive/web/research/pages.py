"""The statistics page for researchers: `/stats`, figures, plots and their caveats.

Everything is computed in one pass over the archive (archive/research/stats_queries.py)
and drawn server-side as inline SVG (plots.py); the same figures are
downloadable from the JSON API and the `stats` / `export stats` commands.
"""
from __future__ import annotations

import io
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from threading import Lock
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename

from archive.clock import utcnow
from archive.research.exports import ExportFilter, write_rows
from archive.research.stats_queries import build_stats, collect, key_columns, keyed_rows, stats_columns
from archive.rules.stats import NOTES
from archive.store.db import get_session
from archive.store.models import Site
from archive.web.research.plots import (
    MAX_SERIES,
    RatePoint,
    capture_coverage,
    rate_over_time,
    time_to_removal,
)

bp = Blueprint("research", __name__)

TABLE_GROUPINGS = ("site", "thread", "month", "author")
# Statistics read the whole archive (seconds for a million comments), and they
# only change when a capture runs: both the page and the API reuse a result
# for a few minutes, and keep a bounded number of them.
CACHE_SECONDS = 300
CACHE_ENTRIES = 32
T = TypeVar("T")


def cached(key: Hashable, compute: Callable[[], T]) -> tuple[T, datetime]:
    """compute(), or its result from less than CACHE_SECONDS ago; with when it was computed."""
    cache = current_app.extensions.setdefault("archive.stats_cache", (Lock(), OrderedDict()))
    lock, entries = cache
    now = time.monotonic()
    with lock:
        hit = entries.get(key)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1], hit[2]
    value, computed_at = compute(), utcnow().replace(microsecond=0)
    with lock:
        entries[key] = (now, value, computed_at)
        entries.move_to_end(key)
        while len(entries) > CACHE_ENTRIES:
            entries.popitem(last=False)
    return value, computed_at


def _rate_series(rows: list[dict[str, Any]], sites: list[str]) -> dict[str, list[RatePoint]]:
    series: dict[str, list[RatePoint]] = {site: [] for site in sites}
    for row in rows:
        if row["site"] in series and row["removal_rate"] is not None:
            series[row["site"]].append(RatePoint(row["month"], min(row["removal_rate"], 1.0),
                                                  row["removal_rate_low"],
                                                  row["removal_rate_high"]))
    return {site: points for site, points in series.items() if points}


def _choices(hosts: list[str]) -> tuple[str, str | None]:
    """The grouping and site asked for; anything unknown falls back to the default."""
    by = request.args.get("by", "site")
    site = request.args.get("site") or None
    return (by if by in TABLE_GROUPINGS else "site"), (site if site in hosts else None)


@bp.get("/stats.csv")
def stats_csv() -> Response:
    session = get_session()
    by, site = _choices(list(session.scalars(select(Site.host))))
    flt = ExportFilter(site=site)
    rows, _at = cached(("rows", by, flt), lambda: build_stats(session, by, flt))
    out = io.StringIO()
    excel_safe = request.args.get("excel_safe") == "1"
    write_rows(iter(rows), stats_columns(by), "csv", out, excel_safe=excel_safe)
    name = f"stats-by-{by}{'-' + site if site else ''}{'-excel' if excel_safe else ''}.csv"
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{secure_filename(name)}"'})


@bp.get("/stats")
def stats_page() -> str:
    session = get_session()
    hosts = list(session.scalars(select(Site.host).order_by(Site.host)))
    by, site = _choices(hosts)
    figures, computed_at = cached(("page", by, site), lambda: _page_figures(session, by, site))
    return render_template("research/stats.html", by=by, site=site, hosts=hosts,
                           groupings=TABLE_GROUPINGS, notes=NOTES, computed_at=computed_at,
                           cache_minutes=CACHE_SECONDS // 60, **figures)


def _page_figures(session: Session, by: str, site: str | None) -> dict[str, Any]:
    groupings = tuple(dict.fromkeys((by, "site", "site-month", "all")))
    builders = collect(session, groupings, ExportFilter(site=site))
    site_rows = keyed_rows(session, "site", builders["site"])
    all_rows = keyed_rows(session, "all", builders["all"])
    total = all_rows[0] if all_rows else None
    busiest = [r["site"] for r in sorted(site_rows, key=lambda r: -r["comments_seen"])
               if r["comments_seen"]][:MAX_SERIES]
    series = _rate_series(keyed_rows(session, "site-month", builders["site-month"]), busiest)
    lower, upper = builders["all"].timings("all")
    return {
        "rows": keyed_rows(session, by, builders[by]),
        "keys": [c.name for c in key_columns(by)], "total": total,
        "more_sites": len([r for r in site_rows if r["comments_seen"]]) - len(busiest),
        "rate_chart": rate_over_time(series) if series else None,
        "ttr_chart": time_to_removal(lower, upper) if len(lower) else None,
        "coverage_chart": capture_coverage(site_rows) if site_rows else None}
