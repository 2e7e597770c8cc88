"""The Bolt app factory: settings checked, Web API client built, listeners registered.

Socket Mode when SLACK_APP_TOKEN is set, else HTTP (see `bot.slack.runner`). Listeners always
ack at once and do the work on a worker pool (`bot.slack.deps.ack_then`), so Slack gets its 200
within milliseconds. Every verified request is counted by type, and the Web API client counts
its errors and 429s (`bot.metrics`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_bolt.middleware.request_verification import RequestVerification
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.web import SlackResponse

from bot import metrics
from bot.retention import RetentionDriver
from bot.slack.background import build_background
from bot.slack.deps import SlackDeps
from bot.slack.listeners import register_all

if TYPE_CHECKING:
    from slack_bolt import BoltContext
    from slack_bolt.response import BoltResponse
    from slack_sdk.http_retry.request import HttpRequest
    from slack_sdk.http_retry.response import HttpResponse
    from slack_sdk.http_retry.state import RetryState

    from bot.records import Records
    from bot.service import StudyService
    from bot.slack.deps import Background
    from knowledge.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
API_TIMEOUT_S = 30
RATE_LIMIT_RETRIES = 2
CONNECTION_RETRIES = 2

_BOT_TOKEN = re.compile(r"^xoxb-[A-Za-z0-9-]+$")
_APP_TOKEN = re.compile(r"^xapp-[A-Za-z0-9-]+$")


class ConfigError(ValueError):
    """The Slack configuration is missing or malformed; the message says what to fix."""


def _secret(value) -> str:
    return value.get_secret_value().strip() if value is not None else ""


def check_settings(settings: Settings) -> tuple[str, str | None, str | None]:
    """(bot token, app token or None, signing secret or None), or ConfigError."""
    bot = _secret(settings.slack_bot_token)
    app_token = _secret(settings.slack_app_token) or None
    signing = _secret(settings.slack_signing_secret) or None
    if not bot:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from your "
            "Slack app's OAuth & Permissions page."
        )
    if not _BOT_TOKEN.match(bot):
        raise ConfigError(
            f"SLACK_BOT_TOKEN must be a bot token starting with xoxb- (this one starts with "
            f"{bot[:5]!r})."
        )
    if app_token is not None and not _APP_TOKEN.match(app_token):
        raise ConfigError(
            "SLACK_APP_TOKEN must be an app-level token starting with xapp- (Basic Information > "
            "App-Level Tokens, scope connections:write), or unset for HTTP mode."
        )
    if app_token is None and not signing:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is required in HTTP mode (no SLACK_APP_TOKEN is set): copy it "
            "from your Slack app's Basic Information page."
        )
    if signing is not None and re.search(r"\s", signing):
        raise ConfigError("SLACK_SIGNING_SECRET must not contain spaces or line breaks.")
    return bot, app_token, signing


def api_url(settings: Settings) -> str:
    url = (settings.slack_api_url or DEFAULT_API_URL).strip()
    return url if url.endswith("/") else url + "/"


class InstrumentedWebClient(WebClient):
    """The Web API client, counting failed calls by method and Slack's error code."""

    @classmethod
    def like(cls, client: WebClient) -> InstrumentedWebClient:
        """An instrumented client with `client`'s token, URL, timeouts and retry handlers."""
        copy = cls(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            ssl=client.ssl,
            proxy=client.proxy,
            headers=dict(client.headers),
            logger=client.logger,
            retry_handlers=client.retry_handlers,
        )
        copy.default_params = dict(client.default_params)
        return copy

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        try:
            return super().api_call(api_method, **kwargs)
        except SlackApiError as e:
            code = e.response.get("error") if e.response is not None else None
            metrics.SLACK_API_ERRORS.labels(api_method, str(code or "unknown")).inc()
            raise
        except (SlackClientError, OSError):
            metrics.SLACK_API_ERRORS.labels(api_method, "connection").inc()
            raise


class CountingRateLimitHandler(RateLimitErrorRetryHandler):
    """Waits out 429s (Retry-After) like Slack's handler, counting every one by method."""

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            method = request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            metrics.SLACK_API_RATE_LIMITED.labels(method).inc()
        return super().can_retry(state=state, request=request, response=response, error=error)


def build_client(settings: Settings, token: str) -> WebClient:
    """A Web API client that waits out 429s (Retry-After), retries dropped connections and
    counts both (`bot.metrics`)."""
    return InstrumentedWebClient(
        token=token,
        base_url=api_url(settings),
        timeout=API_TIMEOUT_S,
        retry_handlers=[
            CountingRateLimitHandler(max_retry_count=RATE_LIMIT_RETRIES),
            ConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
        ],
    )


