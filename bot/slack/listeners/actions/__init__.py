"""Actions: 👍/👎 under answers, the quiz's answer buttons and the App Home's quiz buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack.blocks import FEEDBACK_DOWN, FEEDBACK_UP
from bot.slack.deps import ack_then
from bot.slack.listeners.actions.feedback import save_feedback
from bot.slack.listeners.actions.quiz_answers import ANSWER, grade_click
from bot.slack.listeners.actions.quiz_domains import QUIZ_DOMAIN, quiz_domain
from bot.slack.quiz_blocks import PICK, SUBMIT

if TYPE_CHECKING:
    from slack_bolt import Ack, App

    from bot.slack.deps import SlackDeps


def ack_only(ack: Ack) -> None:
    ack()


def register(app: App, deps: SlackDeps) -> None:
    for action_id in (FEEDBACK_UP, FEEDBACK_DOWN):
        app.action(action_id)(ack_then(deps, save_feedback))
    app.action(QUIZ_DOMAIN)(ack_then(deps, quiz_domain))
    app.action(ANSWER)(ack_then(deps, grade_click))
    app.action(SUBMIT)(ack_then(deps, grade_click))
    app.action(PICK)(ack_only)  # ticking a checkbox: nothing to do until Submit
