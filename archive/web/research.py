"""The statistics page for researchers: `/stats`, figures, plots and their caveats.

Everything is computed in one pass over the archive (archive/stats_queries.py)
and drawn server-side as inline SVG (archive/plots.py); the same figures are
downloadable from the JSON API and the `stats` / `export stats` commands.
"""
from __future__ import annotations

from typing import Any

import io

from flask import Blueprint, Response, render_template, request
from sqlalchemy import select
from werkzeug.utils import secure_filename

from ..db import get_session
from ..exports import ExportFilter, write_rows
from ..models import Site
from ..plots import RatePoint, capture_coverage, rate_over_time, time_to_removal
from ..stats import NOTES
from ..stats_queries import build_stats, collect, key_columns, keyed_rows, stats_columns

bp = Blueprint("research", __name__)

TABLE_GROUPINGS = ("site", "thread", "month", "author")


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
    out = io.StringIO()
    write_rows(iter(build_stats(session, by, ExportFilter(site=site))), stats_columns(by),
               "csv", out)
    name = f"stats-by-{by}{'-' + site if site else ''}.csv"
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{secure_filename(name)}"'})


@bp.get("/stats")
def stats_page() -> str:
    session = get_session()
    hosts = list(session.scalars(select(Site.host).order_by(Site.host)))
    by, site = _choices(hosts)
    flt = ExportFilter(site=site)
    groupings = tuple(dict.fromkeys((by, "site", "site-month", "all")))
    builders = collect(session, groupings, flt)
    table = keyed_rows(session, by, builders[by])
    site_rows = keyed_rows(session, "site", builders["site"])
    [total] = keyed_rows(session, "all", builders["all"]) or [None]
    busiest = [r["site"] for r in sorted(site_rows, key=lambda r: -r["comments_seen"])
               if r["comments_seen"]][:8]
    series = _rate_series(keyed_rows(session, "site-month", builders["site-month"]), busiest)
    lower, upper = builders["all"].timings("all")
    return render_template(
        "research/stats.html", by=by, site=site, hosts=hosts, groupings=TABLE_GROUPINGS,
        rows=table, keys=[c.name for c in key_columns(by)], total=total, notes=NOTES,
        more_sites=len([r for r in site_rows if r["comments_seen"]]) - len(busiest),
        rate_chart=rate_over_time(series) if series else None,
        ttr_chart=time_to_removal(lower, upper) if len(lower) else None,
        coverage_chart=capture_coverage(site_rows) if site_rows else None)
