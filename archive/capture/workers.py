"""Workers heard from: each process that runs capture jobs reports itself in `workers`.

A worker's name is `EXECUTOR@HOSTNAME:PID` ('embedded' for a scheduler's own
pool or the command line, 'celery' for `python -m archive worker`), unique
while the process lives. It is written when the worker starts, every
`ARCHIVE_HEARTBEAT_SECONDS` by a `Heartbeat` thread, and whenever it takes a
job; a worker silent for four heartbeats is lost (archive/capture/queue.py),
and its running jobs are queued again.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from archive.clock import utcnow
from archive.context import ArchiveContext
from archive.store.db import dialect_insert
from archive.store.models import Worker as WorkerRow

log = logging.getLogger(__name__)
EXECUTORS = ("embedded", "celery")


def worker_name(executor: str) -> str:
    """This process's worker name for `executor`."""
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}")
    return f"{executor}@{socket.gethostname()}:{os.getpid()}"


def heard_from(session: Session, name: str, **values: object) -> None:
    """Record that worker `name` (of this process) is alive now, with `values` (current_job_id)."""
    now = utcnow()
    executor = name.split("@", 1)[0]
    row = {"name": name, "hostname": socket.gethostname()[:255], "pid": os.getpid(),
           "executor": executor if executor in EXECUTORS else "embedded",
           "started_at": now, "last_heard_at": now, **values}
    insert = dialect_insert(session, WorkerRow).values(**row)
    session.execute(insert.on_conflict_do_update(index_elements=["name"],
                                                 set_={"last_heard_at": now, **values}))


def job_ended(session: Session, name: str, job_id: int) -> None:
    session.execute(update(WorkerRow).where(WorkerRow.name == name, WorkerRow.current_job_id == job_id)
                    .values(current_job_id=None).execution_options(synchronize_session=False))


class Heartbeat:
    """A daemon thread reporting worker `name` every `ARCHIVE_HEARTBEAT_SECONDS` until stopped;
    stopping removes the row, so only workers that died unannounced are listed as lost."""

    def __init__(self, ctx: ArchiveContext, name: str) -> None:
        self.ctx = ctx
        self.name = name
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat {name}", daemon=True)

    def start(self) -> Heartbeat:
        self.beat()
        self._thread.start()
        return self

    def beat(self) -> None:
        with self.ctx.db.write() as session:
            heard_from(session, self.name)

    def _run(self) -> None:
        while not self._stop.wait(self.ctx.settings.heartbeat_seconds):
            try:
                self.beat()
            except Exception:  # the database away for a moment: keep beating
                log.exception("heartbeat of %s could not be recorded", self.name)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        try:
            with self.ctx.db.write() as session:
                session.execute(delete(WorkerRow).where(WorkerRow.name == self.name))
        except Exception:
            log.exception("could not remove worker %s", self.name)


@contextmanager
def reporting(ctx: ArchiveContext) -> Iterator[str]:
    """This process heard from as an embedded worker while the block runs (the
    command line's captures): a long capture of its is never taken for lost."""
    heartbeat = Heartbeat(ctx, worker_name("embedded")).start()
    try:
        yield heartbeat.name
    finally:
        heartbeat.stop()
