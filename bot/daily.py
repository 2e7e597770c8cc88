"""The question of the day per channel: schedules, the exactly-once claim, the scheduler driver.

Imports no Slack. `/study daily on 09:00 Europe/Berlin [weekdays]` becomes a row in
`daily_schedules`; `DailyDriver` keeps one APScheduler `CronTrigger` per enabled channel in the
channel's timezone (the trigger handles daylight-saving changes) and calls `run_daily`.

`run_daily(channel, now)` first claims the (channel, local date) row in `daily_posts` with
INSERT … ON CONFLICT DO NOTHING: only the process whose insert wins posts, so two bot processes
(or a restart's catch-up racing the trigger) give one post per channel and day. A claim is
released when nothing was posted, so a retry can try again; a claim left by a process that
died mid-run is taken over after `CLAIM_LEASE`.

At start-up `catch_up` posts a run missed while the bot was down, when it is still within the
day's grace window (`GRACE` after the scheduled time, same local date).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import exc

from bot import claims
from bot.optins import OptIns
from bot.quiz_service import DailyRecap, ShownQuestion
from bot.records import DailyPost, DailySchedule, QuizPost, Records, RecordsUnavailable, utcnow

log = logging.getLogger(__name__)

GRACE = timedelta(hours=6)  # a run missed while down is still posted this long after its time
CLAIM_LEASE = claims.CLAIM_LEASE  # an unfinished claim older than this may be taken over
RETRY_DELAY = timedelta(minutes=5)  # a failed run is tried again after this ...
MAX_RETRIES = 3  # ... at most this many times (and only within the grace window)
SYNC_INTERVAL = timedelta(minutes=5)  # re-read schedules (changes made by other replicas)
EXAMPLE = "`/study daily on 09:00 Europe/Berlin weekdays`"
WEEKDAY_WORDS = {"weekdays", "weekday", "mon-fri", "workdays"}
EVERY_DAY_WORDS = {"daily", "everyday", "every-day", "all"}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")

Clock = Callable[[], datetime]


class ScheduleError(ValueError):
    """A schedule the user typed is not valid; the message says what to type instead."""


class PostFailed(RuntimeError):
    """The front end could not post the question; the message says why, in the user's words
    (e.g. "I'm not a member of that channel")."""


class QuizAPI(Protocol):
    """What the daily question needs from the core (`bot.service.StudyService` has it; so does
    `bot.quiz_service.QuizService`)."""

    def daily_question(self, channel: str) -> ShownQuestion: ...

    def daily_recap(self, token: str) -> DailyRecap: ...

    def set_message_ts(self, token: str, ts: str) -> None: ...


# Posts the question (with the previous post's recap) and returns the message ts, or None when
# nothing was posted (or raises PostFailed). The Slack layer supplies one that calls
# chat.postMessage.
PostFn = Callable[[ShownQuestion, DailyRecap | None], str | None]


# --------------------------------------------------------------------------- schedules


@dataclass(frozen=True)
class Schedule:
    channel_id: str
    time_of_day: str  # HH:MM, local
    timezone: str  # IANA name
    weekdays_only: bool = False
    enabled: bool = True
    created_by: str | None = field(default=None, compare=False)  # who turned it on

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def hour(self) -> int:
        return int(self.time_of_day[:2])

    @property
    def minute(self) -> int:
        return int(self.time_of_day[3:])

    def trigger(self) -> CronTrigger:
        return CronTrigger(
            day_of_week="mon-fri" if self.weekdays_only else "*",
            hour=self.hour,
            minute=self.minute,
            timezone=self.tz,
        )

    def next_runs(self, after: datetime, count: int = 1) -> list[datetime]:
        """The next `count` scheduled instants strictly after `after` (aware, channel tz)."""
        trigger = self.trigger()
        runs: list[datetime] = []
        previous = None
        now = after + timedelta(microseconds=1)
        for _ in range(count):
            fire = trigger.get_next_fire_time(previous, now)
            if fire is None:
                break
            runs.append(fire)
            previous, now = fire, fire + timedelta(microseconds=1)
        return runs

    def run_on(self, day: date) -> datetime | None:
        """The scheduled instant on local date `day`, or None (a weekend on weekdays only)."""
        midnight = datetime.combine(day, time(0, 0), tzinfo=self.tz)
        fire = self.trigger().get_next_fire_time(None, midnight)
        return fire if fire is not None and fire.astimezone(self.tz).date() == day else None

    def missed_run(self, now: datetime, grace: timedelta = GRACE) -> datetime | None:
        """Today's scheduled instant when `now` lies in its grace window (same local date)."""
        local = now.astimezone(self.tz)
        fire = self.run_on(local.date())
        if fire is None or not fire <= now <= fire + grace:
            return None
        return fire

    def describe(self) -> str:
        days = "on weekdays (Mon–Fri)" if self.weekdays_only else "every day"
        return f"{self.time_of_day} {self.timezone}, {days}"


