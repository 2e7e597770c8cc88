"""Retention: old records and fetch-cache files are removed once a day, by one replica.

Removed when older than `STUDYBOT_RETENTION_DAYS` (default 180):
- `asks` (their feedback goes with them) and `bot_threads` (replies there stop being follow-ups);
- `quiz_posts` nobody answered, once expired, that no question-of-the-day claim refers to;
- fetch-cache files not written since (the next ingest downloads such a page again);
- the once-a-period claims of reminders, leaderboards and jobs (`reminder_sends`,
  `leaderboard_posts`, `job_runs`): they only stop a second send in their own day or week.
Delivery claims (`slack_events`, also replayed slash commands) only serve Slack's retries, which
come within minutes: they go after `DELIVERY_RETENTION`. Kept however old: quiz answers and
the posts they answer, spaced-repetition cards, the question bank, schedules, exams.

`RetentionDriver` runs the prune daily at `RUN_AT` UTC (and once shortly after start-up) on an
APScheduler BackgroundScheduler; each run first claims the day's row in `job_runs`, so with
several replicas only one prunes. Imports no Slack.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bot import metrics
from bot.records import (
    Ask,
    BotThread,
    DailyPost,
    JobRun,
    LeaderboardPost,
    QuizAttempt,
    QuizPost,
    Records,
    RecordsUnavailable,
    ReminderSend,
    SlackEvent,
    utcnow,
)
from knowledge.settings import Settings

log = logging.getLogger(__name__)

JOB = "retention"
DELIVERY_RETENTION = timedelta(days=2)
RUN_AT = time(3, 17)  # UTC, daily
FIRST_RUN_DELAY = timedelta(minutes=1)  # after start-up: a fresh deploy prunes the same day
BATCH = 5000  # rows per DELETE, so no statement holds its locks for long

Clock = Callable[[], datetime]


class Retention:
    """The prune itself (`prune`) and its once-a-day claim across replicas (`run`)."""

    def __init__(self, records: Records, days: int, fetch_cache_dir: Path | None = None) -> None:
        if days < 1:
            raise ValueError("STUDYBOT_RETENTION_DAYS must be at least 1.")
        self.records = records
        self.days = days
        self.fetch_cache_dir = fetch_cache_dir

    @classmethod
    def from_settings(cls, records: Records, settings: Settings) -> Retention:
        return cls(records, settings.retention_days, settings.fetch_cache_dir)

    def run(self, now: datetime | None = None) -> dict[str, int] | None:
        """Prune once for `now`'s UTC date: what was removed, or None when another run (another
        replica, or an earlier run today) has the day's claim."""
        now = now or self.records.now()
        claim = self._claim(now.date().isoformat(), now)
        if claim is None:
            return None
        removed = self.prune(now)
        with self.records.begin() as conn:
            conn.execute(
                sa.update(JobRun)
                .where(JobRun.id == claim)
                .values(finished_at=self.records.now(), result=removed)
            )
        return removed

    def prune(self, now: datetime | None = None) -> dict[str, int]:
        """Remove what is past retention (see the module docstring); counts by table."""
        now = now or self.records.now()
        cutoff = now - timedelta(days=self.days)
        delivered = now - DELIVERY_RETENTION
        removed = {
            "slack_events": self._delete(SlackEvent, SlackEvent.created_at < delivered),
            "asks": self._delete(Ask, Ask.created_at < cutoff),
            "bot_threads": self._delete_threads(cutoff),
            "quiz_posts": self._delete(QuizPost, self._unused_post(now, cutoff)),
            "reminder_sends": self._delete(ReminderSend, ReminderSend.claimed_at < cutoff),
            "leaderboard_posts": self._delete(LeaderboardPost, LeaderboardPost.claimed_at < cutoff),
            "job_runs": self._delete(JobRun, JobRun.claimed_at < cutoff),
            "fetch_cache": self._prune_fetch_cache(cutoff),
        }
        for table, count in removed.items():
            metrics.PRUNED_ROWS.labels(table).inc(count)
        log.info("Retention (%d days): removed %s", self.days, removed)
        return removed

    # -- pieces

    def _claim(self, period: str, now: datetime) -> int | None:
        stmt = (
            self.records.insert(JobRun)
            .values(job=JOB, period=period, claimed_at=now)
            .on_conflict_do_nothing(index_elements=["job", "period"])
            .returning(JobRun.id)
        )
        with self.records.begin() as conn:
            return conn.execute(stmt).scalar()

    @staticmethod
    def _unused_post(now: datetime, cutoff: datetime) -> sa.ColumnElement[bool]:
        answered = sa.select(QuizAttempt.id).where(QuizAttempt.post_id == QuizPost.id).exists()
        daily = sa.select(DailyPost.id).where(DailyPost.post_id == QuizPost.id).exists()
        return sa.and_(QuizPost.created_at < cutoff, QuizPost.expires_at < now, ~answered, ~daily)

    def _delete(self, model: type, condition: sa.ColumnElement[bool]) -> int:
        """DELETE rows of `model` matching `condition`, BATCH at a time; how many went."""
        total = 0
        while True:
            batch = sa.select(model.id).where(condition).limit(BATCH)
            with self.records.begin() as conn:
                gone = conn.execute(sa.delete(model).where(model.id.in_(batch))).rowcount or 0
            total += gone
            if gone < BATCH:
                return total

    def _delete_threads(self, cutoff: datetime) -> int:
        with self.records.begin() as conn:
            return conn.execute(sa.delete(BotThread).where(BotThread.created_at < cutoff)).rowcount

    def _prune_fetch_cache(self, cutoff: datetime) -> int:
        """Cache files (bodies, metadata, stray temp files) last written before `cutoff`."""
        folder = self.fetch_cache_dir
        if folder is None or not folder.is_dir():
            return 0
        removed = 0
        limit = cutoff.timestamp()
        for path in folder.iterdir():
            with contextlib.suppress(OSError):  # gone already, or not ours to remove
                if path.is_file() and path.stat().st_mtime < limit:
                    path.unlink()
                    removed += 1
        return removed


class RetentionDriver:
    """Runs `Retention.run` daily at RUN_AT UTC and once after start-up (`studybot serve`)."""

    def __init__(
        self,
        records: Records,
        settings: Settings,
        *,
        scheduler: BackgroundScheduler | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.retention = Retention.from_settings(records, settings)
        self.scheduler = scheduler or BackgroundScheduler(timezone="UTC", daemon=True)
        self._clock = clock
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)

    def start(self) -> None:
        with self._lock:
            if self.running:
                return
            self.scheduler.start()
            self.scheduler.add_job(
                self.run_safely,
                CronTrigger(hour=RUN_AT.hour, minute=RUN_AT.minute, timezone="UTC"),
                id="retention",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=3600,
            )
            self.scheduler.add_job(
                self.run_safely,
                DateTrigger(run_date=self._clock() + FIRST_RUN_DELAY),
                id="retention-first",
            )

    def stop(self) -> None:
        with self._lock:
            if self.running:
                self.scheduler.shutdown(wait=False)

    def run_safely(self) -> dict[str, int] | None:
        """One run; failures are logged (the next day's run tries again)."""
        try:
            return self.retention.run(self._clock())
        except RecordsUnavailable as e:
            log.error("Retention: the records are unavailable: %s", e)
        except Exception:
            log.exception("Retention: the prune failed")
        return None
