"""Fetchers in processes of their own, sharing one host gate: the fleet, on one machine.

`GateSpec` names a shared gate the way a worker would reach it (a Redis URL
and key prefix, or a database URL); `fetch_in_process` is what each spawned
process runs. Spawned, not forked: each process opens its own connections,
as a worker on another machine would.
"""
from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier

from archive.capture.fetch.fetcher import Fetcher
from archive.capture.fetch.politeness import DatabaseGate, HostGate, RedisGate
from archive.store.db import Database

UA = "ArchiveTestBot/1.0 (+https://example.org/bot)"
# Arrival times are read by the server's own clock; a request that left on
# time may be seen this much early or late (thread wake-ups on a busy machine).
TOLERANCE = 0.005
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class GateSpec:
    kind: str  # "redis" or "database"
    url: str
    prefix: str = ""

    def open(self) -> HostGate:
        if self.kind == "redis":
            return RedisGate(self.url, prefix=self.prefix)
        return DatabaseGate(Database(self.url), owns=True)


def fetch_in_process(spec: GateSpec, urls: list[str], min_delay: float, start: Barrier,
                     results: multiprocessing.Queue) -> None:
    with Fetcher(user_agent=UA, min_host_delay=min_delay, timeout=10.0, max_bytes=100_000,
                 retries=0, allow_private=True, gate=spec.open()) as fetcher:
        start.wait(START_TIMEOUT)
        results.put([fetcher.fetch(url).error for url in urls])


def fetch_in_processes(spec: GateSpec, urls: list[str], min_delay: float, processes: int) -> list[str | None]:
    """Every process fetches every URL, all starting together; every fetch's error (None: fine)."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(processes), context.Queue()
    started = [context.Process(target=fetch_in_process, args=(spec, urls, min_delay, start, results))
               for _ in range(processes)]
    for process in started:
        process.start()
    errors: list[str | None] = []
    for _ in started:
        errors.extend(results.get(timeout=START_TIMEOUT * 2))
    for process in started:
        process.join(START_TIMEOUT)
    return errors


def gaps(arrivals: list[float]) -> list[float]:
    ordered = sorted(arrivals)
    return [later - earlier for earlier, later in zip(ordered, ordered[1:], strict=False)]
