"""Slash commands: `/study` and its subcommands (the routing table is `bot.slack.commands`).

A new subcommand is a `Subcommand` in its module, added to the list in `subcommands` below;
help lists them in that order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack.commands import COMMAND, Subcommand
from bot.slack.listeners.commands.ask import ASK, HELP
from bot.slack.listeners.commands.daily import daily_subcommand
from bot.slack.listeners.commands.exam_guide import EXAM_GUIDE
from bot.slack.listeners.commands.nudges import LEADERBOARD, REMIND
from bot.slack.listeners.commands.quiz import EXAM, QUIZ
from bot.slack.listeners.commands.stats import ME, LeadCheck, stats_subcommand
from bot.slack.listeners.commands.study import study_listener

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.slack.deps import SlackDeps


def subcommands(deps: SlackDeps) -> list[Subcommand]:
    """Every `/study` subcommand, in the order help lists them."""
    subs = [ASK, HELP, QUIZ, EXAM]
    if deps.daily is not None:
        subs.append(daily_subcommand(deps.daily))
    subs += [REMIND, LEADERBOARD]
    subs += [stats_subcommand(LeadCheck(deps.service.settings.lead_user_ids)), ME, EXAM_GUIDE]
    return subs


def register(app: App, deps: SlackDeps) -> None:
    for sub in subcommands(deps):
        if sub.name not in deps.commands:
            deps.commands.add(sub)
    app.command(COMMAND)(study_listener(deps))
