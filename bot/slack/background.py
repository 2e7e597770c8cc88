"""The app's scheduled helpers, wired to Slack: the question of the day and the nudges.

`build_background` builds them for `create_app`: `DailyDriver` posts each channel's question
(and DMs whoever turned it on when a post fails); `NudgeDriver` DMs review reminders and posts
weekly leaderboards. `studybot serve` starts them (`bot.slack.app.background_of`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.daily import DailyDriver, Schedule
from bot.leaderboard import Standings
from bot.nudges import NudgeDriver
from bot.slack.nudge_blocks import (
    leaderboard_blocks,
    leaderboard_text,
    reminder_blocks,
    reminder_text,
)
from bot.slack.quiz_messages import slack_poster
from bot.slack.replies import open_dm

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.records import Records
    from bot.service import StudyService
    from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)

POST_FAILED_DM = (
    "⚠️ I couldn't post today's question of the day in <#{channel}>: {why} "
    "I'll try again a few times today. (`/study daily off` there stops it.)"
)


def daily_notifier(client: WebClient):
    """The scheduler's `notify`: a DM to whoever turned the question of the day on."""

    def notify(schedule: Schedule, why: str) -> None:
        if not schedule.created_by:
            return
        text = POST_FAILED_DM.format(channel=schedule.channel_id, why=why)
        client.chat_postMessage(channel=open_dm(client, schedule.created_by), text=text)

    return notify


def reminder_sender(client: WebClient):
    """The nudges' `send_reminder`: a DM with the number of reviews due and a Start button."""

    def send(user_id: str, due: int) -> bool:
        try:
            client.chat_postMessage(
                channel=open_dm(client, user_id),
                text=reminder_text(due),
                blocks=reminder_blocks(due),
            )
        except (SlackClientError, OSError, KeyError) as e:
            log.error("Reminder for %s not sent: %s", user_id, e)
            return False
        return True

    return send


def leaderboard_poster(client: WebClient):
    """The nudges' `post_leaderboard`: the week's standings in the channel."""

    def post(board: Standings) -> str | None:
        try:
            resp = client.chat_postMessage(
                channel=board.channel_id,
                text=leaderboard_text(board),
                blocks=leaderboard_blocks(board),
            )
        except SlackApiError as e:
            log.error("Leaderboard in %s not posted: %s", board.channel_id, e.response.get("error"))
            return None
        except (SlackClientError, OSError) as e:
            log.error("Leaderboard in %s not posted: %s", board.channel_id, e)
            return None
        return str(resp["ts"])

    return post


def build_background(
    client: WebClient, records: Records, service: StudyService, deps: SlackDeps
) -> None:
    """Build the scheduled helpers into `deps` (started later by `studybot serve`)."""
    deps.daily = DailyDriver(
        records, lambda: service, slack_poster(client), notify=daily_notifier(client)
    )
    nudges = NudgeDriver(records, reminder_sender(client), leaderboard_poster(client))
    deps.background += [deps.daily, nudges]
