"""The question of the day: parsing, DST, the exactly-once claim, catch-up, recaps, the driver.

The quiz core is the real QuizService on a seeded bank (see tests/test_quiz_slack.py); `post` is
a recording callback, except where the Slack poster is driven against the fake Slack Web API.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from apscheduler.triggers.cron import CronTrigger
from slack_sdk import WebClient

from bot.daily import (
    CLAIM_LEASE,
    GRACE,
    DailyCommand,
    DailyDriver,
    RunResult,
    Schedule,
    ScheduleError,
    parse_command,
    parse_time,
    parse_timezone,
)
from bot.quiz_service import DailyRecap, QuizService, ShownQuestion
from bot.records import DailyPost, QuizPost, Records
from bot.slack.quiz_messages import slack_poster
from tests.pg import database_url
from tests.test_quiz_slack import QuizFakeSlack, all_text, correct_of, make_quiz, seed_bank

BERLIN = ZoneInfo("Europe/Berlin")


def at(y, mo, d, h=0, mi=0, tz=BERLIN) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=tz)


class Posts:
    """The `post` callback: records what would go to Slack and returns a message ts."""

    def __init__(self, fail: int = 0) -> None:
        self.calls: list[tuple[ShownQuestion, DailyRecap | None]] = []
        self.fail = fail
        self._lock = threading.Lock()

    def __call__(self, shown: ShownQuestion, recap: DailyRecap | None) -> str:
        with self._lock:
            if self.fail:
                self.fail -= 1
                raise RuntimeError("Slack is down")
            self.calls.append((shown, recap))
            return f"1700000000.{len(self.calls):06d}"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)


@pytest.fixture
def pg_url(tmp_path):
    """A throwaway PostgreSQL schema (dropped afterwards), or a skip with the reason."""
    with database_url("postgresql", tmp_path, "test_daily") as url:
        yield url


@pytest.fixture
def sqlite_records(tmp_path):
    r = Records.from_url(f"sqlite:///{tmp_path / 'daily.db'}")
    r.upgrade()
    seed_bank(r)
    yield r
    r.close()


def driver_for(records: Records, tmp_path, clock: Clock, post=None) -> tuple[DailyDriver, Posts]:
    quiz = make_quiz(records, tmp_path, clock=clock)
    post = post or Posts()
    return DailyDriver(records, lambda: quiz, post, clock=clock, sync_interval=None), post


def posted_rows(records: Records, channel: str) -> list[tuple[str, int | None]]:
    with records.engine.connect() as conn:
        return conn.execute(
            sa.select(DailyPost.local_date, DailyPost.post_id)
            .where(DailyPost.channel_id == channel, DailyPost.posted_at.is_not(None))
            .order_by(DailyPost.local_date)
        ).all()


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize("text", ["25:00", "9am", "24:00", "12:60", "9", "09:00:00", "nine"])
def test_invalid_times_get_a_clear_error(text):
    with pytest.raises(ScheduleError) as e:
        parse_time(text)
    assert str(e.value) == (
        f"`{text}` is not a time I understand: use 24-hour HH:MM, e.g. `09:00` or `17:30`."
    )


def test_valid_times_are_normalised():
    assert [parse_time(t) for t in ("9:00", "09:00", "00:00", "23:59")] == [
        "09:00",
        "09:00",
        "00:00",
        "23:59",
    ]


@pytest.mark.parametrize("text", ["Mars/Olympus", "Europe/Atlantis", "../../etc/passwd", "+01:00"])
def test_invalid_timezones_get_a_clear_error(text):
    with pytest.raises(ScheduleError) as e:
        parse_timezone(text)
    assert f"`{text}` is not a timezone I know" in str(e.value)
    assert "`Europe/Berlin`" in str(e.value)


def test_daily_commands():
    assert parse_command("on 09:00 Europe/Berlin weekdays") == DailyCommand(
        "on", "09:00", "Europe/Berlin", True
    )
    assert parse_command("on 7:30") == DailyCommand("on", "07:30", None, False)
    assert parse_command("on 18:00 weekdays America/New_York").timezone == "America/New_York"
    assert parse_command("off") == DailyCommand("off")
    assert parse_command("status") == parse_command("") == DailyCommand("status")
    for bad, message in (
        ("on", "Tell me when to post"),
        ("on 25:00 Europe/Berlin", "`25:00` is not a time"),
        ("on 9am", "`9am` is not a time"),
        ("on 09:00 Mars/Olympus", "`Mars/Olympus` is not a timezone"),
        ("on 09:00 Europe/Berlin Asia/Tokyo", "Give one timezone"),
        ("sometimes", "I don't know `daily sometimes`"),
        ("off now", "`off` takes nothing"),
    ):
        with pytest.raises(ScheduleError, match=message):
            parse_command(bad)


# --------------------------------------------------------------------------- DST


def test_berlin_0900_across_the_march_and_october_changes():
    s = Schedule("C1", "09:00", "Europe/Berlin")
    utc = [f.astimezone(UTC) for f in s.next_runs(at(2025, 3, 28, 12), 4)]
    assert utc == [
        datetime(2025, 3, 29, 8, 0, tzinfo=UTC),  # CET, UTC+1
        datetime(2025, 3, 30, 7, 0, tzinfo=UTC),  # last Sunday of March: CEST, UTC+2
        datetime(2025, 3, 31, 7, 0, tzinfo=UTC),
        datetime(2025, 4, 1, 7, 0, tzinfo=UTC),
    ]
    utc = [f.astimezone(UTC) for f in s.next_runs(at(2025, 10, 24, 12), 4)]
    assert utc == [
        datetime(2025, 10, 25, 7, 0, tzinfo=UTC),  # CEST
        datetime(2025, 10, 26, 8, 0, tzinfo=UTC),  # last Sunday of October: CET again
        datetime(2025, 10, 27, 8, 0, tzinfo=UTC),
        datetime(2025, 10, 28, 8, 0, tzinfo=UTC),
    ]
    assert all(f.astimezone(BERLIN).hour == 9 for f in s.next_runs(at(2025, 3, 1), 400))


def test_weekdays_only_skips_the_weekend():
    s = Schedule("C1", "09:00", "Europe/Berlin", weekdays_only=True)
    runs = s.next_runs(at(2025, 3, 28, 12), 3)  # Friday afternoon
    assert [r.date().isoformat() for r in runs] == ["2025-03-31", "2025-04-01", "2025-04-02"]
    assert s.run_on(at(2025, 3, 29).date()) is None  # Saturday


def test_the_driver_schedules_a_cron_trigger_in_the_channel_timezone(sqlite_records, tmp_path):
    clock = Clock(datetime.now(UTC))
    driver, _ = driver_for(sqlite_records, tmp_path, clock)
    driver.store.save(Schedule("C1", "09:00", "Europe/Berlin"), "U1")
    driver.refresh("C1")  # a change before start() (no jobs yet) is loaded by start()
    driver.store.save(Schedule("C2", "07:15", "America/New_York", True), "U1")
    driver.start(catch_up=False)
    try:
        job = driver.scheduler.get_job(driver.job_id("C1"))
        assert isinstance(job.trigger, CronTrigger) and str(job.trigger.timezone) == "Europe/Berlin"
        fire = job.next_run_time.astimezone(BERLIN)
        assert (fire.hour, fire.minute) == (9, 0) and fire > datetime.now(UTC)
        # the same trigger across the March change: 08:00 UTC, then 07:00 UTC
        t = job.trigger
        first = t.get_next_fire_time(None, at(2025, 3, 29, 0))
        second = t.get_next_fire_time(first, first + timedelta(seconds=1))
        assert [first.astimezone(UTC).hour, second.astimezone(UTC).hour] == [8, 7]
        ny = driver.scheduler.get_job(driver.job_id("C2")).next_run_time.astimezone(
            ZoneInfo("America/New_York")
        )
        assert (ny.hour, ny.minute) == (7, 15) and ny.weekday() < 5
        # off -> the job goes; a change made by another replica arrives with reload()
        driver.store.disable("C1")
        driver.refresh("C1")
        assert driver.scheduler.get_job(driver.job_id("C1")) is None
        driver.store.save(Schedule("C3", "12:00", "Asia/Tokyo"), "U2")
        driver.reload()
        assert driver.scheduler.get_job(driver.job_id("C3")) is not None
    finally:
        driver.stop()
    assert not driver.running


# --------------------------------------------------------------------------- exactly once


def test_run_daily_posts_once_per_channel_and_local_day(sqlite_records, tmp_path):
    clock = Clock(at(2025, 6, 2, 9))
    driver, posts = driver_for(sqlite_records, tmp_path, clock)
    driver.store.save(Schedule("C1", "09:00", "Europe/Berlin"), "U1")
    first = driver.run_daily("C1")
    assert first.status == "posted" and first.local_date == "2025-06-02"
    assert driver.run_daily("C1").status == "taken"
    clock.set(at(2025, 6, 2, 23, 59))
    assert driver.run_daily("C1").status == "taken"
    clock.set(at(2025, 6, 3, 0, 1))  # the next local day (22:01 UTC the day before)
    assert driver.run_daily("C1").status == "posted"
    assert len(posts.calls) == 2
    assert [d for d, _ in posted_rows(sqlite_records, "C1")] == ["2025-06-02", "2025-06-03"]
    assert driver.run_daily("C-none").status == "off"


@pytest.mark.postgres
def test_two_schedulers_on_one_postgresql_give_one_post(tmp_path, pg_url):
    """Two drivers, two Records objects (two processes' worth of state), racing 20 channels."""
    a, b = Records.from_url(pg_url), Records.from_url(pg_url)
    try:
        a.upgrade()
        b.upgrade()
        seed_bank(a)
        clock = Clock(at(2025, 6, 2, 9))
        da, pa = driver_for(a, tmp_path, clock)
        db, pb = driver_for(b, tmp_path, clock)
        channels = [f"C{i:02d}" for i in range(20)]
        for c in channels:
            da.store.save(Schedule(c, "09:00", "Europe/Berlin"), "U1")
        results = []
        for c in channels:
            gate = threading.Barrier(2)

            def race(driver, channel=c, gate=gate):
                gate.wait()
                results.append(driver.run_daily(channel))

            threads = [threading.Thread(target=race, args=(d,)) for d in (da, db)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
        assert len(results) == 40
        posted = [r for r in results if r.status == "posted"]
        assert sorted(r.channel_id for r in posted) == channels
        assert {r.status for r in results} == {"posted", "taken"}
        assert len(pa.calls) + len(pb.calls) == 20
        for c in channels:
            assert len(posted_rows(a, c)) == 1
        with a.engine.connect() as conn:
            daily = conn.execute(
                sa.select(sa.func.count()).where(QuizPost.kind == "daily")
            ).scalar_one()
        assert daily == 20, "the loser never created a quiz post"
    finally:
        a.close()
        b.close()


def test_two_drivers_on_one_sqlite_file_give_one_post(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    a, b = Records.from_url(url), Records.from_url(url)
    try:
        a.upgrade()
        seed_bank(a)
        clock = Clock(at(2025, 6, 2, 9))
        (da, pa), (db, pb) = driver_for(a, tmp_path, clock), driver_for(b, tmp_path, clock)
        da.store.save(Schedule("C1", "09:00", "Europe/Berlin"), "U1")
        gate = threading.Barrier(8)
        results = []

        def race(driver):
            gate.wait()
            results.append(driver.run_daily("C1").status)

        threads = [threading.Thread(target=race, args=(d,)) for d in (da, db) * 4]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(results) == ["posted"] + ["taken"] * 7
        assert len(pa.calls) + len(pb.calls) == 1
    finally:
        a.close()
        b.close()


def test_a_failed_post_releases_the_claim_and_a_stale_claim_is_taken_over(sqlite_records, tmp_path):
    clock = Clock(at(2025, 6, 2, 9))
    posts = Posts(fail=1)
    driver, _ = driver_for(sqlite_records, tmp_path, clock, posts)
    driver.store.save(Schedule("C1", "09:00", "Europe/Berlin"), "U1")
    failed = driver.run_daily("C1")
    assert failed.status == "failed" and "Slack is down" in failed.error
    assert driver.run_daily("C1").status == "posted"  # the retry is not blocked
    # a process that died between its claim and its post: the claim is taken over later
    assert driver.store.claim("C2", "2025-06-02") is not None
    driver.store.save(Schedule("C2", "09:00", "Europe/Berlin"), "U1")
    assert driver.run_daily("C2").status == "taken"
    clock.set(clock.now + CLAIM_LEASE + timedelta(seconds=1))
    assert driver.run_daily("C2").status == "posted"
    assert len(posts.calls) == 2


# --------------------------------------------------------------------------- catch-up


def test_a_restart_posts_a_missed_run_within_the_grace_window_only(sqlite_records, tmp_path):
    sched = Schedule("C1", "09:00", "Europe/Berlin")
    clock = Clock(at(2025, 3, 30, 13, 30))  # the DST Sunday; the bot was down at 09:00
    driver, posts = driver_for(sqlite_records, tmp_path, clock)
    driver.store.save(sched, "U1")
    (result,) = driver.catch_up()
    assert result.status == "posted" and result.local_date == "2025-03-30"
    assert driver.catch_up() == [RunResult("taken", "C1", "2025-03-30")]  # no double post
    # the next day the bot is down until after the grace window: nothing is posted
    clock.set(at(2025, 3, 31, 9) + GRACE + timedelta(minutes=1))
    assert driver.catch_up() == []
    clock.set(at(2025, 3, 31, 8, 59))  # before the run: not missed (the trigger will post)
    assert driver.catch_up() == []
    clock.set(at(2025, 3, 31, 9) + GRACE - timedelta(minutes=1))
    assert [r.status for r in driver.catch_up()] == ["posted"]
    assert len(posts.calls) == 2


def test_start_catches_up_and_a_late_evening_schedule_keeps_to_its_date(sqlite_records, tmp_path):
    clock = Clock(at(2025, 6, 2, 23, 30))
    driver, posts = driver_for(sqlite_records, tmp_path, clock)
    driver.store.save(Schedule("C1", "21:00", "Europe/Berlin"), "U1")
    driver.store.save(Schedule("C2", "09:00", "Europe/Berlin", weekdays_only=True), "U1")
    try:
        results = driver.start()  # 21:00 + 2.5 h: in grace; C2 09:00: out of grace
        assert [(r.channel_id, r.status) for r in results] == [("C1", "posted")]
    finally:
        driver.stop()
    clock.set(at(2025, 6, 3, 0, 30))  # 3.5 h after 21:00, but the next local day
    assert driver.catch_up() == []
    clock.set(at(2025, 6, 7, 10))  # Saturday: weekdays-only channel has no run to miss
    assert [r.channel_id for r in driver.catch_up()] == []
    assert len(posts.calls) == 1


# --------------------------------------------------------------------------- recaps and Slack


def test_the_next_post_recaps_the_previous_one(sqlite_records, tmp_path):
    clock = Clock(at(2025, 6, 2, 9))
    driver, posts = driver_for(sqlite_records, tmp_path, clock)
    quiz: QuizService = make_quiz(sqlite_records, tmp_path, clock=clock)  # same records
    driver.store.save(Schedule("C1", "09:00", "Europe/Berlin"), "U1")
    day1 = driver.run_daily("C1")
    shown1, recap1 = posts.calls[0]
    assert recap1 is None  # nothing before the first one
    right = correct_of(sqlite_records, day1.token)
    wrong = [(right[0] + 1) % 4] if len(right) == 1 else [0, 2]
    for user, picks in (("U1", right), ("U2", wrong), ("U3", right), ("U4", right)):
        quiz.answer(day1.token, user, picks)
    clock.set(at(2025, 6, 3, 9))
    driver.run_daily("C1")
    _, recap = posts.calls[1]
    assert recap.stem == shown1.question.stem
    assert recap.answered == 4 and recap.share_correct == pytest.approx(0.75)
    assert recap.answer_text == "; ".join(shown1.question.options[i] for i in right)
    clock.set(at(2025, 6, 5, 9))  # a day without a post in between: still recaps the last one
    driver.run_daily("C1")
    _, recap = posts.calls[2]
    assert recap.answered == 0 and recap.stem == posts.calls[1][0].question.stem


def test_the_slack_poster_posts_the_question_with_the_recap(sqlite_records, tmp_path):
    with QuizFakeSlack() as fake:
        client = WebClient(token=fake.token, base_url=fake.base_url)
        clock = Clock(at(2025, 6, 2, 9))
        driver, _ = driver_for(sqlite_records, tmp_path, clock, slack_poster(client))
        quiz = make_quiz(sqlite_records, tmp_path, clock=clock)  # same records
        driver.store.save(Schedule("C1", "09:00", "Europe/Berlin"), "U1")
        day1 = driver.run_daily("C1")
        right = correct_of(sqlite_records, day1.token)
        quiz.answer(day1.token, "U1", right)
        quiz.answer(day1.token, "U2", [(right[0] + 1) % 4] if len(right) == 1 else [0, 2])
        clock.set(at(2025, 6, 3, 9))
        day2 = driver.run_daily("C1")
        first, second = fake.posted("chat.postMessage")
        assert first.params["channel"] == "C1" and "Question of the day" in all_text(first.blocks)
        text = all_text(second.blocks)
        assert "Last time" in text and "2 people answered, 50% correct" in text
        with sqlite_records.engine.connect() as conn:
            ts = conn.execute(
                sa.select(QuizPost.message_ts).where(QuizPost.token == day2.token)
            ).scalar()
        assert ts == second.response["ts"] == day2.ts
        # Slack refuses (not in the channel): the claim is released, nothing recorded as posted
        fake.fail("chat.postMessage", "not_in_channel")
        driver.store.save(Schedule("C2", "09:00", "Europe/Berlin"), "U1")
        assert driver.run_daily("C2").status == "failed"
        assert posted_rows(sqlite_records, "C2") == []
        assert driver.run_daily("C2").status == "posted"
