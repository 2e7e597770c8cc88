"""The App Home's "Quiz: <domain>" buttons (a question of that domain in the learner's DM) and
the review reminder's "Start reviewing" (their next question, due reviews first, in the DM).

The buttons have action_id `quiz_domain_<n>` and value "<n>"; the quiz service picks the
question and it is posted the way `/study quiz` posts questions.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackClientError

from bot.quiz_service import QuizError
from bot.slack.quiz_messages import post_question
from bot.slack.replies import open_dm
from bot.slack.stats_blocks import QUIZ_DOMAIN_PREFIX

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)

QUIZ_DOMAIN = re.compile(rf"^{QUIZ_DOMAIN_PREFIX}\d+$")
QUIZ_FAILED = "Sorry, I couldn't start that quiz. Please try again later."


def quiz_domain(deps: SlackDeps, body: dict, action: dict, client: WebClient) -> None:
    user = (body.get("user") or {}).get("id")
    try:
        domain = int(action.get("value", ""))
    except ValueError:
        log.warning("Quiz button without a domain: %r", action.get("value"))
        return
    if not user:
        return
    try:
        dm = open_dm(client, user)
        exam = deps.service.learner_exam(user).id  # the exam the App Home shows
        shown = deps.service.next_question(user, dm, domain=domain, exam=exam)
        post_question(client, deps, shown, request_id=f"home-quiz-{user}-{domain}")
    except QuizError as e:  # a polite refusal, e.g. no questions in that domain yet
        log.info("Quiz for %s in domain %s: %s", user, domain, e)
        _tell(client, user, str(e))
    except Exception as e:  # an outage, Slack: one line to the learner
        log.error("Quiz for %s in domain %s not started: %s", user, domain, e)
        _tell(client, user, QUIZ_FAILED)


def _tell(client: WebClient, user: str, text: str) -> None:
    try:
        client.chat_postMessage(channel=open_dm(client, user), text=text)
    except (SlackClientError, OSError, KeyError) as e:
        log.error("Could not tell %s: %s", user, e)


def review_now(deps: SlackDeps, body: dict, client: WebClient) -> None:
    """The reminder's "Start reviewing": the learner's next question (due reviews come first)
    in their DM."""
    user = (body.get("user") or {}).get("id")
    if not user:
        return
    try:
        dm = open_dm(client, user)
        shown = deps.service.next_question(user, dm, exam=deps.service.learner_exam(user).id)
        post_question(client, deps, shown, request_id=f"review-{user}")
    except QuizError as e:
        log.info("Review for %s: %s", user, e)
        _tell(client, user, str(e))
    except Exception as e:
        log.error("Review for %s not started: %s", user, e)
        _tell(client, user, QUIZ_FAILED)
