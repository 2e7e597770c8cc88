"""Run the Bolt app: Socket Mode when SLACK_APP_TOKEN is set, else an HTTP server.

HTTP serves `POST /slack/events` (events, slash commands, interactivity: point all three Request
URLs at it) and `GET /healthz`, on the stdlib's threading HTTP server through Bolt's
`BoltRequest`; put TLS in front of it (Slack only calls https URLs).
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Protocol

from slack_bolt.request import BoltRequest

from bot.slack.app import background_of, check_settings, create_app

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.records import Records
    from bot.service import StudyService
    from knowledge.settings import Settings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY_BYTES = 1 << 20  # Slack payloads are a few KB


class Runner(Protocol):
    def serve_forever(self) -> None: ...

    def stop(self) -> None: ...


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The stdlib default backlog is 5: a burst of Slack deliveries would wait for SYN retries.
    request_queue_size = 256


class HttpRunner:
    """Bolt over `http.server`: `runner.start_in_thread()` in tests, `serve_forever()` in prod."""

    def __init__(
        self, app: App, *, host: str = "0.0.0.0", port: int = 3000, path: str = EVENTS_PATH
    ) -> None:
        self.app = app
        self.path = path
        self._server = _Server((host, port), _handler_for(app, path))
        self._thread: threading.Thread | None = None
        self._serving = threading.Event()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = self._server.server_address[0]
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        log.info("studybot listening on %s%s (HTTP mode)", self.url, self.path)
        self._serving.set()
        try:
            self._server.serve_forever(poll_interval=0.1)
        finally:
            self._serving.clear()
            self._server.server_close()

    def start_in_thread(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.serve_forever, name="slack-http", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        if self._serving.is_set():
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> HttpRunner:
        self.start_in_thread()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler_for(app: App, path: str) -> type[BaseHTTPRequestHandler]:
    class SlackHandler(BaseHTTPRequestHandler):
        server_version = "studybot"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            log.debug("%s %s", self.address_string(), format % args)

        def do_GET(self) -> None:  # noqa: N802
            if self.path.partition("?")[0] == HEALTH_PATH:
                self._send(200, {"content-type": ["application/json"]}, '{"ok": true}')
            else:
                self._send(404, {}, "")

        def do_POST(self) -> None:  # noqa: N802
            request_path, _, query = self.path.partition("?")
            if request_path != path:
                self._send(404, {}, "")
                return
            try:
                length = int(self.headers.get("Content-Length") or -1)
            except ValueError:
                length = -1
            if length < 0:
                self._send(411, {}, "")
                return
            if length > MAX_BODY_BYTES:
                self._send(413, {}, "")
                return
            body = self.rfile.read(length).decode("utf-8", errors="replace")
            headers = {k.lower(): self.headers.get_all(k) or [] for k in set(self.headers.keys())}
            try:
                resp = app.dispatch(BoltRequest(body=body, query=query, headers=headers))
            except Exception:
                log.exception("Dispatching a Slack request failed")
                self._send(500, {}, "")
                return
            self._send(resp.status, resp.headers, resp.body)

        def _send(self, status: int, headers: dict, body: str | dict) -> None:
            data = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
            self.send_response(status)
            for name, values in headers.items():
                if name.lower() == "content-length":
                    continue
                for value in values if isinstance(values, list | tuple) else [values]:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return SlackHandler


class SocketModeRunner:
    """Bolt's Socket Mode handler (stdlib WebSocket client): no public URL needed."""

    def __init__(self, app: App, app_token: str) -> None:
        self.app = app
        self._app_token = app_token
        self._handler = None

    def serve_forever(self) -> None:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        self._handler = SocketModeHandler(self.app, self._app_token)
        log.info("studybot connecting to Slack (Socket Mode)")
        self._handler.start()

    def stop(self) -> None:
        if self._handler is not None:
            self._handler.close()


def build_runner(
    settings: Settings,
    service: StudyService,
    records: Records,
    *,
    host: str = "0.0.0.0",
    client: WebClient | None = None,
) -> HttpRunner | SocketModeRunner:
    """The app plus the runner the settings ask for (ConfigError when they are wrong)."""
    _, app_token, _ = check_settings(settings)
    app = create_app(settings, service, records, client=client)
    if app_token is not None:
        return SocketModeRunner(app, app_token)
    return HttpRunner(app, host=host, port=settings.port)


def serve(
    settings: Settings,
    service: StudyService,
    records: Records,
    *,
    host: str = "0.0.0.0",
    on_ready: Callable[[Runner], None] | None = None,
) -> None:
    """Migrate the records, then run until SIGINT/SIGTERM (what `studybot serve` calls)."""
    records.upgrade()
    runner = build_runner(settings, service, records, host=host)
    background = background_of(runner.app)
    for helper in background:  # the question-of-the-day scheduler (catches up on missed runs)
        helper.start()
    if on_ready is not None:
        on_ready(runner)

    def _terminate(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        runner.serve_forever()
    except KeyboardInterrupt:
        log.info("studybot stopping")
    finally:
        if isinstance(runner, SocketModeRunner):
            runner.stop()
        for helper in background:
            helper.stop()
