"""`/study <subcommand> ...`: a routing table of subcommands.

A subcommand has an optional `on_ack` (runs before Slack's 3-second deadline; may return the
ephemeral reply) and an optional `work` (runs after the ack). Later features register theirs with
`deps.commands.add(Subcommand("quiz", ...))` in their listener module; help lists what exists.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.slack.blocks import help_blocks, help_text
from bot.slack.listeners import asking
from bot.slack.mrkdwn import escape

if TYPE_CHECKING:
    from slack_bolt import Ack, App, BoltContext
    from slack_bolt.context.respond import Respond
    from slack_sdk import WebClient

    from bot.slack.listeners import SlackDeps

log = logging.getLogger(__name__)

COMMAND = "/study"
HEADING_QUESTION_CHARS = 500

AckReply = dict[str, Any]  # keyword arguments for Bolt's ack(): text, blocks, response_type


@dataclass(frozen=True)
class CommandRequest:
    command: str  # "/study"
    name: str  # the subcommand, lower case ("" when none)
    args: str  # the rest of the text
    user_id: str
    channel_id: str
    request_id: str  # trigger id: every log line carries it
    bot_user_id: str | None = None


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str  # shown in help after the command, e.g. "ask <question>"
    summary: str
    on_ack: Callable[[CommandRequest, SlackDeps], AckReply | None] | None = None
    work: Callable[[CommandRequest, SlackDeps, WebClient, Respond], None] | None = None
    aliases: tuple[str, ...] = ()


class CommandRouter:
    """`{name: Subcommand}`; resolves the first word of the command text."""

    def __init__(self) -> None:
        self._table: dict[str, Subcommand] = {}
        self._order: list[Subcommand] = []

    def add(self, sub: Subcommand) -> None:
        names = (sub.name, *sub.aliases)
        taken = [n for n in names if n in self._table]
        if taken:
            raise ValueError(f"/study {taken[0]} is already registered")
        for n in names:
            self._table[n] = sub
        self._order.append(sub)

    def __contains__(self, name: str) -> bool:
        return name in self._table

    def get(self, name: str) -> Subcommand | None:
        return self._table.get(name)

    def entries(self) -> list[tuple[str, str]]:
        """(usage, summary) for help, in registration order."""
        return [(s.usage, s.summary) for s in self._order]


def parse(command: dict, context: BoltContext | None = None) -> CommandRequest:
    text = (command.get("text") or "").strip()
    name, _, args = text.partition(" ")
    if "\n" in name:  # "ask\nquestion on the next line"
        name, _, rest = name.partition("\n")
        args = f"{rest} {args}".strip()
    return CommandRequest(
        command=command.get("command") or COMMAND,
        name=name.lower(),
        args=asking.unescape(args).strip(),
        user_id=command.get("user_id", ""),
        channel_id=command.get("channel_id", ""),
        request_id=command.get("trigger_id") or "",
        bot_user_id=context.bot_user_id if context is not None else None,
    )


def help_reply(req: CommandRequest, deps: SlackDeps, *, intro: str | None = None) -> AckReply:
    blocks = help_blocks(
        deps.commands.entries(), command=req.command, bot_user_id=req.bot_user_id, intro=intro
    )
    return {"response_type": "ephemeral", "text": help_text(req.command), "blocks": blocks}


# --------------------------------------------------------------------------- built-ins


def _help_ack(req: CommandRequest, deps: SlackDeps) -> AckReply:
    return help_reply(req, deps)


def _ask_ack(req: CommandRequest, deps: SlackDeps) -> AckReply | None:
    if not req.args:
        return {
            "response_type": "ephemeral",
            "text": f"Usage: `{req.command} ask <your question>`, e.g. "
            f"`{req.command} ask What is SageMaker Autopilot?`",
        }
    return None  # an empty ack: the answer is posted to the channel


def _ask_work(req: CommandRequest, deps: SlackDeps, client: WebClient, respond: Respond) -> None:
    if not req.args:
        return
    shown = (
        req.args
        if len(req.args) <= HEADING_QUESTION_CHARS
        else (req.args[:HEADING_QUESTION_CHARS].rstrip() + " …")
    )
    quoted = "\n".join(f">{escape(line)}" for line in shown.splitlines() if line.strip())
    question = asking.Question(
        text=req.args,
        user_id=req.user_id,
        channel_id=req.channel_id,
        request_id=req.request_id,
        heading=f"<@{req.user_id}> asked:\n{quoted}",
        bot_user_id=req.bot_user_id,
    )
    asking.answer(client, deps, question, respond=respond)


ASK = Subcommand(
    "ask", "ask <question>", "Ask a question about the study material.", _ask_ack, _ask_work
)
HELP = Subcommand("help", "help", "Show this help.", _help_ack)


# --------------------------------------------------------------------------- listeners


def study_listeners(deps: SlackDeps) -> dict[str, Callable[..., None]]:
    """The ack and lazy functions for the study command (any name it is installed under)."""

    def ack_study(ack: Ack, command: dict, context: BoltContext) -> None:
        req = parse(command, context)
        sub = deps.commands.get(req.name)
        if sub is None:
            intro = f"I don't know `{escape(req.name)}`." if req.name else None
            ack(**help_reply(req, deps, intro=intro))
            return
        reply = sub.on_ack(req, deps) if sub.on_ack else None
        ack(**(reply or {}))

    def run_study(command: dict, context: BoltContext, client: WebClient, respond: Respond) -> None:
        req = parse(command, context)
        sub = deps.commands.get(req.name)
        if sub is None or sub.work is None:
            return
        try:
            sub.work(req, deps, client, respond)
        except Exception:
            log.exception("Request %s: %s %s failed", req.request_id, req.command, req.name)

    return {"ack": ack_study, "lazy": [run_study]}


def register(app: App, deps: SlackDeps) -> None:
    for sub in (ASK, HELP):
        if sub.name not in deps.commands:
            deps.commands.add(sub)
    app.command(COMMAND)(**study_listeners(deps))
