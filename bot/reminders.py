"""Review reminders: an opt-in DM when spaced-repetition reviews are due. Imports no Slack.

A learner turns it on with a local time and timezone (`/study remind on 08:00 Europe/Berlin`).
From that time until the end of their local day, the first check that finds reviews due sends
one reminder; `reminder_sends` holds one claimed row per (learner, local date), so two replicas
(or two checks) never send twice the same day (see `bot.claims`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot import claims
from bot.daily import ScheduleError, parse_time, parse_timezone
from bot.optins import OptIns
from bot.records import Records, Reminder, ReminderSend, Review, utcnow

log = logging.getLogger(__name__)

EXAMPLE = "`/study remind on 08:00 Europe/Berlin`"

Clock = Callable[[], datetime]
# Sends the reminder (the learner, how many reviews are due); True when it was delivered.
SendFn = Callable[[str, int], bool]


@dataclass(frozen=True)
class ReminderSetting:
    user_id: str
    time_of_day: str  # HH:MM, local
    timezone: str  # IANA name
    enabled: bool = True

    def local_date_due(self, now: datetime) -> str | None:
        """The learner's local date when `now` is at or after their time that day, else None."""
        local = now.astimezone(ZoneInfo(self.timezone))
        return local.date().isoformat() if local.strftime("%H:%M") >= self.time_of_day else None

    def describe(self) -> str:
        return f"{self.time_of_day} {self.timezone}"


@dataclass(frozen=True)
class RemindCommand:
    """`/study remind ...` parsed: on (with a time), off or status."""

    action: str  # on | off | status
    time_of_day: str | None = None
    timezone: str | None = None  # None: not given (the front end picks the learner's)


def parse_remind_command(args: str) -> RemindCommand:
    """`on HH:MM [Area/City]`, `off`, `status` (empty = status); ScheduleError otherwise."""
    words = args.split()
    action = words[0].lower() if words else "status"
    rest = words[1:]
    if action in ("off", "stop", "disable"):
        return RemindCommand("off")
    if action in ("status", "show"):
        return RemindCommand("status")
    if action not in ("on", "at", "enable"):
        raise ScheduleError(
            f"I don't know `remind {words[0]}`. Try {EXAMPLE} or `/study remind off`."
        )
    if not rest or len(rest) > 2:
        raise ScheduleError(f"Tell me when to remind you, e.g. {EXAMPLE}.")
    timezone = parse_timezone(rest[1]) if len(rest) == 2 else None
    return RemindCommand("on", parse_time(rest[0]), timezone)


@dataclass(frozen=True)
class Sent:
    user_id: str
    local_date: str
    due_reviews: int


class ReminderStore:
    """The reminder tables: each learner's setting and the per-day claims."""

    def __init__(self, records: Records, *, clock: Clock = utcnow) -> None:
        self.records = records
        self._rows = OptIns(records, Reminder, "user_id", clock=clock)

    @staticmethod
    def _setting(row: Any) -> ReminderSetting:
        return ReminderSetting(row.user_id, row.time_of_day, row.timezone, row.enabled)

    def save(self, setting: ReminderSetting) -> None:
        self._rows.save(
            {
                "user_id": setting.user_id,
                "time_of_day": setting.time_of_day,
                "timezone": setting.timezone,
                "enabled": setting.enabled,
            }
        )

    def disable(self, user_id: str) -> bool:
        """Turn a learner's reminder off; False when it was not on."""
        return self._rows.disable(user_id)

    def get(self, user_id: str) -> ReminderSetting | None:
        row = self._rows.get(user_id)
        return self._setting(row) if row is not None else None

    def enabled(self) -> list[ReminderSetting]:
        return [self._setting(r) for r in self._rows.enabled()]

    def due_reviews(self, user_ids: list[str], now: datetime) -> dict[str, int]:
        """How many reviews are due now, per learner (learners with none are left out)."""
        if not user_ids:
            return {}
        stmt = (
            sa.select(Review.user_id, sa.func.count())
            .where(Review.user_id.in_(user_ids), Review.due_at <= now)
            .group_by(Review.user_id)
        )
        with self.records.connect() as conn:
            return {u: int(n) for u, n in conn.execute(stmt)}

    def sent_today(self, local_dates: dict[str, str]) -> set[str]:
        """The learners (of `{user: local date}`) whose reminder for that date is claimed."""
        if not local_dates:
            return set()
        stmt = sa.select(ReminderSend.user_id, ReminderSend.local_date).where(
            ReminderSend.user_id.in_(list(local_dates))
        )
        with self.records.connect() as conn:
            return {u for u, d in conn.execute(stmt) if local_dates.get(u) == d}


class Reminders:
    """Sends the day's reminders that are due (`run_due`), each at most once a day."""

    def __init__(self, records: Records, send: SendFn, *, clock: Clock = utcnow) -> None:
        self.store = ReminderStore(records, clock=clock)
        self._send = send
        self._clock = clock

    def run_due(self, now: datetime | None = None) -> list[Sent]:
        """Remind every learner whose time has come today and who has reviews due."""
        now = now or self._clock()
        dates: dict[str, str] = {}
        for setting in self.store.enabled():
            try:
                day = setting.local_date_due(now)
            except (ValueError, KeyError) as e:  # a timezone this system lacks
                log.error("Reminder for %s: bad setting: %s", setting.user_id, e)
                continue
            if day is not None:
                dates[setting.user_id] = day
        for user in self.store.sent_today(dates):
            dates.pop(user)
        due = self.store.due_reviews(list(dates), now)
        return [s for user, n in due.items() if (s := self._remind(user, dates[user], n, now))]

    def _remind(self, user_id: str, local_date: str, due: int, now: datetime) -> Sent | None:
        key = {"user_id": user_id, "local_date": local_date}
        claim_id = claims.claim(
            self.store.records,
            ReminderSend,
            key,
            now=now,
            done_column="sent_at",
            values={"due_reviews": due},
        )
        if claim_id is None:
            return None  # another replica (or an earlier check) has today's reminder
        try:
            delivered = self._send(user_id, due)
        except Exception:
            log.exception("Reminder for %s on %s: sending failed", user_id, local_date)
            delivered = False
        if not delivered:
            claims.release(self.store.records, ReminderSend, claim_id, done_column="sent_at")
            return None
        claims.complete(self.store.records, ReminderSend, claim_id, sent_at=self._clock())
        log.info("Reminder for %s on %s: %d review(s) due", user_id, local_date, due)
        return Sent(user_id, local_date, due)
