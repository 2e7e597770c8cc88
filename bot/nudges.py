"""The learners' nudges on a clock: review reminders and weekly leaderboards. Imports no Slack.

`NudgeDriver` checks every CHECK_INTERVAL (an APScheduler interval job) whether a reminder or a
leaderboard is due (`tick`); each is claimed once across replicas, so every replica may run a
driver on the same database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.leaderboard import PostFn as PostBoard
from bot.leaderboard import Standings, WeeklyLeaderboards
from bot.records import Records, utcnow
from bot.reminders import Reminders, SendFn, Sent

log = logging.getLogger(__name__)

CHECK_INTERVAL = timedelta(minutes=5)


class NudgeDriver:
    """Runs `tick` every `interval` on its own BackgroundScheduler (start/stop)."""

    def __init__(
        self,
        records: Records,
        send_reminder: SendFn,
        post_leaderboard: PostBoard,
        *,
        clock: Callable[[], datetime] = utcnow,
        interval: timedelta = CHECK_INTERVAL,
    ) -> None:
        self.reminders = Reminders(records, send_reminder, clock=clock)
        self.leaderboards = WeeklyLeaderboards(records, post_leaderboard, clock=clock)
        self._clock = clock
        self._interval = interval
        self._scheduler: BackgroundScheduler | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._scheduler is not None and bool(self._scheduler.running)

    def start(self) -> None:
        with self._lock:
            if self.running:
                return
            self._scheduler = BackgroundScheduler(timezone="UTC", daemon=True)
            self._scheduler.add_job(
                self.tick,
                IntervalTrigger(seconds=int(self._interval.total_seconds())),
                id="nudges",
                coalesce=True,
                max_instances=1,
                next_run_time=self._clock(),  # check once at start-up too
            )
            self._scheduler.start()

    def stop(self) -> None:
        with self._lock:
            if self._scheduler is not None and self._scheduler.running:
                self._scheduler.shutdown(wait=False)
            self._scheduler = None

    def tick(self, now: datetime | None = None) -> tuple[list[Sent], list[Standings]]:
        """Send the reminders and post the leaderboards that are due; never raises."""
        now = now or self._clock()
        sent: list[Sent] = []
        posted: list[Standings] = []
        try:
            sent = self.reminders.run_due(now)
        except Exception:
            log.exception("Review reminders: the check failed")
        try:
            posted = self.leaderboards.run_due(now)
        except Exception:
            log.exception("Weekly leaderboards: the check failed")
        return sent, posted
