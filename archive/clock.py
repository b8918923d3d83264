"""One notion of time for the whole archive: naive UTC datetimes.

SQLite keeps no time zone, so every stored time is naive UTC and every
displayed time says UTC.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

# What dates a capture: `utcnow`, except where the demo simulates its own time.
Clock = Callable[[], datetime]

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# Schedules add durations to dates: this bound keeps that arithmetic inside
# what a datetime can hold, and no real schedule comes near it.
MAX_DURATION = timedelta(days=36500)
# The dates a person may give: wide enough for any comment, watch or export,
# and far enough inside datetime's own range that a time zone or an
# inclusive "to" day (plus one day) never overflows it.
EARLIEST = datetime(1900, 1, 1)
LATEST = datetime(9998, 12, 31, 23, 59, 59, 999999)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def to_naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def parse_duration(text: str) -> timedelta:
    """'90s', '15m', '1h', '14d', '2w' -> timedelta; ValueError otherwise."""
    match = _DURATION.match(text or "")
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30m, 1h, 14d)")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"duration must be positive: {text!r}")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"duration too long: {text!r} (at most {MAX_DURATION.days}d)")
    return timedelta(seconds=seconds)


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_date(text: str) -> datetime:
    """An ISO date or datetime from EARLIEST to LATEST, as naive UTC; ValueError
    with a readable message otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a date: {text!r} (use YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None
    # Checked before the conversion to UTC, which is what overflows at the edges.
    if not EARLIEST <= moment.replace(tzinfo=None) <= LATEST:
        raise ValueError(f"date out of range: {text!r} (use a date from {EARLIEST:%Y-%m-%d} "
                         f"to {LATEST:%Y-%m-%d})")
    return to_naive_utc(moment)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None
