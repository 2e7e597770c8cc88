"""`/study remind on HH:MM [Area/City] | off | status` and `/study leaderboard [on [HH:MM]
[Area/City] | off]`: the learner's review reminder and the channel's weekly leaderboard.

Both are opt-in and kept by the service; `bot.nudges.NudgeDriver` (started by `studybot serve`)
sends and posts them, each once across replicas.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.daily import ScheduleError
from bot.leaderboard import (
    DEFAULT_TIME,
    MIN_ANSWERS,
    LeaderboardCommand,
    LeaderboardSetting,
    parse_leaderboard_command,
)
from bot.records import RecordsUnavailable
from bot.reminders import RemindCommand, ReminderSetting, parse_remind_command
from bot.slack.asking import RECORDS_DOWN
from bot.slack.commands import AckReply, CommandRequest, Subcommand
from bot.slack.listeners.commands.daily import user_timezone
from bot.slack.membership import ensure_member
from bot.slack.nudge_blocks import leaderboard_blocks, leaderboard_text
from bot.slack.replies import respond_to

if TYPE_CHECKING:
    from slack_bolt.context.respond import Respond
    from slack_sdk import WebClient

    from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)

REMIND_ON = (
    "🔔 I'll DM you at {when} on days when reviews are due (at most once a day){note}. "
    "`/study remind off` stops it."
)
REMIND_OFF = "🔕 Review reminders are off. `/study remind on 08:00` turns them back on."
REMIND_NONE = (
    "You have no review reminder. `/study remind on 08:00` sends one on days reviews are due."
)
BOARD_ON = (
    "🏆 <@{user}> turned on a weekly leaderboard here: {when}. It ranks learners with at least "
    "{min} quiz answers in this channel that week, by accuracy. `/study leaderboard off` stops it."
)
IN_A_CHANNEL = "Leaderboards are per channel: run `/study leaderboard` in the study channel."


def _parse_ack(
    parse: Callable[[str], object],
) -> Callable[[CommandRequest, SlackDeps], AckReply | None]:
    def ack(req: CommandRequest, deps: SlackDeps) -> AckReply | None:
        try:
            parse(req.args)
        except ScheduleError as e:
            return {"response_type": "ephemeral", "text": str(e)}
        return None

    return ack


# --------------------------------------------------------------------------- /study remind


def _remind_work(req: CommandRequest, deps: SlackDeps, client: WebClient, respond: Respond) -> None:
    try:
        cmd = parse_remind_command(req.args)
    except ScheduleError:
        return  # the ack said so
    try:
        text = _remind(cmd, req, deps, client)
    except RecordsUnavailable as e:
        log.error("Request %s: remind %s failed: %s", req.request_id, cmd.action, e)
        text = RECORDS_DOWN
    respond_to(respond, req.request_id, text=text)


def _remind(cmd: RemindCommand, req: CommandRequest, deps: SlackDeps, client: WebClient) -> str:
    if cmd.action == "off":
        deps.service.disable_reminder(req.user_id)
        return REMIND_OFF
    if cmd.action == "status":
        setting = deps.service.reminder(req.user_id)
        if setting is None or not setting.enabled:
            return REMIND_NONE
        return f"🔔 Review reminders are on: {setting.describe()}. `/study remind off` stops them."
    timezone = cmd.timezone or user_timezone(client, req.user_id)
    setting = ReminderSetting(req.user_id, cmd.time_of_day or "08:00", timezone)
    deps.service.save_reminder(setting)
    note = "" if cmd.timezone else ", your Slack timezone"
    return REMIND_ON.format(when=setting.describe(), note=note)


REMIND = Subcommand(
    "remind",
    "remind on HH:MM [Area/City] | off",
    "A DM at your time on days when quiz reviews are due (at most once a day).",
    _parse_ack(parse_remind_command),
    _remind_work,
)


# --------------------------------------------------------------------------- /study leaderboard


def _board_work(req: CommandRequest, deps: SlackDeps, client: WebClient, respond: Respond) -> None:
    try:
        cmd = parse_leaderboard_command(req.args)
    except ScheduleError:
        return  # the ack said so
    if not req.channel_id or req.channel_id.startswith("D"):
        respond_to(respond, req.request_id, text=IN_A_CHANNEL)
        return
    try:
        _board(cmd, req, deps, client, respond)
    except RecordsUnavailable as e:
        log.error("Request %s: leaderboard %s failed: %s", req.request_id, cmd.action, e)
        respond_to(respond, req.request_id, text=RECORDS_DOWN)


def _board(
    cmd: LeaderboardCommand,
    req: CommandRequest,
    deps: SlackDeps,
    client: WebClient,
    respond: Respond,
) -> None:
    if cmd.action == "show":
        board = deps.service.leaderboard(req.channel_id)
        blocks = leaderboard_blocks(board, weekly=False)
        respond_to(respond, req.request_id, text=leaderboard_text(board), blocks=blocks)
        return
    if cmd.action == "off":
        if deps.service.disable_leaderboard(req.channel_id):
            text = f"<@{req.user_id}> turned the weekly leaderboard off for this channel."
            respond_to(respond, req.request_id, text=text, in_channel=True)
        else:
            respond_to(respond, req.request_id, text="The weekly leaderboard was not on here.")
        return
    member = ensure_member(client, req.channel_id, request_id=req.request_id)
    if not member.can_post:
        text = f"{member.note} (The weekly leaderboard is not turned on.)"
        respond_to(respond, req.request_id, text=text)
        return
    timezone = cmd.timezone or user_timezone(client, req.user_id)
    setting = LeaderboardSetting(
        req.channel_id, cmd.time_of_day or DEFAULT_TIME, timezone, True, req.user_id
    )
    deps.service.save_leaderboard(setting)
    text = BOARD_ON.format(user=req.user_id, when=setting.describe(), min=MIN_ANSWERS)
    respond_to(respond, req.request_id, text=f"{text} {member.note or ''}".strip(), in_channel=True)


LEADERBOARD = Subcommand(
    "leaderboard",
    "leaderboard [on [HH:MM] [Area/City] | off]",
    "This channel's leaderboard (7 days, by accuracy); `on` posts it every Monday.",
    _parse_ack(parse_leaderboard_command),
    _board_work,
)
