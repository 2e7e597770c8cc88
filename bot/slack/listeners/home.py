"""The App Home: the learner's progress, quiz-by-domain buttons, and the help.

Published with `views.publish` on `app_home_opened`, and by `publish_home(client, user_id, deps)`
from any listener that changes a learner's figures (the quiz listener, after each graded answer),
so the tab stays current. The buttons have action_id `quiz_domain_<n>` and value
"<n>"; this module handles them by asking the quiz service for a question of that domain and
posting it in the learner's DM the way `/study quiz` posts questions.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackClientError
from slack_sdk.models.views import View

from bot.quiz_service import QuizError
from bot.records import RecordsUnavailable
from bot.slack.listeners.stats import blueprint_of, open_dm, stats_of
from bot.slack.stats_blocks import QUIZ_DOMAIN_PREFIX, home_blocks

if TYPE_CHECKING:
    from slack_bolt import Ack, App, BoltContext
    from slack_sdk import WebClient

    from bot.slack.listeners import SlackDeps

log = logging.getLogger(__name__)

QUIZ_DOMAIN = re.compile(rf"^{QUIZ_DOMAIN_PREFIX}\d+$")
QUIZ_UNAVAILABLE = "Quizzes by domain are not available yet."
QUIZ_FAILED = "Sorry, I couldn't start that quiz. Please try again later."


def publish_home(
    client: WebClient, user_id: str, deps: SlackDeps, *, bot_user_id: str | None = None
) -> bool:
    """Publish `user_id`'s App Home (progress + quiz buttons + help). True when Slack took it.

    Safe to call from any listener (e.g. after a quiz answer); a records outage shows the help
    with a one-line note instead of the progress.
    """
    progress, problem = None, None
    try:
        progress = stats_of(deps).learner_progress(user_id)
    except RecordsUnavailable as e:
        log.error("Home tab for %s without progress: %s", user_id, e)
        problem = "Your progress is not available right now; please try again later."
    blocks = home_blocks(
        progress,
        blueprint_of(deps),
        deps.commands.entries(),
        bot_user_id=bot_user_id,
        problem=problem,
    )
    try:
        client.views_publish(user_id=user_id, view=View(type="home", blocks=blocks))
    except (SlackClientError, OSError) as e:
        log.error("Home tab for %s not published: %s", user_id, e)
        return False
    return True


def start_domain_quiz(client: WebClient, user_id: str, domain: int, deps: SlackDeps) -> None:
    """A question of `domain` in the learner's DM: the quiz service picks it, and the quiz
    listener posts it (`bot.slack.listeners.quiz.post_question`), exactly as `/study quiz` does.
    Raises QuizError (e.g. no questions in that domain yet) for the caller to show."""
    from bot.slack.listeners import quiz

    service = quiz.quiz_service(deps)
    dm = open_dm(client, user_id)
    if service is None:
        client.chat_postMessage(channel=dm, text=QUIZ_UNAVAILABLE)
        return
    shown = service.next_question(user_id, dm, domain=domain)
    quiz.post_question(client, deps, shown, request_id=f"home-quiz-{user_id}-{domain}")


def register(app: App, deps: SlackDeps) -> None:
    def ack_only(ack: Ack) -> None:
        ack()

    def on_home_opened(body: dict, event: dict, context: BoltContext, client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        publish_home(client, event["user"], deps, bot_user_id=context.bot_user_id)

    def on_quiz_domain(body: dict, action: dict, client: WebClient) -> None:
        user = (body.get("user") or {}).get("id")
        try:
            domain = int(action.get("value", ""))
        except ValueError:
            log.warning("Quiz button without a domain: %r", action.get("value"))
            return
        if not user:
            return
        try:
            start_domain_quiz(client, user, domain, deps)
        except QuizError as e:  # a polite refusal, e.g. no questions in that domain yet
            log.info("Quiz for %s in domain %s: %s", user, domain, e)
            try:
                client.chat_postMessage(channel=open_dm(client, user), text=str(e))
            except (SlackClientError, OSError, KeyError) as e2:
                log.error("Could not tell %s: %s", user, e2)
        except Exception as e:  # a quiz error, an outage, Slack: one line to the learner
            log.error("Quiz for %s in domain %s not started: %s", user, domain, e)
            try:
                client.chat_postMessage(channel=open_dm(client, user), text=QUIZ_FAILED)
            except (SlackClientError, OSError, KeyError) as e2:
                log.error("Could not tell %s: %s", user, e2)

    app.event("app_home_opened")(ack=ack_only, lazy=[on_home_opened])
    app.action(QUIZ_DOMAIN)(ack=ack_only, lazy=[on_quiz_domain])
