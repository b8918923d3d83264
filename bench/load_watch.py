"""What the load bench watches while the archive runs: process trees, their memory,
progress in the database, and the figures drawn from the servers' records.
"""
from __future__ import annotations

import os
import signal
import statistics
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

SAMPLE_SECONDS = 0.5
STOP_SECONDS = 15.0


def stop(process: subprocess.Popen[Any]) -> None:
    """SIGTERM to the process's group, SIGKILL if it is still there after STOP_SECONDS."""
    if process.poll() is not None:
        return
    try:
        group = os.getpgid(process.pid)
        os.killpg(group, signal.SIGTERM) if group == process.pid else process.terminate()
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL) if os.getpgid(process.pid) == process.pid else process.kill()
        process.wait()
    except ProcessLookupError:
        pass


def _children() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found.setdefault(int(fields[1]), []).append(int(entry.name))
    return found


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class ProcessTree:
    """A command run in a session of its own, with the peak RSS of it and its descendants."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path, log: Path) -> None:
        self.command = command
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        self.peak_kib = 0

    def sample(self) -> None:
        children = _children()
        pids, total = [self.process.pid], 0
        while pids:
            pid = pids.pop()
            total += _rss_kib(pid)
            pids.extend(children.get(pid, []))
        self.peak_kib = max(self.peak_kib, total)

    def stop(self) -> None:
        stop(self.process)


class Sampler(threading.Thread):
    """Samples every tree's memory until stopped."""

    def __init__(self, trees: list[ProcessTree]) -> None:
        super().__init__(daemon=True)
        self.trees = trees
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for tree in self.trees:
                tree.sample()
            self.done.wait(SAMPLE_SECONDS)


def wait_for_captures(database: str, watches: int, timeout: float, trees: list[ProcessTree],
                      report: Callable[[str], None]) -> bool:
    """Until every watch has a capture (True), a process died, or `timeout` passed (False)."""
    engine = create_engine(database)
    started = last_report = time.monotonic()
    try:
        while time.monotonic() - started < timeout:
            with engine.connect() as conn:
                done = conn.execute(text("SELECT count(DISTINCT watch_id) FROM captures")).scalar_one()
            if done >= watches:
                return True
            dead = [t for t in trees if t.process.poll() is not None]
            if dead:
                report(f"  {' '.join(dead[0].command[-3:])} exited ({dead[0].process.returncode}); "
                       f"see {dead[0].log}")
                return False
            if time.monotonic() - last_report >= 10:
                elapsed = time.monotonic() - started
                report(f"  {done}/{watches} watches captured after {elapsed:.0f} s ({done / elapsed:.1f}/s)")
                last_report = time.monotonic()
            time.sleep(1.0)
        return False
    finally:
        engine.dispose()


def capture_figures(database: str, due: dict[int, datetime]) -> dict[str, Any]:
    """Throughput, waits, lost and duplicate captures, from the database."""
    engine = create_engine(database)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT watch_id, started_at, finished_at, outcome FROM captures")).all()
    engine.dispose()
    per_watch = Counter(row.watch_id for row in rows)
    waits = sorted((row.started_at - due[row.watch_id]).total_seconds() for row in rows if row.watch_id in due)
    start = min(due.values())
    last = max((row.finished_at or row.started_at for row in rows), default=start)
    span = max((last - start).total_seconds(), 1e-9)
    return {
        "captures": len(rows), "outcomes": dict(Counter(row.outcome for row in rows)),
        "captures_per_second": round(len(rows) / span, 2), "seconds": round(span, 1),
        "watches_captured_per_second": round(sum(1 for n in per_watch.values() if n) / span, 2),
        "wait_p50_s": round(statistics.median(waits), 2) if waits else None,
        "wait_p95_s": round(waits[int(0.95 * (len(waits) - 1))], 2) if waits else None,
        "wait_max_s": round(waits[-1], 2) if waits else None,
        "lost": sum(1 for watch_id in due if per_watch[watch_id] == 0),
        "duplicates": sum(n - 1 for n in per_watch.values() if n > 1),
    }


def politeness_figures(records: dict[str, list[list[Any]]], min_delay: float,
                       tolerance: float) -> dict[str, Any]:
    """The per-host request rate the servers saw, against the configured delay."""
    gaps: list[float] = []
    for arrivals in records.values():
        times = sorted(at for at, _path in arrivals)
        gaps.extend(b - a for a, b in zip(times, times[1:], strict=False))
    smallest = min(gaps, default=None)
    return {
        "requests": sum(len(a) for a in records.values()), "hosts_seen": len(records),
        "min_gap_s": round(smallest, 4) if smallest is not None else None,
        "peak_rate_per_host": round(1 / smallest, 2) if smallest else None,
        "allowed_rate_per_host": round(1 / min_delay, 2) if min_delay else None,
        "gaps_shorter_than_delay": sum(1 for g in gaps if g < min_delay - tolerance),
    }
