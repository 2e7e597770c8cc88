"""`app_home_opened`: the Home tab shows how to use the bot (the same help as `/study help`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackClientError
from slack_sdk.models.views import View

from bot.slack.blocks import help_blocks

if TYPE_CHECKING:
    from slack_bolt import Ack, App, BoltContext
    from slack_sdk import WebClient

    from bot.slack.listeners import SlackDeps

log = logging.getLogger(__name__)


def register(app: App, deps: SlackDeps) -> None:
    def ack_home(ack: Ack) -> None:
        ack()

    def publish_home(body: dict, event: dict, context: BoltContext, client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        blocks = help_blocks(deps.commands.entries(), bot_user_id=context.bot_user_id)
        try:
            client.views_publish(user_id=event["user"], view=View(type="home", blocks=blocks))
        except (SlackClientError, OSError) as e:
            log.error("Event %s: Home tab not published: %s", body.get("event_id"), e)

    app.event("app_home_opened")(ack=ack_home, lazy=[publish_home])
