"""The fetcher against a real HTTP server on loopback (tests/local_server.py).

Politeness waits go through an injected clock, so the tests check the waits
the fetcher asked for, never wall-clock time.
"""
from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from datetime import timedelta
from email.utils import format_datetime

import pytest

import config
from archive.capture.fetch import addresses, transport
from archive.capture.fetch.addresses import check_url, non_public_kind
from archive.capture.fetch.fetcher import Fetcher, FetchResult
from archive.clock import utcnow
from archive.errors import UrlRejected
from archive.settings import Settings
from tests.local_server import LocalServer

UA = "ArchiveTestBot/1.0 (+https://example.org/bot)"


class FakeClock:
    """monotonic() and sleep() for the fetcher: time moves only when it sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_fetcher(clock: FakeClock):
    made: list[Fetcher] = []

    def make(**overrides: object) -> Fetcher:
        settings: dict = dict(user_agent=UA, min_host_delay=0.0, timeout=5.0, max_bytes=100_000,
                              retries=0, allow_private=True, sleep=clock.sleep,
                              monotonic=clock.monotonic)
        settings.update(overrides)
        fetcher = Fetcher(**settings)
        made.append(fetcher)
        return fetcher

    yield make
    for fetcher in made:
        fetcher.close()


def test_identifies_itself_on_every_request(local_server: LocalServer, make_fetcher) -> None:
    local_server.route("/a", "hello")
    result = make_fetcher().fetch(local_server.url("/a"))
    assert result.ok and result.body == b"hello"
    assert result.request_headers["User-Agent"] == UA
    assert local_server.last("/a").header("User-Agent") == UA
    assert local_server.last("/robots.txt").header("User-Agent") == UA


def test_robots_wildcards_block_and_say_so(local_server: LocalServer, make_fetcher) -> None:
    local_server.robots("User-agent: *\nDisallow: /private*\nDisallow: /*.pdf$\n"
                        "Allow: /private-but-open\n")
    for path in ("/public", "/private-but-open", "/report.pdf?page=2", "/private-but-open.html"):
        local_server.route(path.split("?")[0], "open")
    fetcher = make_fetcher()
    for path in ("/private", "/private/thread?c=1", "/files/report.pdf"):
        result = fetcher.fetch(local_server.url(path))
        assert result.robots_disallowed, path
        assert result.error == "robots.txt disallows this URL for ArchiveTestBot"
        assert result.status is None and result.body == b""
    for path in ("/public", "/private-but-open", "/report.pdf?page=2"):
        assert fetcher.fetch(local_server.url(path)).ok, path
    requested = {r.path.split("?")[0] for r in local_server.requests}
    assert requested == {"/robots.txt", "/public", "/private-but-open", "/report.pdf"}
    assert local_server.count("/robots.txt") == 1  # cached per host


def test_robots_group_for_our_token(local_server: LocalServer, make_fetcher) -> None:
    local_server.robots("User-agent: otherbot\nDisallow:\n\n"
                        "User-agent: archivetestbot\nDisallow: /\n")
    local_server.route("/a", "x")
    result = make_fetcher().fetch(local_server.url("/a"))
    assert result.robots_disallowed and local_server.count("/a") == 0


def test_robots_404_allows_everything(local_server: LocalServer, make_fetcher) -> None:
    local_server.route("/a", "x")
    result = make_fetcher().fetch(local_server.url("/a"))
    assert result.ok and local_server.count("/robots.txt") == 1


def test_robots_5xx_disallows_for_now(local_server: LocalServer, make_fetcher,
                                      clock: FakeClock) -> None:
    local_server.route("/robots.txt", "down", status=503)
    local_server.route("/a", "x")
    fetcher = make_fetcher()
    result = fetcher.fetch(local_server.url("/a"))
    assert result.robots_disallowed
    assert result.error == "robots.txt answered HTTP 503; disallowed for now (RFC 9309)"
    assert local_server.count("/a") == 0
    # A failure is asked again sooner than good rules would be.
    local_server.robots("User-agent: *\nDisallow:\n")
    clock.now += 301
    assert fetcher.fetch(local_server.url("/a")).ok


def test_robots_cached_for_an_hour(local_server: LocalServer, make_fetcher,
                                   clock: FakeClock) -> None:
    local_server.robots("User-agent: *\nDisallow: /b\n")
    local_server.route("/a", "x")
    fetcher = make_fetcher()
    fetcher.fetch(local_server.url("/a"))
    clock.now += 3500
    fetcher.fetch(local_server.url("/a"))
    assert local_server.count("/robots.txt") == 1
    clock.now += 200
    fetcher.fetch(local_server.url("/a"))
    assert local_server.count("/robots.txt") == 2


def test_min_host_delay_between_requests(local_server: LocalServer, make_fetcher,
                                         clock: FakeClock) -> None:
    local_server.route("/a", "x")
    fetcher = make_fetcher(min_host_delay=5.0)
    fetcher.fetch(local_server.url("/a"))   # robots.txt, then /a five seconds later
    fetcher.fetch(local_server.url("/a"))
    assert clock.sleeps == [5.0, 5.0]


def test_hosts_keep_separate_delays(local_server: LocalServer, make_fetcher,
                                    clock: FakeClock) -> None:
    local_server.route("/a", "x")
    fetcher = make_fetcher(min_host_delay=5.0)
    fetcher.fetch(local_server.url("/a"))
    fetcher.fetch(local_server.url("/a", host="localhost"))
    # 127.0.0.1's turn came while localhost was waiting: no further wait.
    fetcher.fetch(local_server.url("/a"))
    assert clock.sleeps == [5.0, 5.0]


def test_crawl_delay_lengthens_the_host_delay(local_server: LocalServer, make_fetcher,
                                              clock: FakeClock) -> None:
    local_server.robots("User-agent: *\nCrawl-delay: 7\n")
    local_server.route("/a", "x")
    fetcher = make_fetcher(min_host_delay=1.0)
    fetcher.fetch(local_server.url("/a"))
    fetcher.fetch(local_server.url("/a"))
    # From the moment robots.txt is read, its Crawl-delay follows it too.
    assert clock.sleeps == [7.0, 7.0]


def test_a_turn_further_than_the_cap_is_not_waited_for(local_server: LocalServer, make_fetcher,
                                                        clock: FakeClock) -> None:
    local_server.route("/a", "x")
    fetcher = make_fetcher(min_host_delay=10.0, max_host_wait=5.0)
    result = fetcher.fetch(local_server.url("/a"))
    assert result.error == ("127.0.0.1 is busy: its next free turn is 10 s away, more than the 5 s "
                            "a fetch waits; nothing was sent, it will be tried later")
    assert not result.ok and clock.sleeps == []
    assert [r.path for r in local_server.requests] == ["/robots.txt"]
    clock.now += 10
    assert fetcher.fetch(local_server.url("/a")).ok


def _fetch_in_threads(fetcher: Fetcher, urls: list[str]) -> list[FetchResult]:
    results: list[FetchResult] = []
    threads = [threading.Thread(target=lambda u=u: results.append(fetcher.fetch(u))) for u in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_one_host_never_fetched_by_two_threads(local_server: LocalServer) -> None:
    # The delay keeps each request in flight long enough for a second one to
    # its host to show up beside it, were the fetcher to let it.
    local_server.route("/slow", "x", delay=0.2)
    hosts = ["127.0.0.1", "127.0.0.1", "localhost", "localhost"]
    with Fetcher(user_agent=UA, min_host_delay=0.0, timeout=5.0, max_bytes=1000,
                 retries=0, allow_private=True) as fetcher:
        results = _fetch_in_threads(fetcher, [local_server.url("/slow", host=h) for h in hosts])
    assert all(r.ok for r in results) and len(results) == 4
    assert local_server.peak_in_flight("127.0.0.1") == 1
    assert local_server.peak_in_flight("localhost") == 1


def test_two_hosts_fetched_at_once(local_server: LocalServer) -> None:
    # Neither request is answered until both are in flight: a fetcher that
    # took the hosts one after another gets a 504, however fast it is.
    local_server.route("/together", "x", meet=threading.Barrier(2, timeout=5))
    with Fetcher(user_agent=UA, min_host_delay=0.0, timeout=10.0, max_bytes=1000,
                 retries=0, allow_private=True) as fetcher:
        results = _fetch_in_threads(fetcher, [local_server.url("/together", host=h)
                                              for h in ("127.0.0.1", "localhost")])
    assert [r.status for r in results] == [200, 200]


def test_conditional_get_answers_304(local_server: LocalServer, make_fetcher) -> None:
    modified = "Wed, 01 Jan 2025 10:00:00 GMT"
    local_server.route("/a", "body", etag='"v1"', last_modified=modified)
    fetcher = make_fetcher()
    first = fetcher.fetch(local_server.url("/a"))
    assert first.status == 200 and first.headers["etag"] == '"v1"'
    assert first.headers["last-modified"] == modified
    by_etag = fetcher.fetch(local_server.url("/a"), etag='"v1"')
    assert by_etag.not_modified and by_etag.body == b"" and not by_etag.ok and by_etag.error is None
    assert local_server.last("/a").header("If-None-Match") == '"v1"'
    by_date = fetcher.fetch(local_server.url("/a"), last_modified=modified)
    assert by_date.not_modified
    assert local_server.last("/a").header("If-Modified-Since") == modified
    changed = fetcher.fetch(local_server.url("/a"), etag='"v0"')
    assert changed.status == 200 and changed.body == b"body"


def test_retries_503_then_succeeds(local_server: LocalServer, make_fetcher,
                                   clock: FakeClock) -> None:
    local_server.push("/a", "busy", status=503)
    local_server.route("/a", "ok")
    result = make_fetcher(retries=2).fetch(local_server.url("/a"))
    assert result.status == 200 and result.body == b"ok"
    assert local_server.count("/a") == 2
    assert len(clock.sleeps) == 1 and 1.0 <= clock.sleeps[0] < 2.0  # backoff 1 s + jitter


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_honoured(local_server: LocalServer, make_fetcher, clock: FakeClock,
                              status: int) -> None:
    local_server.push("/a", "wait", status=status, headers={"Retry-After": "7"})
    local_server.route("/a", "ok")
    result = make_fetcher(retries=1).fetch(local_server.url("/a"))
    assert result.ok and clock.sleeps == [7.0]


def test_retry_after_as_a_date(local_server: LocalServer, make_fetcher, clock: FakeClock) -> None:
    when = format_datetime((utcnow() + timedelta(seconds=30)).replace(
        tzinfo=__import__("datetime").timezone.utc), usegmt=True)
    local_server.push("/a", "wait", status=503, headers={"Retry-After": when})
    local_server.route("/a", "ok")
    assert make_fetcher(retries=1).fetch(local_server.url("/a")).ok
    assert len(clock.sleeps) == 1 and 27.0 <= clock.sleeps[0] <= 30.0


def test_retry_after_beyond_the_cap_keeps_the_answer(local_server: LocalServer, make_fetcher,
                                                     clock: FakeClock) -> None:
    local_server.push("/a", "come back tomorrow", status=503, headers={"Retry-After": "86400"})
    local_server.route("/a", "ok")
    result = make_fetcher(retries=3).fetch(local_server.url("/a"))
    assert result.status == 503 and result.body == b"come back tomorrow"
    assert local_server.count("/a") == 1 and clock.sleeps == []


def test_retries_exhausted_returns_last_answer(local_server: LocalServer, make_fetcher,
                                              clock: FakeClock) -> None:
    local_server.route("/a", "still down", status=502)
    result = make_fetcher(retries=2).fetch(local_server.url("/a"))
    assert result.status == 502 and result.body == b"still down" and result.error is None
    assert local_server.count("/a") == 3
    first, second = clock.sleeps
    assert 1.0 <= first < 2.0 and 2.0 <= second < 3.0  # exponential backoff with jitter


def test_4xx_returned_without_retry(local_server: LocalServer, make_fetcher) -> None:
    local_server.route("/gone", "gone", status=410)
    result = make_fetcher(retries=3).fetch(local_server.url("/gone"))
    assert result.status == 410 and result.body == b"gone" and not result.ok
    assert local_server.count("/gone") == 1


def test_timeout_is_cut_off(local_server: LocalServer, make_fetcher) -> None:
    local_server.route("/a", "late", delay=3.0)
    result = make_fetcher(timeout=0.5).fetch(local_server.url("/a"))
    assert result.error == "timed out after 0.5s" and result.body == b""


def test_slow_drip_body_is_cut_off(local_server: LocalServer, make_fetcher) -> None:
    # Each byte arrives well within a socket timeout; only a total cap stops it.
    local_server.route("/drip", b"x" * 400, drip=0.05)
    result = make_fetcher(timeout=0.6).fetch(local_server.url("/drip"))
    assert result.error == "timed out after 0.6s"
    assert result.body == b""


def test_timeouts_are_retried(local_server: LocalServer, make_fetcher, clock: FakeClock) -> None:
    local_server.push("/a", "late", delay=2.0)
    local_server.route("/a", "ok")
    result = make_fetcher(timeout=0.5, retries=1).fetch(local_server.url("/a"))
    assert result.ok and result.body == b"ok" and len(clock.sleeps) == 1


def test_oversized_body_refused(local_server: LocalServer, make_fetcher) -> None:
    local_server.route("/big", b"x" * 5000)
    result = make_fetcher(max_bytes=1000).fetch(local_server.url("/big"))
    assert result.error == "response larger than 1000 bytes" and result.body == b""
    assert not result.ok


def test_gzip_bomb_refused(local_server: LocalServer, make_fetcher) -> None:
    local_server.route("/bomb", b"\0" * 50_000_000, gzip=True)  # ~50 KB on the wire
    result = make_fetcher(max_bytes=1_000_000).fetch(local_server.url("/bomb"))
    assert result.error == "response larger than 1000000 bytes" and result.body == b""


def test_gzip_decoded(local_server: LocalServer, make_fetcher) -> None:
    local_server.route("/z", "<p>comments</p>" * 100, gzip=True)
    result = make_fetcher().fetch(local_server.url("/z"))
    assert result.ok and result.body == b"<p>comments</p>" * 100
    assert result.headers["content-encoding"] == "gzip"


def test_redirects_recorded(local_server: LocalServer, make_fetcher) -> None:
    local_server.redirect("/old", "/middle", status=301)
    local_server.redirect("/middle", local_server.url("/new"), status=302)
    local_server.route("/new", "here")
    result = make_fetcher().fetch(local_server.url("/old"))
    assert result.ok and result.body == b"here"
    assert result.url == local_server.url("/old")
    assert result.final_url == local_server.url("/new")
    assert result.redirects == [{"url": local_server.url("/old"), "status": 301},
                                {"url": local_server.url("/middle"), "status": 302}]


def test_redirect_loop_stops(local_server: LocalServer, make_fetcher) -> None:
    local_server.redirect("/loop", "/loop")
    result = make_fetcher().fetch(local_server.url("/loop"))
    assert result.error == "more than 10 redirects" and len(result.redirects) == 11


def test_redirect_to_non_http_refused(local_server: LocalServer, make_fetcher) -> None:
    local_server.redirect("/r", "file:///etc/passwd")
    result = make_fetcher().fetch(local_server.url("/r"))
    assert result.error == "redirect refused: only http and https URLs can be fetched (got file:)"


def test_private_host_refused_before_connecting(local_server: LocalServer, make_fetcher) -> None:
    local_server.route("/a", "x")
    result = make_fetcher(allow_private=False).fetch(local_server.url("/a", host="localhost"))
    assert result.error is not None and result.error.startswith("refused loopback address 127.0.0.1 of localhost")
    assert "ARCHIVE_ALLOW_PRIVATE_ADDRESSES=1" in result.error
    assert not result.robots_disallowed
    assert local_server.requests == []


def test_redirect_to_private_address_refused(local_server: LocalServer, make_fetcher,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # Loopback is all a test may reach, so let the guard count the literal
    # 127.0.0.1 as public; `localhost` still resolves, and is checked, for real.
    real_check = addresses.check_public_host

    def loopback_literal_is_public(host: str, port: int) -> list[tuple[int, str]]:
        if host == "127.0.0.1":
            return [(socket.AF_INET, "127.0.0.1")]
        return real_check(host, port)

    monkeypatch.setattr(transport, "check_public_host", loopback_literal_is_public)
    local_server.redirect("/r", local_server.url("/inside", host="localhost"))
    local_server.route("/inside", "secret")
    result = make_fetcher(allow_private=False).fetch(local_server.url("/r"))
    assert result.error is not None and result.error.startswith("refused loopback address 127.0.0.1 of localhost")
    assert result.redirects == [{"url": local_server.url("/r"), "status": 302}]
    assert result.body == b""
    assert local_server.count("/inside") == 0
    assert [r.header("host") for r in local_server.requests] == [
        f"127.0.0.1:{local_server.port}"] * 2  # robots.txt and /r only


def test_https_with_an_untrusted_certificate(tmp_path, make_fetcher) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with LocalServer(ssl_context=context) as server:
        server.route("/a", "x")
        result = make_fetcher().fetch(server.url("/a"))
    assert result.error is not None and result.error.startswith("TLS error: ")
    assert "certificate verify failed" in result.error
    assert result.error.endswith("(fetching robots.txt)")


def test_connection_refused(make_fetcher) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = make_fetcher().fetch(f"http://127.0.0.1:{port}/a")
    assert result.error == "connection refused (fetching robots.txt)"
    assert not result.robots_disallowed and result.status is None


@pytest.mark.parametrize("url, message", [
    ("ftp://example.org/", "only http and https URLs can be fetched (got ftp:)"),
    ("javascript:alert(1)", "only http and https URLs can be fetched (got javascript:)"),
    ("example.org/page", "only http and https URLs can be fetched (got no scheme)"),
    ("http://user:secret@example.org/", "URLs with credentials (user:password@) are refused"),
    ("http:///path", "URL has no host: 'http:///path'"),
    ("http://[::1/", "malformed URL 'http://[::1/': Invalid IPv6 URL"),
    ("http://example.org:99999/", "malformed URL 'http://example.org:99999/': Port out of range 0-65535"),
    ("http://exa mple.org/", "malformed host name 'exa mple.org'"),
    ("http://example.org/\nHost: evil", "malformed URL: it contains control characters"),
    ("", "empty URL"),
    ("http://10.0.0.1/", "refused private address 10.0.0.1 (set ARCHIVE_ALLOW_PRIVATE_ADDRESSES=1 to allow)"),
    ("http://[::1]/", "refused loopback address ::1 (set ARCHIVE_ALLOW_PRIVATE_ADDRESSES=1 to allow)"),
    ("http://169.254.169.254/latest/meta-data/",
     "refused link-local address 169.254.169.254 (set ARCHIVE_ALLOW_PRIVATE_ADDRESSES=1 to allow)"),
    ("http://localhost:8080/", "refused loopback address 127.0.0.1 of localhost "
                               "(set ARCHIVE_ALLOW_PRIVATE_ADDRESSES=1 to allow)"),
    ("http://2130706433/", "refused loopback address 127.0.0.1 of 2130706433 "
                           "(set ARCHIVE_ALLOW_PRIVATE_ADDRESSES=1 to allow)"),
    ("http://[::ffff:10.0.0.1]/", "refused private address ::ffff:10.0.0.1 "
                                  "(set ARCHIVE_ALLOW_PRIVATE_ADDRESSES=1 to allow)"),
    ("http://0.0.0.0/", "refused unspecified address 0.0.0.0 (set ARCHIVE_ALLOW_PRIVATE_ADDRESSES=1 to allow)"),
    ("http://224.0.0.1/", "refused multicast address 224.0.0.1 (set ARCHIVE_ALLOW_PRIVATE_ADDRESSES=1 to allow)"),
    ("http://[fe80::1]/", "refused link-local address fe80::1 (set ARCHIVE_ALLOW_PRIVATE_ADDRESSES=1 to allow)"),
    ("http://no-such-host.invalid/", "cannot resolve host no-such-host.invalid"),
])
def test_check_url_rejects(url: str, message: str) -> None:
    with pytest.raises(UrlRejected) as caught:
        check_url(url, allow_private=False)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("url, expected", [
    ("HTTPS://Example.ORG:443/a b?x=1#comments", "https://example.org/a%20b?x=1"),
    ("http://example.org", "http://example.org/"),
    ("http://Bücher.example/", "http://xn--bcher-kva.example/"),
    ("http://[0:0::1]:8080/x", "http://[::1]:8080/x"),
    ("  http://127.0.0.1:5000/p  ", "http://127.0.0.1:5000/p"),
])
def test_check_url_normalises(url: str, expected: str) -> None:
    # allow_private: nothing to resolve, so no DNS is needed.
    assert check_url(url, allow_private=True) == expected


@pytest.mark.parametrize("address, kind", [
    ("8.8.8.8", None), ("2606:4700::1", None), ("::ffff:8.8.8.8", None),
    ("100.64.0.1", "non-public"), ("192.168.1.1", "private"), ("::", "unspecified"),
    ("64:ff9b::a00:1", "private"),      # NAT64 spelling of 10.0.0.1
    ("2002:a00:1::", "private"),        # 6to4 spelling of 10.0.0.1
    ("ff0e::1", "multicast"), ("240.0.0.1", "private"),
])
def test_address_kinds(address: str, kind: str | None) -> None:
    import ipaddress
    assert non_public_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("url", ["http://10.0.0.1/", "http://[::1]/", "http://169.254.169.254/",
                                 "ftp://example.org/", "http://a:b@example.org/"])
def test_fetch_reports_rejected_urls(url: str, make_fetcher) -> None:
    result = make_fetcher(allow_private=False).fetch(url)
    assert result.error and result.status is None and not result.ok


def test_from_settings() -> None:
    settings = Settings.from_config(config.TestConfig(
        USER_AGENT="ConfigBot/2", MIN_HOST_DELAY="3.5", FETCH_RETRIES=4, MAX_RESPONSE_BYTES=1234,
        FETCH_TIMEOUT=9.0, ALLOW_PRIVATE_ADDRESSES=False))
    fetcher = Fetcher.from_settings(settings)
    assert (fetcher.user_agent, fetcher.min_host_delay, fetcher.retries, fetcher.max_bytes,
            fetcher.timeout, fetcher.allow_private, fetcher.robots_token) == (
        "ConfigBot/2", 3.5, 4, 1234, 9.0, False, "ConfigBot")
    fetcher.close()


def test_post_sends_its_body_and_reports_it(local_server: LocalServer, make_fetcher) -> None:
    local_server.route("/graphql", '{"data": 1}', content_type="application/json")
    query = b'{"query": "{ comments }"}'
    result = make_fetcher().fetch(local_server.url("/graphql"), method="POST", body=query,
                                  content_type="application/json", accept="application/json")
    assert result.ok and result.body == b'{"data": 1}'
    assert result.method == "POST" and result.request_body == query
    arrived = local_server.last("/graphql")
    assert arrived.method == "POST" and arrived.body == query
    assert arrived.header("content-type") == "application/json"
    assert arrived.header("accept") == "application/json"


def test_a_get_reports_no_body(local_server: LocalServer, make_fetcher) -> None:
    local_server.route("/a", "x")
    result = make_fetcher().fetch(local_server.url("/a"), body=b"ignored", content_type="text/plain")
    assert result.ok and result.method == "GET" and result.request_body is None
    arrived = local_server.last("/a")
    assert arrived.method == "GET" and arrived.header("content-type") is None


def test_post_is_never_retried(local_server: LocalServer, make_fetcher) -> None:
    local_server.route("/vote", "busy", status=503)
    result = make_fetcher(retries=3).fetch(local_server.url("/vote"), method="POST", body=b"up")
    assert result.status == 503 and local_server.count("/vote") == 1


@pytest.mark.parametrize(("status", "method", "body"), [
    (303, "GET", b""), (302, "GET", b""), (301, "GET", b""), (307, "POST", b"q=1"), (308, "POST", b"q=1")])
def test_post_redirects_as_browsers_do(local_server: LocalServer, make_fetcher, status: int, method: str,
                                       body: bytes) -> None:
    local_server.redirect("/form", "/answer", status=status)
    local_server.route("/answer", "done")
    result = make_fetcher().fetch(local_server.url("/form"), method="POST", body=b"q=1",
                                  content_type="application/x-www-form-urlencoded")
    assert result.ok and result.final_url == local_server.url("/answer")
    assert result.method == "POST" and result.redirects == [{"url": local_server.url("/form"), "status": status}]
    arrived = local_server.last("/answer")
    assert (arrived.method, arrived.body) == (method, body)
    assert (arrived.header("content-type") is not None) == (method == "POST")


def test_robots_txt_binds_a_post_too(local_server: LocalServer, make_fetcher) -> None:
    local_server.robots("User-agent: *\nDisallow: /api/\n")
    result = make_fetcher().fetch(local_server.url("/api/graphql"), method="POST", body=b"{}")
    assert result.robots_disallowed and result.method == "POST" and result.request_body == b"{}"
    assert local_server.count("/api/graphql") == 0


def test_other_methods_are_refused(make_fetcher) -> None:
    with pytest.raises(ValueError, match="the fetcher sends GET and POST only, not 'PUT'"):
        make_fetcher().fetch("http://127.0.0.1:9/x", method="PUT")


def test_nothing_is_sent_after_send_by(local_server: LocalServer, make_fetcher) -> None:
    local_server.route("/a", "x")
    fetcher = make_fetcher(min_host_delay=30.0)
    assert fetcher.fetch(local_server.url("/a"), send_by=time.monotonic() + 60).ok
    # The host's next turn is 30 s away, after this fetch's last moment.
    waiting = fetcher.fetch(local_server.url("/a"), send_by=time.monotonic() + 2)
    assert waiting.error == "127.0.0.1's next free turn comes after this capture's deadline: nothing was sent"
    gone = make_fetcher().fetch(local_server.url("/a"), send_by=time.monotonic() - 1)
    assert gone.error == "this capture's deadline has passed: nothing was sent"
    assert local_server.count("/a") == 1 and local_server.count("/robots.txt") == 1
