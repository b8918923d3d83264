"""The load bench's websites: small WordPress threads on many loopback addresses.

    python bench/load_site.py --hosts 100 --comments 8

Serves `/t/<n>/` (a WordPress-markup thread of a few comments) on each of
127.0.1.1, 127.0.1.2, ... (the whole of 127.0.0.0/8 is loopback on Linux),
one port for all, HTTP/1.1 with keep-alive, on one asyncio loop. robots.txt
answers 404 (no rules). Every request's arrival is recorded by this process's
own monotonic clock, the moment its request line is read, so the politeness
figures are the servers' own. A control port on 127.0.0.1 answers
`GET /records` (JSON: host -> [[seconds, path], ...]) and `GET /clear`.
The first line printed is `PORT CONTROL_PORT`.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.wordpress_markup import C, wp_page  # noqa: E402

MAX_HEADER_LINES = 100


def host_address(index: int) -> str:
    """The index-th bench host (0-based): 127.0.1.1 ... 127.0.1.250, 127.0.2.1, ..."""
    return f"127.0.{1 + index // 250}.{1 + index % 250}"


class Site:
    def __init__(self, comments: int) -> None:
        self.comments = comments
        self.records: dict[str, list[tuple[float, str]]] = {}
        self._pages: dict[str, bytes] = {}

    def page(self, host: str, path: str) -> bytes:
        key = f"{host}{path}"
        body = self._pages.get(key)
        if body is None:
            thread = path.strip("/").split("/")[-1]
            base = f"http://{host}{path}"
            body = wp_page([C(i, f"Reader {i}", f"Comment {i} on thread {thread} at {host}.")
                            for i in range(1, self.comments + 1)], base=base, title=f"Thread {thread}")
            self._pages[key] = body
        return body

    def answer(self, host: str, path: str) -> tuple[int, str, bytes]:
        if path.startswith("/t/"):
            return 200, "text/html; charset=utf-8", self.page(host, path)
        return 404, "text/plain", b"not found"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                arrived = time.monotonic()
                for _ in range(MAX_HEADER_LINES):
                    if (await reader.readline()) in (b"\r\n", b"\n", b""):
                        break
                parts = line.decode("latin-1").split()
                path = parts[1] if len(parts) > 1 else "/"
                self.records.setdefault(host, []).append((arrived, path))
                status, kind, body = self.answer(host, path)
                writer.write(f"HTTP/1.1 {status} {'OK' if status == 200 else 'Not Found'}\r\n"
                             f"Content-Type: {kind}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                             + body)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = await reader.readline()
        while (await reader.readline()) not in (b"\r\n", b"\n", b""):
            pass
        if b"/clear" in line:
            self.records = {}
            body = b"{}"
        else:
            body = json.dumps(self.records).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await writer.drain()
        writer.close()


def _handler(site: Site, host: str) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                                Coroutine[Any, Any, None]]:
    return lambda reader, writer: site.serve(reader, writer, host)


async def main(hosts: int, comments: int) -> None:
    site = Site(comments)
    first = await asyncio.start_server(_handler(site, host_address(0)), host_address(0), 0)
    port = first.sockets[0].getsockname()[1]
    servers = [first]
    for index in range(1, hosts):
        address = host_address(index)
        servers.append(await asyncio.start_server(_handler(site, address), address, port))
    control = await asyncio.start_server(site.control, "127.0.0.1", 0)
    print(port, control.sockets[0].getsockname()[1], flush=True)
    await asyncio.gather(*(s.serve_forever() for s in [*servers, control]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--comments", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.hosts, args.comments))
