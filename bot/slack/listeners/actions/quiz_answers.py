"""The quiz's answer buttons (and Submit under "choose N" checkboxes or under the select menus of
an ordering or matching item): grade, then show.

Changing a select menu is only acknowledged; Submit reads every menu from the message state
(`state.values`) and sends the sequence (a step per position, a description per term) to the
service, which grades it all-or-nothing. An incomplete or repeated pick is refused privately,
without touching the question, so the picks made stay in place.

A click is acknowledged at once and graded on the worker pool (`ack_then`). The button value is
the post's token only: the service looks it up and decides who may answer. Every reply goes
through the click's response URL, so it arrives even where the bot is not a channel member (a
question shown privately by `/study quiz`): an on-demand result replaces its question, privately,
with a "Share in channel" button; a question-of-the-day result goes to the clicker only; an exam
step updates the question in the DM. Refusals (someone else's question, an unknown or expired
token) are private and polite. The learner's App Home is published again after each answer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackClientError

from bot.quiz_service import Grade, QuizError
from bot.records import RecordsUnavailable
from bot.slack.asking import RECORDS_DOWN, SERVICE_DOWN
from bot.slack.blocks import blocks_to_dicts, error_blocks
from bot.slack.home import publish_home
from bot.slack.quiz_blocks import (
    ANSWER_PREFIX,
    ARRANGE_SUBMIT,
    PICK,
    SLOT_PREFIX,
    answered_message,
    exam_result_blocks,
    exam_result_fallback,
    kind_of,
    question_blocks,
    result_blocks,
    result_fallback,
)
from bot.slack.quiz_messages import post_question, refusal
from bot.slack.replies import ToClicker

if TYPE_CHECKING:
    from slack_bolt import BoltContext
    from slack_bolt.context.respond import Respond
    from slack_sdk import WebClient
    from slack_sdk.models.blocks import Block

    from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)

ANSWER = re.compile(rf"^{ANSWER_PREFIX}\d+$")
SLOT = re.compile(rf"^{SLOT_PREFIX}\d+$")
PICK_FIRST = "Tick the options you choose, then press *Submit*."


@dataclass(frozen=True)
class Click:
    """An answer click from a block_actions payload."""

    token: str
    user_id: str
    channel_id: str
    message_ts: str | None
    choices: list[int] | None  # None: Submit with nothing ticked
    kind: str | None  # ondemand | daily | exam, from our actions block id (display only)
    message_blocks: list[dict] = field(default_factory=list)  # Slack's copy of the message
    request_id: str = ""


def selected_options(body: Mapping) -> list[int] | None:
    """The ticked checkboxes (`state.values`) as option indices; None when nothing is ticked."""
    values = ((body.get("state") or {}).get("values")) or {}
    picked: list[int] = []
    found = False
    for block in values.values():
        for action_id, state in (block or {}).items():
            if action_id != PICK or not isinstance(state, Mapping):
                continue
            found = True
            for option in state.get("selected_options") or []:
                value = str((option or {}).get("value", ""))
                # a value that is not an index is passed on as -1: the service refuses it
                picked.append(int(value) if value.isdigit() else -1)
    return sorted(set(picked)) if found and picked else None


def selected_sequence(body: Mapping) -> list[int] | None:
    """The select menus' picks (`state.values`) as a sequence by position or term: -1 where a
    menu has no pick; None when no menu has one."""
    values = ((body.get("state") or {}).get("values")) or {}
    picks: dict[int, int] = {}
    for block in values.values():
        for action_id, state in (block or {}).items():
            if not SLOT.match(str(action_id)) or not isinstance(state, Mapping):
                continue
            slot = int(str(action_id).removeprefix(SLOT_PREFIX))
            option = state.get("selected_option") or {}
            value = str(option.get("value", "")) if isinstance(option, Mapping) else ""
            if value:
                picks[slot] = int(value) if value.isdigit() else -1
    if not picks:
        return None
    return [picks.get(k, -1) for k in range(max(picks) + 1)]


def parse_click(body: Mapping, action: Mapping) -> Click:
    container = body.get("container") or {}
    message = body.get("message") or {}
    action_id = str(action.get("action_id") or "")
    if action_id.startswith(ANSWER_PREFIX):
        suffix = action_id.removeprefix(ANSWER_PREFIX)
        choices: list[int] | None = [int(suffix)] if suffix.isdigit() else [-1]
    elif action_id == ARRANGE_SUBMIT:  # nothing picked: the service says all are needed
        choices = selected_sequence(body) or []
    else:
        choices = selected_options(body)
    blocks = [] if container.get("is_ephemeral") else list(message.get("blocks") or [])
    return Click(
        token=str(action.get("value") or ""),
        user_id=str((body.get("user") or {}).get("id") or ""),
        channel_id=str((body.get("channel") or {}).get("id") or container.get("channel_id") or ""),
        message_ts=container.get("message_ts") or message.get("ts"),
        choices=choices,
        kind=kind_of(action.get("block_id")),
        message_blocks=blocks,
        request_id=str(body.get("trigger_id") or action.get("action_ts") or ""),
    )


def grade_click(
    deps: SlackDeps,
    body: dict,
    action: dict,
    client: WebClient,
    respond: Respond,
    context: BoltContext,
) -> None:
    """The listener's work: grade the click, show the result, refresh the learner's App Home."""
    try:
        click = parse_click(body, action)
        to = ToClicker(
            client,
            respond,
            channel_id=click.channel_id,
            user_id=click.user_id,
            request_id=click.request_id,
        )
        grade = handle_click(deps, client, click, to)
        if grade is not None and not grade.already_answered:
            # the App Home shows the new answer (and keeps its help line's mention)
            publish_home(client, click.user_id, deps, bot_user_id=context.bot_user_id)
    except Exception:  # nothing raises into Bolt
        log.exception("Request %s: quiz click failed", body.get("trigger_id"))


def handle_click(deps: SlackDeps, client: WebClient, click: Click, to: ToClicker) -> Grade | None:
    """Grade one click and show the result (or a refusal); returns the grade."""
    if not click.token or not click.user_id:
        log.warning("Request %s: quiz click without a token or user", click.request_id)
        return None
    if click.choices is None:
        _warn(to, PICK_FIRST)
        return None
    try:
        grade = deps.service.answer_question(click.token, click.user_id, click.choices)
    except QuizError as e:
        log.info("Request %s: answer refused (%s) for %s", click.request_id, e.code, click.user_id)
        _warn(to, refusal(e))
        return None
    except RecordsUnavailable as e:
        log.error("Request %s: records unavailable while grading: %s", click.request_id, e)
        _warn(to, RECORDS_DOWN)
        return None
    except Exception:
        log.exception("Request %s: grading failed", click.request_id)
        _warn(to, SERVICE_DOWN)
        return None
    if grade.exam is not None or click.kind == "exam":
        _show_exam_step(deps, client, click, grade, to)
    elif click.kind == "ondemand":
        _show_in_place(deps, client, click, grade, to)
    else:  # the question of the day stays as it is for everyone: only the clicker sees this
        to.tell(result_fallback(grade), result_blocks(grade, share_token=click.token))
    return grade


def _warn(to: ToClicker, text: str, blocks: Sequence[Block] | None = None) -> None:
    """A private warning line to the clicker."""
    to.tell(text, blocks if blocks is not None else error_blocks(text))


def _show_in_place(
    deps: SlackDeps, client: WebClient, click: Click, grade: Grade, to: ToClicker
) -> None:
    """The question, answered, in place of the question (privately, with Share)."""
    try:
        original = blocks_to_dicts(question_blocks(deps.service.shown_question(click.token)))
    except Exception as e:  # draw the result under Slack's copy of the message instead
        log.info("Request %s: question not redrawn: %s", click.request_id, e)
        original = click.message_blocks
    blocks = answered_message(original, grade, share_token=click.token)
    if to.replace(result_fallback(grade), blocks) or _update(client, click, grade):
        return
    to.tell(result_fallback(grade), result_blocks(grade, share_token=click.token))


def _update(client: WebClient, click: Click, grade: Grade) -> bool:
    """Replace the question's answer controls with the result (True when Slack took it)."""
    if not click.message_blocks or not click.message_ts:
        return False
    try:
        client.chat_update(
            channel=click.channel_id,
            ts=click.message_ts,
            text=result_fallback(grade),
            blocks=answered_message(click.message_blocks, grade),
        )
        return True
    except (SlackClientError, OSError) as e:
        log.error("Request %s: updating the question failed: %s", click.request_id, e)
        return False


def _show_exam_step(
    deps: SlackDeps, client: WebClient, click: Click, grade: Grade, to: ToClicker
) -> None:
    if not _update(client, click, grade):
        to.tell(result_fallback(grade), result_blocks(grade))
    if grade.already_answered:
        return  # the first click already moved the exam on
    if grade.next is not None:
        post_question(client, deps, grade.next, request_id=click.request_id)
    elif grade.exam_result is not None:
        bp = deps.service.exam_by_id(grade.exam_result.blueprint)
        blocks = exam_result_blocks(
            grade.exam_result,
            domain_names={d.id: d.name for d in bp.domains},
            scale=(bp.exam.scale.min, bp.exam.scale.max),
        )
        text = exam_result_fallback(grade.exam_result)
        try:
            client.chat_postMessage(channel=click.channel_id, text=text, blocks=blocks)
        except (SlackClientError, OSError) as e:
            log.error("Request %s: posting the exam result failed: %s", click.request_id, e)
