"""Real brokers and real `python -m archive worker` / `scheduler` processes for tests.

`broker_url(kind)` is Redis (127.0.0.1:6379, `ARCHIVE_TEST_REDIS_URL`) or
RabbitMQ (127.0.0.1:5672 as guest, `ARCHIVE_TEST_AMQP_URL`), or a skip with
the reason when it does not answer (a failure under CI=true). A `Fleet` is
an archive on the test session's PostgreSQL database with a data folder and
a broker queue of its own (on Redis also the key prefix), so parallel test
runs never meet; it starts processes with a time-out, keeps their output in
files, and kills every one it started when it closes.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection
from sqlalchemy import text

from archive.context import ArchiveContext
from archive.settings import Settings
from archive.store.models import Base
from config import TestConfig
from tests.wordpress_site import _die_with_parent

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"
BROKERS = {"redis": ("ARCHIVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
           "amqp": ("ARCHIVE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")}
START_TIMEOUT = 30.0
# Short enough that a test sees a dead worker taken over within seconds.
FLEET_ENV = {"ARCHIVE_HEARTBEAT_SECONDS": "1", "ARCHIVE_BROKER_VISIBILITY_TIMEOUT": "8",
             "ARCHIVE_DISPATCH_SECONDS": "1", "ARCHIVE_MIN_HOST_DELAY": "0", "ARCHIVE_FETCH_RETRIES": "0",
             "ARCHIVE_FETCH_TIMEOUT": "90", "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1",
             "ARCHIVE_SEARCH_BACKEND": "database", "ARCHIVE_SECRET_KEY": "test-secret",
             "ARCHIVE_DEMO_ON_EMPTY": "0"}


def broker_url(kind: str) -> str:
    env, default = BROKERS[kind]
    url = os.environ.get(env, default)
    try:
        with Connection(url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        if IN_CI:
            raise
        pytest.skip(f"{kind} broker not reachable at {url.split('@')[-1]} (set {env}): {exc}")
    return url


class Fleet:
    """One archive and the processes that capture for it."""

    def __init__(self, data_dir: Path, database_url: str, broker: str | None) -> None:
        self.queue = f"archive-test-{uuid.uuid4().hex[:10]}"
        self.env = {**os.environ, **FLEET_ENV, "ARCHIVE_DATA_DIR": str(data_dir),
                    "ARCHIVE_DATABASE_URL": database_url, "ARCHIVE_BROKER_URL": broker or "",
                    "ARCHIVE_BROKER_QUEUE": self.queue}
        overrides = {name: self.env[env] for name, env in _setting_names().items() if env in self.env}
        self.ctx = ArchiveContext.open(Settings.from_config(TestConfig(**overrides)))
        self.data_dir = data_dir
        self.processes: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, *args: str, ready: str, **env: str) -> subprocess.Popen[bytes]:
        """`python -m archive ARGS`, once its output says `ready`."""
        log = self.data_dir / f"{args[0]}-{len(self.processes)}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "archive", *args], cwd=ROOT, stdout=out,
                                    stderr=subprocess.STDOUT, env={**self.env, **env},
                                    preexec_fn=_die_with_parent)
        self.processes.append((proc, log))
        self.wait_for(lambda: ready in self.output(proc) or proc.poll() is not None, START_TIMEOUT,
                      f"{' '.join(args)} to start")
        assert proc.poll() is None, self.output(proc)
        return proc

    def output(self, proc: subprocess.Popen[bytes] | None = None) -> str:
        return "".join(log.read_text(errors="replace") for p, log in self.processes if proc in (None, p))

    def alive(self, command: str) -> list[subprocess.Popen[bytes]]:
        return [p for p, _ in self.processes if p.poll() is None and command in p.args]  # type: ignore[operator]

    @staticmethod
    def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = condition()
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"waited {timeout:g} s for {what}")

    def empty(self) -> None:
        """Every table emptied (the processes keep running; workers re-report within a heartbeat)."""
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with self.ctx.db.writer.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))

    def close(self) -> None:
        for proc, _log in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=START_TIMEOUT)
        broker = self.env["ARCHIVE_BROKER_URL"]
        if broker:
            _forget_queue(broker, self.queue)
        self.ctx.close()


def _setting_names() -> dict[str, str]:
    from config import SETTINGS

    return {name: env for name, (env, *_rest) in SETTINGS.items()}


def _forget_queue(url: str, queue: str) -> None:
    """Leave the broker as it was: the queue, and on Redis every key under its prefix."""
    if url.startswith("redis"):
        import redis

        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"{queue}:*"))
        if keys:
            client.delete(*keys)
        client.close()
        return
    with Connection(url, connect_timeout=3) as conn:
        conn.default_channel.queue_delete(queue)
