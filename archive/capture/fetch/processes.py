"""The processes of one browser load, found in /proc: for measuring their memory and killing them all.

A load's child runs in a session of its own (`start_new_session`), with
Playwright's driver in it. Playwright starts Chromium *detached*, in yet
another session, so the child's session alone does not hold Chromium.
Every Chromium process (and its crash handler) names the load's work folder
on its command line (`--user-data-dir`, `--database`), so a load's
processes are: those of the child's session, and those of every session
one of whose processes names the work folder. Zombies are dead already and
not counted.
"""
from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Process:
    pid: int
    pgid: int
    sid: int
    rss_bytes: int


def _stat(pid: int) -> Process | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (in parentheses) may hold spaces: split after it.
    fields = text.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return Process(pid, int(fields[2]), int(fields[3]), int(fields[21]) * PAGE_SIZE)


def _names(pid: int, marker: bytes) -> bool:
    try:
        return marker in (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return False


class LoadProcesses:
    """The live processes of one load: session `sid`, and sessions naming `marker`."""

    def __init__(self, sid: int, marker: str) -> None:
        self.sid = sid
        self._marker = marker.encode()
        # A process's command line is read once: it does not change after exec.
        self._named: dict[int, bool] = {}

    def members(self) -> list[Process]:
        processes = [p for p in (_stat(int(name)) for name in os.listdir(PROC) if name.isdigit())
                     if p is not None]
        sessions = {self.sid}
        for process in processes:
            named = self._named.get(process.pid)
            if named is None:
                named = self._named[process.pid] = _names(process.pid, self._marker)
            if named:
                sessions.add(process.sid)
        # Never our own session, whatever names the marker.
        sessions.discard(os.getsid(0))
        return [p for p in processes if p.sid in sessions]

    def rss_bytes(self) -> int:
        return sum(p.rss_bytes for p in self.members())

    def kill(self, patience: float = 5.0) -> bool:
        """SIGKILL every process group of the load until none is left; False if some outlived `patience`."""
        until = time.monotonic() + patience
        killed: set[int] = set()
        while True:
            members = self.members()
            if not members:
                _reap(killed - {self.sid})
                return True
            if time.monotonic() > until:
                return False
            killed.update(p.pid for p in members)
            for group in {p.pgid for p in members}:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(group, signal.SIGKILL)
            for process in members:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(process.pid, signal.SIGKILL)
            time.sleep(0.05)


def _reap(pids: set[int], patience: float = 2.0) -> None:
    # Orphans go to PID 1 or the nearest subreaper. When that is this
    # process (a worker run as a container's first process), nobody else
    # collects them and each load would leave a dozen zombies: collect those
    # that are ours. An orphan becomes ours only once its dead parent is gone,
    # which can come a moment after the kill, so those still in /proc are
    # asked again until `patience` runs out. The child itself is the
    # caller's (subprocess) to wait for.
    until = time.monotonic() + patience
    pending = set(pids)
    while pending:
        for pid in list(pending):
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    pending.discard(pid)
            except ChildProcessError:
                if not os.path.exists(f"/proc/{pid}"):
                    pending.discard(pid)   # collected by its parent or another reaper
        if not pending or time.monotonic() > until:
            return
        time.sleep(0.02)
