"""Rule 1: is a capture good enough to be diffed? Pure: no I/O.

A capture is `good` only when every page answered 2xx (or 304), every comment
page was fetched, and the adapter recognised the comment area. Everything
else is `failed` (the fetch went wrong), `gone` (the thread itself answered
404/410) or `suspect` (fetched, but the page cannot be trusted), and is never
diffed.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from archive.rules.verdicts import Known, Outcome, Snapshot
from scrapers.base import ThreadView

GONE_STATUSES = (404, 410)
# With no count on the page, this many known comments vanishing at once looks
# like a broken page rather than moderation.
MASS_DROP_MIN = 3


@dataclass(frozen=True)
class FetchOutcome:
    """The part of one fetch that decides the capture's fate."""
    url: str
    status: int | None
    error: str | None
    robots_disallowed: bool = False


def classify_fetches(fetches: Sequence[FetchOutcome], pages_capped: bool,
                     max_pages: int) -> tuple[Outcome, str] | None:
    """The outcome decided by HTTP alone, or None when every page arrived."""
    if not fetches:
        return "failed", "nothing was fetched"
    first = fetches[0]
    for index, fetch in enumerate(fetches):
        where = "the article" if index == 0 else f"comment page {fetch.url}"
        if fetch.robots_disallowed:
            return "failed", f"robots.txt disallows {where}"
        if fetch.error:
            return "failed", f"{where}: {fetch.error}"
        if fetch.status is None:
            return "failed", f"{where}: no answer"
        if index == 0 and first.status in GONE_STATUSES:
            return "gone", f"the article answered HTTP {first.status}"
        if fetch.status != 304 and not 200 <= fetch.status < 300:
            return "failed", f"{where} answered HTTP {fetch.status}"
    if pages_capped:
        return "failed", f"more than {max_pages} comment pages (ARCHIVE_MAX_COMMENT_PAGES)"
    return None


def classify_view(view: ThreadView, known: Mapping[str, Known],
                  platform_id: str | None = None) -> tuple[Outcome, str]:
    """good or suspect, for a thread whose every page arrived; `platform_id` is the
    platform's id for the thread as the last good capture read it."""
    if not view.recognised:
        return "suspect", view.reason or "the adapter did not recognise the comment area"
    found = {record.key for record in view.comments}
    visible = {key for key, k in known.items() if k.status == "visible"}
    vanished = visible - found
    if vanished and platform_id and view.platform_id and view.platform_id != platform_id:
        # The page now points at another thread of the platform (a new comment
        # container, another post): its comments say nothing about this one's.
        return "suspect", (f"the page now names thread {view.platform_id!r} of its platform, not "
                           f"{platform_id!r}, and {len(vanished)} known comments are not in it")
    if view.coverage == "complete" and vanished:
        claimed = view.claimed_count
        if claimed is not None:
            # Platforms hide replies whose parent was taken down and keep
            # counting them (WordPress does), also long after the parent went:
            # every absent reply of an absent parent may be such a reply.
            absent = known.keys() - found
            hidden_with_parent = sum(1 for key in absent if known[key].parent_key in absent)
            if len(found) + hidden_with_parent < claimed:
                return "suspect", (f"the page says {claimed} comments but shows {len(found)}, "
                                   f"and {len(vanished)} known comments vanished")
        elif not found and len(vanished) >= MASS_DROP_MIN:
            return "suspect", (f"all {len(vanished)} known comments vanished at once "
                               "and the page gives no count to confirm it")
    return "good", ""


def snapshot_of(view: ThreadView | None, outcome: Outcome, at: datetime, reason: str) -> Snapshot:
    """What the verdict engine is shown of a classified capture: its comments
    and coverage only when the capture is good (anything else proves nothing)."""
    good = outcome in ("good", "unchanged")
    return Snapshot(outcome=outcome, at=at, comments=tuple(view.comments) if (view and good) else (),
                    coverage=view.coverage if (view and good) else "none",
                    window_after=view.window_after if view else None,
                    has_tree=view.has_tree if view else True, reason=reason)
