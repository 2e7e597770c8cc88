"""HTTP mode's ASGI app (Starlette): Slack's requests into Bolt, and the operations endpoints.

- `POST /slack/events`: events, slash commands and interactivity (point all three Request URLs
  here). The body is read with a deadline and a size cap, and its Slack signature is checked
  on the RAW bytes before anything parses it: an unsigned or tampered body gets 401 and one
  log line without the body. Verified requests go to Bolt (`App.dispatch`, through Bolt's
  Starlette adapter's request/response conversion) on a bounded thread pool, so the event loop
  never blocks and `/healthz` stays quick under load.
- `GET /healthz`: the process is alive. `GET /readyz`: the records and the store answer and the
  store is not empty (503 otherwise). `GET /metrics`: Prometheus text (`bot.metrics`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot import metrics

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk.signature import SignatureVerifier

    from bot.service import Readiness
    from knowledge.settings import Settings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
MAX_BODY_BYTES = 1 << 20  # Slack payloads are a few KB
READY_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class HttpLimits:
    """HTTP mode's limits: per request (used here) and per server (`bot.slack.http_server`)."""

    body_timeout: float = 10.0  # seconds to receive the whole body
    max_body_bytes: int = MAX_BODY_BYTES
    dispatch_threads: int = 16  # concurrent Bolt dispatches (each only acks and hands over)
    header_timeout: float = 10.0  # seconds to receive a request's headers
    max_connections: int = 1000  # open connections + requests in flight; beyond: 503
    keepalive_timeout: int = 5  # idle keep-alive connections are closed after this
    shutdown_timeout: float = 30.0  # requests in flight get this long on shutdown

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpLimits:
        return cls(
            body_timeout=settings.http_body_timeout,
            dispatch_threads=settings.http_dispatch_threads,
            header_timeout=settings.http_header_timeout,
            max_connections=settings.http_max_connections,
            keepalive_timeout=settings.http_keepalive_timeout,
            shutdown_timeout=settings.shutdown_timeout,
        )


class Refused(Exception):
    """A request refused before Slack's signature could be checked."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def read_body(request: Request, limits: HttpLimits) -> bytes:
    """The whole body within `limits`, or Refused (413 too large, 408 too slow, 400 cut off)."""
    declared = request.headers.get("content-length")
    if declared is not None and not declared.isdigit():
        raise Refused(400, "bad_body")
    if declared is not None and int(declared) > limits.max_body_bytes:
        raise Refused(413, "too_large")  # refused before reading a byte of it

    async def collect() -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.max_body_bytes:
                raise Refused(413, "too_large")
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        return await asyncio.wait_for(collect(), limits.body_timeout)
    except TimeoutError:
        raise Refused(408, "body_timeout") from None
    except ClientDisconnect:
        raise Refused(400, "bad_body") from None


def signed(verifier: SignatureVerifier | None, request: Request, body: bytes) -> bool:
    """Whether `body` carries a valid Slack signature (always, in Socket Mode: no verifier)."""
    if verifier is None:
        return True
    return verifier.is_valid(
        body=body,
        timestamp=request.headers.get("x-slack-request-timestamp", ""),
        signature=request.headers.get("x-slack-signature", ""),
    )


def _refusal(status: int, reason: str) -> Response:
    metrics.REJECTED_REQUESTS.labels(reason).inc()
    # The connection may hold an unread body: close it rather than keep it alive.
    return Response(status_code=status, headers={"connection": "close"})


def build_asgi(
    app: App,
    *,
    verifier: SignatureVerifier | None,
    readiness: Callable[[], Readiness],
    limits: HttpLimits | None = None,
) -> Starlette:
    """The Starlette app for HTTP mode over the Bolt `app` (see the module docstring)."""
    limits = limits or HttpLimits()
    dispatchers = anyio.CapacityLimiter(limits.dispatch_threads)
    checkers = anyio.CapacityLimiter(2)  # readiness probes: one or two at a time is plenty

    async def events(request: Request) -> Response:
        try:
            body = await read_body(request, limits)
        except Refused as e:
            return _refusal(e.status, e.reason)
        started = time.perf_counter()
        if not signed(verifier, request, body):
            client = request.client.host if request.client else "?"
            log.info("Refused a request from %s: missing or invalid Slack signature", client)
            return _refusal(401, "bad_signature")
        try:
            bolt_request = to_bolt_request(request, body)
        except ValueError:  # signed, yet not UTF-8 JSON or a form: Slack never sends that
            log.warning("Refused a signed request whose body could not be parsed")
            return _refusal(400, "bad_body")
        response = await anyio.to_thread.run_sync(app.dispatch, bolt_request, limiter=dispatchers)
        metrics.ACK_SECONDS.observe(time.perf_counter() - started)
        return to_starlette_response(response)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"ok": True})

    async def readyz(_: Request) -> Response:
        try:
            with anyio.fail_after(READY_TIMEOUT_S):
                state = await anyio.to_thread.run_sync(readiness, limiter=checkers)
        except TimeoutError:
            return JSONResponse({"ready": False, "checks": {"timeout": "unavailable"}}, 503)
        return JSONResponse(
            {"ready": state.ready, "checks": state.checks}, 200 if state.ready else 503
        )

    async def metrics_text(_: Request) -> Response:
        data, content_type = metrics.exposition()
        return Response(data, headers={"content-type": content_type})

    return Starlette(
        routes=[
            Route(EVENTS_PATH, events, methods=["POST"]),
            Route(HEALTH_PATH, healthz, methods=["GET", "HEAD"]),
            Route(READY_PATH, readyz, methods=["GET", "HEAD"]),
            Route(METRICS_PATH, metrics_text, methods=["GET"]),
        ]
    )
