""" "Share in channel" under a private answer or a private quiz result.

Only the learner it belongs to can share it. The shared copy is posted in the channel
(`chat.postMessage`; where the bot is not a member, through the click's response URL as an
in-channel reply), and the private copy is removed. A shared answer keeps its 👍/👎 and takes
follow-ups in its thread like any answer.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.quiz_service import QuizError
from bot.records import RecordsUnavailable
from bot.slack.asking import NOT_THERE, RECORDS_DOWN
from bot.slack.blocks import answer_blocks, answer_fallback, asked_heading
from bot.slack.quiz_blocks import result_fallback, shared_result_blocks
from bot.slack.quiz_messages import REFUSALS, refusal
from bot.slack.replies import ToClicker, respond_to

if TYPE_CHECKING:
    from slack_bolt.context.respond import Respond
    from slack_sdk import WebClient
    from slack_sdk.models.blocks import Block

    from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)

NOT_YOURS = "Only the person who asked can share this answer."
GONE = "Sorry, I can't find that answer any more, so I couldn't share it."
NOT_SHARED = "Sorry, I couldn't share that in the channel. Please try again."


def share_answer(
    deps: SlackDeps, body: dict, action: dict, client: WebClient, respond: Respond
) -> None:
    to = ToClicker.of(body, client, respond)
    try:
        ask_id = int(action.get("value", ""))
        recorded = deps.service.recorded_answer(ask_id)
    except ValueError:
        log.warning("Request %s: share button without an ask id", to.request_id)
        return
    except RecordsUnavailable as e:
        log.error("Request %s: answer not shared: %s", to.request_id, e)
        to.warn(RECORDS_DOWN)
        return
    if recorded is None:
        to.warn(GONE)
        return
    if recorded.user_id != to.user_id:
        to.warn(NOT_YOURS)
        return
    heading = asked_heading(f"<@{recorded.user_id}> asked:", recorded.question)
    blocks = answer_blocks(recorded.answer, ask_id, heading=heading)
    ts = _share(to, answer_fallback(recorded.answer), blocks)
    if ts:
        try:  # replies in the shared answer's thread are follow-ups
            deps.service.answer_posted(ask_id, to.channel_id or recorded.channel_id, ts, ts)
        except RecordsUnavailable as e:
            log.error("Request %s: shared answer not linked: %s", to.request_id, e)


def share_result(
    deps: SlackDeps, body: dict, action: dict, client: WebClient, respond: Respond
) -> None:
    to = ToClicker.of(body, client, respond)
    token = str(action.get("value") or "")
    try:
        result = deps.service.quiz_result(token, to.user_id or "")
    except QuizError as e:
        to.warn(refusal(e))
        return
    except RecordsUnavailable as e:
        log.error("Request %s: result not shared: %s", to.request_id, e)
        to.warn(RECORDS_DOWN)
        return
    if result is None:
        to.warn(REFUSALS["not_answered"])
        return
    shown, grade = result
    blocks = shared_result_blocks(shown, grade, to.user_id or "")
    _share(to, f"<@{to.user_id}> shared a quiz result: {result_fallback(grade)}", blocks)


def _share(to: ToClicker, text: str, blocks: list[Block]) -> str | None:
    """Post the shared copy in the channel and remove the private one; the shared message's
    ts ("" when it went through the response URL, None when it was not shared)."""
    shared, ts = _post_in_channel(to, text, blocks)
    if not shared:
        to.warn(NOT_SHARED)
        return None
    to.delete()
    return ts or ""


def _post_in_channel(to: ToClicker, text: str, blocks: list[Block]) -> tuple[bool, str | None]:
    """Post in the clicker's channel; (posted, the message ts when posted by the bot)."""
    try:
        resp = to.client.chat_postMessage(
            channel=to.channel_id, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
        )
        return True, str(resp["ts"])
    except SlackApiError as e:
        code = e.response.get("error")
        log.info("Request %s: sharing with chat.postMessage: %s", to.request_id, code)
        if code not in NOT_THERE or to.respond is None:
            return False, None
    except (SlackClientError, OSError) as e:
        log.error("Request %s: sharing failed: %s", to.request_id, e)
        return False, None
    return respond_to(to.respond, to.request_id, text=text, blocks=blocks, in_channel=True), None
