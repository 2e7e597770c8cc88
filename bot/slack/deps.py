"""What Slack listeners share (`SlackDeps`) and the one way they acknowledge (`ack_then`)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.slack.commands import CommandRouter

if TYPE_CHECKING:
    from slack_bolt import Ack, BoltContext
    from slack_bolt.context.respond import Respond
    from slack_sdk import WebClient

    from bot.daily import DailyDriver
    from bot.service import StudyService

log = logging.getLogger(__name__)

WORKERS = 8  # threads that do the work after the acks (when create_app is given no executor)


class Background(Protocol):
    def start(self) -> object: ...

    def stop(self) -> None: ...


@dataclass
class SlackDeps:
    """What listeners share: the core service, the `/study` routing table, the worker pool."""

    service: StudyService
    commands: CommandRouter = field(default_factory=CommandRouter)
    # The question-of-the-day scheduler (`create_app` builds it; `/study daily` refreshes it).
    daily: DailyDriver | None = None
    progress_reaction: str = "eyes"
    # Long-running helpers with start()/stop() (the question-of-the-day scheduler): the runner
    # starts them in `studybot serve` (see `bot.slack.app.background_of`); tests start their own.
    background: list[Background] = field(default_factory=list)
    # Where work runs after the ack (create_app passes the executor it is given: tests drain it).
    executor: Executor = field(
        default_factory=lambda: ThreadPoolExecutor(
            max_workers=WORKERS, thread_name_prefix="studybot"
        )
    )

    def run_later(self, work: Callable[..., None], **kwargs: object) -> Future:
        """Run `work` on the worker pool; an exception is logged, never lost."""
        future = self.executor.submit(work, **kwargs)
        future.add_done_callback(_log_failure)
        return future


def _log_failure(future: Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("Background Slack work failed", exc_info=future.exception())


def ack_then(
    deps: SlackDeps,
    work: Callable[..., None],
    *,
    reply: Callable[[SlackDeps, dict, BoltContext], dict | None] | None = None,
) -> Callable[..., None]:
    """A listener that acknowledges at once, then runs `work` on the worker pool.

    `work` may take any of `deps`, `body`, `event`, `action`, `command`, `context`, `client`,
    `respond`. `reply(deps, body, context)` (slash commands) gives the ack's message, e.g. a
    usage line or the help. Unlike Bolt's lazy listeners, this hands over the already-parsed
    body instead of deep-copying the request, which was half the CPU of each ack: a burst of
    deliveries is acknowledged sooner. Every listener of the app that does work acknowledges
    this way.
    """
    wanted = set(inspect.signature(work).parameters)

    def listener(
        ack: Ack, body: dict, context: BoltContext, client: WebClient, respond: Respond
    ) -> None:
        ack(**((reply(deps, body, context) if reply is not None else None) or {}))
        available = {
            "deps": deps,
            "body": body,
            "event": body.get("event"),
            "action": (body.get("actions") or [None])[0],
            "command": body if body.get("command") else None,
            "context": context,
            "client": client,
            "respond": respond,
        }
        deps.run_later(work, **{k: v for k, v in available.items() if k in wanted})

    return listener
