"""Only one process captures for a data folder: a second serve or capture must not double-capture."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from archive.capture.scheduler import DataDirLock, start_scheduler
from archive.context import archive_context


def _hold_lock_in_another_process(data_dir: Path) -> subprocess.Popen[str]:
    code = textwrap.dedent(f"""
        import sys, time
        from archive.capture.scheduler import DataDirLock
        lock = DataDirLock({str(data_dir)!r})
        assert lock.acquire()
        print("locked", flush=True)
        sys.stdin.read()
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, cwd=str(__import__("pathlib").Path(__file__).parent.parent))
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_second_process_cannot_capture(sqlite_app, tmp_path):
    from tests.conftest import ArchiveRunner

    data_dir = archive_context(sqlite_app).settings.data_dir
    holder = _hold_lock_in_another_process(data_dir)
    try:
        assert DataDirLock(data_dir).acquire() is False
        assert start_scheduler(archive_context(sqlite_app)) is None, "a second scheduler must not start"
        result = ArchiveRunner(sqlite_app).invoke("capture", "--all")
        assert result.exit_code == 1
        assert "another process is capturing" in result.output
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)
    lock = DataDirLock(data_dir)
    assert lock.acquire() is True, "the lock is free once its holder has gone"
    lock.release()


def test_scheduler_starts_once_and_stops(sqlite_app):
    running = start_scheduler(archive_context(sqlite_app))
    assert running is not None
    scheduler, dispatcher, lock = running
    try:
        assert sorted(job.id for job in scheduler.get_jobs()) == ["backfill", "dispatch"]
        assert start_scheduler(archive_context(sqlite_app)) is None
    finally:
        # The first dispatch runs at once, on the scheduler's own thread: wait
        # for it before the pool and the database it uses go away.
        scheduler.shutdown(wait=True)
        dispatcher.shutdown()
        lock.release()