@dataclass(frozen=True)
class DailyCommand:
    """`/study daily ...` parsed: on (with a schedule), off or status."""

    action: str  # on | off | status
    time_of_day: str | None = None
    timezone: str | None = None  # None: not given (the front end picks a default)
    weekdays_only: bool = False


def parse_time(text: str) -> str:
    """ "9:00" / "09:00" -> "09:00"; anything else (25:00, 9am) -> ScheduleError."""
    m = _TIME.match(text.strip())
    if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ScheduleError(
            f"`{text}` is not a time I understand: use 24-hour HH:MM, e.g. `09:00` or `17:30`."
        )
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def parse_timezone(text: str) -> str:
    """An IANA timezone name (Europe/Berlin, America/New_York, UTC), or ScheduleError."""
    name = text.strip()
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError(
            f"`{text}` is not a timezone I know: use an IANA name such as `Europe/Berlin`, "
            "`America/New_York` or `UTC`."
        ) from None
    return name


def parse_command(args: str) -> DailyCommand:
    """`on HH:MM [Area/City] [weekdays]`, `off`, `status` (empty = status)."""
    words = args.split()
    action = words[0].lower() if words else "status"
    rest = words[1:]
    if action in ("off", "stop", "disable"):
        if rest:
            raise ScheduleError("`off` takes nothing after it: type `/study daily off`.")
        return DailyCommand("off")
    if action in ("status", "show"):
        return DailyCommand("status")
    if action not in ("on", "at", "start", "enable"):
        raise ScheduleError(
            f"I don't know `daily {words[0]}`. Try {EXAMPLE}, `/study daily off` or "
            "`/study daily status`."
        )
    if not rest:
        raise ScheduleError(f"Tell me when to post, e.g. {EXAMPLE}.")
    time_of_day = parse_time(rest[0])
    timezone: str | None = None
    weekdays_only = False
    for word in rest[1:]:
        low = word.lower()
        if low in WEEKDAY_WORDS:
            weekdays_only = True
        elif low in EVERY_DAY_WORDS:
            weekdays_only = False
        elif timezone is None:
            timezone = parse_timezone(word)
        else:
            raise ScheduleError(f"Give one timezone, not `{timezone}` and `{word}`: {EXAMPLE}.")
    return DailyCommand("on", time_of_day, timezone, weekdays_only)


# --------------------------------------------------------------------------- persistence


