"""How a comment's state is said in words, as small HTML fragments.

Python rather than Jinja macros: a thread page says this for hundreds of
comments, and macro calls cost more than the rest of the page. Every value
is escaped here; the results are Markup for the templates.
"""
from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any, Protocol
from urllib.parse import urlsplit

from markupsafe import Markup


class CommentState(Protocol):
    status: str
    misses: int
    removed_after: datetime | None
    removed_before: datetime | None
    times_reinstated: int
    tombstone_text: str | None
    versions: int
    redacted: bool
    redaction_reason: str | None


def utc(moment: datetime | None) -> str:
    """A stored time for readers; seconds only when the moment has them (capture
    times do, a page's posting times do not), so two captures a few seconds
    apart never look like one moment."""
    if moment is None:
        return "unknown"
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC" if moment.second else "%Y-%m-%d %H:%M UTC")


def _span(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    for size, unit in ((86400 * 2, 86400), (7200, 3600), (120, 60)):
        if seconds >= size:
            return _plural(int(seconds // unit), {86400: "day", 3600: "hour", 60: "minute"}[unit])
    return _plural(int(seconds), "second")


def window(start: datetime | None, end: datetime | None) -> str:
    """'between A and B (a window of N hours)': as precise as needed to tell A from B."""
    if start is None or end is None:
        return f"between {utc(start)} and {utc(end)}"
    if (start.year, start.month, start.day, start.hour, start.minute) != \
            (end.year, end.month, end.day, end.hour, end.minute):
        first, last = utc(start), utc(end)
    elif start.second != end.second:
        first, last = (f"{m:%Y-%m-%d %H:%M:%S} UTC" for m in (start, end))
    else:
        first, last = (f"{m:%Y-%m-%d %H:%M:%S}.{m.microsecond // 1000:03d} UTC" for m in (start, end))
    return f"between {first} and {last} (a window of {_span((end - start).total_seconds())})"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# Said wherever a window between two archived snapshots is shown.
GAP = ("Web archives show only the moments they captured: when in between it went, "
       "and why, they cannot say.")


def _from_snapshots(c: CommentState) -> bool:
    # Views built before sources existed have none: they are live.
    return getattr(c, "source", "live") == "backfill"


def comment_badges(c: CommentState) -> Markup:
    """Status words: the current status first, then what else happened to it."""
    if c.status == "removed":
        badges = ['<span class="badge removed">Removed (tombstone)</span>' if c.tombstone_text
                  else '<span class="badge removed">Removed</span>']
    elif c.status == "missing":
        badges = ['<span class="badge missing">Missing</span>']
    else:
        badges = ['<span class="badge visible">Visible</span>']
    if c.times_reinstated:
        badges.append('<span class="badge reinstated">Reinstated</span>')
    if c.versions > 1:
        badges.append(f'<span class="badge edited">Edited ({c.versions} versions)</span>')
    if c.redacted:
        badges.append('<span class="badge redacted">Redacted</span>')
    if _from_snapshots(c):
        badges.append('<span class="badge source-backfill">From web archives</span>')
    return Markup('<span class="badges">' + " ".join(badges) + "</span>")


def removal_line(c: CommentState) -> Markup:
    """The sentence saying when it disappeared: always a window, never a moment."""
    lines = []
    if c.status == "removed" and c.tombstone_text:
        if c.removed_after:
            when = f"removed {window(c.removed_after, c.removed_before)}"
        else:
            when = f"it was already a placeholder when first captured ({utc(c.removed_before)})"
        lines.append(f'<p class="status-line removed">Deleted on the site: a placeholder took its '
                     f"place, {when}.</p>")
    elif c.status == "removed" and _from_snapshots(c):
        lines.append(f'<p class="status-line removed">Removed: after the archived snapshot of {utc(c.removed_after)}, '
                     f"before the one of {utc(c.removed_before)}, then absent from "
                     f"{_plural(c.misses, 'good snapshot')}. {GAP}</p>")
    elif c.status == "removed":
        lines.append(f'<p class="status-line removed">Removed {window(c.removed_after, c.removed_before)}: '
                     f"last seen, then absent from {_plural(c.misses, 'good capture')}.</p>")
    elif c.status == "missing" and _from_snapshots(c):
        lines.append(f'<p class="status-line missing">Missing from the archived snapshot of '
                     f"{utc(c.removed_before)} (last seen in the one of {utc(c.removed_after)}); no later "
                     f"snapshot confirms it yet. {GAP}</p>")
    elif c.status == "missing":
        lines.append(f'<p class="status-line missing">Missing, awaiting confirmation: gone '
                     f"{window(c.removed_after, c.removed_before)}; absent from "
                     f"{_plural(c.misses, 'good capture')} so far.</p>")
    if c.times_reinstated:
        lines.append(f'<p class="status-line reinstated">Reinstated: it disappeared and came back '
                     f"({_plural(c.times_reinstated, 'time')}).</p>")
    return Markup("\n".join(lines))


def snapshot_source(provenance: dict[str, Any] | None) -> Markup:
    """Where a backfilled capture's bytes came from: the web archive, with a link
    to its snapshot when that is a web address (a WARC file is named, not linked)."""
    if not provenance:
        return Markup('<span class="badge source-backfill">Archived snapshot</span>')
    archive = escape(str(provenance.get("archive") or "a web archive"))
    link = safe_url(str(provenance.get("snapshot_url") or ""))
    where = (f'<a href="{escape(link)}" rel="nofollow noopener noreferrer"><bdi>{archive}</bdi></a>' if link
             else f"<bdi>{archive}</bdi>")
    return Markup(f'<span class="badge source-backfill">Archived snapshot</span> from {where}')


def redaction_notice(c: CommentState) -> Markup:
    reason = escape(c.redaction_reason or "no reason given")
    return Markup(f'<p class="redacted">Redacted by the archive\'s operators: <bdi>{reason}</bdi></p>')


def safe_url(url: str | None) -> str | None:
    """A commenter's website link only when it is plain absolute http(s)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url.strip()
    return None
