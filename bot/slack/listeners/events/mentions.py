"""`app_mention`: answer in the thread (a new one under the mention, or the one it is in)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack import asking

if TYPE_CHECKING:
    from slack_bolt import BoltContext
    from slack_sdk import WebClient

    from bot.slack.deps import SlackDeps


def from_a_person(event: dict) -> bool:
    return not event.get("bot_id") and bool(event.get("user"))


def answer_mention(
    deps: SlackDeps, body: dict, event: dict, context: BoltContext, client: WebClient
) -> None:
    thread_ts = event.get("thread_ts")
    asking.answer_event(
        client,
        deps,
        event,
        event_id=body.get("event_id"),
        bot_user_id=context.bot_user_id,
        reply_thread_ts=thread_ts or event["ts"],
        context_thread_ts=thread_ts,
        leading_mention=True,
        team_id=body.get("team_id") or context.team_id,
    )
