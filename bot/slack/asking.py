"""The Ask flow, shared by mentions, DMs, thread follow-ups, the agent panel and `/study`.

Slack in, one service path out: `claim_delivery`, `ask_and_record`, the answer as Block Kit,
then `answer_posted` (the same `StudyService` calls the terminal makes, plus Slack's delivery
claim). While the answer is written the learner sees a sign of work and, in LLM mode, the draft
streamed into the thread (`bot.slack.progress`). A private question (`/study …`) is answered
through the command's response URL, to the asker only, with a "Share in channel" button.
Every failure ends in a log line with the request id (the event id or the slash command's
trigger id) and, where Slack still listens, one friendly line for the user; nothing here raises
into Bolt.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.records import RECORDS_UNAVAILABLE, RecordsUnavailable
from bot.slack.blocks import answer_blocks, answer_fallback, asked_heading, error_blocks
from bot.slack.mrkdwn import unescape
from bot.slack.progress import AnswerStream, Where, WorkingSign
from bot.slack.replies import respond_to

if TYPE_CHECKING:
    from slack_bolt.context.respond import Respond
    from slack_sdk import WebClient

    from bot.service import Asked
    from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)

SERVICE_DOWN = "Sorry, I couldn't look that up right now. Please try again in a few minutes."
RECORDS_DOWN = RECORDS_UNAVAILABLE
POST_FAILED = "Sorry, something went wrong while posting my answer. Please try again."
EMPTY_QUESTION = (
    "Ask me a question about the study material, e.g. {me} `What does SageMaker automatic "
    "model tuning do?` Type `/study help` for more."
)
# After these errors a friendly line cannot be posted either: log only.
SILENT_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "ratelimited",
    }
)
NOT_THERE = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


@dataclass(frozen=True)
class Question:
    """A question from Slack and where its answer goes."""

    text: str
    user_id: str
    channel_id: str
    request_id: str  # event id or trigger id: every log line carries it
    reply_thread_ts: str | None = None  # post in this thread (None: a new top-level message)
    context_thread_ts: str | None = None  # the thread the service reads for context (None: new)
    source_ts: str | None = None  # the user's message: gets the progress reaction
    heading: str | None = None  # mrkdwn shown above the answer
    bot_user_id: str | None = None  # for the help line's mention
    team_id: str | None = None  # the learner's workspace (a channel stream names it)
    private: bool = False  # answer through `respond`, to the asker only (a slash command)

    @property
    def where(self) -> Where:
        return Where(
            self.channel_id,
            self.reply_thread_ts,
            self.source_ts,
            self.user_id,
            self.team_id,
            self.request_id,
        )


def mention_pattern(bot_user_id: str | None) -> re.Pattern[str] | None:
    if not bot_user_id:
        return None
    return re.compile(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>")


def mentions(text: str, bot_user_id: str | None) -> bool:
    pattern = mention_pattern(bot_user_id)
    return bool(pattern and pattern.search(text or ""))


def strip_mentions(text: str, bot_user_id: str | None, *, leading: bool = False) -> str:
    """The question as the user typed it: without the bot's mention (and, for app_mention, a
    leading mention), with Slack's `&amp;`/`&lt;`/`&gt;` turned back into characters."""
    text = text or ""
    pattern = mention_pattern(bot_user_id)
    if pattern:
        text = pattern.sub(" ", text)
    if leading:
        text = re.sub(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>", " ", text)
    return unescape(text).strip()


def claim(
    client: WebClient,
    deps: SlackDeps,
    *,
    event_id: str | None,
    channel_id: str,
    ts: str | None,
    reply_thread_ts: str | None,
) -> bool:
    """True for the first delivery of this event / message; False for retries and duplicates."""
    try:
        if deps.service.claim_delivery(event_id, channel_id, ts):
            return True
    except RecordsUnavailable as e:
        log.error("Event %s: cannot claim it: %s", event_id, e)
        post_line(client, channel_id, RECORDS_DOWN, thread_ts=reply_thread_ts, request_id=event_id)
        return False
    except Exception:
        log.exception("Event %s: cannot claim it", event_id)
        return False
    log.info("Event %s: duplicate delivery of %s/%s ignored", event_id, channel_id, ts)
    return False


def question_from(
    event: dict,
    *,
    request_id: str,
    bot_user_id: str | None,
    reply_thread_ts: str | None,
    context_thread_ts: str | None,
    leading_mention: bool = False,
    team_id: str | None = None,
) -> Question:
    """The question a message event asks (`leading_mention`: see `strip_mentions`)."""
    return Question(
        text=strip_mentions(event.get("text", ""), bot_user_id, leading=leading_mention),
        user_id=event["user"],
        channel_id=event["channel"],
        request_id=request_id,
        reply_thread_ts=reply_thread_ts,
        context_thread_ts=context_thread_ts,
        source_ts=event["ts"],
        bot_user_id=bot_user_id,
        team_id=team_id,
    )


def answer_event(
    client: WebClient,
    deps: SlackDeps,
    event: dict,
    *,
    event_id: str | None,
    bot_user_id: str | None,
    reply_thread_ts: str | None,
    context_thread_ts: str | None,
    leading_mention: bool = False,
    team_id: str | None = None,
) -> None:
    """Answer a message event (a mention, a DM, a thread follow-up) once: claim it, then answer.

    `leading_mention`: strip a leading mention of anyone (app_mention), see `strip_mentions`.
    """
    channel, ts = event["channel"], event["ts"]
    if not claim(
        client, deps, event_id=event_id, channel_id=channel, ts=ts, reply_thread_ts=reply_thread_ts
    ):
        return
    question = question_from(
        event,
        request_id=event_id or ts,
        bot_user_id=bot_user_id,
        reply_thread_ts=reply_thread_ts,
        context_thread_ts=context_thread_ts,
        leading_mention=leading_mention,
        team_id=team_id,
    )
    answer(client, deps, question)


def answer(
    client: WebClient, deps: SlackDeps, q: Question, *, respond: Respond | None = None
) -> str | None:
    """Answer `q` in Slack; returns the answer message's ts, or None when nothing was posted
    (or it went privately through `respond`)."""
    text = q.text.strip()
    if not text:
        me = f"<@{q.bot_user_id}>" if q.bot_user_id else "@studybot"
        _tell(client, q, EMPTY_QUESTION.format(me=me), respond, warning=False)
        return None
    sign = WorkingSign(client, q.where, reaction=deps.progress_reaction)
    if not q.private:  # a slash command's ack already says it is searching
        sign.show()
    stream = (
        AnswerStream(client, q.where)
        if q.reply_thread_ts and not q.private and deps.service.drafts_answers
        else None
    )
    try:
        asked = _ask(client, deps, q, respond, stream)
        if asked is None:
            return None
        try:
            ts = _deliver(client, q, asked, respond, stream)
            if ts is not None:
                _remember(deps, q, asked.ask_id, ts)
            return ts
        except Exception:  # a bug, not an outage: log it with the request id
            log.exception("Request %s: posting the answer failed", q.request_id)
            return None
    finally:
        sign.clear()


def _ask(
    client: WebClient,
    deps: SlackDeps,
    q: Question,
    respond: Respond | None,
    stream: AnswerStream | None,
) -> Asked | None:
    """The service's answer, or None after telling the user why there is none."""
    try:
        asked = deps.service.ask_and_record(
            q.text.strip(),
            q.user_id,
            q.channel_id,
            q.context_thread_ts,
            answer_thread=q.reply_thread_ts,
            on_draft=stream.on_draft if stream is not None else None,
        )
    except RecordsUnavailable as e:
        log.error("Request %s: records unavailable while answering: %s", q.request_id, e)
        _tell(client, q, RECORDS_DOWN, respond)
        return None
    except Exception:
        log.exception("Request %s: the study service failed", q.request_id)
        _tell(client, q, SERVICE_DOWN, respond)
        return None
    if asked.not_recorded:  # still answer; just without feedback buttons
        log.error("Request %s: the ask was not recorded: %s", q.request_id, asked.not_recorded)
    return asked


def _deliver(
    client: WebClient,
    q: Question,
    asked: Asked,
    respond: Respond | None,
    stream: AnswerStream | None,
) -> str | None:
    """Show the answer: privately through `respond`, in place of the streamed draft, or as a
    new message; the message ts (None when private or not posted)."""
    if q.private and respond is not None:
        heading = q.heading or asked_heading("You asked:", q.text.strip())
        blocks = answer_blocks(asked.answer, asked.ask_id, heading=heading, share=True)
        respond_to(respond, q.request_id, text=answer_fallback(asked.answer), blocks=blocks)
        return None
    blocks = answer_blocks(asked.answer, asked.ask_id, heading=q.heading)
    if stream is not None:
        ts = stream.finish(answer_fallback(asked.answer), blocks)
        if ts is not None:
            return ts
    return _post_answer(client, q, asked, respond, blocks)


def post_line(
    client: WebClient,
    channel_id: str,
    text: str,
    *,
    thread_ts: str | None,
    request_id: str | None,
    respond: Respond | None = None,
    warning: bool = True,
) -> None:
    """One short line to the user; failures are logged, not raised.

    `warning` lines are plain text shown with ⚠️; other lines are mrkdwn we wrote.
    """
    blocks = error_blocks(text) if warning else None
    try:
        client.chat_postMessage(channel=channel_id, thread_ts=thread_ts, text=text, blocks=blocks)
        return
    except SlackApiError as e:
        code = e.response.get("error")
        log.error("Request %s: could not post a message to %s: %s", request_id, channel_id, code)
        if code not in NOT_THERE or respond is None:
            return
    except SlackClientError as e:
        log.error("Request %s: could not post a message to %s: %s", request_id, channel_id, e)
        return
    except OSError as e:
        log.error("Request %s: Slack unreachable: %s", request_id, e)
        return
    respond_to(respond, request_id, text=text, blocks=blocks)


# --------------------------------------------------------------------------- helpers


def _tell(
    client: WebClient, q: Question, text: str, respond: Respond | None, *, warning: bool = True
) -> None:
    """`post_line` where the answer to `q` goes (privately through `respond` for a private
    question)."""
    if q.private and respond is not None:
        blocks = error_blocks(text) if warning else None
        respond_to(respond, q.request_id, text=text, blocks=blocks)
        return
    post_line(
        client,
        q.channel_id,
        text,
        thread_ts=q.reply_thread_ts,
        request_id=q.request_id,
        respond=respond,
        warning=warning,
    )


def _post_answer(
    client: WebClient, q: Question, asked: Asked, respond: Respond | None, blocks: list
) -> str | None:
    fallback = answer_fallback(asked.answer)
    try:
        resp = client.chat_postMessage(
            channel=q.channel_id,
            thread_ts=q.reply_thread_ts,
            text=fallback,
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(resp["ts"])
    except SlackApiError as e:
        code = e.response.get("error")
        log.error(
            "Request %s: posting the answer to %s failed: %s", q.request_id, q.channel_id, code
        )
        if code in NOT_THERE and respond is not None:
            respond_to(respond, q.request_id, text=fallback, blocks=blocks)
        elif code not in SILENT_ERRORS:
            _tell(client, q, POST_FAILED, None)
    except (SlackClientError, OSError) as e:
        log.error("Request %s: posting the answer failed: %s", q.request_id, e)
    return None


def _remember(deps: SlackDeps, q: Question, ask_id: int | None, ts: str) -> None:
    try:
        deps.service.answer_posted(ask_id, q.channel_id, ts, q.reply_thread_ts or ts)
    except RecordsUnavailable as e:
        log.error("Request %s: the answer thread was not recorded: %s", q.request_id, e)
