"""The `/study` slash command (under any name it is installed as): ack, then the subcommand.

The ack is the subcommand's `on_ack` reply (a usage line, the help, "searching…") or empty; its
`work` runs after the ack on the worker pool. Text that names no subcommand is a question; an
empty command gets the help.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.slack.commands import AckReply, help_reply, parse
from bot.slack.deps import ack_then

if TYPE_CHECKING:
    from slack_bolt import BoltContext
    from slack_bolt.context.respond import Respond
    from slack_sdk import WebClient

    from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)


def study_ack(deps: SlackDeps, command: dict, context: BoltContext) -> AckReply | None:
    """What the ack carries: the help for an empty command, else the subcommand's `on_ack`."""
    sub, req = deps.commands.resolve(parse(command, context))
    if sub is None:
        return help_reply(req, deps)
    return sub.on_ack(req, deps) if sub.on_ack else None


def run_study(
    deps: SlackDeps, command: dict, context: BoltContext, client: WebClient, respond: Respond
) -> None:
    """The subcommand's work, after the ack."""
    sub, req = deps.commands.resolve(parse(command, context))
    if sub is None or sub.work is None:
        return
    try:
        sub.work(req, deps, client, respond)
    except Exception:
        log.exception("Request %s: %s %s failed", req.request_id, req.command, req.name)


def study_listener(deps: SlackDeps) -> Callable[..., None]:
    """The listener for the study command: `study_ack`, then `run_study`."""
    return ack_then(deps, run_study, reply=study_ack)
