"""Actions: 👍/👎 (and why) under answers, Share buttons, the quiz's answer buttons and the
App Home's quiz buttons."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.slack.blocks import FEEDBACK_DOWN, FEEDBACK_UP, REASON_PREFIX, SHARE_ANSWER
from bot.slack.deps import ack_then
from bot.slack.listeners.actions.feedback import save_feedback, save_reason
from bot.slack.listeners.actions.quiz_answers import ANSWER, SLOT, grade_click
from bot.slack.listeners.actions.quiz_domains import QUIZ_DOMAIN, quiz_domain, review_now
from bot.slack.listeners.actions.sharing import share_answer, share_result
from bot.slack.nudge_blocks import REVIEW_NOW
from bot.slack.quiz_blocks import ARRANGE_SUBMIT, PICK, SHARE_RESULT, SUBMIT

if TYPE_CHECKING:
    from slack_bolt import Ack, App

    from bot.slack.deps import SlackDeps

REASON = re.compile(rf"^{REASON_PREFIX}[a-z_]+$")


def ack_only(ack: Ack) -> None:
    ack()


def register(app: App, deps: SlackDeps) -> None:
    for action_id in (FEEDBACK_UP, FEEDBACK_DOWN):
        app.action(action_id)(ack_then(deps, save_feedback))
    app.action(REASON)(ack_then(deps, save_reason))
    app.action(SHARE_ANSWER)(ack_then(deps, share_answer))
    app.action(SHARE_RESULT)(ack_then(deps, share_result))
    app.action(QUIZ_DOMAIN)(ack_then(deps, quiz_domain))
    app.action(REVIEW_NOW)(ack_then(deps, review_now))
    app.action(ANSWER)(ack_then(deps, grade_click))
    app.action(SUBMIT)(ack_then(deps, grade_click))
    app.action(ARRANGE_SUBMIT)(ack_then(deps, grade_click))
    app.action(PICK)(ack_only)  # ticking a checkbox: nothing to do until Submit
    app.action(SLOT)(ack_only)  # picking in a select menu (ordering, matching): the same
