"""Charts for the statistics page as inline SVG, drawn on the server. Pure: figures in, markup out.

No script, and no `style` attributes (the CSP's `style-src 'self'` blocks
them): colours and strokes are SVG presentation attributes. Every label that
comes from the archive (site names) is escaped. Each chart carries a
`<title>` and an `aria-label`, and the page shows the same figures as a table.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from archive.rules.stats import histogram

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
           "#17becf")
OUTCOME_COLOURS = (("good", "#2ca02c"), ("failed", "#d62728"), ("suspect", "#ff7f0e"),
                   ("gone", "#7f7f7f"))
# Time-to-removal bins in hours, and their labels.
TTR_EDGES = (0.0, 1.0, 3.0, 6.0, 12.0, 24.0, 48.0, 168.0)
TTR_LABELS = ("<1h", "1–3h", "3–6h", "6–12h", "12–24h", "1–2d", "2–7d", "≥7d")
MAX_SERIES = len(PALETTE)

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 48


@dataclass(frozen=True)
class RatePoint:
    month: str
    rate: float
    low: float
    high: float


def _svg(title: str, body: list[str], height: int = HEIGHT) -> Markup:
    safe_title = escape(title)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'class="chart" role="img" aria-label="{safe_title}"><title>{safe_title}</title>'
        + "".join(body) + "</svg>")


def _text(x: float, y: float, content: object, anchor: str = "middle", size: int = 11,
          fill: str = "#333") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
            f'fill="{fill}">{escape(str(content))}</text>')


def _nice_max(value: float) -> float:
    """A round axis maximum at or above value."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(value))) / 10 if value >= 1 else 0.1
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _count_max(value: float) -> int:
    """An axis maximum for counts whose quarter ticks are whole numbers (4, 8, 20, 40, ...)."""
    magnitude = 1
    while True:
        for step in (4, 8, 20):
            if value <= step * magnitude:
                return step * magnitude
        magnitude *= 10


def _y_axis(top: float, bottom: float, maximum: float, as_percent: bool) -> list[str]:
    parts = []
    for i in range(5):
        value = maximum * i / 4
        y = bottom - (bottom - top) * i / 4
        label = f"{value:.0%}" if as_percent else f"{value:g}"
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
                     f'stroke="#ddd" stroke-width="1"/>')
        parts.append(_text(LEFT - 6, y + 4, label, anchor="end"))
    return parts


