"""👍/👎 under answers, and the reason after a 👎. One record per (ask, user).

The buttons show they were clicked: under a public answer they count the votes (👍 2 · 👎 1),
under a private one they also highlight the learner's own choice. The thanks (and, after a 👎,
"What was wrong with it?" with wrong / not helpful / off-topic) go to the clicker only, through
the click's response URL. Leads read the reasons in `/study stats`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackClientError

from bot.records import RecordsUnavailable
from bot.slack.asking import RECORDS_DOWN
from bot.slack.blocks import (
    FEEDBACK_BLOCK,
    FEEDBACK_UP,
    REASON_PREFIX,
    REASONS,
    answer_blocks,
    answer_fallback,
    asked_heading,
    feedback_actions,
    reason_blocks,
)
from bot.slack.replies import ToClicker

if TYPE_CHECKING:
    from slack_bolt.context.respond import Respond
    from slack_sdk import WebClient

    from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)

THANKS = "Thanks for the feedback! It helps improve the answers."
ASK_REASON = "Thanks for telling me. What was wrong with the answer?"
NOTED = "Noted: *{reason}*. Thank you — team leads see this in `/study stats`."
NO_DOWNVOTE = "There is no 👎 of yours on that answer any more, so I noted nothing."


def _ask_id(action: dict, request_id: str | None) -> int | None:
    try:
        return int(action.get("value", ""))
    except ValueError:
        log.warning("Request %s: feedback button without an ask id", request_id)
        return None


def save_feedback(
    deps: SlackDeps, body: dict, action: dict, client: WebClient, respond: Respond
) -> None:
    to = ToClicker.of(body, client, respond)
    value = 1 if action.get("action_id") == FEEDBACK_UP else -1
    ask_id = _ask_id(action, to.request_id)
    if ask_id is None or not to.user_id:
        return
    try:
        counts = deps.service.record_feedback(ask_id, to.user_id, value)
    except ValueError as e:
        log.warning("Request %s: feedback not recorded: %s", to.request_id, e)
        return
    except RecordsUnavailable as e:
        log.error("Request %s: feedback not recorded: %s", to.request_id, e)
        to.warn(RECORDS_DOWN)
        return
    _show_clicked(deps, body, to, ask_id, counts, value)
    if value == 1:
        to.tell(THANKS)
    else:
        to.tell(ASK_REASON, reason_blocks(ask_id))


def _show_clicked(
    deps: SlackDeps, body: dict, to: ToClicker, ask_id: int, counts: tuple[int, int], value: int
) -> None:
    """Redraw the feedback buttons with the votes (and, privately, the clicker's choice)."""
    message = body.get("message") or {}
    if not (body.get("container") or {}).get("is_ephemeral") and message.get("blocks"):
        blocks = [
            feedback_actions(ask_id, counts=counts).to_dict()
            if str(b.get("block_id", "")).startswith(FEEDBACK_BLOCK)
            else b
            for b in message["blocks"]
        ]
        _redraw_public(to, message, blocks)
        return
    try:
        recorded = deps.service.recorded_answer(ask_id)
    except RecordsUnavailable as e:
        log.error("Request %s: answer not redrawn: %s", to.request_id, e)
        return
    if recorded is None:
        return
    blocks = answer_blocks(
        recorded.answer,
        ask_id,
        heading=asked_heading("You asked:", recorded.question),
        share=recorded.user_id == to.user_id,
        counts=counts,
        chosen=value,
    )
    to.replace(answer_fallback(recorded.answer), blocks)


def _redraw_public(to: ToClicker, message: dict, blocks: list[dict]) -> None:
    text = message.get("text") or "Answer"
    try:
        to.client.chat_update(channel=to.channel_id, ts=message.get("ts"), text=text, blocks=blocks)
        return
    except (SlackClientError, OSError) as e:  # e.g. shared where the bot is not a member
        log.info("Request %s: feedback buttons not updated: %s", to.request_id, e)
    to.replace(text, blocks, in_channel=True)


def save_reason(
    deps: SlackDeps, body: dict, action: dict, client: WebClient, respond: Respond
) -> None:
    """A reason button after a 👎: record it, and put the thanks in place of the question."""
    to = ToClicker.of(body, client, respond)
    code = str(action.get("action_id") or "").removeprefix(REASON_PREFIX)
    ask_id = _ask_id(action, to.request_id)
    if ask_id is None or code not in REASONS or not to.user_id:
        return
    try:
        noted = deps.service.feedback_reason(ask_id, to.user_id, code)
    except RecordsUnavailable as e:
        log.error("Request %s: feedback reason not recorded: %s", to.request_id, e)
        to.warn(RECORDS_DOWN)
        return
    text = NOTED.format(reason=REASONS[code].lower()) if noted else NO_DOWNVOTE
    if not to.replace(text, []):
        to.tell(text)
