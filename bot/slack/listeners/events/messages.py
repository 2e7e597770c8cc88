"""`message`: DMs, and follow-ups without a mention in a thread the bot answered in.

A reply in a channel thread is addressed to the bot only when it comes from the person the bot
last answered there, soon after that answer (`StudyService.is_follow_up`): "I picked C" under
the question of the day, or a colleague's reply under an answer, gets no answer. To ask the bot
anything else in a thread, mention it (the `app_mention` listener answers those). Threads in the
bot's DM (the agent panel's threads included) are answered by `bot.slack.listeners.events.
assistant`.

Ignored: other bots, edits and other subtypes, the bot's own messages, top-level channel chatter,
and channel messages that mention the bot.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.records import RecordsUnavailable
from bot.slack import asking

if TYPE_CHECKING:
    from slack_bolt import BoltContext
    from slack_sdk import WebClient

    from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)

# Human messages; every other subtype (bot_message, message_changed, message_deleted,
# channel_join, ...) is ignored.
HUMAN_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})


def wanted(event: dict, context: BoltContext) -> bool:
    """Cheap checks made before acknowledging; the thread lookup happens after."""
    if event.get("bot_id") or event.get("subtype") not in HUMAN_SUBTYPES:
        return False
    user = event.get("user")
    if not user or user == context.bot_user_id:
        return False
    if event.get("channel_type") == "im":
        return True
    thread_ts = event.get("thread_ts")
    if not thread_ts or thread_ts == event.get("ts"):
        return False  # top-level channel message without a mention: not for us
    return not asking.mentions(event.get("text", ""), context.bot_user_id)


def answer_message(
    deps: SlackDeps, body: dict, event: dict, context: BoltContext, client: WebClient
) -> None:
    event_id = body.get("event_id")
    channel, thread_ts = event["channel"], event.get("thread_ts")
    if event.get("channel_type") != "im":
        try:
            if not deps.service.is_follow_up(channel, thread_ts, event["user"]):
                log.debug("Event %s: a reply in %s not addressed to me", event_id, thread_ts)
                return
        except RecordsUnavailable as e:
            log.error("Event %s: is %s a follow-up? %s", event_id, thread_ts, e)
            return
    asking.answer_event(
        client,
        deps,
        event,
        event_id=event_id,
        bot_user_id=context.bot_user_id,
        reply_thread_ts=thread_ts,
        context_thread_ts=thread_ts,
        team_id=body.get("team_id") or context.team_id,
    )
