"""A real Isso comment server on loopback for tests (`isso -c FILE run`, from PyPI).

    def test_something(isso: IssoServer) -> None:
        cid = isso.post("/post-1/", "Ann", "First!")       # held: moderation is on
        isso.activate(cid)                                  # published by the moderator
        answer = isso.thread("/post-1/")                    # what the embed reads

One server per test session (moderation on, admin on, no rate limits), with
its own SQLite database in a temporary folder. A page on another origin that
embeds Isso's widget needs Isso to allow that origin (CORS): `running(folder,
origins=[...])` starts a server of its own that does, first in its `host` list
(Isso answers a request without an Origin header with the first one). Comments are seeded through
Isso's public `POST /new`, and moderated through its own moderation API
(`POST /id/<id>/<activate|edit|delete>/<key>`), with the signed keys its
admin page hands a logged-in moderator. `stopped()` takes the server down
for a while, on the same port and database.

Without the `isso` package the fixture skips with the reason, except under
CI=true, where it fails: CI never skips real-part tests.
"""
from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

IN_CI = os.environ.get("CI") == "true"
START_TIMEOUT = 20.0
HTTP_TIMEOUT = 10.0
ADMIN_PASSWORD = "loopback-moderator"
CONFIG = """\
[general]
dbpath = {db}
host ={hosts}
[moderation]
enabled = true
[server]
listen = http://127.0.0.1:{port}/
[guard]
enabled = false
[admin]
enabled = true
password = {password}
"""


class IssoServer:
    """One live Isso process and the moderator's session with it."""

    def __init__(self, folder: Path, origins: Sequence[str] = ()) -> None:
        self.folder = folder
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/"
        self.config = folder / "isso.cfg"
        hosts = "".join(f"\n    {host}" for host in [*origins, self.base_url])
        self.config.write_text(CONFIG.format(db=folder / "comments.db", port=self.port, hosts=hosts,
                                             password=ADMIN_PASSWORD))
        self.process: subprocess.Popen[bytes] | None = None
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def start(self) -> None:
        with (self.folder / "isso.log").open("ab") as log:
            self.process = subprocess.Popen([str(isso_command()), "-c", str(self.config), "run"],
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"isso exited: {(self.folder / 'isso.log').read_text()[-500:]}")
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"isso did not listen on port {self.port} within {START_TIMEOUT:.0f} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        self.stop()
        try:
            yield
        finally:
            self.start()

    def _request(self, method: str, path: str, body: Any = None, form: dict | None = None) -> tuple[int, bytes]:
        data, headers = None, {}
        if body is not None:
            data, headers = json.dumps(body).encode(), {"Content-Type": "application/json"}
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        request = urllib.request.Request(self.base_url + path.lstrip("/"), data=data, method=method,
                                         headers=headers)
        try:
            with self.opener.open(request, timeout=HTTP_TIMEOUT) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"isso {method} {path}: HTTP {exc.code}: {exc.read()[:300]!r}") from None

    def api_url(self, uri: str) -> str:
        return f"{self.base_url}?uri={urllib.parse.quote(uri, safe='/')}"

    def post(self, uri: str, author: str, text: str, parent: int | None = None) -> int:
        """A new comment through the public API, as a reader's browser posts it; its id."""
        _, raw = self._request("POST", f"/new?uri={urllib.parse.quote(uri, safe='/')}",
                               {"author": author, "text": text, "parent": parent, "title": uri})
        return int(json.loads(raw)["id"])

    def thread(self, uri: str, **params: str) -> dict:
        query = urllib.parse.urlencode({"uri": uri, **params})
        return json.loads(self._request("GET", f"/?{query}")[1])

    def count(self, uri: str) -> int:
        return int(json.loads(self._request("POST", "/count", [uri])[1])[0])

    def _key(self, comment_id: int) -> str:
        """The signed key Isso's admin page gives the moderator for one comment."""
        self._request("POST", "/login/", form={"password": ADMIN_PASSWORD})
        for mode in (1, 2, 4):
            _, page = self._request("GET", f"/admin/?mode={mode}")
            found = re.search(rf"delete_com\({comment_id}, '([^']+)'", page.decode())
            if found:
                return found.group(1)
        raise RuntimeError(f"comment {comment_id} is not on Isso's admin page")

    def activate(self, comment_id: int) -> None:
        self._request("POST", f"/id/{comment_id}/activate/{self._key(comment_id)}")

    def delete(self, comment_id: int) -> None:
        self._request("POST", f"/id/{comment_id}/delete/{self._key(comment_id)}")

    def edit(self, comment_id: int, text: str) -> None:
        self._request("POST", f"/id/{comment_id}/edit/{self._key(comment_id)}", {"text": text})


def isso_command() -> Path:
    """The `isso` script installed beside this Python (requirements-dev.txt pins it)."""
    return Path(sys.executable).with_name("isso")


@contextlib.contextmanager
def running(folder: Path, origins: Sequence[str] = ()) -> Iterator[IssoServer]:
    """A started Isso allowing `origins`; skips (fails under CI) without Isso."""
    if not isso_command().exists():
        message = f"Isso is not installed ({isso_command()} missing: pip install -r requirements-dev.txt)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    server = IssoServer(folder, origins)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def isso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IssoServer]:
    with running(tmp_path_factory.mktemp("isso")) as server:
        yield server
