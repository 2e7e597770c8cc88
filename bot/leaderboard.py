"""The weekly leaderboard a channel opts into: accuracy over the week, with a minimum of answers.

Imports no Slack. `/study leaderboard on [HH:MM] [Area/City]` stores the channel's opt-in; on
Mondays from that local time the first check posts last week's standings: learners with at least
MIN_ANSWERS quiz answers in the channel over the 7 days before, ranked by accuracy (then by
answers). `leaderboard_posts` holds one claimed row per (channel, ISO week), so replicas post once
(see `bot.claims`). Anyone can see the current standings with `/study leaderboard`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot import claims
from bot.daily import ScheduleError, parse_time, parse_timezone
from bot.optins import OptIns
from bot.records import Leaderboard, LeaderboardPost, QuizAttempt, Records, utcnow

log = logging.getLogger(__name__)

MIN_ANSWERS = 5  # answers in the week before a learner is ranked
TOP = 10  # learners shown
WINDOW = timedelta(days=7)
DEFAULT_TIME = "09:00"
EXAMPLE = "`/study leaderboard on 09:00 Europe/Berlin`"

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Standing:
    user_id: str
    answers: int
    correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.answers if self.answers else 0.0


@dataclass(frozen=True)
class Standings:
    """A channel's leaderboard over [since, until)."""

    channel_id: str
    since: datetime
    until: datetime
    ranked: list[Standing]  # best first, at most TOP
    unranked: int  # learners who answered, but fewer than `min_answers` times
    min_answers: int = MIN_ANSWERS
    week: str = ""  # the ISO week it is posted for (weekly posts only)


@dataclass(frozen=True)
class LeaderboardSetting:
    channel_id: str
    time_of_day: str = DEFAULT_TIME  # on Mondays, local
    timezone: str = "UTC"
    enabled: bool = True
    created_by: str = field(default="", compare=False)

    def week_due(self, now: datetime) -> str | None:
        """The ISO week (`2026-W49`) when `now` is a Monday at or after the time, else None."""
        local = now.astimezone(ZoneInfo(self.timezone))
        if local.weekday() != 0 or local.strftime("%H:%M") < self.time_of_day:
            return None
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"

    def describe(self) -> str:
        return f"Mondays at {self.time_of_day} {self.timezone}"


@dataclass(frozen=True)
class LeaderboardCommand:
    action: str  # on | off | show
    time_of_day: str | None = None
    timezone: str | None = None


def parse_leaderboard_command(args: str) -> LeaderboardCommand:
    """`on [HH:MM] [Area/City]`, `off`, or nothing (show the standings); ScheduleError else."""
    words = args.split()
    action = words[0].lower() if words else "show"
    rest = words[1:]
    if action in ("show", "now"):
        return LeaderboardCommand("show")
    if action in ("off", "stop", "disable"):
        return LeaderboardCommand("off")
    if action not in ("on", "enable", "weekly"):
        raise ScheduleError(
            f"I don't know `leaderboard {words[0]}`. Try {EXAMPLE}, `/study leaderboard off` "
            "or `/study leaderboard`."
        )
    time_of_day = parse_time(rest.pop(0)) if rest and ":" in rest[0] else None
    if len(rest) > 1:
        raise ScheduleError(f"Give a time and one timezone, e.g. {EXAMPLE}.")
    return LeaderboardCommand("on", time_of_day, parse_timezone(rest[0]) if rest else None)


def standings(
    records: Records, channel_id: str, until: datetime, *, min_answers: int = MIN_ANSWERS
) -> Standings:
    """Learners' quiz accuracy in `channel_id` over the 7 days before `until`."""
    since = until - WINDOW
    correct = sa.func.sum(sa.case((QuizAttempt.correct, 1), else_=0))
    stmt = (
        sa.select(QuizAttempt.user_id, sa.func.count(), correct)
        .where(
            QuizAttempt.channel_id == channel_id,
            QuizAttempt.created_at >= since,
            QuizAttempt.created_at < until,
        )
        .group_by(QuizAttempt.user_id)
    )
    with records.connect() as conn:
        rows = [Standing(u, int(n), int(c or 0)) for u, n, c in conn.execute(stmt)]
    ranked = sorted(
        (r for r in rows if r.answers >= min_answers),
        key=lambda r: (-r.accuracy, -r.answers, r.user_id),
    )
    return Standings(channel_id, since, until, ranked[:TOP], len(rows) - len(ranked), min_answers)


class LeaderboardStore:
    def __init__(self, records: Records, *, clock: Clock = utcnow) -> None:
        self.records = records
        self._rows = OptIns(records, Leaderboard, "channel_id", clock=clock)

    @staticmethod
    def _setting(row: Any) -> LeaderboardSetting:
        return LeaderboardSetting(
            row.channel_id, row.time_of_day, row.timezone, row.enabled, row.created_by
        )

    def save(self, setting: LeaderboardSetting) -> None:
        self._rows.save(
            {
                "channel_id": setting.channel_id,
                "time_of_day": setting.time_of_day,
                "timezone": setting.timezone,
                "enabled": setting.enabled,
                "created_by": setting.created_by,
            }
        )

    def disable(self, channel_id: str) -> bool:
        return self._rows.disable(channel_id)

    def get(self, channel_id: str) -> LeaderboardSetting | None:
        row = self._rows.get(channel_id)
        return self._setting(row) if row is not None else None

    def enabled(self) -> list[LeaderboardSetting]:
        return [self._setting(r) for r in self._rows.enabled()]


# Posts a week's standings in its channel; returns the message ts, or None when not posted.
PostFn = Callable[[Standings], str | None]


class WeeklyLeaderboards:
    """Posts each opted-in channel's leaderboard once a week (`run_due`)."""

    def __init__(self, records: Records, post: PostFn, *, clock: Clock = utcnow) -> None:
        self.store = LeaderboardStore(records, clock=clock)
        self._post = post
        self._clock = clock

    def run_due(self, now: datetime | None = None) -> list[Standings]:
        now = now or self._clock()
        posted = []
        for setting in self.store.enabled():
            try:
                week = setting.week_due(now)
            except (ValueError, KeyError) as e:
                log.error("Leaderboard in %s: bad setting: %s", setting.channel_id, e)
                continue
            if week is not None and (board := self._run(setting.channel_id, week, now)):
                posted.append(board)
        return posted

    def _run(self, channel_id: str, week: str, now: datetime) -> Standings | None:
        records = self.store.records
        key = {"channel_id": channel_id, "week": week}
        claim_id = claims.claim(records, LeaderboardPost, key, now=now, done_column="posted_at")
        if claim_id is None:
            return None
        board = replace(standings(records, channel_id, now), week=week)
        try:
            ts = self._post(board)
        except Exception:
            log.exception("Leaderboard in %s for %s: posting failed", channel_id, week)
            ts = None
        if ts is None:
            claims.release(records, LeaderboardPost, claim_id, done_column="posted_at")
            return None
        claims.complete(records, LeaderboardPost, claim_id, posted_at=self._clock())
        return board
