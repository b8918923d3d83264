"""The host gate: whose turn it is to send the next request to a host, fleet-wide.

Every request the archive makes (robots.txt, pages, API checks, previews)
first reserves its host's next slot here. A reservation is one atomic step
on a store every process of the archive shares, so two workers on two
machines never send requests to one host closer together than its delay:

- Redis, when `ARCHIVE_BROKER_URL` is a redis:// URL: a Lua script per
  reservation, timed by the Redis server's own clock (TIME), so the clocks
  of the workers' machines do not matter;
- the database otherwise (table host_slots): on PostgreSQL one
  `INSERT .. ON CONFLICT DO UPDATE .. RETURNING` timed by the server's
  clock; on SQLite (one machine, one clock) inside its single-writer
  transaction;
- in-process, only for a Fetcher built without settings (unit tests).

A slot is `max(now, next free time)`; reserving it moves the next free time
to `slot + delay` (plus `LATENESS_MARGIN` on a shared gate: a process learns
its slot a round trip after it was given, and a busy machine wakes a
sleeping thread late, so a request may leave a little after its slot; the
margin keeps the next process's request from arriving closer than the delay
behind such a late one; a fetcher that finds itself later than the margin,
after a slow commit or on a machine too loaded to wake its thread in time,
does not send but asks for a new turn: see `Turn.due`). `hold` pushes the next free time to at least `now + s`:
the fetcher calls it when an answer ends (so a slow answer still gets its
delay after it, and a Crawl-delay read from robots.txt binds the requests
reserved after it) and for a server's Retry-After. A slot further away than
the caller's `max_wait` is not reserved at all: the caller gives up rather
than block a worker, and nothing of the host's schedule is used up.

Hosts are named as the dispatcher groups them: the URL's host name, lower
case, without port (`host_of`).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from sqlalchemy import text
from sqlalchemy.orm import Session

from archive.clock import utcnow
from archive.store.db import Database
from archive.store.models import HostSlot

if TYPE_CHECKING:
    import redis

    from archive.settings import Settings

REDIS_SCHEMES = ("redis://", "rediss://")
REDIS_PREFIX = "archive:host-slot:"
LATENESS_MARGIN = 0.1
# An idle host's key outlives its last slot by this long, then Redis drops it.
REDIS_IDLE_MS = 3_600_000


def host_of(url: str) -> str:
    """The host a URL's requests count against: its host name, lower case, no port."""
    return (urlsplit(url).hostname or "").lower()


@dataclass(frozen=True)
class Turn:
    """A reservation's answer: wait `wait` seconds, then send; or, when not
    `granted`, the host's next free slot is `wait` seconds away, beyond the cap."""

    wait: float
    granted: bool = True
    # On a shared gate: when the turn starts, on this process's time.monotonic().
    # A request leaving more than LATENESS_MARGIN after it must not go (the
    # next process's turn was reserved behind it); it asks for a new turn.
    due: float | None = None


class HostGate(Protocol):
    def reserve(self, host: str, delay: float, max_wait: float) -> Turn:
        """Reserve `host`'s next slot, then keep it `delay` seconds clear, unless
        the slot is more than `max_wait` seconds away."""

    def hold(self, host: str, seconds: float) -> None:
        """No slot of `host` starts before `seconds` from now."""

    def close(self) -> None: ...


