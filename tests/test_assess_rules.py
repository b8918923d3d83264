"""DESIGN rule 1 on whole threads (archive/rules/assess.py `classify_view`): when a
capture that read every page may still prove nothing about what went missing."""
from __future__ import annotations

from datetime import datetime

from archive.rules.assess import classify_view
from archive.rules.verdicts import Known
from scrapers.base import CommentRecord, ThreadView


def _known(*keys: str) -> dict[str, Known]:
    return {key: Known(key=key, status="visible", text_sha256="x" * 64, parent_key=None, posted_at=None,
                       last_seen_at=datetime(2026, 12, 1)) for key in keys}


def _view(platform_id: str | None, *keys: str, claimed: int | None = None) -> ThreadView:
    comments = [CommentRecord(key=key, author="A", text=f"comment {key}", position=i) for i, key in enumerate(keys)]
    return ThreadView(recognised=True, reason="", comments=comments, coverage="complete",
                      claimed_count=len(keys) if claimed is None else claimed, platform_id=platform_id)


def test_another_thread_of_the_platform_proves_nothing_about_this_ones_comments() -> None:
    # A new comment container with comments of its own: its count matches what it shows,
    # so only the changed id tells that the known comments were not looked for.
    outcome, reason = classify_view(_view("container-new", "x1", "x2"), _known("1", "2"), "container-old")
    assert outcome == "suspect"
    assert "'container-new'" in reason and "'container-old'" in reason and "2 known comments" in reason


def test_a_changed_id_that_keeps_every_known_comment_is_good() -> None:
    # A site that renumbers its post but keeps its comments loses nothing: the capture
    # stands, and the pipeline stores the new id for the next one.
    assert classify_view(_view("post-9", "1", "2", "3"), _known("1", "2"), "post-8") == ("good", "")


def test_the_same_thread_losing_a_comment_is_good() -> None:
    assert classify_view(_view("post-8", "1"), _known("1", "2"), "post-8") == ("good", "")


def test_a_view_or_thread_without_an_id_is_judged_as_before() -> None:
    assert classify_view(_view(None, "1"), _known("1", "2"), "post-8") == ("good", "")
    assert classify_view(_view("post-8", "1"), _known("1", "2"), None) == ("good", "")
