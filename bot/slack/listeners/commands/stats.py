"""`/study stats [7d|30d|all]`, `/study stats export [period]` and `/study me`.

Who is a lead: a user in STUDYBOT_LEAD_USER_IDS, or a workspace admin or owner (`users.info`,
cached for LEAD_CACHE_TTL_S). Which channel: always the one the slash command was typed in. Slack
sends a slash command only from a conversation the user has open, so a lead sees stats for a
channel they are in without an extra `conversations.members` call (which would need the bot in
the channel and paging through large channels). In a DM the command asks for a channel instead.

A lead gets the summary as an ephemeral reply, and the chart (PNG) uploaded with
`files_upload_v2` to their DM (`conversations.open`), or to a thread in STUDYBOT_STATS_CHANNEL
when that is set. The CSV export always goes to the lead's DM: it names learners. Anyone else
gets a polite refusal, computed before any figure is read, so nothing about individuals leaks.
`/study me` is for everyone and shows only the caller's own figures.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.records import RecordsUnavailable
from bot.slack.asking import RECORDS_DOWN
from bot.slack.blocks import error_blocks
from bot.slack.commands import AckReply, CommandRequest, Subcommand
from bot.slack.replies import open_dm, respond_to
from bot.slack.stats_blocks import (
    channel_stats_blocks,
    channel_stats_text,
    learner_progress_blocks,
    learner_progress_text,
    refusal_text,
)
from bot.stats import PERIODS, UnknownPeriod, parse_period

if TYPE_CHECKING:
    from slack_bolt.context.respond import Respond
    from slack_sdk import WebClient

    from bot.slack.deps import SlackDeps
    from knowledge.settings import Settings

log = logging.getLogger(__name__)

LEAD_CACHE_TTL_S = 600.0
EXPORT = "export"
PERIOD_CHOICES = "|".join(PERIODS)
USAGE = (
    "Usage: `{command} stats [" + PERIOD_CHOICES + "]` for this channel's study stats, or "
    "`{command} stats export [" + PERIOD_CHOICES + "]` for a CSV in your DM."
)
IN_A_CHANNEL = "Run `{command} stats` in the study channel: stats are per channel."
CHART_IN_DM = "📈 The chart follows in your DM with me."
CHART_IN_THREAD = "📈 The chart follows in a thread in <#{channel}>."
CHART_FAILED = "Sorry, I couldn't send the chart this time; the figures above are complete."
EXPORT_SENT = "📄 The CSV ({rows} learners, {period}) is in your DM with me."
EXPORT_FAILED = "Sorry, I couldn't send the CSV to your DM. Please try again later."


# --------------------------------------------------------------------------- who is a lead


class LeadCheck:
    """STUDYBOT_LEAD_USER_IDS, or a workspace admin/owner per `users.info` (cached with a TTL).

    A failed `users.info` call counts as "not a lead" and is not cached.
    """

    def __init__(
        self,
        lead_ids: list[str] | tuple[str, ...],
        *,
        ttl_s: float = LEAD_CACHE_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lead_ids = frozenset(u.strip() for u in lead_ids if u.strip())
        self.ttl_s = ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[bool, float]] = {}
        self._lock = threading.Lock()

    def __call__(self, client: WebClient, user_id: str) -> bool:
        if not user_id:
            return False
        if user_id in self.lead_ids:
            return True
        now = self._clock()
        with self._lock:
            cached = self._cache.get(user_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            user = client.users_info(user=user_id).get("user") or {}
        except (SlackClientError, OSError) as e:
            log.warning("users.info for %s failed (%s): treated as not a lead", user_id, e)
            return False
        lead = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        with self._lock:
            self._cache[user_id] = (lead, now + self.ttl_s)
        return lead


# --------------------------------------------------------------------------- /study stats


def _split_args(args: str) -> tuple[bool, str]:
    """('export 7d') -> (True, '7d'); raises UnknownPeriod on anything else."""
    words = args.lower().split()
    export = bool(words) and words[0] == EXPORT
    if export:
        words = words[1:]
    if len(words) > 1:
        raise UnknownPeriod(f"Unexpected {' '.join(words)!r}.")
    return export, parse_period(words[0] if words else None)


def _stats_ack(req: CommandRequest, deps: SlackDeps) -> AckReply | None:
    try:
        _split_args(req.args)
    except UnknownPeriod:
        return {"response_type": "ephemeral", "text": USAGE.format(command=req.command)}
    return None  # the answer comes from the work (ephemeral, via response_url)


def _channel_label(client: WebClient, channel_id: str) -> str:
    """#name for the chart's title (conversations.info), or the id when Slack won't say."""
    try:
        name = client.conversations_info(channel=channel_id)["channel"].get("name")
    except (SlackClientError, OSError, KeyError, TypeError):
        name = None
    return f"#{name}" if name else channel_id


