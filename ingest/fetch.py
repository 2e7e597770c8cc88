"""A polite, safe HTTP fetcher for study-guide links, built on httpx (sync).

Safety rules, applied to the first URL *and* to every redirect hop:

* only ``http`` / ``https``;
* the host must be in ``FetchPolicy.allowed_hosts`` (exact, lower-case names);
* the host must not resolve to a private, loopback, link-local, reserved, multicast or
  unspecified address, unless it is listed in ``FetchPolicy.allow_private_hosts``;
* ``robots.txt`` is honoured (per origin, cached in memory).

Politeness: a per-host minimum interval between requests, retries with exponential
backoff (honouring ``Retry-After``), and conditional requests (ETag / Last-Modified)
against an optional on-disk cache.

Known limitation: the address check resolves the host name itself, and httpx resolves
it again when connecting, so a DNS server that answers differently the second time
(DNS rebinding) is not caught. The allow-list is the primary defence.

A ``Fetcher`` is not thread-safe; use one per thread.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import ipaddress
import json
import logging
import os
import socket
import tempfile
import time
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import httpx

__all__ = [
    "FetchError",
    "FetchPolicy",
    "FetchResult",
    "Fetcher",
]

log = logging.getLogger(__name__)

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_RETRY_AFTER_CAP = 30.0
_ROBOTS_MAX_BYTES = 512_000


@dataclass
class FetchPolicy:
    """What the fetcher may fetch, and how politely."""

    # Exact host names (lower-case); an empty set allows nothing.
    allowed_hosts: set[str]
    # Hosts/IPs allowed even if they resolve to private/loopback/link-local addresses.
    allow_private_hosts: set[str] = field(default_factory=set)
    max_bytes: int = 10_000_000
    timeout: float = 15.0
    max_redirects: int = 5
    # Requests per second per host (minimum interval 1/rate); <= 0 disables the limit.
    rate_per_host: float = 2.0
    # Extra attempts for connect errors, timeouts, 429 and 5xx.
    retries: int = 2
    # Seconds, doubled each retry; Retry-After on 429/503 wins (capped at 30 s).
    backoff: float = 0.5
    respect_robots: bool = True
    user_agent: str = "studybot-ingest/0.1 (+https://github.com/studybot)"
    accepted_types: tuple[str, ...] = (
        "text/html",
        "application/xhtml+xml",
        "application/pdf",
        "text/markdown",
        "text/plain",
        "text/x-markdown",
    )


@dataclass
class FetchResult:
    """A successfully fetched document."""

    url: str  # final URL after redirects
    status: int  # HTTP status of the stored response (200 also for a 304 cache hit)
    content_type: str  # bare media type, lower-case, e.g. "text/html"
    body: bytes
    from_cache: bool


class FetchError(Exception):
    """A fetch failed; ``str(exc)`` is a one-line, human-readable reason.

    ``exc.url`` is the URL the caller asked for (the reason names the offending host or
    hop when a redirect is to blame); ``exc.reason`` is the same text as ``str(exc)``.
    """

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(reason)
        self.url = url
        self.reason = reason

    def __str__(self) -> str:
        return self.reason

    def __reduce__(self) -> tuple[type[FetchError], tuple[str, str]]:
        return (type(self), (self.url, self.reason))


class _HopError(Exception):
    """Internal: a failure whose reason is final (wrapped in FetchError by ``fetch``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Retryable(_HopError):
    """Internal: a failure worth retrying (connect error, timeout, 429, 5xx)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass
class _Response:
    url: httpx.URL
    status: int
    headers: httpx.Headers
    content_type: str
    body: bytes


@dataclass
class _CacheEntry:
    final_url: str
    status: int
    content_type: str
    etag: str | None
    last_modified: str | None
    body: bytes


def _norm_host(host: str) -> str:
    return host.strip().lower().rstrip(".")


def _media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


def _fmt_seconds(seconds: float) -> str:
    return f"{seconds:g}"


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _unmap(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """``::ffff:10.0.0.1`` -> ``10.0.0.1`` so the IPv4 rules apply."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _is_forbidden_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global  # e.g. 100.64.0.0/10 (carrier-grade NAT)
    )


