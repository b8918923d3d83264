"""Which URLs the archive may fetch: syntax, scheme, and the private-address guard.

The archive fetches addresses that operators and web pages give it, so a
URL (or a redirect) must not be able to reach the machine's own services,
the local network or a cloud metadata endpoint. `check_url` refuses such a
URL before anything is sent; `archive.transport` checks the address each
connection actually uses, so a host whose DNS answer changes between the
check and the connection (DNS rebinding) is still refused.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit, urlunsplit

from requests.utils import requote_uri

from archive.errors import UrlRejected

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOW_HINT = "set ARCHIVE_ALLOW_PRIVATE_ADDRESSES=1 to allow"
DEFAULT_PORTS = {"http": 80, "https": 443}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HOST_LABELS = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$")
# NAT64 (RFC 6052) embeds an IPv4 address in its last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def embedded_ipv4(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), else itself."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def non_public_kind(ip: IPAddress) -> str | None:
    """Why an address is not on the public internet ('loopback', 'private', ...), or None."""
    ip = embedded_ipv4(ip)
    for kind, flag in (("unspecified", ip.is_unspecified), ("loopback", ip.is_loopback),
                       ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
                       ("private", ip.is_private), ("reserved", ip.is_reserved)):
        if flag:
            return kind
    # Shared address space (100.64/10) and the like: not private, not global either.
    return None if ip.is_global else "non-public"


def refuse_if_private(address: str, host: str) -> None:
    """Raise UrlRejected when `address` (a resolved IP of `host`) is not public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    kind = non_public_kind(ip)
    if kind is not None:
        of_host = "" if _same_address(host, ip) else f" of {host}"
        raise UrlRejected(f"refused {kind} address {address}{of_host} ({ALLOW_HINT})")


def _same_address(host: str, ip: IPAddress) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")) == ip
    except ValueError:
        return False


def resolve(host: str, port: int) -> list[tuple[int, str]]:
    """(family, address) pairs for a host, in the resolver's order; UrlRejected if none."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UrlRejected(f"cannot resolve host {host} ({exc.args[-1]})") from None
    pairs: list[tuple[int, str]] = []
    for family, _type, _proto, _name, sockaddr in infos:
        if (family, sockaddr[0]) not in pairs:
            pairs.append((family, str(sockaddr[0])))
    if not pairs:
        raise UrlRejected(f"cannot resolve host {host}")
    return pairs


def check_public_host(host: str, port: int) -> list[tuple[int, str]]:
    """Resolve a host and refuse it unless every address it has is public."""
    pairs = resolve(host, port)
    for _family, address in pairs:
        refuse_if_private(address, host)
    return pairs


def normalise_url(url: str) -> str:
    """The URL in one spelling (scheme and host lower case, no fragment), or UrlRejected.

    Only syntax is checked here; `check_url` adds the address check.
    """
    text = (url or "").strip()
    if not text:
        raise UrlRejected("empty URL")
    if _CONTROL.search(text):
        raise UrlRejected("malformed URL: it contains control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise UrlRejected(f"malformed URL {text[:200]!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        got = f"{scheme}:" if scheme else "no scheme"
        raise UrlRejected(f"only http and https URLs can be fetched (got {got})")
    if "@" in parts.netloc:
        raise UrlRejected("URLs with credentials (user:password@) are refused")
    host = _normalise_host(parts.hostname or "", text)
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = requote_uri(parts.path or "/")
    query = requote_uri(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def _normalise_host(host: str, text: str) -> str:
    if not host:
        raise UrlRejected(f"URL has no host: {text[:200]!r}")
    try:
        return f"[{ipaddress.IPv6Address(host).compressed}]"
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise UrlRejected(f"malformed host name {host[:100]!r}") from None
    if not _HOST_LABELS.match(ascii_host):
        raise UrlRejected(f"malformed host name {host[:100]!r}")
    return ascii_host


def check_url(url: str, allow_private: bool) -> str:
    """The normalised URL, or UrlRejected with a one-line reason.

    Refuses anything but http(s), URLs without a host or with credentials,
    malformed URLs, and (unless `allow_private`) hosts with any address that
    is not public. Resolving a name happens here, before anything is sent;
    with `allow_private` nothing needs checking, so names are not resolved.
    """
    normalised = normalise_url(url)
    if not allow_private:
        parts = urlsplit(normalised)
        host = parts.hostname or ""
        check_public_host(host, parts.port or DEFAULT_PORTS[parts.scheme])
    return normalised
