"""`app_home_opened`: publish the learner's App Home (see `bot.slack.home`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack.home import publish_home

if TYPE_CHECKING:
    from slack_bolt import BoltContext
    from slack_sdk import WebClient

    from bot.slack.deps import SlackDeps


def show_home(deps: SlackDeps, event: dict, context: BoltContext, client: WebClient) -> None:
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    publish_home(client, event["user"], deps, bot_user_id=context.bot_user_id)