def request_type(body: dict) -> str:
    """What a Slack request is, for the metrics: the event type (app_mention, message, ...),
    slash_command, or the payload type (block_actions, view_submission, ...)."""
    if body.get("command"):
        return "slash_command"
    if body.get("type") == "event_callback":
        return str((body.get("event") or {}).get("type") or "event")
    return str(body.get("type") or "unknown")


def instrument_request(
    body: dict,
    context: BoltContext,
    next: Callable[[], BoltResponse],  # noqa: A002
) -> BoltResponse:
    """Bolt middleware: count every verified request by type, and give its listeners a Web API
    client that counts errors (Bolt builds a plain one per request)."""
    metrics.SLACK_REQUESTS.labels(request_type(body)).inc()
    if context.client is not None and not isinstance(context.client, InstrumentedWebClient):
        context["client"] = InstrumentedWebClient.like(context.client)
    return next()


class _SafeVerifier(SignatureVerifier):
    def is_valid(self, body, timestamp, signature) -> bool:
        try:
            return super().is_valid(body, timestamp, signature)
        except (TypeError, ValueError):  # a timestamp that is not a number
            return False


class _FuncClock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


class _TokenUnusedFilter(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment even when given a client built from it,
    then warns that the token "will be unused": true but alarming, so it is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


class SignedRequestVerification(RequestVerification):
    """Bolt's signature check (5-minute window) with an injectable clock."""

    def __init__(self, signing_secret: str, clock: Callable[[], float] = time.time) -> None:
        super().__init__(signing_secret)
        self._clocked = _SafeVerifier(signing_secret, clock=_FuncClock(clock))

    @property
    def verifier(self) -> SignatureVerifier:
        return self._clocked


def create_app(
    settings: Settings,
    service: StudyService,
    records: Records,
    *,
    client: WebClient | None = None,
    executor: Executor | None = None,
    clock: Callable[[], float] = time.time,
) -> App:
    """The studybot Bolt app; raises ConfigError when Slack settings are missing or rejected.

    Listeners call `service`; `records` (the service's) is where the question-of-the-day
    scheduler claims each day's post. `client` replaces the Web API client (default:
    `build_client`); `executor` runs the work after each ack (tests pass one they can drain);
    `clock` is the request-signature clock.
    """
    bot_token, app_token, signing_secret = check_settings(settings)
    socket_mode = app_token is not None
    client = client or build_client(settings, bot_token)
    verification = None if socket_mode else SignedRequestVerification(signing_secret, clock)
    quiet = _TokenUnusedFilter()
    bolt_log = logging.getLogger("slack_bolt.App")
    bolt_log.addFilter(quiet)
    try:
        app = App(
            name="studybot",
            client=client,
            signing_secret=signing_secret or "",
            request_verification_enabled=False,  # replaced by `verification` (same check + clock)
            before_authorize=verification,
            # HTTP: the listener runs before the response (it only acks and hands the work to
            # the worker pool, see `ack_then`). Socket Mode: Bolt runs listeners on
            # `listener_executor` and sends the ack as soon as it is called.
            process_before_response=not socket_mode,
            listener_executor=executor,
        )
    except BoltError as e:
        cause = e.__context__
        code = cause.response.get("error") if isinstance(cause, SlackApiError) else str(e)
        raise ConfigError(
            f"Slack rejected SLACK_BOT_TOKEN (auth.test: {code}); check the Bot User OAuth Token."
        ) from e
    except OSError as e:
        raise ConfigError(f"Cannot reach the Slack Web API at {client.base_url} ({e}).") from e
    finally:
        bolt_log.removeFilter(quiet)
    deps = SlackDeps(service=service)
    if executor is not None:
        deps.executor = executor
    build_background(app.client, records, service, deps)  # the daily question, the nudges
    deps.background.append(RetentionDriver(records, service.settings))
    app.use(instrument_request)
    register_all(app, deps)
    verifier = verification.verifier if verification is not None else None
    setattr(app, _RUNTIME, AppRuntime(deps, verifier))  # used by `bot.slack.runner`
    return app


@dataclass(frozen=True)
class AppRuntime:
    """What the runner needs from an app: the listeners' deps (background helpers, the worker
    pool to drain on shutdown) and, in HTTP mode, the signature check for raw bodies."""

    deps: SlackDeps
    verifier: SignatureVerifier | None


_RUNTIME = "studybot_runtime"


def runtime_of(app: App) -> AppRuntime:
    """The runtime `create_app` attached to `app`."""
    return getattr(app, _RUNTIME)


def background_of(app: App) -> list[Background]:
    """The app's long-running helpers (the question of the day, the nudges, retention), not
    started."""
    return list(runtime_of(app).deps.background)
