"""robots.txt rules per origin, as RFC 9309 says to treat them.

- 2xx: the file's rules (Protego: `*` and `$` wildcards, Crawl-delay), read
  up to 500 KiB;
- 4xx other than 429 (and a redirect chain that does not end): no rules,
  everything is allowed;
- 429 and 5xx: everything is disallowed for now, and asked again sooner
  than a good answer would be;
- no answer at all (timeout, connection refused, a private address the
  guard refused, or the host's turn too far away to ask): disallowed as
  well, but marked `unreachable`, so the caller reports the network problem
  rather than a robots.txt rule; a file not asked for is not cached.

Rules are cached per origin (scheme, host, port) for `ttl` seconds.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from protego import Protego

ROBOTS_TTL = 3600.0
FAILURE_TTL = 300.0
# RFC 9309 asks crawlers to parse at least 500 KiB.
ROBOTS_MAX_BYTES = 500 * 1024


@dataclass(frozen=True)
class RobotsFile:
    """What fetching /robots.txt gave: a status and body, or an error."""

    status: int | None
    body: bytes
    error: str | None = None
    refused: bool = False
    # Not asked: the host's turn was too far away. Nothing to remember.
    busy: bool = False


@dataclass(frozen=True)
class RobotsRules:
    """The rules for one origin; `parser` is None when a blanket answer applies."""

    parser: Protego | None
    allow_all: bool
    # Why everything is disallowed, when it is.
    reason: str | None = None
    # robots.txt got no answer: the reason is about reaching the host.
    unreachable: bool = False

    def allows(self, url: str, token: str) -> bool:
        if self.parser is None:
            return self.allow_all
        return self.parser.can_fetch(url, token)

    def crawl_delay(self, token: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(token)
        return float(delay) if delay is not None else None


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))


def rules_from(answer: RobotsFile) -> tuple[RobotsRules, bool]:
    """The rules an answer means, and whether they are a failure (cached briefly)."""
    if answer.refused:
        return RobotsRules(None, False, answer.error, unreachable=True), True
    if answer.error is not None or answer.status is None:
        reason = f"{answer.error} (fetching robots.txt)"
        return RobotsRules(None, False, reason, unreachable=True), True
    if 200 <= answer.status < 300:
        text = answer.body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace")
        return RobotsRules(Protego.parse(text), True), False
    # 4xx: no file, so no rules. A 3xx here is a redirect chain that did not
    # end (too long, or to a URL that cannot be fetched): unavailable too.
    if 300 <= answer.status < 500 and answer.status != 429:
        return RobotsRules(None, True), False
    reason = f"robots.txt answered HTTP {answer.status}; disallowed for now (RFC 9309)"
    return RobotsRules(None, False, reason), True


class RobotsCache:
    """Rules per origin, fetched once per `ttl` through `get(robots_url)`.

    One lock per origin: threads asking about the same origin wait for one
    fetch instead of each fetching the file.
    """

    def __init__(self, get: Callable[[str], RobotsFile], monotonic: Callable[[], float],
                 ttl: float = ROBOTS_TTL, failure_ttl: float = FAILURE_TTL) -> None:
        self._get = get
        self._monotonic = monotonic
        self._ttl = ttl
        self._failure_ttl = failure_ttl
        self._entries: dict[str, tuple[float, RobotsRules]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._registry = threading.Lock()

    def rules_for(self, url: str) -> RobotsRules:
        origin = robots_url(url)
        with self._registry:
            lock = self._locks.setdefault(origin, threading.Lock())
        with lock:
            entry = self._entries.get(origin)
            if entry is not None and entry[0] > self._monotonic():
                return entry[1]
            answer = self._get(origin)
            rules, failed = rules_from(answer)
            if not answer.busy:
                ttl = self._failure_ttl if failed else self._ttl
                self._entries[origin] = (self._monotonic() + ttl, rules)
            return rules
