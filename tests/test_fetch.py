"""Tests for ingest.fetch against a real HTTP server on 127.0.0.1 (no internet)."""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from ingest.fetch import Fetcher, FetchError, FetchPolicy, FetchResult

HTML = b"<html><body><h1>SageMaker</h1></body></html>"
PDF = b"%PDF-1.4\n% study notes\n%%EOF\n"
ETAG_BODY = b"<html>versioned page</html>"


# -- the local server ------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection; close-delimited bodies work

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(
        self,
        status: int,
        body: bytes = b"",
        ctype: str | None = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
        length: bool = True,
    ) -> None:
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        srv = self.server
        with srv.lock:
            srv.counts[self.path] += 1
            count = srv.counts[self.path]
            srv.seen_headers.setdefault(self.path, []).append(dict(self.headers))
        path = self.path.split("?", 1)[0]
        # The client may hang up early (timeouts, oversized bodies).
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._route(path, count)

    def _route(self, path: str, count: int) -> None:
        robots = self.server.robots
        if path == "/robots.txt":
            if robots == "disallow-private":
                self._send(200, b"User-agent: *\nDisallow: /private\n", "text/plain")
            elif robots == "500":
                self._send(500, b"oops")
            elif robots == "drop":
                self.close_connection = True  # no response at all
            else:
                self._send(404, b"not found")
        elif path in ("/ok", "/private/page", "/flaky-done"):
            self._send(200, HTML)
        elif path == "/doc.pdf":
            self._send(200, PDF, "application/pdf")
        elif path == "/missing":
            self._send(404, b"nope")
        elif path == "/always500":
            self._send(500, b"down")
        elif path == "/flaky":  # 500 the first time, then ok
            if count == 1:
                self._send(500, b"down")
            else:
                self._send(200, HTML)
        elif path == "/busy":  # 429 the first time, then ok
            if count == 1:
                self._send(429, b"slow down", headers={"Retry-After": "0"})
            else:
                self._send(200, HTML)
        elif path == "/slow":
            time.sleep(1.0)
            self._send(200, HTML)
        elif path == "/redirect":
            self._send(302, headers={"Location": "/ok"})
        elif path == "/loop-a":
            self._send(302, headers={"Location": "/loop-b"})
        elif path == "/loop-b":
            self._send(301, headers={"Location": "/loop-a"})
        elif path.startswith("/chain/"):
            step = int(path.rsplit("/", 1)[1])
            self._send(302, headers={"Location": f"/chain/{step + 1}"})
        elif path == "/to-evil":
            self._send(302, headers={"Location": "http://evil.example/steal"})
        elif path == "/to-private":
            self._send(302, headers={"Location": "/private/page"})
        elif path == "/big":
            self._send(200, b"x" * 5000, "text/plain")
        elif path == "/big-nolength":
            self._send(200, b"x" * 200_000, "text/plain", length=False)
        elif path == "/image.png":
            self._send(200, b"\x89PNG\r\n\x1a\n", "image/png")
        elif path == "/etag":
            headers = {"ETag": '"v1"', "Last-Modified": "Wed, 21 Oct 2015 07:28:00 GMT"}
            if self.headers.get("If-None-Match") == '"v1"':
                self._send(304, headers=headers, ctype=None, length=False)
            else:
                self._send(200, ETAG_BODY, headers=headers)
        else:
            self._send(404, b"no route")


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, robots: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.robots = robots
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.seen_headers: dict[str, list[dict[str, str]]] = {}

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up early are expected here

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def _start(robots: str) -> _Server:
    server = _Server(robots)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def _stop(server: _Server) -> None:
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    srv = _start(robots="disallow-private")
    yield srv
    _stop(srv)


@pytest.fixture
def make_server() -> Iterator[Callable[[str], _Server]]:
    started: list[_Server] = []

    def make(robots: str) -> _Server:
        started.append(_start(robots))
        return started[-1]

    yield make
    for srv in started:
        _stop(srv)


