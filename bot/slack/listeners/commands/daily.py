"""`/study daily on|off|status`: the channel's question-of-the-day schedule.

The schedule is kept by the service (`StudyService.daily_schedule` and friends); the scheduler
(`bot.daily.DailyDriver`, built by `create_app` and started by `studybot serve`) is refreshed
after each change so the next run follows it. `on` first makes sure the bot can post in the
channel (`bot.slack.membership`): it joins a public channel, and in a private one it is not in
it says to invite it instead of saving a schedule that could never post.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackClientError

from bot.daily import (
    DailyCommand,
    DailyDriver,
    Schedule,
    ScheduleError,
    parse_command,
    parse_timezone,
)
from bot.records import RecordsUnavailable
from bot.slack.asking import RECORDS_DOWN
from bot.slack.commands import AckReply, CommandRequest, Subcommand
from bot.slack.membership import ensure_member
from bot.slack.replies import respond_to

if TYPE_CHECKING:
    from slack_bolt.context.respond import Respond
    from slack_sdk import WebClient

    from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)

DEFAULT_TIMEZONE = "UTC"
TURN_ON = "Turn it on with `/study daily on 09:00 Europe/Berlin` (add `weekdays` for Mon–Fri)."


def when(moment: datetime | None, schedule: Schedule) -> str:
    if moment is None:
        return "not scheduled"
    return moment.astimezone(schedule.tz).strftime("%a %d %b %Y, %H:%M %Z")


def user_timezone(client: WebClient, user_id: str) -> str:
    """The Slack profile's timezone of whoever typed the command (UTC when unknown)."""
    try:
        tz = client.users_info(user=user_id)["user"].get("tz")
    except (SlackClientError, OSError, KeyError, TypeError) as e:
        log.info("No timezone for %s (%s); using %s", user_id, e, DEFAULT_TIMEZONE)
        return DEFAULT_TIMEZONE
    try:
        return parse_timezone(tz) if tz else DEFAULT_TIMEZONE
    except ScheduleError:
        return DEFAULT_TIMEZONE


def _daily_ack(req: CommandRequest, deps: SlackDeps) -> AckReply | None:
    try:
        parse_command(req.args)
    except ScheduleError as e:
        return {"response_type": "ephemeral", "text": str(e)}
    return None  # the reply comes from `work`, after the database


def _daily_work(
    driver: DailyDriver, req: CommandRequest, deps: SlackDeps, client: WebClient, respond: Respond
) -> None:
    try:
        cmd = parse_command(req.args)
    except ScheduleError:
        return  # the ack said so
    try:
        text, in_channel = _apply(cmd, req, deps, driver, client)
    except RecordsUnavailable as e:
        log.error("Request %s: daily %s failed: %s", req.request_id, cmd.action, e)
        text, in_channel = RECORDS_DOWN, False
    respond_to(respond, req.request_id, text=text, in_channel=in_channel)


def _apply(
    cmd: DailyCommand, req: CommandRequest, deps: SlackDeps, driver: DailyDriver, client: WebClient
) -> tuple[str, bool]:
    """Do what the command says; (the reply, whether the channel sees it)."""
    channel = req.channel_id
    if cmd.action == "status":
        schedule = deps.service.daily_schedule(channel)
        if schedule is None or not schedule.enabled:
            return f"The question of the day is off in this channel. {TURN_ON}", False
        return (
            f"The question of the day is on: {schedule.describe()}. "
            f"Next: {when(driver.next_run(channel), schedule)}."
        ), False
    if cmd.action == "off":
        was_on = deps.service.disable_daily(channel)
        driver.refresh(channel)
        if not was_on:
            return f"The question of the day was already off here. {TURN_ON}", False
        return f"<@{req.user_id}> turned the question of the day off for this channel.", True
    member = ensure_member(client, channel, request_id=req.request_id)
    if not member.can_post:
        return f"{member.note} (The question of the day is not turned on.)", False
    timezone = cmd.timezone or user_timezone(client, req.user_id)
    schedule = Schedule(channel, cmd.time_of_day, timezone, cmd.weekdays_only)
    deps.service.save_daily_schedule(schedule, req.user_id)
    driver.refresh(channel)
    note = "" if cmd.timezone else " (your Slack timezone; add one to the command to change it)"
    joined = f" {member.note}" if member.note else ""
    return (
        f"📅 <@{req.user_id}> set a question of the day here: {schedule.describe()}"
        f"{note}. First one: {when(driver.next_run(channel), schedule)}.{joined}"
    ), True


def daily_subcommand(driver: DailyDriver) -> Subcommand:
    """`/study daily`, refreshing `driver` after each change."""
    return Subcommand(
        "daily",
        "daily on HH:MM [Area/City] [weekdays] | off | status",
        "A question of the day in this channel, at its own time and timezone.",
        _daily_ack,
        partial(_daily_work, driver),
    )