class DailyStore:
    """The daily tables: schedules and the per-day claims (one SQL statement per job)."""

    def __init__(self, records: Records, *, clock: Clock = utcnow) -> None:
        self.records = records
        self._clock = clock
        self._rows = OptIns(records, DailySchedule, "channel_id", clock=clock)

    @staticmethod
    def _schedule(row: Any) -> Schedule:
        return Schedule(
            row.channel_id,
            row.time_of_day,
            row.timezone,
            row.weekdays_only,
            row.enabled,
            row.created_by,
        )

    def save(self, schedule: Schedule, created_by: str) -> None:
        self._rows.save(
            {
                "channel_id": schedule.channel_id,
                "time_of_day": schedule.time_of_day,
                "timezone": schedule.timezone,
                "weekdays_only": schedule.weekdays_only,
                "enabled": schedule.enabled,
                "created_by": created_by,
            }
        )

    def disable(self, channel_id: str) -> bool:
        """Turn a channel's schedule off; False when it had none that was on."""
        return self._rows.disable(channel_id)

    def get(self, channel_id: str) -> Schedule | None:
        row = self._rows.get(channel_id)
        return self._schedule(row) if row is not None else None

    def enabled(self) -> list[Schedule]:
        return [self._schedule(r) for r in self._rows.enabled()]

    def claim(self, channel_id: str, local_date: str) -> int | None:
        """The claim id when this call won (channel, local date); None when someone else has it.

        An unfinished claim older than CLAIM_LEASE (its process died mid-run) is taken over
        (see `bot.claims`).
        """
        return claims.claim(
            self.records,
            DailyPost,
            {"channel_id": channel_id, "local_date": local_date},
            now=self._clock(),
            done_column="posted_at",
            lease=CLAIM_LEASE,
        )

    def release(self, claim_id: int) -> None:
        """Give up a claim that posted nothing, so a retry (or another replica) can post."""
        claims.release(self.records, DailyPost, claim_id, done_column="posted_at")

    def complete(self, claim_id: int, token: str) -> None:
        """Mark the claim posted and link it to the quiz post (for the next day's recap)."""
        post_id = sa.select(QuizPost.id).where(QuizPost.token == token).scalar_subquery()
        stmt = (
            sa.update(DailyPost)
            .where(DailyPost.id == claim_id)
            .values(post_id=post_id, posted_at=self._clock())
        )
        with self.records.begin() as conn:
            conn.execute(stmt)

    def previous_token(self, channel_id: str, before: str) -> str | None:
        """The token of the channel's last posted question of the day before local date `before`."""
        stmt = (
            sa.select(QuizPost.token)
            .join(DailyPost, DailyPost.post_id == QuizPost.id)
            .where(
                DailyPost.channel_id == channel_id,
                DailyPost.local_date < before,
                DailyPost.posted_at.is_not(None),
            )
            .order_by(DailyPost.local_date.desc())
            .limit(1)
        )
        with self.records.begin() as conn:
            return conn.execute(stmt).scalar()


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class RunResult:
    """What one `run_daily` did: posted | taken (another run has today's claim) | off | failed."""

    status: str
    channel_id: str
    local_date: str | None = None
    token: str | None = None
    ts: str | None = None
    error: str | None = None


