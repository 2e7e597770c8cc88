"""`app_mention`: answer in the thread (a new one under the mention, or the one it is in)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack.listeners import ack_then, asking

if TYPE_CHECKING:
    from slack_bolt import App, BoltContext
    from slack_sdk import WebClient

    from bot.slack.listeners import SlackDeps


def from_a_person(event: dict) -> bool:
    return not event.get("bot_id") and bool(event.get("user"))


def register(app: App, deps: SlackDeps) -> None:
    def answer_mention(body: dict, event: dict, context: BoltContext, client: WebClient) -> None:
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
        )

    app.event("app_mention", matchers=[from_a_person])(ack_then(deps, answer_mention))
