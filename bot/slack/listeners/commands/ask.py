"""`/study ask <question>` (answered in a new thread in the channel) and `/study help`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack import asking
from bot.slack.commands import AckReply, CommandRequest, Subcommand, help_reply
from bot.slack.mrkdwn import escape

if TYPE_CHECKING:
    from slack_bolt.context.respond import Respond
    from slack_sdk import WebClient

    from bot.slack.deps import SlackDeps

HEADING_QUESTION_CHARS = 500


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
