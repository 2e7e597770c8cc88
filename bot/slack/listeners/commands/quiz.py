"""`/study quiz [N] [domain]` and `/study exam [N]`: the quiz service's questions, posted.

- `/study quiz [N] [domain]` shows N (≤ 5) questions to the asker only (the command's response
  URL); each result replaces its question, privately, with a "Share in channel" button.
- `/study exam [N]` opens the DM (conversations.open) and runs an N-question mock exam there.

The answers come back through the buttons (`bot.slack.listeners.actions.quiz_answers`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackClientError

from bot.channel_exams import exam_code
from bot.quiz_service import QuizError, ShownQuestion
from bot.records import RecordsUnavailable
from bot.slack.asking import RECORDS_DOWN, SERVICE_DOWN
from bot.slack.commands import AckReply, CommandRequest, Subcommand
from bot.slack.mrkdwn import escape
from bot.slack.quiz_messages import post_question, refusal, show_privately
from bot.slack.replies import open_dm, respond_to

if TYPE_CHECKING:
    from slack_bolt.context.respond import Respond
    from slack_sdk import WebClient

    from bot.slack.deps import SlackDeps
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
NO_DM = "Sorry, I couldn't open a direct message with you. Please try again."
_DOMAIN_NUMBER = re.compile(r"^(?:d|domain)\s*#?\s*(\d+)$", re.IGNORECASE)


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


# --------------------------------------------------------------------------- /study quiz


def _quiz_ack(req: CommandRequest, deps: SlackDeps) -> AckReply | None:
    try:
        parse_quiz_args(req.args, deps.service.exam_of(req.channel_id))
    except ValueError as e:
        return {"response_type": "ephemeral", "text": str(e)}
    return None  # the questions come through the response URL


def _quiz_work(req: CommandRequest, deps: SlackDeps, client: WebClient, respond: Respond) -> None:
    try:
        args = parse_quiz_args(req.args, deps.service.exam_of(req.channel_id))
    except ValueError:
        return  # the ack said so
    seen: set[int] = set()
    for _ in range(args.count):
        shown = _service_call(
            respond,
            req,
            lambda: deps.service.next_question(req.user_id, req.channel_id, args.domain),
        )
        if shown is None:
            return
        if shown.question.question_id in seen:
            break  # the bank has no more distinct questions for this learner right now
        seen.add(shown.question.question_id)
        if not show_privately(respond, shown, request_id=req.request_id):
            return


# --------------------------------------------------------------------------- /study exam


def _exam_ack(req: CommandRequest, deps: SlackDeps) -> AckReply:
    try:
        n = parse_exam_args(req.args)
    except ValueError as e:
        return {"response_type": "ephemeral", "text": str(e)}
    where = "here" if req.channel_id.startswith("D") else "in our direct messages"
    exam = deps.service.exam_of(req.channel_id)
    real = f"{exam_code(exam)}: the real one has {exam.exam.questions} in {exam.exam.minutes} min"
    return {
        "response_type": "ephemeral",
        "text": f"📝 Starting a {n}-question mock exam {where} ({real}): one question at a time.",
    }


def _exam_work(req: CommandRequest, deps: SlackDeps, client: WebClient, respond: Respond) -> None:
    try:
        n = parse_exam_args(req.args)
    except ValueError:
        return
    try:
        dm = str(open_dm(client, req.user_id))
    except (SlackClientError, OSError, KeyError) as e:
        log.error("Request %s: cannot open a DM with %s: %s", req.request_id, req.user_id, e)
        respond_to(respond, req.request_id, text=NO_DM)
        return
    shown = _service_call(
        respond, req, lambda: deps.service.start_exam(req.user_id, dm, n, exam_of=req.channel_id)
    )
    if shown is not None:
        post_question(client, deps, shown, request_id=req.request_id, respond=respond)


def _service_call(
    respond: Respond, req: CommandRequest, call: Callable[[], ShownQuestion]
) -> ShownQuestion | None:
    """`call()`, or None after telling the user why not (a refusal, an outage)."""
    try:
        return call()
    except QuizError as e:
        log.info("Request %s: %s refused: %s", req.request_id, req.name, e.code)
        respond_to(respond, req.request_id, text=refusal(e))
    except RecordsUnavailable as e:
        log.error("Request %s: records unavailable: %s", req.request_id, e)
        respond_to(respond, req.request_id, text=RECORDS_DOWN)
    except Exception:
        log.exception("Request %s: the quiz service failed", req.request_id)
        respond_to(respond, req.request_id, text=SERVICE_DOWN)
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