def _send_chart(
    client: WebClient, settings: Settings, req: CommandRequest, png: bytes, period: str
) -> bool:
    """Upload the chart to the lead's DM, or to a thread in STUDYBOT_STATS_CHANNEL."""
    name = f"studybot-stats-{req.channel_id}-{period}.png"
    title = f"Study stats for {req.channel_id} ({period})"
    target = (settings.stats_channel or "").strip()
    try:
        if target:
            parent = client.chat_postMessage(
                channel=target,
                text=f"Study stats for <#{req.channel_id}> ({period}), for <@{req.user_id}>.",
            )
            client.files_upload_v2(
                channel=parent["channel"],
                thread_ts=parent["ts"],
                file=png,
                filename=name,
                title=title,
            )
        else:
            client.files_upload_v2(
                channel=open_dm(client, req.user_id),
                file=png,
                filename=name,
                title=title,
                initial_comment=f"Study stats for <#{req.channel_id}> ({period}).",
            )
    except (SlackClientError, OSError, KeyError) as e:
        log.error("Request %s: stats chart not uploaded: %s", req.request_id, e)
        return False
    return True


def _stats_work(
    is_lead: LeadCheck, req: CommandRequest, deps: SlackDeps, client: WebClient, respond: Respond
) -> None:
    try:
        export, period = _split_args(req.args)
    except UnknownPeriod:
        return  # the ack showed the usage
    if not is_lead(client, req.user_id):
        log.info("Request %s: stats refused for %s (not a lead)", req.request_id, req.user_id)
        respond_to(respond, req.request_id, text=refusal_text(req.command))
        return
    if not req.channel_id or req.channel_id.startswith("D"):
        respond_to(respond, req.request_id, text=IN_A_CHANNEL.format(command=req.command))
        return
    try:
        if export:
            _export(req, deps, period, client, respond)
            return
        figures = deps.service.channel_stats(req.channel_id, period)
    except RecordsUnavailable as e:
        log.error("Request %s: stats unavailable: %s", req.request_id, e)
        respond_to(respond, req.request_id, text=RECORDS_DOWN, blocks=error_blocks(RECORDS_DOWN))
        return
    settings = deps.service.settings
    target = (settings.stats_channel or "").strip()
    note = CHART_IN_THREAD.format(channel=target) if target else CHART_IN_DM
    # the figures first (a lead sees them at once), then the chart (about half a second)
    blocks = channel_stats_blocks(figures, chart_note=note, command=req.command)
    respond_to(respond, req.request_id, text=channel_stats_text(figures), blocks=blocks)
    from bot.stats_chart import render_stats_chart  # matplotlib: loaded on first use

    parts = (
        "Study stats",
        figures.exam,
        _channel_label(client, req.channel_id),
        figures.period_label,
    )
    title = " · ".join(p for p in parts if p)
    if not _send_chart(client, settings, req, render_stats_chart(figures, title=title), period):
        respond_to(respond, req.request_id, text=CHART_FAILED)


def _export(
    req: CommandRequest, deps: SlackDeps, period: str, client: WebClient, respond: Respond
) -> None:
    rows = deps.service.learner_rows(req.channel_id, period)
    text = deps.service.export_csv(req.channel_id, period)
    day = deps.service.now().date().isoformat()
    try:
        client.files_upload_v2(
            channel=open_dm(client, req.user_id),
            content=text,
            filename=f"studybot-stats-{req.channel_id}-{period}-{day}.csv",
            title=f"Study stats for #{req.channel_id} ({period}, {day})",
            initial_comment=f"Learners of <#{req.channel_id}> ({period}), as CSV.",
        )
    except (SlackApiError, SlackClientError, OSError, KeyError) as e:
        log.error("Request %s: CSV not uploaded: %s", req.request_id, e)
        respond_to(respond, req.request_id, text=EXPORT_FAILED)
        return
    respond_to(respond, req.request_id, text=EXPORT_SENT.format(rows=len(rows), period=period))


def stats_subcommand(is_lead: LeadCheck) -> Subcommand:
    """`/study stats`, for the users `is_lead` accepts."""
    return Subcommand(
        "stats",
        f"stats [{PERIOD_CHOICES}] | stats export",
        "This channel's study stats, chart and CSV (team leads).",
        on_ack=_stats_ack,
        work=partial(_stats_work, is_lead),
    )


# --------------------------------------------------------------------------- /study me


def _me_work(req: CommandRequest, deps: SlackDeps, client: WebClient, respond: Respond) -> None:
    try:
        progress = deps.service.learner_progress(req.user_id, req.channel_id)
    except RecordsUnavailable as e:
        log.error("Request %s: progress unavailable: %s", req.request_id, e)
        respond_to(respond, req.request_id, text=RECORDS_DOWN, blocks=error_blocks(RECORDS_DOWN))
        return
    respond_to(
        respond,
        req.request_id,
        text=learner_progress_text(progress),
        blocks=learner_progress_blocks(progress),
    )


ME = Subcommand(
    "me",
    "me",
    "Your progress: accuracy per domain, reviews due, streak, readiness.",
    work=_me_work,
)
