"""What every engine provides, and the result shape they share."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from archive.search.documents import Selection
from archive.search.plan import Plan

# Facet rows: (status, reinstated, edited, site host, count).
FacetRow = tuple[str, bool, bool, str, int]


@dataclass
class Found:
    total: int
    # (comment id, score, sort_at), best first; one more than the page when
    # another page follows.
    hits: list[tuple[int, float, datetime]]
    facets: dict[str, dict[str, int]]
    # False: `total` and `facets` are estimates (PostgreSQL above its exact
    # count); every other engine counts exactly.
    total_exact: bool = True
    # Set when "relevance" ranked only this many of the matches.
    ranked_among: int | None = None


class Engine(Protocol):
    name: str
    # What the engine's own library raises when its index cannot be used.
    failures: tuple[type[BaseException], ...]

    def create_missing_index(self) -> bool:
        """Create the index if there is none; True when it was created now
        (it then lacks every comment already stored)."""

    def prepare_rebuild(self) -> None:
        """Make the index ready to be rebuilt from the database."""

    def replace(self, selection: Selection) -> int:
        """Re-read the selected comments from the database and index them.

        Entries in the selection whose comment no longer exists are dropped.
        Returns the number of documents written. Raises when the index
        cannot be updated.
        """

    def delete(self, comment_ids: Sequence[int]) -> None:
        """Drop these comments from the index."""

    def refresh_statistics(self, rebuilt: bool) -> None:
        """After a rebuild (`rebuilt`) or a bulk change: let the engine's query
        planner see the new data. Nothing to do for engines without one."""

    def search(self, plan: Plan, session: Session) -> Found:
        """Run a checked search. `session` is the read session the hits will be
        shown from: database engines search in it, so that the hits and the
        comments' texts come from one snapshot."""


def facet_counts(rows: Iterable[FacetRow]) -> tuple[int, dict[str, dict[str, int]]]:
    """Total and facets from grouped counts."""
    status = {"visible": 0, "missing": 0, "removed": 0, "reinstated": 0, "edited": 0}
    sites: dict[str, int] = {}
    total = 0
    for state, reinstated, edited, host, n in rows:
        total += n
        status[state] = status.get(state, 0) + n
        status["reinstated"] += n if reinstated else 0
        status["edited"] += n if edited else 0
        sites[host] = sites.get(host, 0) + n
    ordered_sites = dict(sorted(sites.items(), key=lambda item: (-item[1], item[0])))
    return total, {"status": status, "site": ordered_sites}
