"""The words for a comment's state, and removal windows that never look like moments."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from archive.web.public.presenters import comment_badges, redaction_notice, removal_line, utc, window

T = datetime(2018, 4, 1, 12, 0)


@dataclass
class State:
    status: str = "visible"
    misses: int = 0
    removed_after: datetime | None = None
    removed_before: datetime | None = None
    times_reinstated: int = 0
    tombstone_text: str | None = None
    versions: int = 1
    redacted: bool = False
    redaction_reason: str | None = None


def test_window_precision_grows_until_the_ends_differ() -> None:
    assert window(T, T + timedelta(hours=1)) == \
        "between 2018-04-01 12:00 UTC and 2018-04-01 13:00 UTC (a window of 60 minutes)"
    assert window(T, T + timedelta(seconds=7)) == \
        "between 2018-04-01 12:00:00 UTC and 2018-04-01 12:00:07 UTC (a window of 7 seconds)"
    assert window(T, T + timedelta(milliseconds=250)) == \
        "between 2018-04-01 12:00:00.000 UTC and 2018-04-01 12:00:00.250 UTC (a window of under a second)"
    assert window(T, T + timedelta(days=3, hours=2)).endswith("(a window of 3 days)")
    assert window(T, T + timedelta(hours=5)).endswith("(a window of 5 hours)")


def test_utc_shows_seconds_only_when_present() -> None:
    assert utc(T) == "2018-04-01 12:00 UTC"
    assert utc(T + timedelta(seconds=5)) == "2018-04-01 12:00:05 UTC"
    assert utc(None) == "unknown"


def test_removed_missing_tombstone_and_reinstated_lines() -> None:
    removed = State("removed", 2, T, T + timedelta(hours=1))
    line = str(removal_line(removed))
    assert line.startswith('<p class="status-line removed">Removed between 2018-04-01 12:00 UTC and '
                           "2018-04-01 13:00 UTC")
    assert "absent from 2 good captures" in line
    missing = State("missing", 1, T, T + timedelta(hours=1))
    assert "Missing, awaiting confirmation" in removal_line(missing)
    assert "absent from 1 good capture so far" in removal_line(missing)
    tomb = State("removed", 0, None, T, tombstone_text="This comment was deleted.")
    assert "already a placeholder when first captured" in removal_line(tomb)
    back = State("visible", times_reinstated=2)
    assert "came back (2 times)" in removal_line(back)
    assert str(removal_line(State())) == ""


def test_badges_are_words_and_escaped_reasons() -> None:
    badges = str(comment_badges(State("removed", times_reinstated=1, versions=3, redacted=True)))
    for word in ("Removed", "Reinstated", "Edited (3 versions)", "Redacted"):
        assert word in badges
    notice = str(redaction_notice(State(redacted=True, redaction_reason="<script>x</script>")))
    assert "&lt;script&gt;" in notice and "<script>" not in notice