def rate_over_time(series: Mapping[str, Sequence[RatePoint]]) -> Markup:
    """Removal rate per month, one line per site, with 95% intervals as whiskers."""
    months = sorted({p.month for points in series.values() for p in points})
    top, bottom = TOP + 14, HEIGHT - BOTTOM
    maximum = min(1.0, _nice_max(max((p.high for s in series.values() for p in s), default=0)))
    span = (WIDTH - RIGHT - LEFT) / max(len(months), 1)

    def x_of(month: str) -> float:
        return LEFT + span * (months.index(month) + 0.5)

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * min(value, maximum) / maximum

    body = _y_axis(top, bottom, maximum, as_percent=True)
    step = max(1, len(months) // 12)
    for i, month in enumerate(months):
        if i % step == 0:
            body.append(_text(x_of(month), bottom + 16, month))
    for n, (site, points) in enumerate(list(series.items())[:MAX_SERIES]):
        colour = PALETTE[n]
        ordered = sorted(points, key=lambda p: p.month)
        if len(ordered) > 1:
            path = " ".join(f"{x_of(p.month):.1f},{y_of(p.rate):.1f}" for p in ordered)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                        f'stroke-width="2"/>')
        for p in ordered:
            x = x_of(p.month)
            body.append(f'<line x1="{x:.1f}" y1="{y_of(p.low):.1f}" x2="{x:.1f}" '
                        f'y2="{y_of(p.high):.1f}" stroke="{colour}" stroke-opacity="0.45" '
                        f'stroke-width="5"/>')
            body.append(f'<circle cx="{x:.1f}" cy="{y_of(p.rate):.1f}" r="3.5" fill="{colour}">'
                        f'<title>{escape(site)} {p.month}: {p.rate:.1%} '
                        f'(95% CI {p.low:.1%}–{p.high:.1%})</title></circle>')
        body.append(f'<rect x="{LEFT + 8 + 170 * (n % 4)}" y="{6 + 14 * (n // 4)}" width="10" '
                    f'height="10" fill="{colour}"/>')
        body.append(_text(LEFT + 22 + 170 * (n % 4), 15 + 14 * (n // 4), site[:24],
                          anchor="start"))
    return _svg("Removal rate per month and site, with 95% confidence intervals", body,
                HEIGHT + 14 * (min(len(series), MAX_SERIES) // 4))


def time_to_removal(lower: Iterable[float], upper: Iterable[float]) -> Markup:
    """How long comments stayed up: counts per bin for both bounds side by side."""
    low_counts = histogram(lower, TTR_EDGES)
    high_counts = histogram(upper, TTR_EDGES)
    top, bottom = TOP, HEIGHT - BOTTOM
    maximum = _count_max(max(low_counts + high_counts, default=0))
    slot = (WIDTH - RIGHT - LEFT) / len(TTR_LABELS)
    bar = slot * 0.36
    body = _y_axis(top, bottom, maximum, as_percent=False)
    for i, label in enumerate(TTR_LABELS):
        x = LEFT + slot * i + slot * 0.14
        for offset, count, colour, which in ((0, low_counts[i], "#9ecae1", "lower bound"),
                                             (bar, high_counts[i], "#08519c", "upper bound")):
            height = (bottom - top) * count / maximum
            body.append(f'<rect x="{x + offset:.1f}" y="{bottom - height:.1f}" '
                        f'width="{bar:.1f}" height="{height:.1f}" fill="{colour}">'
                        f'<title>{which}, {escape(label)}: {count}</title></rect>')
        body.append(_text(x + bar, bottom + 16, label))
    body.append(f'<rect x="{LEFT + 8}" y="6" width="10" height="10" fill="#9ecae1"/>')
    body.append(_text(LEFT + 22, 15, "lower bound (last seen − posted)", anchor="start"))
    body.append(f'<rect x="{LEFT + 268}" y="6" width="10" height="10" fill="#08519c"/>')
    body.append(_text(LEFT + 282, 15, "upper bound (first missed − posted)", anchor="start"))
    body.append(_text(WIDTH / 2, HEIGHT - 8, "time from posting to removal"))
    return _svg("Time to removal: lower and upper bounds, removals per time bin", body)


def capture_coverage(rows: Sequence[Mapping[str, Any]]) -> Markup:
    """Per site, a bar split by capture outcome, with the largest gap between good captures."""
    rows = list(rows)[:20]
    bar_height, gap = 18, 10
    label_width, gap_width = 170, 110
    height = TOP + len(rows) * (bar_height + gap) + 12
    width = WIDTH - RIGHT - label_width - gap_width
    body: list[str] = []
    for n, (outcome, colour) in enumerate(OUTCOME_COLOURS):
        body.append(f'<rect x="{label_width + 90 * n}" y="6" width="10" height="10" '
                    f'fill="{colour}"/>')
        body.append(_text(label_width + 14 + 90 * n, 15, outcome, anchor="start"))
    body.append(_text(WIDTH - RIGHT, 15, "largest gap", anchor="end"))
    for i, row in enumerate(rows):
        y = TOP + i * (bar_height + gap)
        counts = [int(row.get(f"captures_{outcome}", 0) or 0) for outcome, _ in OUTCOME_COLOURS]
        total = sum(counts)
        body.append(_text(label_width - 8, y + 13, str(row.get("site", ""))[:28], anchor="end"))
        x = float(label_width)
        for count, (outcome, colour) in zip(counts, OUTCOME_COLOURS):
            if total and count:
                w = width * count / total
                body.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_height}" '
                            f'fill="{colour}"><title>{escape(str(row.get("site", "")))}: '
                            f'{count} {outcome}</title></rect>')
                x += w
        if not total:
            body.append(_text(label_width + 4, y + 13, "no captures", anchor="start"))
        max_gap = row.get("max_gap_hours")
        body.append(_text(WIDTH - RIGHT, y + 13, "–" if max_gap is None else f"{max_gap:g} h",
                          anchor="end"))
    return _svg("Capture outcomes per site and the largest gap between good captures", body,
                height)
