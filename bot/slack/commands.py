"""`/study <subcommand> ...`: the routing table of subcommands. No Bolt registration here.

Text that names no subcommand is a question (`/study what does Neo do?` is `/study ask …`).

A subcommand has an optional `on_ack` (runs before Slack's 3-second deadline; may return the
ephemeral reply) and an optional `work` (runs after the ack, on the worker pool). The
subcommands are listed in `bot.slack.listeners.commands`; help shows what the table holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from bot.slack.blocks import help_blocks, help_text
from bot.slack.mrkdwn import unescape

if TYPE_CHECKING:
    from slack_bolt import BoltContext
    from slack_bolt.context.respond import Respond
    from slack_sdk import WebClient

    from bot.slack.deps import SlackDeps

COMMAND = "/study"
QUESTION = "ask"  # the subcommand that answers text naming no subcommand

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
    text: str = ""  # the whole command text (unescaped): a question when it names no subcommand
    team_id: str | None = None


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

    def resolve(self, req: CommandRequest) -> tuple[Subcommand | None, CommandRequest]:
        """The subcommand `req` names; text that names none is a question for `ask`
        (`/study what does Neo do?`). (None, req) for an empty command (the help)."""
        sub = self._table.get(req.name)
        if sub is not None or not req.name:
            return sub, req
        return self._table.get(QUESTION), replace(req, name=QUESTION, args=req.text)

    def entries(self) -> list[tuple[str, str]]:
        """(usage, summary) for help, in registration order."""
        return [(s.usage, s.summary) for s in self._order]


def parse(command: dict, context: BoltContext | None = None) -> CommandRequest:
    """A slash command payload as a CommandRequest (the first word is the subcommand)."""
    text = (command.get("text") or "").strip()
    name, _, args = text.partition(" ")
    if "\n" in name:  # "ask\nquestion on the next line"
        name, _, rest = name.partition("\n")
        args = f"{rest} {args}".strip()
    return CommandRequest(
        command=command.get("command") or COMMAND,
        name=name.lower(),
        args=unescape(args).strip(),
        user_id=command.get("user_id", ""),
        channel_id=command.get("channel_id", ""),
        request_id=command.get("trigger_id") or "",
        bot_user_id=context.bot_user_id if context is not None else None,
        text=unescape(text).strip(),
        team_id=command.get("team_id"),
    )


def help_reply(req: CommandRequest, deps: SlackDeps, *, intro: str | None = None) -> AckReply:
    """The help as an ephemeral ack: every subcommand in the table, mentions and DMs."""
    blocks = help_blocks(
        deps.commands.entries(), command=req.command, bot_user_id=req.bot_user_id, intro=intro
    )
    return {"response_type": "ephemeral", "text": help_text(req.command), "blocks": blocks}