class LocalGate:
    """One process's gate, on an injectable clock: for Fetchers built without settings."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, host: str, delay: float, max_wait: float) -> Turn:
        with self._lock:
            now = self._monotonic()
            slot = max(now, self._next.get(host, now))
            if slot - now > max_wait:
                return Turn(slot - now, granted=False)
            self._next[host] = slot + delay
            return Turn(slot - now)

    def hold(self, host: str, seconds: float) -> None:
        with self._lock:
            until = self._monotonic() + seconds
            self._next[host] = max(self._next.get(host, until), until)

    def close(self) -> None:
        pass


# Times are whole microseconds since the epoch, which a Lua number (a
# double) holds exactly; string.format keeps every digit when storing them.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
if slot - now > tonumber(ARGV[2]) then return {0, slot - now} end
local free = slot + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.0f', free), 'PX', math.floor((free - now) / 1000) + tonumber(ARGV[3]))
return {1, slot - now}
"""
_HOLD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local free = math.max(now + tonumber(ARGV[1]), tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], string.format('%.0f', free), 'PX', math.floor((free - now) / 1000) + tonumber(ARGV[2]))
return 1
"""


def _micros(seconds: float) -> int:
    return max(0, round(seconds * 1_000_000))


class RedisGate:
    """The gate on Redis: one key per host holding its next free time (server clock)."""

    def __init__(self, url: str, prefix: str = REDIS_PREFIX) -> None:
        import redis as redis_module  # only archives with a Redis broker need the client

        self.prefix = prefix
        self._client: redis.Redis = redis_module.Redis.from_url(url, socket_timeout=10,
                                                                socket_connect_timeout=10)
        self._reserve = self._client.register_script(_RESERVE)
        self._hold = self._client.register_script(_HOLD)

    def reserve(self, host: str, delay: float, max_wait: float) -> Turn:
        asked = time.monotonic()
        granted, wait = self._reserve(keys=[self.prefix + host],
                                      args=[_micros(delay + LATENESS_MARGIN), _micros(max_wait),
                                            REDIS_IDLE_MS])
        # Redis timed the slot when it ran the script: at the earliest when it was asked.
        return Turn(int(wait) / 1_000_000, granted=bool(granted), due=asked + int(wait) / 1_000_000)

    def hold(self, host: str, seconds: float) -> None:
        self._hold(keys=[self.prefix + host], args=[_micros(seconds), REDIS_IDLE_MS])

    def close(self) -> None:
        self._client.close()


# PostgreSQL: one statement, timed by the server; statement_timestamp() is
# one value throughout the statement. The WHERE leaves a slot beyond the cap
# unreserved (no row comes back).
_PG_RESERVE = text("""
INSERT INTO host_slots AS s (host, next_at)
VALUES (:host, timezone('utc', statement_timestamp()) + make_interval(secs => :delay))
ON CONFLICT (host) DO UPDATE
SET next_at = GREATEST(s.next_at, timezone('utc', statement_timestamp())) + make_interval(secs => :delay)
WHERE s.next_at <= timezone('utc', statement_timestamp()) + make_interval(secs => :max_wait)
RETURNING EXTRACT(EPOCH FROM s.next_at - make_interval(secs => :delay)
                  - timezone('utc', statement_timestamp()))
""")
_PG_HOLD = text("""
INSERT INTO host_slots AS s (host, next_at)
VALUES (:host, timezone('utc', statement_timestamp()) + make_interval(secs => :seconds))
ON CONFLICT (host) DO UPDATE
SET next_at = GREATEST(s.next_at, EXCLUDED.next_at)
""")
_PG_WAIT = text("SELECT EXTRACT(EPOCH FROM next_at - timezone('utc', statement_timestamp())) "
                "FROM host_slots WHERE host = :host")


class DatabaseGate:
    """The gate on the archive's database (table host_slots)."""

    def __init__(self, db: Database, owns: bool = False) -> None:
        self._db = db
        self._owns = owns

    def reserve(self, host: str, delay: float, max_wait: float) -> Turn:
        if delay > 0:
            # The margin keeps `delay` at the server for a request sent a little late;
            # no delay asked for (tests, benchmarks on loopback) has nothing to keep.
            delay += LATENESS_MARGIN
        if self._db.is_sqlite:
            return self._sqlite_reserve(host, delay, max_wait)
        asked = time.monotonic()
        with self._db.write() as session:
            wait = session.scalar(_PG_RESERVE, {"host": host, "delay": delay, "max_wait": max_wait})
        if wait is not None:
            # The server timed the slot at its statement's start: at the earliest when it was asked.
            return Turn(max(0.0, float(wait)), due=asked + float(wait))
        with self._db.read_session() as session:
            ahead = session.scalar(_PG_WAIT, {"host": host})
        return Turn(float(ahead or max_wait), granted=False)

    def _sqlite_reserve(self, host: str, delay: float, max_wait: float) -> Turn:
        # BEGIN IMMEDIATE (archive.store.db): no other writer runs until this
        # commits, and every process on the one machine shares its clock.
        with self._db.write() as session:
            row = session.get(HostSlot, host)
            now, read_at = utcnow(), time.monotonic()
            slot = max(now, row.next_at) if row is not None else now
            wait = (slot - now).total_seconds()
            if wait > max_wait:
                return Turn(wait, granted=False)
            _store(session, row, host, slot + timedelta(seconds=delay))
        return Turn(wait, due=read_at + wait)

    def hold(self, host: str, seconds: float) -> None:
        with self._db.write() as session:
            if not self._db.is_sqlite:
                session.execute(_PG_HOLD, {"host": host, "seconds": seconds})
                return
            row = session.get(HostSlot, host)
            until = utcnow() + timedelta(seconds=seconds)
            if row is None or row.next_at < until:
                _store(session, row, host, until)

    def close(self) -> None:
        if self._owns:
            self._db.dispose()


def _store(session: Session, row: HostSlot | None, host: str, next_at: datetime) -> None:
    if row is None:
        session.add(HostSlot(host=host, next_at=next_at))
    else:
        row.next_at = next_at


def open_gate(settings: Settings) -> HostGate:
    """The gate every process of this archive shares: Redis with a Redis broker, else the database."""
    broker = settings.broker_url or ""
    if broker.startswith(REDIS_SCHEMES):
        return RedisGate(broker)
    return DatabaseGate(Database(settings.database_url), owns=True)
