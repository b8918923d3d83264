"""A real pywb on loopback for the backfill tests: the same CDX server and `id_`
replay software many web archives run.

    def test_something(pywb: Pywb) -> None:
        collection = pywb.collection("mine")       # wb-manager init
        pywb.add(collection, path_to_warc)         # wb-manager add
        cdx = pywb.cdx_url(collection)             # http://127.0.0.1:PORT/mine/cdx

One `wayback -b 127.0.0.1 -p PORT` serves the whole test session from a
temporary folder; each test makes its own collection, so tests never see
each other's snapshots. Without pywb the fixture skips with the reason,
except under CI=true, where it fails.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI") == "true"
START_TIMEOUT = 60.0
COMMAND_TIMEOUT = 120.0
BIN = Path(sys.executable).parent


class Pywb:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port

    def collection(self, prefix: str) -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self._manager("init", name)
        return name

    def add(self, collection: str, *warcs: Path) -> None:
        self._manager("add", collection, *(str(w) for w in warcs))

    def cdx_url(self, collection: str) -> str:
        return f"http://127.0.0.1:{self.port}/{collection}/cdx"

    def _manager(self, *args: str) -> None:
        done = subprocess.run([str(BIN / "wb-manager"), *args], cwd=self.root, capture_output=True,
                              text=True, timeout=COMMAND_TIMEOUT)
        if done.returncode != 0:
            raise RuntimeError(f"wb-manager {args[0]} failed: {done.stderr[-2000:]}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _unavailable() -> str | None:
    for tool in ("wb-manager", "wayback"):
        if not (BIN / tool).exists():
            return f"pywb's {tool} is not installed in {BIN} (pip install -r requirements-dev.txt)"
    return None


def _wait_for(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"pywb exited at start: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"pywb did not answer within {START_TIMEOUT:g} s")


@pytest.fixture(scope="session")
def pywb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pywb]:
    reason = _unavailable()
    if reason:
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("pywb")
    port = _free_port()
    log = root / "wayback.log"
    with log.open("wb") as out:
        server = subprocess.Popen([str(BIN / "wayback"), "-b", "127.0.0.1", "-p", str(port)], cwd=root,
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for(port, server, log)
        yield Pywb(root, port)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
