"""Quiz questions as Slack messages, and the quiz's refusals in Slack's words.

Shared by `/study quiz` and `/study exam`, the answer buttons (an exam's next question), the App
Home's quiz buttons and the question-of-the-day scheduler (`slack_poster`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.daily import PostFailed, PostFn
from bot.quiz_service import DailyRecap, QuizError, ShownQuestion
from bot.slack.asking import NOT_THERE, SERVICE_DOWN
from bot.slack.blocks import error_blocks
from bot.slack.quiz_blocks import daily_blocks, question_blocks, question_fallback
from bot.slack.replies import respond_to

if TYPE_CHECKING:
    from slack_bolt.context.respond import Respond
    from slack_sdk import WebClient

    from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)

REFUSALS = {
    "unknown": "Sorry, I can't find that question (it may come from an old or altered message), "
    "so I didn't record an answer. Type `/study quiz` for a new one.",
    "expired": "That question has expired, so I didn't record an answer. "
    "Type `/study quiz` for a fresh one.",
    "not_yours": "That question belongs to someone else, so I didn't record an answer. "
    "Type `/study quiz` to get your own.",
    "not_answered": "Answer the question first, then share your result.",
    "invalid_choice": "Please pick exactly the number of options the question asks for.",
    "no_questions": "I have no questions ready for that yet. Please try again in a little while.",
}
# Codes whose service message is more specific than ours (it knows N, or the domain).
SERVICE_WORDED = frozenset({"invalid_choice", "no_questions"})


def refusal(error: QuizError) -> str:
    """What to tell the learner when the quiz service refuses (one sentence)."""
    mine = REFUSALS.get(error.code)
    if error.code in SERVICE_WORDED or mine is None:
        return str(error) or mine or "Sorry, I couldn't record that answer."
    return mine


def show_privately(respond: Respond, shown: ShownQuestion, *, request_id: str) -> bool:
    """A question through a slash command's response URL, to the asker only (`/study quiz`)."""
    return respond_to(
        respond, request_id, text=question_fallback(shown), blocks=question_blocks(shown)
    )


def post_question(
    client: WebClient,
    deps: SlackDeps,
    shown: ShownQuestion,
    *,
    request_id: str,
    respond: Respond | None = None,
    thread_ts: str | None = None,
) -> str | None:
    """Post a question where it belongs (in `thread_ts` when given) and record its message ts;
    returns the ts."""
    blocks = question_blocks(shown)
    text = question_fallback(shown)
    try:
        resp = client.chat_postMessage(
            channel=shown.channel_id,
            thread_ts=thread_ts,
            text=text,
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
        )
    except SlackApiError as e:
        code = e.response.get("error")
        log.error("Request %s: posting a question to %s: %s", request_id, shown.channel_id, code)
        if code in NOT_THERE and respond is not None:  # not in the channel: show it just to them
            respond_to(respond, request_id, text=text, blocks=blocks)
        elif respond is not None:
            respond_to(respond, request_id, text=SERVICE_DOWN, blocks=error_blocks(SERVICE_DOWN))
        return None
    except (SlackClientError, OSError) as e:
        log.error("Request %s: posting a question failed: %s", request_id, e)
        return None
    ts = str(resp["ts"])
    try:
        deps.service.set_message_ts(shown.token, ts)
    except Exception as e:  # the question still works without its ts
        log.error("Request %s: message ts of %s not recorded: %s", request_id, shown.token, e)
    return ts


# Why a post failed, in the words the subscriber reads (by Slack's error code).
POST_PROBLEMS = {
    "not_in_channel": "I'm not a member of that channel. Invite me there with `/invite @studybot`.",
    "channel_not_found": "I can't see that channel (a private one I'm not in, or deleted). "
    "Invite me there with `/invite @studybot`.",
    "is_archived": "The channel is archived. Turn the question of the day off with "
    "`/study daily off` there, or unarchive it.",
    "restricted_action": "The channel only lets some members post. Ask an admin to let me post "
    "there.",
}


def slack_poster(client: WebClient) -> PostFn:
    """The scheduler's `post`: the question of the day (with the recap) as a channel message.
    A refusal from Slack becomes PostFailed with the reason in the subscriber's words."""

    def post(shown: ShownQuestion, recap: DailyRecap | None) -> str | None:
        try:
            resp = client.chat_postMessage(
                channel=shown.channel_id,
                text=question_fallback(shown),
                blocks=daily_blocks(shown, recap),
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as e:
            code = str(e.response.get("error"))
            raise PostFailed(POST_PROBLEMS.get(code, f"Slack refused the post ({code}).")) from e
        return str(resp["ts"])

    return post