class FakeTime:
    """A clock that only moves when someone sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def _policy(**overrides: object) -> FetchPolicy:
    values: dict[object, object] = {
        "allowed_hosts": {"127.0.0.1"},
        "allow_private_hosts": {"127.0.0.1"},
        "timeout": 2.0,
    }
    values.update(overrides)
    return FetchPolicy(**values)  # type: ignore[arg-type]


@pytest.fixture
def fetch(fake_time: FakeTime, tmp_path: Path) -> Iterator[Callable[..., FetchResult]]:
    """fetch(url, **policy_overrides) with a fresh Fetcher on the fake clock."""
    fetchers: list[Fetcher] = []

    def run(url: str, **overrides: object) -> FetchResult:
        fetcher = Fetcher(
            _policy(**overrides),
            tmp_path / "cache",
            sleep=fake_time.sleep,
            clock=fake_time.clock,
        )
        fetchers.append(fetcher)
        return fetcher.fetch(url)

    yield run
    for fetcher in fetchers:
        fetcher.close()


def _reason(call: Callable[[], object]) -> str:
    with pytest.raises(FetchError) as info:
        call()
    return str(info.value)


def _unique(server: _Server, path: str, tag: str) -> str:
    """A URL for ``path`` with a query so per-path request counters start at zero."""
    return f"{server.base}{path}?t={tag}"


# -- success -----------------------------------------------------------------------


def test_fetches_html(server: _Server, fetch: Callable[..., FetchResult]) -> None:
    result = fetch(f"{server.base}/ok")
    assert result.body == HTML
    assert result.status == 200
    assert result.content_type == "text/html"  # charset parameter dropped
    assert result.url == f"{server.base}/ok"
    assert result.from_cache is False


def test_fetches_pdf(server: _Server, fetch: Callable[..., FetchResult]) -> None:
    result = fetch(f"{server.base}/doc.pdf")
    assert (result.content_type, result.body) == ("application/pdf", PDF)


def test_redirect_to_allowed_path(server: _Server, fetch: Callable[..., FetchResult]) -> None:
    result = fetch(f"{server.base}/redirect")
    assert result.url == f"{server.base}/ok"
    assert result.body == HTML


# -- HTTP errors and retries -------------------------------------------------------


def test_404_is_final(server: _Server, fetch: Callable[..., FetchResult]) -> None:
    url = _unique(server, "/missing", "404")
    assert _reason(lambda: fetch(url)) == "HTTP 404"
    assert server.counts[url.removeprefix(server.base)] == 1  # not retried


def test_500_then_ok_is_retried(
    server: _Server, fetch: Callable[..., FetchResult], fake_time: FakeTime
) -> None:
    result = fetch(_unique(server, "/flaky", "retry"), rate_per_host=0)
    assert result.body == HTML
    assert fake_time.sleeps == [0.5]  # one backoff of policy.backoff


def test_500_gives_up_after_retries(
    server: _Server, fetch: Callable[..., FetchResult], fake_time: FakeTime
) -> None:
    url = _unique(server, "/always500", "giveup")
    assert _reason(lambda: fetch(url, rate_per_host=0)) == "HTTP 500"
    assert server.counts[url.removeprefix(server.base)] == 3  # 1 + 2 retries
    assert fake_time.sleeps == [0.5, 1.0]  # exponential backoff


def test_429_honours_retry_after(
    server: _Server, fetch: Callable[..., FetchResult], fake_time: FakeTime
) -> None:
    result = fetch(_unique(server, "/busy", "429"), rate_per_host=0)
    assert result.body == HTML
    assert fake_time.sleeps == [0.0]  # Retry-After: 0 instead of the 0.5 s backoff


def test_slow_response_times_out(server: _Server, fetch: Callable[..., FetchResult]) -> None:
    url = _unique(server, "/slow", "timeout")
    started = time.monotonic()
    assert _reason(lambda: fetch(url, timeout=0.3, retries=1)) == "timed out after 0.3 s"
    assert time.monotonic() - started < 1.5
    assert server.counts[url.removeprefix(server.base)] == 2  # timeouts are retried


def test_connection_refused(fetch: Callable[..., FetchResult]) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    reason = _reason(lambda: fetch(f"http://127.0.0.1:{port}/ok", retries=0))
    assert reason.startswith("connection failed")


# -- redirects ---------------------------------------------------------------------


def test_redirect_loop(server: _Server, fetch: Callable[..., FetchResult]) -> None:
    assert _reason(lambda: fetch(f"{server.base}/loop-a")) == "redirect loop"


def test_too_many_redirects(server: _Server, fetch: Callable[..., FetchResult]) -> None:
    url = f"{server.base}/chain/0"
    assert _reason(lambda: fetch(url, max_redirects=3)) == "too many redirects (3)"
    assert server.counts["/chain/3"] >= 1 and server.counts["/chain/4"] == 0


def test_redirect_to_disallowed_host(server: _Server, fetch: Callable[..., FetchResult]) -> None:
    with pytest.raises(FetchError) as info:
        fetch(f"{server.base}/to-evil")
    assert str(info.value) == "host not allowed: evil.example"
    assert info.value.url == f"{server.base}/to-evil"  # the URL the caller asked for


def test_redirect_into_robots_disallowed_path(
    server: _Server, fetch: Callable[..., FetchResult]
) -> None:
    assert _reason(lambda: fetch(f"{server.base}/to-private")) == "disallowed by robots.txt"


# -- body size and type ------------------------------------------------------------


def test_oversized_body_with_content_length(
    server: _Server, fetch: Callable[..., FetchResult]
) -> None:
    reason = _reason(lambda: fetch(f"{server.base}/big", max_bytes=1000))
    assert reason == "body larger than 1,000 bytes"


def test_oversized_body_without_content_length(
    server: _Server, fetch: Callable[..., FetchResult]
) -> None:
    reason = _reason(lambda: fetch(f"{server.base}/big-nolength", max_bytes=1000))
    assert reason == "body larger than 1,000 bytes"


def test_body_within_limit_without_content_length(
    server: _Server, fetch: Callable[..., FetchResult]
) -> None:
    result = fetch(f"{server.base}/big-nolength", max_bytes=200_000)
    assert result.body == b"x" * 200_000


def test_image_type_refused(server: _Server, fetch: Callable[..., FetchResult]) -> None:
    reason = _reason(lambda: fetch(f"{server.base}/image.png"))
    assert reason == "content type image/png not accepted"


# -- robots.txt --------------------------------------------------------------------


def test_robots_disallows_private(server: _Server, fetch: Callable[..., FetchResult]) -> None:
    url = _unique(server, "/private/page", "robots")
    assert _reason(lambda: fetch(url)) == "disallowed by robots.txt"
    assert server.counts[url.removeprefix(server.base)] == 0  # never requested


def test_robots_can_be_ignored(server: _Server, fetch: Callable[..., FetchResult]) -> None:
    assert fetch(f"{server.base}/private/page", respect_robots=False).body == HTML


def test_robots_fetched_once_per_host(server: _Server, fake_time: FakeTime) -> None:
    before = server.counts["/robots.txt"]
    with Fetcher(_policy(), None, sleep=fake_time.sleep, clock=fake_time.clock) as fetcher:
        fetcher.fetch(f"{server.base}/ok")
        fetcher.fetch(f"{server.base}/doc.pdf")
        with pytest.raises(FetchError):
            fetcher.fetch(f"{server.base}/private/page")
    assert server.counts["/robots.txt"] - before == 1
    robots_headers = server.seen_headers["/robots.txt"][-1]
    assert robots_headers["User-Agent"].startswith("studybot-ingest/")


@pytest.mark.parametrize("mode", ["missing", "500", "drop"])
def test_missing_or_broken_robots_allows(
    mode: str, make_server: Callable[[str], _Server], fetch: Callable[..., FetchResult]
) -> None:
    srv = make_server(mode)
    assert fetch(f"{srv.base}/private/page").body == HTML
    assert srv.counts["/robots.txt"] == 1  # no retries for robots.txt


# -- allow-list and private addresses ------------------------------------------------


def test_host_not_in_allow_list(fetch: Callable[..., FetchResult]) -> None:
    assert _reason(lambda: fetch("http://evil.example/")) == "host not allowed: evil.example"


def test_empty_allow_list_allows_nothing(
    server: _Server, fetch: Callable[..., FetchResult]
) -> None:
    reason = _reason(lambda: fetch(f"{server.base}/ok", allowed_hosts=set()))
    assert reason == "host not allowed: 127.0.0.1"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://127.0.0.1/file", "unsupported scheme: ftp"),
        ("file:///etc/passwd", "unsupported scheme: file"),
        ("http://", "invalid URL: no host"),
        ("http://[::1]/", "host not allowed: ::1"),
    ],
)
def test_bad_urls(url: str, reason: str, fetch: Callable[..., FetchResult]) -> None:
    assert _reason(lambda: fetch(url)) == reason


def test_loopback_refused_without_allow_private(
    server: _Server, fetch: Callable[..., FetchResult]
) -> None:
    url = _unique(server, "/ok", "loopback")
    reason = _reason(lambda: fetch(url, allow_private_hosts=set()))
    assert reason == "private address 127.0.0.1 refused"
    assert server.counts[url.removeprefix(server.base)] == 0


def _recording_client(calls: list[str]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(200, headers={"Content-Type": "text/html"}, content=HTML)

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_private_literal_refused_fast_without_traffic(
    monkeypatch: pytest.MonkeyPatch, fake_time: FakeTime
) -> None:
    lookups: list[object] = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: lookups.append(a) or [])
    calls: list[str] = []
    policy = FetchPolicy(allowed_hosts={"10.0.0.1"})
    started = time.monotonic()
    with Fetcher(
        policy, None, sleep=fake_time.sleep, clock=fake_time.clock, client=_recording_client(calls)
    ) as fetcher:
        reason = _reason(lambda: fetcher.fetch("http://10.0.0.1/"))
    assert reason == "private address 10.0.0.1 refused"
    assert time.monotonic() - started < 0.5
    assert calls == [] and lookups == [] and fake_time.sleeps == []


@pytest.mark.parametrize(
    ("addresses", "outcome"),
    [
        (["10.1.2.3"], "private address 10.1.2.3 refused"),
        (["93.184.216.34", "169.254.169.254"], "private address 169.254.169.254 refused"),
        (["::ffff:192.168.0.7"], "private address 192.168.0.7 refused"),
        (["100.64.0.1"], "private address 100.64.0.1 refused"),
        (["93.184.216.34"], "ok"),
    ],
)
def test_resolved_addresses_checked(
    addresses: list[str], outcome: str, monkeypatch: pytest.MonkeyPatch, fake_time: FakeTime
) -> None:
    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list:
        assert host == "docs.example"
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    calls: list[str] = []
    policy = FetchPolicy(allowed_hosts={"docs.example"}, respect_robots=False)
    with Fetcher(
        policy, None, sleep=fake_time.sleep, clock=fake_time.clock, client=_recording_client(calls)
    ) as fetcher:
        if outcome == "ok":
            assert fetcher.fetch("https://docs.example/guide").body == HTML
            assert calls == ["https://docs.example/guide"]
        else:
            assert _reason(lambda: fetcher.fetch("https://docs.example/guide")) == outcome
            assert calls == []


def test_unresolvable_host(monkeypatch: pytest.MonkeyPatch, fake_time: FakeTime) -> None:
    def fail(*args: object, **kwargs: object) -> list:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with Fetcher(
        FetchPolicy(allowed_hosts={"nowhere.example"}),
        None,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    ) as fetcher:
        reason = _reason(lambda: fetcher.fetch("http://nowhere.example/"))
    assert reason == "cannot resolve host: nowhere.example"


# -- rate limit --------------------------------------------------------------------


def test_rate_limit_spaces_requests_per_host(server: _Server, fake_time: FakeTime) -> None:
    policy = _policy(rate_per_host=2.0, respect_robots=False)
    with Fetcher(policy, None, sleep=fake_time.sleep, clock=fake_time.clock) as fetcher:
        for _ in range(3):
            assert fetcher.fetch(f"{server.base}/ok").body == HTML
    assert fake_time.sleeps == [0.5, 0.5]


def test_rate_limit_is_per_host_and_counts_elapsed_time(fake_time: FakeTime) -> None:
    calls: list[str] = []
    policy = FetchPolicy(
        allowed_hosts={"a.example", "b.example"},
        allow_private_hosts={"a.example", "b.example"},  # no DNS in this test
        rate_per_host=1.0,
        respect_robots=False,
    )
    with Fetcher(
        policy, None, sleep=fake_time.sleep, clock=fake_time.clock, client=_recording_client(calls)
    ) as fetcher:
        fetcher.fetch("http://a.example/1")
        fetcher.fetch("http://b.example/1")  # other host: no wait
        fake_time.now += 0.25  # time passes on its own
        fetcher.fetch("http://a.example/2")  # waits the remaining 0.75 s
        fetcher.fetch("http://b.example/2")  # b's slot is already due by now
    assert fake_time.sleeps == [0.75]
    assert len(calls) == 4


# -- cache -------------------------------------------------------------------------


def test_etag_cache_revalidates(server: _Server, tmp_path: Path, fake_time: FakeTime) -> None:
    url = _unique(server, "/etag", "cache")
    path = url.removeprefix(server.base)
    cache = tmp_path / "http-cache"

    with Fetcher(_policy(), cache, sleep=fake_time.sleep, clock=fake_time.clock) as fetcher:
        first = fetcher.fetch(url)
    assert (first.body, first.from_cache) == (ETAG_BODY, False)
    assert sorted(p.suffix for p in cache.iterdir()) == [".body", ".json"]  # no tmp files

    # A new Fetcher (think: next run) revalidates from disk.
    with Fetcher(_policy(), cache, sleep=fake_time.sleep, clock=fake_time.clock) as fetcher:
        second = fetcher.fetch(url)
    assert (second.body, second.from_cache, second.status) == (ETAG_BODY, True, 200)
    assert second.content_type == "text/html"
    assert server.counts[path] == 2
    conditional = server.seen_headers[path][1]
    assert conditional["If-None-Match"] == '"v1"'
    assert conditional["If-Modified-Since"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert "If-None-Match" not in server.seen_headers[path][0]


def test_corrupt_cache_is_ignored(server: _Server, tmp_path: Path, fake_time: FakeTime) -> None:
    url = _unique(server, "/etag", "corrupt")
    cache = tmp_path / "http-cache"
    with Fetcher(_policy(), cache, sleep=fake_time.sleep, clock=fake_time.clock) as fetcher:
        fetcher.fetch(url)
        for meta in cache.glob("*.json"):
            meta.write_text("{not json")
        again = fetcher.fetch(url)
    assert (again.body, again.from_cache) == (ETAG_BODY, False)


def test_no_cache_dir_never_sends_validators(server: _Server, fake_time: FakeTime) -> None:
    url = _unique(server, "/etag", "nocache")
    with Fetcher(_policy(), None, sleep=fake_time.sleep, clock=fake_time.clock) as fetcher:
        assert not fetcher.fetch(url).from_cache
        assert not fetcher.fetch(url).from_cache


# -- misc --------------------------------------------------------------------------


def test_fetch_error_carries_url_and_reason() -> None:
    exc = FetchError("http://x.example/", "HTTP 404")
    assert (str(exc), exc.url, exc.reason) == ("HTTP 404", "http://x.example/", "HTTP 404")


def test_unexpected_client_errors_become_fetch_errors(fake_time: FakeTime) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("boom")

    policy = FetchPolicy(
        allowed_hosts={"a.example"}, allow_private_hosts={"a.example"}, respect_robots=False
    )
    client = httpx.Client(transport=httpx.MockTransport(handler))
    with Fetcher(
        policy, None, sleep=fake_time.sleep, clock=fake_time.clock, client=client
    ) as fetcher:
        reason = _reason(lambda: fetcher.fetch("http://a.example/"))
    assert reason == "unexpected error: RuntimeError: boom"
