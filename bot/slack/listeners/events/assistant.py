"""The agent panel (Slack's assistant view): Bolt's `Assistant` middleware.

- `assistant_thread_started`: a greeting in the new thread and suggested prompts ("Quiz me on
  Domain 3", "How am I doing?", …).
- a learner's message in the panel (any thread in the bot's DM): the thread gets a title from
  its first question; "quiz me [on domain N]" posts a question in the thread, "how am I doing?"
  shows their progress, anything else is answered through the same service path as a mention
  (`bot.slack.asking`: AI status while searching, the draft streamed, feedback buttons).
- `assistant_thread_context_changed`: acknowledged (the answer does not depend on the channel
  the learner is looking at), so Bolt does not rewrite the thread's first message.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_bolt import Assistant
from slack_sdk.errors import SlackClientError

from bot.quiz_service import QuizError
from bot.records import RecordsUnavailable
from bot.slack import asking
from bot.slack.blocks import label
from bot.slack.deps import ack_then
from bot.slack.quiz_messages import post_question, refusal
from bot.slack.stats_blocks import learner_progress_blocks, learner_progress_text

if TYPE_CHECKING:
    from slack_bolt import Ack, BoltContext
    from slack_sdk import WebClient

    from bot.slack.deps import SlackDeps
    from knowledge.blueprint import Blueprint

log = logging.getLogger(__name__)

GREETING = (
    "Hi{who}! I'm studybot, your study partner for the *{exam}* exam. Ask me anything about "
    "the study material and I'll answer from it, with sources. Say *quiz me* (or *quiz me on "
    "domain 2*) for an exam-style question, or *how am I doing?* for your progress. What we "
    "say here stays between us."
)
PROMPTS_TITLE = "Try one of these:"
TITLE_CHARS = 60
_QUIZ = re.compile(r"^\s*(?:please\s+)?(?:quiz|test)\s+me\b(?P<rest>.*)$", re.IGNORECASE)
_DOMAIN = re.compile(r"\bdomain\s*#?\s*(\d+)\b", re.IGNORECASE)
_PROGRESS = re.compile(
    r"^\s*(?:how am i doing|how'?s my progress|my (?:progress|stats))\W*$", re.IGNORECASE
)


def suggested_prompts(blueprint: Blueprint) -> list[dict[str, str]]:
    """The panel's suggested prompts (Slack shows at most four)."""
    heaviest = max(blueprint.domains, key=lambda d: d.weight)
    return [
        {"title": "Quiz me", "message": "Quiz me"},
        {
            "title": f"Quiz me on Domain {heaviest.id}",
            "message": f"Quiz me on domain {heaviest.id} ({heaviest.name})",
        },
        {"title": "How am I doing?", "message": "How am I doing?"},
        {"title": "What is on the exam?", "message": "What is on the exam and how is it scored?"},
    ]


@dataclass(frozen=True)
class Intent:
    kind: str  # quiz | progress | ask
    domain: int | None = None


def intent_of(text: str, blueprint: Blueprint) -> Intent:
    """What a panel message asks for: a quiz (maybe of one domain), progress, or an answer."""
    quiz = _QUIZ.match(text)
    if quiz:
        rest = quiz.group("rest").strip(" .!?:").removeprefix("on ").strip()
        number = _DOMAIN.search(rest)
        found = blueprint.find_domain(number.group(1) if number else rest) if rest else None
        return Intent("quiz", found.id if found else None)
    if _PROGRESS.match(text):
        return Intent("progress")
    return Intent("ask")


def greet(deps: SlackDeps, event: dict, context: BoltContext) -> None:
    """A new panel thread: the greeting, then the suggested prompts (Bolt's `say` and
    `set_suggested_prompts` for this thread)."""
    user = (event.get("assistant_thread") or {}).get("user_id")
    exam = deps.service.exam_of(
        event.get("channel") or (event.get("assistant_thread") or {}).get("channel_id")
    )
    text = GREETING.format(who=f" <@{user}>" if user else "", exam=exam.name)
    try:
        context.say(text=text)
        context.set_suggested_prompts(prompts=suggested_prompts(exam), title=PROMPTS_TITLE)
    except (SlackClientError, OSError) as e:
        log.error("Assistant thread not greeted: %s", e)


def answer_in_panel(
    deps: SlackDeps, body: dict, event: dict, context: BoltContext, client: WebClient
) -> None:
    """A learner's message in a panel thread (or any thread of the bot's DM)."""
    channel, thread, ts = event["channel"], event["thread_ts"], event["ts"]
    event_id = body.get("event_id")
    if not asking.claim(
        client, deps, event_id=event_id, channel_id=channel, ts=ts, reply_thread_ts=thread
    ):
        return
    question = asking.question_from(
        event,
        request_id=event_id or ts,
        bot_user_id=context.bot_user_id,
        reply_thread_ts=thread,
        context_thread_ts=thread,
        team_id=body.get("team_id") or context.team_id,
    )
    _title(deps, context, question)
    intent = intent_of(question.text, deps.service.exam_of(channel))
    if intent.kind == "quiz":
        _quiz(deps, client, question, intent.domain)
    elif intent.kind == "progress":
        _progress(deps, client, question)
    else:
        asking.answer(client, deps, question)


def _title(deps: SlackDeps, context: BoltContext, q: asking.Question) -> None:
    """The thread's title: its first question (Bolt's `set_title`)."""
    if context.set_title is None or not q.text:
        return
    try:
        if deps.service.is_bot_thread(q.channel_id, q.reply_thread_ts or ""):
            return  # titled by its first question already
        context.set_title(label(q.text, TITLE_CHARS))
    except (SlackClientError, OSError, RecordsUnavailable) as e:
        log.info("Request %s: thread title not set: %s", q.request_id, e)


def _quiz(deps: SlackDeps, client: WebClient, q: asking.Question, domain: int | None) -> None:
    try:
        shown = deps.service.next_question(q.user_id, q.channel_id, domain)
    except QuizError as e:
        _say(client, q, refusal(e))
        return
    except RecordsUnavailable as e:
        log.error("Request %s: no quiz: %s", q.request_id, e)
        _say(client, q, asking.RECORDS_DOWN)
        return
    post_question(client, deps, shown, request_id=q.request_id, thread_ts=q.reply_thread_ts)


def _progress(deps: SlackDeps, client: WebClient, q: asking.Question) -> None:
    try:
        progress = deps.service.learner_progress(q.user_id)
        client.chat_postMessage(
            channel=q.channel_id,
            thread_ts=q.reply_thread_ts,
            text=learner_progress_text(progress),
            blocks=learner_progress_blocks(progress),
        )
    except RecordsUnavailable as e:
        log.error("Request %s: progress unavailable: %s", q.request_id, e)
        _say(client, q, asking.RECORDS_DOWN)
    except (SlackClientError, OSError) as e:
        log.error("Request %s: progress not posted: %s", q.request_id, e)


def _say(client: WebClient, q: asking.Question, text: str) -> None:
    """One line in the learner's panel thread."""
    asking.post_line(
        client, q.channel_id, text, thread_ts=q.reply_thread_ts, request_id=q.request_id
    )


def context_changed(ack: Ack) -> None:
    ack()


def build_assistant(deps: SlackDeps) -> Assistant:
    """The `Assistant` middleware with studybot's listeners."""
    assistant = Assistant()
    assistant.thread_started(ack_then(deps, greet))
    assistant.user_message(ack_then(deps, answer_in_panel))
    assistant.thread_context_changed(context_changed)
    return assistant
