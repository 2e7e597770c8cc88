"""Events: mentions, messages (DMs and thread follow-ups), the agent panel (Bolt's `Assistant`)
and the App Home being opened."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack.deps import ack_then
from bot.slack.listeners.events.assistant import build_assistant
from bot.slack.listeners.events.home_opened import show_home
from bot.slack.listeners.events.mentions import answer_mention, from_a_person
from bot.slack.listeners.events.messages import answer_message, wanted

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.slack.deps import SlackDeps


def register(app: App, deps: SlackDeps) -> None:
    # The Assistant middleware runs first: it takes assistant_thread_* events and messages in
    # threads of the bot's DM; everything else goes on to the listeners below.
    app.assistant(build_assistant(deps))
    app.event("app_mention", matchers=[from_a_person])(ack_then(deps, answer_mention))
    app.event("message", matchers=[wanted])(ack_then(deps, answer_message))
    app.event("app_home_opened")(ack_then(deps, show_home))
