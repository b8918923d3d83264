"""Index updates that captures ask for, committed together.

An engine's commit costs far more than the few documents a capture changes
(a Tantivy or Whoosh commit writes and merges segments), so one commit per
capture made indexing the dearest part of a capture round. Captures hand
the ids of the comments they changed to `IndexUpdates.add` and go on; a
background thread indexes everything gathered in one update, at most
`GATHER_SECONDS` after the first id arrived.

The update reads the comments when it runs, not when they were added, so a
redaction made meanwhile is never undone. `flush` indexes what is pending at
once and waits for it: searches in the same process call it, so a process
always finds what its own captures stored. The thread keeps the process
alive only while ids are pending, so a command line exits once they are
indexed. A process killed with ids pending leaves the index behind by those
captures, as a crash between a capture's commit and its index update always
could; `reindex` repairs it.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)
GATHER_SECONDS = 2.0


class IndexUpdates:
    """One process's pending index updates for one archive, and the thread that makes them."""

    def __init__(self, index: Callable[[list[int]], None], gather_seconds: float = GATHER_SECONDS) -> None:
        self._index = index
        self._gather = gather_seconds
        self._reset()

    def _reset(self) -> None:
        # Also after a fork: the child has no thread, and must not wait on its parent's lock.
        self._pid = os.getpid()
        self._cond = threading.Condition()
        self._pending: set[int] = set()
        self._first_at = 0.0
        self._hurry = False
        self._thread: threading.Thread | None = None
        self._taken = 0      # batches taken from `_pending`
        self._finished = 0   # batches indexed (or failed)

    def add(self, comment_ids: Iterable[int]) -> None:
        """Index these comments soon (their state when the update runs)."""
        ids = set(comment_ids)
        if not ids:
            return
        if self._pid != os.getpid():
            self._reset()
        with self._cond:
            if not self._pending:
                self._first_at = time.monotonic()
            self._pending |= ids
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="index-updates")
                self._thread.start()
            self._cond.notify_all()

    def flush(self) -> None:
        """Index every id added so far, now, and return once that is done."""
        if self._pid != os.getpid():
            return
        with self._cond:
            target = self._taken + (1 if self._pending else 0)
            if self._pending:
                self._hurry = True
                self._cond.notify_all()
            while self._finished < target:
                self._cond.wait()

    def pending(self) -> int:
        with self._cond:
            return len(self._pending)

    def _run(self) -> None:
        while True:
            with self._cond:
                deadline = self._first_at + self._gather
                while not self._hurry and (wait := deadline - time.monotonic()) > 0:
                    self._cond.wait(wait)
                batch, self._pending, self._hurry = sorted(self._pending), set(), False
                self._taken += 1
            try:
                self._index(batch)
            except Exception:
                # Engine failures are handled (and flagged stale) by the indexer;
                # anything else is a bug, logged rather than lost in a thread.
                log.exception("indexing %d comment(s) failed", len(batch))
            with self._cond:
                self._finished += 1
                self._cond.notify_all()
                if not self._pending:
                    self._thread = None
                    return
