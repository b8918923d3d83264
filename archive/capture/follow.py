"""Which links a capture may follow: one rule for the capture pipeline and the preview.

Adapters read hostile pages, and a page chooses the links its adapter hands
back (a forged API root, a "next page" anywhere), so the capture side decides
which of them are fetched: only the thread's own host, and the hosts the
adapter names in `follow_hosts` (the Guardian's comments live on an API host).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from scrapers.base import Adapter

DEFAULT_PORTS = {"http": 80, "https": 443}


def may_follow(link: str, thread_url: str, adapter: Adapter) -> bool:
    """True when `link` is on the thread's host, or on one of the adapter's `follow_hosts`,
    and on the thread's port.

    Hosts compare by name (`hostname`, lower-cased), not as written (`netloc`):
    host names are case-insensitive, and refusing a real comment page would
    make its comments look removed. The port counts, because another port is
    another service on that machine; a scheme's default port counts as no
    port, so a thread watched at http:// whose pages link to https:// on the
    same host keeps its comment pages. Links with user info are refused:
    comment pages never carry credentials, and they would be sent.
    """
    try:
        target, thread = urlsplit(link), urlsplit(thread_url)
        same_port = _port(target.scheme, target.port) == _port(thread.scheme, thread.port)
    except ValueError:  # a malformed link (bad port, broken IPv6 brackets) is not followed
        return False
    if target.scheme not in DEFAULT_PORTS or target.username is not None or target.password is not None:
        return False
    allowed = {thread.hostname, *(host.lower() for host in adapter.follow_hosts)}
    return same_port and target.hostname is not None and target.hostname in allowed


def _port(scheme: str, port: int | None) -> int | None:
    return None if port == DEFAULT_PORTS.get(scheme) else port
