"""Slack listeners, grouped by what Slack sends: `events`, `actions` and `commands`.

Each group's `register(app, deps)` registers its module-level handlers, and every handler that
does work acknowledges through `bot.slack.deps.ack_then`. Handlers only translate between Slack
and `bot.service.StudyService` (`deps.service`). `register_all` registers the groups, then the
fallbacks that acknowledge everything else (so Slack gets its 200 and does not retry).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from bot.slack.listeners import actions, commands, events
from bot.slack.listeners.commands.study import study_listener

if TYPE_CHECKING:
    from slack_bolt import Ack, App

    from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)

GROUPS = (events, actions, commands)


def register_all(app: App, deps: SlackDeps) -> None:
    for group in GROUPS:
        group.register(app, deps)
    register_fallbacks(app, deps)


def ack_and_ignore(ack: Ack, body: dict) -> None:
    ack()
    log.debug("Ignored a %s request", body.get("type") or body.get("command"))


def register_fallbacks(app: App, deps: SlackDeps) -> None:
    """Acknowledge what no listener handles (reactions, unknown buttons, modals) and ignore it.

    Registered last: Bolt runs the first listener that matches.
    """
    anything = re.compile(r".*", re.DOTALL)
    # The study command under another name (e.g. /study-dev in a second workspace) works the same.
    app.command(anything)(study_listener(deps))
    app.event(anything)(ack_and_ignore)
    app.action(anything)(ack_and_ignore)
    app.view(anything)(ack_and_ignore)
    app.view({"type": "view_closed", "callback_id": anything})(ack_and_ignore)
    app.options(anything)(ack_and_ignore)
    app.shortcut(anything)(ack_and_ignore)