class Fetcher:
    """Fetch documents over HTTP(S) under a ``FetchPolicy``.

    ``sleep`` and ``clock`` drive the per-host rate limit and the retry backoff (inject
    fakes in tests). If ``client`` is given it is used as-is (and not closed by
    ``close()``); redirects and timeouts are set per request either way.
    """

    def __init__(
        self,
        policy: FetchPolicy,
        cache_dir: Path | None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        client: httpx.Client | None = None,
    ) -> None:
        self.policy = policy
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        if self.cache_dir is not None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._sleep = sleep
        self._clock = clock
        self._owns_client = client is None
        # trust_env=False: proxies from the environment would bypass the address checks.
        self._client = client or httpx.Client(follow_redirects=False, trust_env=False)
        self._allowed = {_norm_host(h) for h in policy.allowed_hosts}
        self._private_ok = {_norm_host(h) for h in policy.allow_private_hosts}
        self._timeout = httpx.Timeout(policy.timeout)
        self._last_request: dict[str, float] = {}
        self._robots: dict[tuple[str, str, int | None], urllib.robotparser.RobotFileParser | None]
        self._robots = {}

    # -- public API -----------------------------------------------------------------

    def fetch(self, url: str) -> FetchResult:
        """Fetch ``url`` and return its body; raise ``FetchError`` for every failure."""
        try:
            return self._fetch(url)
        except FetchError:
            raise
        except _HopError as exc:
            raise FetchError(url, exc.reason) from exc
        except Exception as exc:  # the contract: FetchError and nothing else
            log.exception("unexpected error fetching %s", url)
            raise FetchError(url, f"unexpected error: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        """Close the HTTP client if this fetcher created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the fetch loop -------------------------------------------------------------

    def _fetch(self, url: str) -> FetchResult:
        target = self._parse(url)
        cached = self._cache_load(url)
        seen = {str(target)}
        hops = 0
        while True:
            self._check_target(target)
            if self.policy.respect_robots and not self._robots_allow(target):
                raise _HopError("disallowed by robots.txt")
            headers: dict[str, str] = {}
            conditional = cached if cached and cached.final_url == str(target) else None
            if conditional is not None:
                if conditional.etag:
                    headers["If-None-Match"] = conditional.etag
                if conditional.last_modified:
                    headers["If-Modified-Since"] = conditional.last_modified
            resp = self._get(
                target,
                headers,
                max_bytes=self.policy.max_bytes,
                check_type=True,
                retries=self.policy.retries,
            )
            if resp.status in _REDIRECT_STATUSES:
                location = resp.headers.get("location")
                if not location:
                    raise _HopError(f"HTTP {resp.status} redirect without a Location header")
                try:
                    target = target.join(location.strip()).copy_with(fragment=None)
                except (httpx.InvalidURL, ValueError) as exc:
                    raise _HopError(f"invalid redirect location: {location[:200]}") from exc
                if str(target) in seen:
                    raise _HopError("redirect loop")
                hops += 1
                if hops > self.policy.max_redirects:
                    raise _HopError(f"too many redirects ({self.policy.max_redirects})")
                seen.add(str(target))
                continue
            if resp.status == 304:
                if conditional is None:
                    raise _HopError("HTTP 304 without a cached copy")
                self._cache_refresh(url, conditional, resp.headers)
                return FetchResult(
                    url=conditional.final_url,
                    status=conditional.status,
                    content_type=conditional.content_type,
                    body=conditional.body,
                    from_cache=True,
                )
            result = FetchResult(
                url=str(target),
                status=resp.status,
                content_type=resp.content_type,
                body=resp.body,
                from_cache=False,
            )
            self._cache_store(
                url, result, resp.headers.get("etag"), resp.headers.get("last-modified")
            )
            return result

    def _parse(self, url: str) -> httpx.URL:
        try:
            target = httpx.URL(url.strip())
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise _HopError(f"invalid URL: {str(url)[:200]}") from exc
        return target.copy_with(fragment=None)

    def _check_target(self, target: httpx.URL) -> None:
        """Scheme, allow-list and address checks for one hop (a DNS lookup at most)."""
        if target.scheme not in ("http", "https"):
            raise _HopError(f"unsupported scheme: {target.scheme or '(none)'}")
        host = _norm_host(target.host)
        if not host:
            raise _HopError("invalid URL: no host")
        if host not in self._allowed:
            raise _HopError(f"host not allowed: {host}")
        if host in self._private_ok:
            return
        for ip in self._resolve(host, target.port or (443 if target.scheme == "https" else 80)):
            if _is_forbidden_address(ip):
                raise _HopError(f"private address {ip} refused")

    def _resolve(self, host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        try:
            return [_unmap(ipaddress.ip_address(host))]  # a literal: no DNS traffic
        except ValueError:
            pass
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise _HopError(f"cannot resolve host: {host}") from exc
        addresses = []
        for info in infos:
            raw = str(info[4][0])
            try:
                addresses.append(_unmap(ipaddress.ip_address(raw.split("%", 1)[0])))
            except ValueError as exc:
                raise _HopError(f"unrecognised address {raw} for {host}") from exc
        if not addresses:
            raise _HopError(f"cannot resolve host: {host}")
        return addresses

    # -- one request, with retries ----------------------------------------------------

    def _get(
        self,
        target: httpx.URL,
        headers: dict[str, str],
        *,
        max_bytes: int,
        check_type: bool,
        retries: int,
    ) -> _Response:
        """GET ``target`` (no redirect following), retrying transient failures."""
        attempt = 0
        while True:
            self._throttle(_norm_host(target.host))
            try:
                return self._get_once(target, headers, max_bytes=max_bytes, check_type=check_type)
            except _Retryable as exc:
                if attempt >= retries:
                    raise _HopError(exc.reason) from exc
                delay = exc.retry_after
                if delay is None:
                    delay = self.policy.backoff * (2**attempt)
                log.info("retrying %s after %s (%.2f s)", target, exc.reason, delay)
                self._sleep(min(delay, _RETRY_AFTER_CAP))
                attempt += 1

    def _get_once(
        self, target: httpx.URL, extra: dict[str, str], *, max_bytes: int, check_type: bool
    ) -> _Response:
        headers = {"User-Agent": self.policy.user_agent, **extra}
        try:
            with self._client.stream(
                "GET", target, headers=headers, timeout=self._timeout, follow_redirects=False
            ) as resp:
                status = resp.status_code
                ctype = _media_type(resp.headers.get("content-type"))
                if status in _REDIRECT_STATUSES or status == 304:
                    return _Response(target, status, resp.headers, ctype, b"")
                if status == 429 or 500 <= status <= 599:
                    retry_after = None
                    if status in (429, 503):
                        retry_after = _parse_retry_after(resp.headers.get("retry-after"))
                    raise _Retryable(f"HTTP {status}", retry_after)
                if not 200 <= status <= 299:
                    raise _HopError(f"HTTP {status}")
                if check_type and ctype not in self.policy.accepted_types:
                    raise _HopError(f"content type {ctype or '(missing)'} not accepted")
                too_big = f"body larger than {max_bytes:,} bytes"
                length = resp.headers.get("content-length")
                if length is not None and length.strip().isdigit() and int(length) > max_bytes:
                    raise _HopError(too_big)
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise _HopError(too_big)
                    chunks.append(chunk)
                return _Response(target, status, resp.headers, ctype, b"".join(chunks))
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out after {_fmt_seconds(self.policy.timeout)} s") from exc
        except httpx.TransportError as exc:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise _Retryable(f"connection failed: {detail}") from exc
        except httpx.HTTPError as exc:  # e.g. a broken gzip body
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise _HopError(f"bad response: {detail}") from exc

    def _throttle(self, host: str) -> None:
        """Wait until this host's minimum interval has passed since its last request."""
        rate = self.policy.rate_per_host
        if rate <= 0:
            return
        interval = 1.0 / rate
        now = self._clock()
        last = self._last_request.get(host)
        if last is not None and now < last + interval:
            self._sleep(last + interval - now)
            # A fake sleep may not move the clock: never book a slot before the due time.
            self._last_request[host] = max(self._clock(), last + interval)
        else:
            self._last_request[host] = now

    # -- robots.txt -----------------------------------------------------------------

    def _robots_allow(self, target: httpx.URL) -> bool:
        origin = (target.scheme, _norm_host(target.host), target.port)
        if origin not in self._robots:
            self._robots[origin] = self._load_robots(target)
        parser = self._robots[origin]
        return parser is None or parser.can_fetch(self.policy.user_agent, str(target))

    def _load_robots(self, target: httpx.URL) -> urllib.robotparser.RobotFileParser | None:
        """Fetch and parse robots.txt; ``None`` means "everything allowed".

        Missing (4xx), unreachable or otherwise unusable robots.txt allows everything.
        Redirects are followed with the same checks; there are no retries.
        """
        robots_url = target.copy_with(path="/robots.txt", query=None, fragment=None)
        seen = {str(robots_url)}
        try:
            for _ in range(self.policy.max_redirects + 1):
                self._check_target(robots_url)
                resp = self._get(
                    robots_url,
                    {},
                    max_bytes=min(self.policy.max_bytes, _ROBOTS_MAX_BYTES),
                    check_type=False,
                    retries=0,
                )
                if resp.status in _REDIRECT_STATUSES:
                    location = resp.headers.get("location")
                    if not location:
                        return None
                    robots_url = robots_url.join(location.strip()).copy_with(fragment=None)
                    if str(robots_url) in seen:
                        return None
                    seen.add(str(robots_url))
                    continue
                if resp.status != 200:
                    return None
                parser = urllib.robotparser.RobotFileParser(str(robots_url))
                parser.parse(resp.body.decode("utf-8", errors="replace").splitlines())
                return parser
        except (_HopError, httpx.InvalidURL, ValueError) as exc:
            log.info("robots.txt for %s unavailable (%s): allowing", target.host, exc)
        return None

    # -- on-disk cache --------------------------------------------------------------

    def _cache_paths(self, url: str) -> tuple[Path, Path] | None:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self.cache_dir / f"{digest}.json", self.cache_dir / f"{digest}.body"

    def _cache_load(self, url: str) -> _CacheEntry | None:
        paths = self._cache_paths(url)
        if paths is None:
            return None
        meta_path, body_path = paths
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            body = body_path.read_bytes()
            if meta.get("url") != url or hashlib.sha256(body).hexdigest() != meta["sha256"]:
                return None
            return _CacheEntry(
                final_url=str(meta["final_url"]),
                status=int(meta["status"]),
                content_type=str(meta["content_type"]),
                etag=meta.get("etag"),
                last_modified=meta.get("last_modified"),
                body=body,
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("ignoring unreadable cache entry for %s: %s", url, exc)
            return None

    def _cache_store(
        self, url: str, result: FetchResult, etag: str | None, last_modified: str | None
    ) -> None:
        paths = self._cache_paths(url)
        if paths is None:
            return
        if not (etag or last_modified):
            # Nothing to revalidate with: caching would never be used; drop a stale entry.
            for path in paths:
                with contextlib.suppress(OSError):
                    path.unlink()
            return
        meta = {
            "url": url,
            "final_url": result.url,
            "status": result.status,
            "content_type": result.content_type,
            "etag": etag,
            "last_modified": last_modified,
            "sha256": hashlib.sha256(result.body).hexdigest(),
            "size": len(result.body),
            "stored_at": time.time(),
        }
        meta_path, body_path = paths
        try:
            # Body first, metadata last: the metadata (with the body's hash) commits.
            self._write_atomic(body_path, result.body)
            self._write_atomic(meta_path, json.dumps(meta, indent=1).encode("utf-8"))
        except OSError as exc:
            log.warning("could not cache %s: %s", url, exc)

    def _cache_refresh(self, url: str, cached: _CacheEntry, headers: httpx.Headers) -> None:
        """After a 304, keep the stored body but take any new validators."""
        etag = headers.get("etag") or cached.etag
        last_modified = headers.get("last-modified") or cached.last_modified
        if (etag, last_modified) == (cached.etag, cached.last_modified):
            return
        result = FetchResult(
            cached.final_url, cached.status, cached.content_type, cached.body, from_cache=True
        )
        self._cache_store(url, result, etag, last_modified)

    @staticmethod
    def _write_atomic(path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
