"""The backfill chain's verdict state as JSON, so a stopped backfill resumes
judging where it stopped. Pure: no I/O.

A thread's web-archive snapshots are judged as their own chain, apart from
live captures (archive/capture/ledger.py): the state the verdict engine needs
between two snapshots (`Known` per comment, the thread's state) is kept with
the backfill run, not read from the comments, which live captures own.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from archive.rules.verdicts import Known, ThreadState

_TIMES = ("posted_at", "last_seen_at", "first_missed_at")


@dataclass
class ChainState:
    known: dict[str, Known] = field(default_factory=dict)
    thread: ThreadState = field(default_factory=ThreadState)
    # The last snapshot judged: time and order key.
    last_at: datetime | None = None


def dump_chain(state: ChainState) -> dict[str, Any]:
    def known(item: Known) -> dict[str, Any]:
        row = asdict(item)
        for name in _TIMES:
            row[name] = row[name].isoformat() if row[name] else None
        return row

    return {"known": [known(k) for k in state.known.values()],
            "thread": {"state": state.thread.state, "gone_misses": state.thread.gone_misses},
            "last_at": state.last_at.isoformat() if state.last_at else None}


def load_chain(data: dict[str, Any] | None) -> ChainState:
    """The state `dump_chain` wrote; an empty chain for None. ValueError on a damaged state."""
    if not data:
        return ChainState()
    known: dict[str, Known] = {}
    for row in data.get("known", []):
        values = dict(row)
        for name in _TIMES:
            values[name] = datetime.fromisoformat(values[name]) if values.get(name) else None
        item = Known(**values)
        known[item.key] = item
    thread = data.get("thread") or {}
    last_at = data.get("last_at")
    return ChainState(known, ThreadState(thread.get("state", "active"), int(thread.get("gone_misses", 0))),
                      datetime.fromisoformat(last_at) if last_at else None)