class DailyDriver:
    """Runs every enabled channel's question of the day on an APScheduler BackgroundScheduler.

    `quiz` returns the quiz service (called when needed, so a front end without quizzes can
    still build the driver); `post` puts the question in the channel; `notify(schedule, why)`
    tells whoever turned the schedule on that today's post failed (once per channel and day).
    `start()` loads the schedules, starts the scheduler and catches up on missed runs;
    `refresh(channel)` after a change. Several processes may run drivers on one database: the
    claim keeps one post a day.
    """

    def __init__(
        self,
        records: Records,
        quiz: Callable[[], QuizAPI],
        post: PostFn,
        *,
        clock: Clock = utcnow,
        grace: timedelta = GRACE,
        sync_interval: timedelta | None = SYNC_INTERVAL,
        scheduler: BackgroundScheduler | None = None,
        notify: Callable[[Schedule, str], None] | None = None,
    ) -> None:
        self.store = DailyStore(records, clock=clock)
        self._quiz = quiz
        self._post = post
        self._notify = notify
        self._notified: set[tuple[str, str]] = set()
        self._clock = clock
        self.grace = grace
        self._sync_interval = sync_interval
        self.scheduler = scheduler or BackgroundScheduler(timezone="UTC", daemon=True)
        self._loaded: dict[str, Schedule] = {}
        self._lock = threading.RLock()
        self._retries: dict[tuple[str, str], int] = {}

    # -- lifecycle

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)

    def start(self, *, catch_up: bool = True) -> list[RunResult]:
        """Load the schedules, start the scheduler, post runs missed while down (in grace)."""
        with self._lock:
            if not self.running:
                self.scheduler.start()
            self.reload()
            if self._sync_interval is not None:
                self.scheduler.add_job(
                    self._safe_reload,
                    IntervalTrigger(seconds=int(self._sync_interval.total_seconds())),
                    id="daily-sync",
                    replace_existing=True,
                    coalesce=True,
                    max_instances=1,
                )
        log.info("Question of the day: %d channel(s) scheduled", len(self._loaded))
        return self.catch_up() if catch_up else []

    def stop(self) -> None:
        with self._lock:
            if self.running:
                self.scheduler.shutdown(wait=False)

    # -- schedules -> jobs

    @staticmethod
    def job_id(channel_id: str) -> str:
        return f"daily:{channel_id}"

    def reload(self) -> None:
        """Make the jobs match the enabled schedules in the database."""
        schedules = {s.channel_id: s for s in self.store.enabled()}
        with self._lock:
            for channel_id in list(self._loaded):
                if channel_id not in schedules:
                    self._unschedule(channel_id)
            for schedule in schedules.values():
                try:
                    self._schedule(schedule)
                except (ValueError, KeyError) as e:  # e.g. a timezone this system lacks
                    log.error("Question of the day in %s: bad schedule: %s", schedule.channel_id, e)

    def refresh(self, channel_id: str) -> Schedule | None:
        """Re-read one channel's schedule after a change (no-op for the jobs when not started)."""
        schedule = self.store.get(channel_id)
        with self._lock:
            if schedule is None or not schedule.enabled:
                self._unschedule(channel_id)
            else:
                self._schedule(schedule)
        return schedule

    def _schedule(self, schedule: Schedule) -> None:
        if not self.running:
            return  # start() loads every schedule
        job = self.scheduler.get_job(self.job_id(schedule.channel_id))
        if job is not None and self._loaded.get(schedule.channel_id) == schedule:
            return  # unchanged: replacing the job would recompute (and maybe skip) its next run
        self._loaded[schedule.channel_id] = schedule
        self.scheduler.add_job(
            self._fire,
            schedule.trigger(),
            args=[schedule.channel_id],
            id=self.job_id(schedule.channel_id),
            name=f"question of the day in {schedule.channel_id}",
            replace_existing=True,
            misfire_grace_time=int(self.grace.total_seconds()),
            coalesce=True,
            max_instances=1,
        )

    def _unschedule(self, channel_id: str) -> None:
        self._loaded.pop(channel_id, None)
        if self.running and self.scheduler.get_job(self.job_id(channel_id)) is not None:
            self.scheduler.remove_job(self.job_id(channel_id))

    def next_run(self, channel_id: str) -> datetime | None:
        """The next fire time of a channel's job (None when not scheduled or not started)."""
        job = self.scheduler.get_job(self.job_id(channel_id)) if self.running else None
        if job is not None and job.next_run_time is not None:
            return job.next_run_time
        schedule = self.store.get(channel_id)
        if schedule is None or not schedule.enabled:
            return None
        runs = schedule.next_runs(self._clock())
        return runs[0] if runs else None

    def _safe_reload(self) -> None:
        try:
            self.reload()
        except Exception:
            log.exception("Question of the day: reloading the schedules failed")

    # -- runs

    def catch_up(self, now: datetime | None = None) -> list[RunResult]:
        """Post today's runs that were missed and are still within the grace window."""
        now = now or self._clock()
        results = []
        for schedule in self.store.enabled():
            try:
                fire = schedule.missed_run(now, self.grace)
            except (ValueError, KeyError) as e:
                log.error("Question of the day in %s: bad schedule: %s", schedule.channel_id, e)
                continue
            if fire is None:
                continue
            log.info(
                "Question of the day in %s: catching up on the run due at %s",
                schedule.channel_id,
                fire.isoformat(),
            )
            results.append(self.run_daily(schedule.channel_id, now))
        return results

    def run_daily(self, channel_id: str, now: datetime | None = None) -> RunResult:
        """Claim today's post for the channel, then post the question with yesterday's recap."""
        now = now or self._clock()
        try:
            schedule = self.store.get(channel_id)
            if schedule is None or not schedule.enabled:
                return RunResult("off", channel_id)
            local_date = now.astimezone(schedule.tz).date().isoformat()
            claim_id = self.store.claim(channel_id, local_date)
        except RecordsUnavailable as e:
            log.error("Question of the day in %s: cannot claim the run: %s", channel_id, e)
            return RunResult("failed", channel_id, error=str(e))
        if claim_id is None:
            log.info("Question of the day in %s on %s: already claimed", channel_id, local_date)
            return RunResult("taken", channel_id, local_date)
        try:
            quiz = self._quiz()
            recap = self._recap(quiz, channel_id, local_date)
            shown = quiz.daily_question(channel_id)
            ts = self._post(shown, recap)
        except PostFailed as e:
            log.error("Question of the day in %s on %s: not posted: %s", channel_id, local_date, e)
            return self._failed(schedule, claim_id, local_date, str(e))
        except Exception as e:
            log.exception("Question of the day in %s on %s: posting failed", channel_id, local_date)
            return self._failed(schedule, claim_id, local_date, str(e) or type(e).__name__)
        if ts is None:
            log.error("Question of the day in %s on %s: nothing was posted", channel_id, local_date)
            return self._failed(schedule, claim_id, local_date, "not posted")
        # Posted: from here on the claim stays, whatever fails (a repost would be a duplicate).
        try:
            quiz.set_message_ts(shown.token, ts)
            self.store.complete(claim_id, shown.token)
        except Exception:
            log.exception("Question of the day in %s: posted, but not recorded", channel_id)
        log.info("Question of the day in %s on %s: posted (ts %s)", channel_id, local_date, ts)
        return RunResult("posted", channel_id, local_date, shown.token, ts)

    def _recap(self, quiz: QuizAPI, channel_id: str, local_date: str) -> DailyRecap | None:
        try:
            token = self.store.previous_token(channel_id, local_date)
            return quiz.daily_recap(token) if token else None
        except Exception:  # the recap is a courtesy: post the question without it
            log.exception("Question of the day in %s: no recap of the previous one", channel_id)
            return None

    def _failed(self, schedule: Schedule, claim_id: int, local_date: str, error: str) -> RunResult:
        """Release the claim (a retry may post), tell the subscriber once a day, report it."""
        self._release(claim_id)
        key = (schedule.channel_id, local_date)
        if self._notify is not None and key not in self._notified:
            self._notified.add(key)
            try:
                self._notify(schedule, error)
            except Exception:
                log.exception("Question of the day in %s: subscriber not told", key[0])
        return RunResult("failed", schedule.channel_id, local_date, error=error)

    def _release(self, claim_id: int) -> None:
        try:
            self.store.release(claim_id)
        except (RecordsUnavailable, exc.SQLAlchemyError) as e:
            log.error("Question of the day: claim %s not released: %s", claim_id, e)

    def _fire(self, channel_id: str) -> None:
        """The scheduler's job: run, and retry a failed run a few times within the grace."""
        try:
            result = self.run_daily(channel_id)
        except Exception:  # never let a job die silently
            log.exception("Question of the day in %s: the run crashed", channel_id)
            return
        if result.status != "failed" or result.local_date is None:
            return
        key = (channel_id, result.local_date)
        tries = self._retries.get(key, 0)
        schedule = self._loaded.get(channel_id)
        when = self._clock() + RETRY_DELAY
        in_grace = schedule is not None and schedule.missed_run(when, self.grace) is not None
        if tries >= MAX_RETRIES or not in_grace:
            log.error("Question of the day in %s: giving up for %s", channel_id, result.local_date)
            return
        self._retries[key] = tries + 1
        if self.running:
            self.scheduler.add_job(
                self._fire,
                DateTrigger(run_date=when),
                args=[channel_id],
                id=f"daily-retry:{channel_id}",
                replace_existing=True,
            )
