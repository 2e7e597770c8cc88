"""Slack listeners: one module per concern, each with `register(app, deps)`.

`register_all` registers them in order and then the fallbacks that acknowledge everything else
(so Slack gets its 200 and does not retry). A new feature adds its module to `MODULES`; a new
`/study` subcommand is one `deps.commands.add(Subcommand(...))` call in its module's `register`.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Protocol

from knowledge.types import Answer

if TYPE_CHECKING:
    from slack_bolt import Ack, App

    from bot.records import Records
    from bot.slack.listeners.commands import CommandRouter

log = logging.getLogger(__name__)

MODULES = ("mentions", "messages", "commands", "feedback", "home", "quiz", "daily", "stats")


class AskService(Protocol):
    """What the Slack front end needs from `bot.service.StudyService`.

    The service owns question rules: it cuts long questions (and says so in `Answer.note`) and
    reads the thread's history from the records for follow-ups.
    """

    def ask(self, question: str, who: str, where: str, thread: str | None = None) -> Answer: ...


class Background(Protocol):
    def start(self) -> object: ...

    def stop(self) -> None: ...


def _router() -> CommandRouter:
    from bot.slack.listeners.commands import CommandRouter

    return CommandRouter()


@dataclass
class SlackDeps:
    """What listeners share: the core service, the records and the `/study` routing table."""

    service: AskService
    records: Records
    commands: CommandRouter = field(default_factory=_router)
    progress_reaction: str = "eyes"
    # Long-running helpers with start()/stop() (the question-of-the-day scheduler): the runner
    # starts them in `studybot serve` (see `bot.slack.app.background_of`); tests start their own.
    background: list[Background] = field(default_factory=list)
    # Where work runs after the ack (create_app passes Bolt's listener executor).
    executor: Executor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=8, thread_name_prefix="studybot")
    )

    def run_later(self, work: Callable[..., None], **kwargs: object) -> Future:
        """Run `work` on the worker pool; an exception is logged, never lost."""
        future = self.executor.submit(work, **kwargs)
        future.add_done_callback(_log_failure)
        return future


def _log_failure(future: Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("Background Slack work failed", exc_info=future.exception())


def ack_then(deps: SlackDeps, work: Callable[..., None]) -> Callable[..., None]:
    """A listener that acknowledges at once, then runs `work` on the worker pool.

    `work` may take any of `body`, `event`, `action`, `context`, `client`. Unlike Bolt's lazy
    listeners, this hands over the already-parsed body instead of deep-copying the request,
    which was half the CPU of each ack: a burst of deliveries is acknowledged sooner.
    """
    wanted = set(inspect.signature(work).parameters)

    def listener(ack: Ack, body: dict, context: dict, client: object) -> None:
        ack()
        available = {
            "body": body,
            "event": body.get("event"),
            "action": (body.get("actions") or [None])[0],
            "context": context,
            "client": client,
        }
        deps.run_later(work, **{k: v for k, v in available.items() if k in wanted})

    return listener


def register_all(app: App, deps: SlackDeps) -> None:
    for name in MODULES:
        import_module(f"{__name__}.{name}").register(app, deps)
    register_fallbacks(app, deps)


def register_fallbacks(app: App, deps: SlackDeps) -> None:
    """Acknowledge what no listener handles (reactions, unknown buttons, modals) and ignore it.

    Registered last: Bolt runs the first listener that matches.
    """
    anything = re.compile(r".*", re.DOTALL)

    def ack_and_ignore(ack: Ack, body: dict) -> None:
        ack()
        log.debug("Ignored a %s request", body.get("type") or body.get("command"))

    from bot.slack.listeners.commands import study_listeners

    # The study command under another name (e.g. /study-dev in a second workspace) works the same.
    app.command(anything)(**study_listeners(deps))
    app.event(anything)(ack_and_ignore)
    app.action(anything)(ack_and_ignore)
    app.view(anything)(ack_and_ignore)
    app.view({"type": "view_closed", "callback_id": anything})(ack_and_ignore)
    app.options(anything)(ack_and_ignore)
    app.shortcut(anything)(ack_and_ignore)
