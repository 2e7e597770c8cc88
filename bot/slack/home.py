"""The App Home tab: the learner's progress, quiz-by-domain buttons, and the help.

Published with `views.publish` when the learner opens the tab
(`bot.slack.listeners.events.home_opened`) and after each graded quiz answer
(`bot.slack.listeners.actions.quiz_answers`), so the tab stays current. The buttons are handled
by `bot.slack.listeners.actions.quiz_domains`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackClientError
from slack_sdk.models.views import View

from bot.records import RecordsUnavailable
from bot.slack.stats_blocks import home_blocks

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)

NO_PROGRESS = "Your progress is not available right now; please try again later."


def publish_home(
    client: WebClient, user_id: str, deps: SlackDeps, *, bot_user_id: str | None = None
) -> bool:
    """Publish `user_id`'s App Home (progress + quiz buttons + help). True when Slack took it.

    Safe to call from any listener (e.g. after a quiz answer); a records outage shows the help
    with a one-line note instead of the progress.
    """
    progress, problem = None, None
    blueprint = deps.service.blueprint
    try:
        blueprint = deps.service.learner_exam(user_id)  # the exam of their latest answer
        progress = deps.service.learner_progress(user_id)
    except RecordsUnavailable as e:
        log.error("Home tab for %s without progress: %s", user_id, e)
        problem = NO_PROGRESS
    blocks = home_blocks(
        progress,
        blueprint,
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
