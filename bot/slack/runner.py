"""Run the Bolt app: Socket Mode when SLACK_APP_TOKEN is set, else an HTTP server (uvicorn).

HTTP serves `POST /slack/events` (events, slash commands, interactivity: point all three Request
URLs at it), `GET /healthz`, `GET /readyz` and `GET /metrics` (see `bot.slack.asgi`) on uvicorn
with the limits of `bot.slack.http_server`; put TLS in front of it (Slack only calls https
URLs). On SIGTERM or SIGINT, `serve` stops accepting, lets requests in flight finish, then the
answers already acknowledged (the worker pool), each within STUDYBOT_SHUTDOWN_TIMEOUT.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from bot.slack.app import background_of, check_settings, create_app, runtime_of
from bot.slack.asgi import EVENTS_PATH, HttpLimits, build_asgi
from bot.slack.http_server import bind, server_for

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.records import Records
    from bot.service import StudyService
    from knowledge.settings import Settings

log = logging.getLogger(__name__)

START_TIMEOUT_S = 15


class Runner(Protocol):
    app: App

    def serve_forever(self) -> None: ...

    def stop(self) -> None: ...


class HttpRunner:
    """The app over uvicorn: `runner.start_in_thread()` in tests, `serve_forever()` in prod.

    The socket is bound at construction, so `port` is known (port 0 picks a free one).
    """

    def __init__(
        self,
        app: App,
        *,
        host: str = "0.0.0.0",
        port: int = 3000,
        limits: HttpLimits | None = None,
    ) -> None:
        self.app = app
        self.path = EVENTS_PATH
        self.limits = limits or HttpLimits()
        runtime = runtime_of(app)
        asgi = build_asgi(
            app,
            verifier=runtime.verifier,
            readiness=runtime.deps.service.readiness,
            limits=self.limits,
        )
        self._socket = bind(host, port)
        self._server = server_for(asgi, self.limits)
        self._thread: threading.Thread | None = None
        self._state = threading.Lock()
        self._serving = self._closed = False

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        host = self._socket.getsockname()[0]
        host = "127.0.0.1" if host == "0.0.0.0" else host
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        """Serve until `stop()` or SIGINT/SIGTERM (in the main thread); returns after a graceful
        shutdown (requests in flight answered). A signal is re-raised once uvicorn is done."""
        with self._state:
            if self._closed:  # stopped before it started
                return
            self._serving = True
        log.info("studybot listening on %s%s (HTTP mode)", self.url, self.path)
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._socket.close()

    def start_in_thread(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.serve_forever, name="slack-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                raise RuntimeError("the HTTP server did not start")
            time.sleep(0.01)
        return self._thread

    def stop(self) -> None:
        """Stop serving (gracefully) and wait for the thread `start_in_thread` started."""
        self._server.should_exit = True
        with self._state:
            if not self._serving and not self._closed:
                self._closed = True
                self._socket.close()
        if self._thread is not None:
            self._thread.join(timeout=self.limits.shutdown_timeout + 5)

    def __enter__(self) -> HttpRunner:
        self.start_in_thread()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


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
    return HttpRunner(app, host=host, port=settings.port, limits=HttpLimits.from_settings(settings))


def serve(
    settings: Settings,
    service: StudyService,
    records: Records,
    *,
    host: str = "0.0.0.0",
    on_ready: Callable[[Runner], None] | None = None,
) -> None:
    """Migrate the records, then run until SIGINT/SIGTERM (what `studybot serve` calls).

    Stopping: the runner finishes the requests in flight, then the answers already
    acknowledged get up to STUDYBOT_SHUTDOWN_TIMEOUT, then the background helpers stop.
    """
    records.upgrade()
    runner = build_runner(settings, service, records, host=host)
    background = background_of(runner.app)
    for helper in background:  # question of the day (catches up on missed runs), retention
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
        runtime_of(runner.app).deps.drain(settings.shutdown_timeout)
        for helper in background:
            helper.stop()
        log.info("studybot stopped")
