"""`app_mention`: answer in the thread (a new one under the mention, or the one it is in)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack.listeners import asking

if TYPE_CHECKING:
    from slack_bolt import Ack, App, BoltContext
    from slack_sdk import WebClient

    from bot.slack.listeners import SlackDeps


def from_a_person(event: dict) -> bool:
    return not event.get("bot_id") and bool(event.get("user"))


def register(app: App, deps: SlackDeps) -> None:
    def ack_mention(ack: Ack) -> None:
        ack()

    def answer_mention(body: dict, event: dict, context: BoltContext, client: WebClient) -> None:
        event_id = body.get("event_id")
        channel, ts = event["channel"], event["ts"]
        thread_ts = event.get("thread_ts")
        reply_to = thread_ts or ts
        if not asking.claim(
            client, deps, event_id=event_id, channel_id=channel, ts=ts, reply_thread_ts=reply_to
        ):
            return
        question = asking.Question(
            text=asking.strip_mentions(event.get("text", ""), context.bot_user_id, leading=True),
            user_id=event["user"],
            channel_id=channel,
            request_id=event_id or ts,
            reply_thread_ts=reply_to,
            context_thread_ts=thread_ts,
            source_ts=ts,
            bot_user_id=context.bot_user_id,
        )
        asking.answer(client, deps, question)

    app.event("app_mention", matchers=[from_a_person])(ack=ack_mention, lazy=[answer_mention])
