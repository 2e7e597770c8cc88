"""uvicorn, configured for Slack's HTTP mode: bounded connections, timeouts, graceful stop.

uvicorn has a keep-alive timeout, a concurrency limit and a graceful-shutdown timeout, but no
deadline for a request's headers: a client that sends half a request line and waits would hold
its connection forever. `HeaderTimeoutProtocol` (uvicorn's h11 protocol plus that deadline)
closes such connections; the body's deadline is the ASGI app's (`bot.slack.asgi.read_body`).
"""

from __future__ import annotations

import asyncio
import logging
import socket

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.slack.asgi import HttpLimits

log = logging.getLogger(__name__)

BACKLOG = 1024  # pending connections the kernel queues for us (a burst of Slack deliveries)


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection that takes over `header_timeout` seconds to
    send a request's headers (the first request's, or the next one's on a kept-alive
    connection once it has started to arrive)."""

    header_timeout: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._waiting_for_headers():
            self._arm_header_timer()
        else:
            self._cancel_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _waiting_for_headers(self) -> bool:
        return self.conn.their_state is h11.IDLE and not self.transport.is_closing()

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:  # the deadline runs from the first byte, not the last
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self._waiting_for_headers():  # no request in progress: only a stalled one arriving
            log.debug("Closing a connection that sent no complete request headers in time")
            self.transport.close()


def protocol_with_header_timeout(seconds: float) -> type[HeaderTimeoutProtocol]:
    """`HeaderTimeoutProtocol` with its deadline set (uvicorn instantiates the class)."""
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout": seconds})


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port); port 0 picks a free one. Connections made before
    the server starts wait in the backlog."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def server_for(asgi: object, limits: HttpLimits) -> uvicorn.Server:
    """A uvicorn server for `asgi` within `limits` (logging through ours: no access log)."""
    config = uvicorn.Config(
        asgi,
        http=protocol_with_header_timeout(limits.header_timeout),
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        limit_concurrency=limits.max_connections,
        timeout_keep_alive=limits.keepalive_timeout,
        timeout_graceful_shutdown=max(1, round(limits.shutdown_timeout)),
        backlog=BACKLOG,
        h11_max_incomplete_event_size=16 * 1024,  # request line + headers; Slack's are ~1 KB
    )
    return uvicorn.Server(config)
