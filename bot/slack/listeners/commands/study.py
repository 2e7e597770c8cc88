"""The `/study` slash command (under any name it is installed as): ack, then the subcommand.

The ack is the subcommand's `on_ack` reply (a usage line, the help, "searching…") or empty; its
`work` runs after the ack on the worker pool, once per payload: a replayed request (the same
body again) is acknowledged but not run twice. Text that names no subcommand is a question; an
empty command gets the help.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.records import RecordsUnavailable
from bot.slack.commands import AckReply, CommandRequest, help_reply, parse
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
    if sub is None or sub.work is None or not first_delivery(deps, command, req):
        return
    try:
        sub.work(req, deps, client, respond)
    except Exception:
        log.exception("Request %s: %s %s failed", req.request_id, req.command, req.name)


def first_delivery(deps: SlackDeps, command: dict, req: CommandRequest) -> bool:
    """False for a replay of a payload already run (across replicas)."""
    try:
        if deps.service.claim_command(command, req.channel_id):
            return True
    except RecordsUnavailable as e:  # run it: the subcommand tells the user what is down
        log.warning("Request %s: replays cannot be checked: %s", req.request_id, e)
        return True
    log.info("Request %s: replayed %s %s ignored", req.request_id, req.command, req.name)
    return False


def study_listener(deps: SlackDeps) -> Callable[..., None]:
    """The listener for the study command: `study_ack`, then `run_study`."""
    return ack_then(deps, run_study, reply=study_ack)
