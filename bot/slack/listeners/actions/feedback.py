"""👍/👎 buttons under answers: one record per (ask, user), then an ephemeral thanks."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.records import RecordsUnavailable
from bot.slack.blocks import FEEDBACK_UP
from bot.slack.replies import post_ephemeral

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)

THANKS = "Thanks for the feedback! It helps improve the answers."
NOT_SAVED = "Sorry, I couldn't save your feedback right now. Please try again later."


def save_feedback(deps: SlackDeps, body: dict, action: dict, client: WebClient) -> None:
    user = (body.get("user") or {}).get("id")
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    request_id = body.get("trigger_id") or action.get("action_ts")
    value = 1 if action.get("action_id") == FEEDBACK_UP else -1
    try:
        ask_id = int(action.get("value", ""))
    except ValueError:
        log.warning("Request %s: feedback button without an ask id", request_id)
        return
    try:
        deps.service.record_feedback(ask_id, user, value)
        text = THANKS
    except ValueError as e:
        log.warning("Request %s: feedback not recorded: %s", request_id, e)
        return
    except RecordsUnavailable as e:
        log.error("Request %s: feedback not recorded: %s", request_id, e)
        text = NOT_SAVED
    thread_ts = (body.get("message") or {}).get("thread_ts")
    post_ephemeral(client, channel, user, text, request_id=request_id, thread_ts=thread_ts)
