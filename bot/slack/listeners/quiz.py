"""`/study quiz`, `/study exam` and the answer buttons: Slack in, quiz service, Block Kit out.

- `/study quiz [N] [domain]` posts N (≤ 5) questions in the channel; only the asker can answer.
- `/study exam [N]` opens the DM (conversations.open) and runs an N-question mock exam there.
- A click is acknowledged at once; grading runs in a Bolt lazy listener. The button value is the
  post's token only: the service looks it up and decides who may answer. On-demand and exam
  results replace the answer controls in the question's own message; question-of-the-day results
  go to each person as an ephemeral message. Refusals (someone else's question, an unknown or
  expired token) are ephemeral and polite.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.quiz_service import Grade, QuizError, ShownQuestion
from bot.records import RecordsUnavailable
from bot.slack.blocks import error_blocks
from bot.slack.listeners import ack_then
from bot.slack.listeners.asking import NOT_THERE, RECORDS_DOWN, SERVICE_DOWN
from bot.slack.listeners.commands import CommandRequest, Subcommand
from bot.slack.mrkdwn import escape
from bot.slack.quiz_blocks import (
    ANSWER_PREFIX,
    PICK,
    SUBMIT,
    answered_message,
    exam_result_blocks,
    exam_result_fallback,
    kind_of,
    question_blocks,
    question_fallback,
    result_blocks,
    result_fallback,
)

if TYPE_CHECKING:
    from slack_bolt import Ack, App
    from slack_bolt.context.respond import Respond
    from slack_sdk import WebClient

    from bot.slack.listeners import SlackDeps
    from knowledge.blueprint import Blueprint

log = logging.getLogger(__name__)

MAX_QUIZ = 5  # questions per /study quiz
DEFAULT_EXAM = 15
MAX_EXAM = 65  # the real exam's length

QUIZ_USAGE = (
    "Usage: `/study quiz [N] [domain]`: N questions (1–5), optionally from one domain by name or "
    "number, e.g. `/study quiz`, `/study quiz 3`, `/study quiz modeling`, `/study quiz 2 domain 1`."
)
EXAM_USAGE = f"Usage: `/study exam [N]`: a mock exam of N questions (1–{MAX_EXAM}, default 15)."
QUIZ_OFF = "Sorry, quizzes are not available right now. Please try again later."
PICK_FIRST = "Tick the options you choose, then press *Submit*."
REFUSALS = {
    "unknown": "Sorry, I can't find that question (it may come from an old or altered message), "
    "so I didn't record an answer. Type `/study quiz` for a new one.",
    "expired": "That question has expired, so I didn't record an answer. "
    "Type `/study quiz` for a fresh one.",
    "not_yours": "That question belongs to someone else, so I didn't record an answer. "
    "Type `/study quiz` to get your own.",
    "invalid_choice": "Please pick exactly the number of options the question asks for.",
    "no_questions": "I have no questions ready for that yet. Please try again in a little while.",
}
# Codes whose service message is more specific than ours (it knows N, or the domain).
SERVICE_WORDED = frozenset({"invalid_choice", "no_questions"})
_DOMAIN_NUMBER = re.compile(r"^(?:d|domain)\s*#?\s*(\d+)$", re.IGNORECASE)


def quiz_service(deps: SlackDeps) -> Any | None:
    """The quiz service (`StudyService.quiz`), or None when this front end has none."""
    try:
        return deps.service.quiz  # type: ignore[attr-defined]
    except AttributeError:
        return None


def blueprint_of(deps: SlackDeps) -> Blueprint:
    bp = getattr(deps.service, "blueprint", None)
    if bp is None:
        from knowledge.blueprint import load_blueprint

        bp = load_blueprint()
    return bp


def refusal(error: QuizError) -> str:
    mine = REFUSALS.get(error.code)
    if error.code in SERVICE_WORDED or mine is None:
        return str(error) or mine or "Sorry, I couldn't record that answer."
    return mine


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class QuizArgs:
    count: int = 1
    domain: int | None = None
    domain_name: str | None = None


def parse_quiz_args(text: str, blueprint: Blueprint) -> QuizArgs:
    """`[N] [domain name | dN | domain N]` -> QuizArgs; ValueError with a usage line."""
    words = text.split()
    count = 1
    if words and words[0].isdigit():
        count = int(words.pop(0))
        if not 1 <= count <= MAX_QUIZ:
            raise ValueError(f"I can give 1 to {MAX_QUIZ} questions at a time. {QUIZ_USAGE}")
    rest = " ".join(words).strip()
    if not rest:
        return QuizArgs(count)
    m = _DOMAIN_NUMBER.match(rest)
    domain = blueprint.find_domain(m.group(1) if m else rest)
    if domain is None:
        names = ", ".join(f"{d.id} {d.name}" for d in blueprint.domains)
        raise ValueError(f"I don't know the domain `{escape(rest)}`. Domains: {names}.")
    return QuizArgs(count, domain.id, domain.name)


def parse_exam_args(text: str) -> int:
    words = text.split()
    if not words:
        return DEFAULT_EXAM
    if len(words) == 1 and words[0].isdigit() and 1 <= int(words[0]) <= MAX_EXAM:
        return int(words[0])
    raise ValueError(EXAM_USAGE)


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


def parse_click(body: Mapping, action: Mapping) -> Click:
    container = body.get("container") or {}
    message = body.get("message") or {}
    action_id = str(action.get("action_id") or "")
    if action_id.startswith(ANSWER_PREFIX):
        suffix = action_id.removeprefix(ANSWER_PREFIX)
        choices: list[int] | None = [int(suffix)] if suffix.isdigit() else [-1]
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


# --------------------------------------------------------------------------- posting


def post_question(
    client: WebClient,
    deps: SlackDeps,
    shown: ShownQuestion,
    *,
    request_id: str,
    respond: Respond | None = None,
) -> str | None:
    """Post a question where it belongs and record its message ts; returns the ts."""
    blocks = question_blocks(shown)
    text = question_fallback(shown)
    try:
        resp = client.chat_postMessage(
            channel=shown.channel_id,
            text=text,
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
        )
    except SlackApiError as e:
        code = e.response.get("error")
        log.error("Request %s: posting a question to %s: %s", request_id, shown.channel_id, code)
        if code in NOT_THERE and respond is not None:  # not in the channel: show it just to them
            _respond(respond, request_id, text=text, blocks=blocks)
        elif respond is not None:
            _respond(respond, request_id, text=SERVICE_DOWN, blocks=error_blocks(SERVICE_DOWN))
        return None
    except (SlackClientError, OSError) as e:
        log.error("Request %s: posting a question failed: %s", request_id, e)
        return None
    ts = str(resp["ts"])
    try:
        quiz_service(deps).set_message_ts(shown.token, ts)
    except Exception as e:  # the question still works without its ts
        log.error("Request %s: message ts of %s not recorded: %s", request_id, shown.token, e)
    return ts


def _respond(respond: Respond, request_id: str, **message: object) -> None:
    try:
        respond(response_type="ephemeral", replace_original=False, **message)
    except Exception as e:  # the webhook client raises plain exceptions
        log.error("Request %s: response_url reply failed: %s", request_id, e)


def _ephemeral(client: WebClient, click: Click, text: str, blocks: Sequence | None = None) -> None:
    if not click.channel_id or not click.user_id:
        return
    try:
        client.chat_postEphemeral(
            channel=click.channel_id,
            user=click.user_id,
            text=text,
            blocks=blocks if blocks is not None else error_blocks(text),
        )
    except (SlackClientError, OSError) as e:
        log.error("Request %s: ephemeral reply to %s: %s", click.request_id, click.user_id, e)


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


# --------------------------------------------------------------------------- answers


def handle_click(deps: SlackDeps, client: WebClient, click: Click) -> Grade | None:
    """Grade one click and show the result (or a refusal); returns the grade."""
    if not click.token or not click.user_id:
        log.warning("Request %s: quiz click without a token or user", click.request_id)
        return None
    if click.choices is None:
        _ephemeral(client, click, PICK_FIRST)
        return None
    quiz = quiz_service(deps)
    if quiz is None:
        _ephemeral(client, click, QUIZ_OFF)
        return None
    try:
        grade = quiz.answer(click.token, click.user_id, click.choices)
    except QuizError as e:
        log.info("Request %s: answer refused (%s) for %s", click.request_id, e.code, click.user_id)
        _ephemeral(client, click, refusal(e))
        return None
    except RecordsUnavailable as e:
        log.error("Request %s: records unavailable while grading: %s", click.request_id, e)
        _ephemeral(client, click, RECORDS_DOWN)
        return None
    except Exception:
        log.exception("Request %s: grading failed", click.request_id)
        _ephemeral(client, click, SERVICE_DOWN)
        return None
    if grade.exam is not None or click.kind == "exam":
        _show_exam_step(deps, client, click, grade)
    elif click.kind == "ondemand" and _update(client, click, grade):
        pass
    else:  # the question of the day (or a message we cannot update): only this person sees it
        blocks = result_blocks(grade)
        _ephemeral(client, click, result_fallback(grade), blocks=blocks)
    return grade


def _show_exam_step(deps: SlackDeps, client: WebClient, click: Click, grade: Grade) -> None:
    if not _update(client, click, grade):
        _ephemeral(client, click, result_fallback(grade), blocks=result_blocks(grade))
    if grade.already_answered:
        return  # the first click already moved the exam on
    if grade.next is not None:
        post_question(client, deps, grade.next, request_id=click.request_id)
    elif grade.exam_result is not None:
        bp = blueprint_of(deps)
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


# --------------------------------------------------------------------------- subcommands


def _quiz_ack(req: CommandRequest, deps: SlackDeps) -> dict | None:
    try:
        parse_quiz_args(req.args, blueprint_of(deps))
    except ValueError as e:
        return {"response_type": "ephemeral", "text": str(e)}
    return None  # the question is posted to the channel


def _quiz_work(req: CommandRequest, deps: SlackDeps, client: WebClient, respond: Respond) -> None:
    try:
        args = parse_quiz_args(req.args, blueprint_of(deps))
    except ValueError:
        return  # the ack said so
    quiz = quiz_service(deps)
    if quiz is None:
        _respond(respond, req.request_id, text=QUIZ_OFF)
        return
    seen: set[int] = set()
    for _ in range(args.count):
        shown = _service_call(
            respond, req, lambda: quiz.next_question(req.user_id, req.channel_id, args.domain)
        )
        if shown is None:
            return
        if shown.question.question_id in seen:
            break  # the bank has no more distinct questions for this learner right now
        seen.add(shown.question.question_id)
        if post_question(client, deps, shown, request_id=req.request_id, respond=respond) is None:
            return


def _exam_ack(req: CommandRequest, deps: SlackDeps) -> dict:
    try:
        n = parse_exam_args(req.args)
    except ValueError as e:
        return {"response_type": "ephemeral", "text": str(e)}
    where = "here" if req.channel_id.startswith("D") else "in our direct messages"
    return {
        "response_type": "ephemeral",
        "text": f"📝 Starting a {n}-question mock exam {where}: one question at a time.",
    }


def _exam_work(req: CommandRequest, deps: SlackDeps, client: WebClient, respond: Respond) -> None:
    try:
        n = parse_exam_args(req.args)
    except ValueError:
        return
    quiz = quiz_service(deps)
    if quiz is None:
        _respond(respond, req.request_id, text=QUIZ_OFF)
        return
    try:
        dm = str(client.conversations_open(users=req.user_id)["channel"]["id"])
    except (SlackClientError, OSError, KeyError) as e:
        log.error("Request %s: cannot open a DM with %s: %s", req.request_id, req.user_id, e)
        text = "Sorry, I couldn't open a direct message with you. Please try again."
        _respond(respond, req.request_id, text=text)
        return
    shown = _service_call(respond, req, lambda: quiz.start_exam(req.user_id, dm, n))
    if shown is not None:
        post_question(client, deps, shown, request_id=req.request_id, respond=respond)


def _service_call(respond: Respond, req: CommandRequest, call) -> ShownQuestion | None:
    try:
        return call()
    except QuizError as e:
        log.info("Request %s: %s refused: %s", req.request_id, req.name, e.code)
        _respond(respond, req.request_id, text=refusal(e))
    except RecordsUnavailable as e:
        log.error("Request %s: records unavailable: %s", req.request_id, e)
        _respond(respond, req.request_id, text=RECORDS_DOWN)
    except Exception:
        log.exception("Request %s: the quiz service failed", req.request_id)
        _respond(respond, req.request_id, text=SERVICE_DOWN)
    return None


QUIZ = Subcommand(
    "quiz",
    "quiz [N] [domain]",
    "Exam-style questions (up to 5), optionally from one domain.",
    _quiz_ack,
    _quiz_work,
)
EXAM = Subcommand(
    "exam",
    "exam [N]",
    f"A mock exam in a DM: N questions (default {DEFAULT_EXAM}), then a scaled score.",
    _exam_ack,
    _exam_work,
)


# --------------------------------------------------------------------------- registration


def register(app: App, deps: SlackDeps) -> None:
    for sub in (QUIZ, EXAM):
        if sub.name not in deps.commands:
            deps.commands.add(sub)

    def ack_now(ack: Ack) -> None:
        ack()

    def grade_click(body: dict, action: dict, client: WebClient) -> None:
        try:
            click = parse_click(body, action)
            grade = handle_click(deps, client, click)
            if grade is not None and not grade.already_answered:
                from bot.slack.listeners.home import publish_home

                publish_home(client, click.user_id, deps)  # the App Home shows the new answer
        except Exception:  # nothing raises into Bolt
            log.exception("Request %s: quiz click failed", body.get("trigger_id"))

    app.action(re.compile(rf"^{ANSWER_PREFIX}\d+$"))(ack_then(deps, grade_click))
    app.action(SUBMIT)(ack_then(deps, grade_click))
    app.action(PICK)(ack_now)  # ticking a checkbox: nothing to do until Submit
