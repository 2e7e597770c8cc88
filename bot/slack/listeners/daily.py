"""`/study daily on|off|status` and the question-of-the-day driver with the app's Web API client.

The driver (`bot.daily.DailyDriver`) is built here and put on `deps.background`; `studybot serve`
starts it (see `bot.slack.runner.serve`), tests start it themselves. It posts through
`slack_poster`: chat.postMessage with the question and the previous post's recap.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackClientError

from bot.daily import (
    DailyDriver,
    PostFn,
    Schedule,
    ScheduleError,
    parse_command,
    parse_timezone,
)
from bot.quiz_service import DailyRecap, ShownQuestion
from bot.records import RecordsUnavailable
from bot.slack.listeners.asking import RECORDS_DOWN
from bot.slack.listeners.commands import CommandRequest, Subcommand
from bot.slack.listeners.quiz import QUIZ_OFF, quiz_service
from bot.slack.quiz_blocks import daily_blocks, question_fallback

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_bolt.context.respond import Respond
    from slack_sdk import WebClient

    from bot.slack.listeners import SlackDeps

log = logging.getLogger(__name__)

DEFAULT_TIMEZONE = "UTC"
TURN_ON = "Turn it on with `/study daily on 09:00 Europe/Berlin` (add `weekdays` for Mon–Fri)."


def slack_poster(client: WebClient) -> PostFn:
    """The driver's `post`: the question of the day (with the recap) as a channel message."""

    def post(shown: ShownQuestion, recap: DailyRecap | None) -> str | None:
        resp = client.chat_postMessage(
            channel=shown.channel_id,
            text=question_fallback(shown),
            blocks=daily_blocks(shown, recap),
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(resp["ts"])

    return post


def when(moment: datetime | None, schedule: Schedule) -> str:
    if moment is None:
        return "not scheduled"
    return moment.astimezone(schedule.tz).strftime("%a %d %b %Y, %H:%M %Z")


def _user_timezone(client: WebClient, user_id: str) -> str:
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


def register(app: App, deps: SlackDeps) -> None:
    driver = DailyDriver(deps.records, lambda: quiz_service(deps), slack_poster(app.client))
    deps.background.append(driver)

    def on_ack(req: CommandRequest, _deps: SlackDeps) -> dict | None:
        try:
            parse_command(req.args)
        except ScheduleError as e:
            return {"response_type": "ephemeral", "text": str(e)}
        return None  # the reply comes from `work`, after the database

    def work(req: CommandRequest, _deps: SlackDeps, client: WebClient, respond: Respond) -> None:
        try:
            cmd = parse_command(req.args)
        except ScheduleError:
            return  # the ack said so
        try:
            reply = _apply(cmd, req, client)
        except RecordsUnavailable as e:
            log.error("Request %s: daily %s failed: %s", req.request_id, cmd.action, e)
            reply = {"response_type": "ephemeral", "text": RECORDS_DOWN}
        try:
            respond(replace_original=False, **reply)
        except Exception as e:  # the webhook client raises plain exceptions
            log.error("Request %s: response_url reply failed: %s", req.request_id, e)

    def _apply(cmd, req: CommandRequest, client: WebClient) -> dict:
        channel = req.channel_id
        if cmd.action == "status":
            schedule = driver.store.get(channel)
            if schedule is None or not schedule.enabled:
                text = f"The question of the day is off in this channel. {TURN_ON}"
            else:
                text = (
                    f"The question of the day is on: {schedule.describe()}. "
                    f"Next: {when(driver.next_run(channel), schedule)}."
                )
            return {"response_type": "ephemeral", "text": text}
        if cmd.action == "off":
            was_on = driver.store.disable(channel)
            driver.refresh(channel)
            if not was_on:
                return {
                    "response_type": "ephemeral",
                    "text": f"The question of the day was already off here. {TURN_ON}",
                }
            return {
                "response_type": "in_channel",
                "text": f"<@{req.user_id}> turned the question of the day off for this channel.",
            }
        if quiz_service(deps) is None:
            return {"response_type": "ephemeral", "text": QUIZ_OFF}
        timezone = cmd.timezone or _user_timezone(client, req.user_id)
        schedule = Schedule(channel, cmd.time_of_day, timezone, cmd.weekdays_only)
        driver.store.save(schedule, req.user_id)
        driver.refresh(channel)
        note = "" if cmd.timezone else " (your Slack timezone; add one to the command to change it)"
        return {
            "response_type": "in_channel",
            "text": (
                f"📅 <@{req.user_id}> set a question of the day here: {schedule.describe()}"
                f"{note}. First one: {when(driver.next_run(channel), schedule)}."
            ),
        }

    if "daily" not in deps.commands:
        deps.commands.add(
            Subcommand(
                "daily",
                "daily on HH:MM [Area/City] [weekdays] | off | status",
                "A question of the day in this channel, at its own time and timezone.",
                on_ack,
                work,
            )
        )
