"""`/study ask <question>` (or just `/study <question>`) and `/study help`.

A slash command's answer is private: the ack says it is searching, and the answer comes through
the command's response URL to the asker only, with a "Share in channel" button
(`bot.slack.listeners.actions.sharing`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack import asking
from bot.slack.blocks import asked_heading, fit_blocks
from bot.slack.commands import AckReply, CommandRequest, Subcommand, help_reply

if TYPE_CHECKING:
    from slack_bolt.context.respond import Respond
    from slack_sdk import WebClient

    from bot.slack.deps import SlackDeps

SEARCHING = "🔎 Searching the study guide…"


def _help_ack(req: CommandRequest, deps: SlackDeps) -> AckReply:
    return help_reply(req, deps)


def _ask_ack(req: CommandRequest, deps: SlackDeps) -> AckReply:
    if not req.args:
        return {
            "response_type": "ephemeral",
            "text": f"Usage: `{req.command} <your question>`, e.g. "
            f"`{req.command} What is SageMaker Autopilot?`",
        }
    blocks = fit_blocks([asked_heading(SEARCHING, req.args)])
    return {"response_type": "ephemeral", "text": SEARCHING, "blocks": blocks}


def _ask_work(req: CommandRequest, deps: SlackDeps, client: WebClient, respond: Respond) -> None:
    if not req.args:
        return
    question = asking.Question(
        text=req.args,
        user_id=req.user_id,
        channel_id=req.channel_id,
        request_id=req.request_id,
        bot_user_id=req.bot_user_id,
        team_id=req.team_id,
        private=True,
    )
    asking.answer(client, deps, question, respond=respond)


ASK = Subcommand(
    "ask",
    "<question>   (or: ask <question>)",
    "Ask a question about the study material; only you see the answer, and you can share it.",
    _ask_ack,
    _ask_work,
)
HELP = Subcommand("help", "help", "Show this help.", _help_ack)
