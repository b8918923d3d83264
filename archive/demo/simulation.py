"""What makes the demo's captures simulated: their time and their place.

`SimulatedClock` is the time the demo's captures are dated with: a moment in
the days after the article, set before each capture, that then runs on at
the wall clock's pace (so a capture's start, fetches and end keep their real
order and duration). It is handed to each capture explicitly; nothing else
in the archive ever sees it.

`DemoFetcher` fetches an article's real address from the demo's local site,
so the thread, its site and everything the archive shows carry the real
names, while no request leaves the machine. It fetches nothing but the
addresses it was given routes for: any other URL is refused before a
request is made, so allowing loopback for it reaches the demo's own
servers only. Real captures never use it.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from archive.capture.fetch.fetcher import Fetcher, FetchResult
from archive.clock import utcnow

# The demo's sites answer at once; a slow machine still gets time to spare.
FETCH_TIMEOUT = 10.0


class SimulatedClock:
    """Callable like `archive.clock.utcnow`. After `set(moment)` its first reading is
    `moment` exactly (a capture's start, so windows between captures are whole
    hours), and later readings run on from there at the wall clock's pace."""

    def __init__(self, moment: datetime) -> None:
        self._offset = timedelta(0)
        self._next: datetime | None = moment

    def set(self, moment: datetime) -> None:
        self._next = moment

    def __call__(self) -> datetime:
        now = utcnow()
        if self._next is not None:
            self._offset, self._next = self._next - now, None
        return now + self._offset


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class DemoFetcher(Fetcher):
    """A Fetcher for the demo: `routes` maps each real origin ('https://host')
    to the local origin that serves it ('http://127.0.0.1:port')."""

    def __init__(self, routes: dict[str, str], clock: SimulatedClock, *, user_agent: str,
                 max_bytes: int) -> None:
        # Loopback is allowed because every request goes to a route's local origin;
        # the one local host per route needs no politeness delay.
        super().__init__(user_agent=user_agent, min_host_delay=0.0, timeout=FETCH_TIMEOUT,
                         max_bytes=max_bytes, retries=0, allow_private=True, clock=clock)
        self._to_local = {_origin(real): local for real, local in routes.items()}
        self._to_real = {local: real for real, local in self._to_local.items()}

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
              accept: str | None = None, method: str = "GET", body: bytes | None = None,
              content_type: str | None = None, send_by: float | None = None) -> FetchResult:
        local = self._swap(url, self._to_local)
        if local is None:
            return self._failure(url, url, "the offline demo fetches only its own simulated sites",
                                 [], self._headers(accept, None, None), method=method,
                                 request_body=body if method == "POST" else None)
        result = super().fetch(local, etag=etag, last_modified=last_modified, accept=accept,
                               method=method, body=body, content_type=content_type, send_by=send_by)
        result.url = url
        result.final_url = self._swap(result.final_url, self._to_real) or result.final_url
        for hop in result.redirects:
            hop["url"] = self._swap(hop["url"], self._to_real) or hop["url"]
        return result

    @staticmethod
    def _swap(url: str, table: dict[str, str]) -> str | None:
        target = table.get(_origin(url))
        if target is None:
            return None
        return target + url[len(_origin(url)):]
