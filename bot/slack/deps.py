"""What Slack listeners share (`SlackDeps`) and the one way they acknowledge (`ack_then`)."""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot import metrics
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

    _in_flight: set[Future] = field(default_factory=set, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def run_later(self, work: Callable[..., None], **kwargs: object) -> Future:
        """Run `work` on the worker pool; an exception is logged, never lost."""
        future = self.executor.submit(work, **kwargs)
        with self._lock:
            self._in_flight.add(future)
        metrics.WORK_IN_FLIGHT.inc()
        future.add_done_callback(self._finished)
        return future

    def drain(self, timeout: float) -> int:
        """Wait up to `timeout` seconds for the work already handed over (answers to requests
        that were acknowledged); returns how many did not finish in time."""
        with self._lock:
            pending = set(self._in_flight)
        if not pending:
            return 0
        log.info("Finishing %d answer(s) in flight (up to %.0f s)", len(pending), timeout)
        _, not_done = wait(pending, timeout=timeout)
        if not_done:
            log.error("%d answer(s) still running after %.0f s: abandoned", len(not_done), timeout)
        return len(not_done)

    def _finished(self, future: Future) -> None:
        with self._lock:
            self._in_flight.discard(future)
        metrics.WORK_IN_FLIGHT.dec()
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
