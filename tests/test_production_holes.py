"""Holes closed for production (issue 12): an invalid DATABASE_URL, control characters in
questions, replayed slash commands, and retention of what grows without bound."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.records import (
    Ask,
    BotThread,
    DailyPost,
    InvalidDatabaseURL,
    JobRun,
    LeaderboardPost,
    QuizAttempt,
    QuizPost,
    Records,
    ReminderSend,
    SlackEvent,
    normalize_url,
)
from bot.retention import DELIVERY_RETENTION, Retention
from bot.service import StudyService
from knowledge.settings import Settings, get_settings
from knowledge.types import Answer, Hit
from tests.test_quiz_slack import make_quiz, seed_bank
from tests.test_slack_app import command_body, fake, make_harness  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------- DATABASE_URL

BAD_URLS = [
    ("nonsense", "is not a database URL I can read"),
    ("mysql://u@h/db", "must be a sqlite:/// or postgresql:// URL"),
    ("postgresql://u:hunter2@127.0.0.1:notaport/db", "is not a database URL I can read"),
    ("postgresql+nodriver://u:hunter2@h/db", "cannot be used"),
]


@pytest.fixture
def cli_env(monkeypatch, tmp_path):
    monkeypatch.setenv("STUDYBOT_DATA_DIR", str(tmp_path / "data"))

    def use(url: str) -> CliRunner:
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        return CliRunner()

    yield use
    get_settings.cache_clear()


@pytest.mark.parametrize(("url", "says"), BAD_URLS)
@pytest.mark.parametrize("command", [["stats", "--channel", "C1"], ["quiz"], ["me"]])
def test_an_invalid_database_url_is_one_clear_line(cli_env, url, says, command):
    out = cli_env(url).invoke(cli, command)
    assert out.exit_code == 1
    lines = [line for line in out.output.splitlines() if line.strip()]
    assert len(lines) == 1 and says in lines[0], out.output
    assert lines[0].startswith("error: DATABASE_URL") and "hunter2" not in out.output


def test_studybot_serve_with_an_invalid_database_url_says_so_in_one_line(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql://u:hunter2@127.0.0.1:notaport/db",
        "STUDYBOT_DATA_DIR": str(tmp_path),
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
    }
    done = subprocess.run(
        [str(REPO / ".venv" / "bin" / "studybot"), "serve"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 1
    assert lines == [lines[0]] and lines[0].startswith("error: DATABASE_URL"), done.stderr
    assert "Traceback" not in done.stderr and "hunter2" not in done.stderr


def test_invalid_database_urls_are_records_errors_and_value_errors():
    with pytest.raises(InvalidDatabaseURL) as info:
        normalize_url("not a url")
    assert isinstance(info.value, ValueError)


# --------------------------------------------------------------------------- questions


class RecordingRetriever:
    """TEST DOUBLE for `Retriever.search`: records the query, returns no passages."""

    lexical = None  # the BM25 statistics `ask` hands the generator

    def __init__(self) -> None:
        self.queries: list[str] = []

    def search(
        self, query: str, k: int = 5, domain: int | None = None, blueprint: str | None = None
    ) -> list[Hit]:
        self.queries.append(query)
        return []


class EchoGenerator:
    """TEST DOUBLE for `AnswerGenerator`: the question it was given, as the answer."""

    chat_model = None

    def answer(self, question: str, hits: list[Hit], history=None, stats=None) -> Answer:
        return Answer(question, [], [], "not_covered", 0.0)

    def condense(self, question: str, history) -> str:
        return question


@pytest.mark.parametrize(
    ("typed", "seen"),
    [
        ("\x1b[31mWhat is\x1b[0m SageMaker?", "What is SageMaker?"),
        ("What\x00is\x07AMT?\x7f", "What is AMT?"),
        ("\x1b]0;pwned\x07\x1b]8;;http://evil\x1b\\Explain\x1b]8;;\x1b\\ BM25", "Explain BM25"),
        ("Spot\u202e training\u200b?", "Spot training?"),
        ("emoji 👩\u200d💻 and 日本語", "emoji 👩\u200d💻 and 日本語"),
    ],
)
def test_control_characters_and_ansi_escapes_never_reach_retrieval(settings, typed, seen):
    retriever = RecordingRetriever()
    service = StudyService(
        settings,
        retriever=retriever,
        generator=EchoGenerator(),
        records=Records.from_url("sqlite://"),
    )
    answer = service.ask(typed, "U1", "C1")
    assert retriever.queries == [seen] and answer.text == seen


def test_a_question_of_only_escapes_is_an_empty_question(settings):
    from bot.service import EmptyQuestion

    service = StudyService(settings, retriever=RecordingRetriever(), generator=EchoGenerator())
    with pytest.raises(EmptyQuestion):
        service.ask("\x1b[2J\x1b[H\x00", "U1", "C1")


# --------------------------------------------------------------------------- slash replays


def test_a_replayed_slash_command_runs_once(db_url, settings):
    from urllib.parse import parse_qsl

    records = Records.from_url(db_url)
    records.upgrade()
    service = StudyService(settings, records=records)
    payload = dict(parse_qsl(command_body("ask What is AMT?")))
    assert service.claim_command(payload, "C1") is True
    assert service.claim_command(dict(payload), "C1") is False  # the same body, resent
    retyped = {**payload, "trigger_id": "another-trigger"}
    assert service.claim_command(retyped, "C1") is True  # typed again: a new request
    records.close()


def test_a_replayed_slash_command_posts_once_over_http(make_harness):  # noqa: F811
    h = make_harness()
    body = command_body("ask What is AMT?")
    assert h.sender.form(body).status == 200
    h.settle()
    replies = len(h.fake.calls())
    assert len(h.service.calls) == 1 and replies > 0
    assert h.sender.form(body).status == 200  # the same signed body again
    h.settle()
    assert len(h.service.calls) == 1 and len(h.fake.calls()) == replies  # nothing sent again
    assert h.sender.form(command_body("ask What is AMT?")).status == 200  # typed again
    h.settle()
    assert len(h.service.calls) == 2


# --------------------------------------------------------------------------- retention


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _fill(records: Records, clock: Clock, tmp_path: Path, tag: str) -> dict[str, int]:
    """Asks, threads, delivery claims and quiz posts (answered, unanswered, daily) at clock.now."""
    answer = Answer("an answer", [], [], "extractive", 0.9)
    ask = records.record_ask(f"q {tag}", answer, user_id="U1", channel_id="C1", thread_ts="1.0")
    records.record_feedback(ask, "U2", 1)
    records.remember_thread("C1", f"{tag}.1")
    records.claim_event(f"Ev{tag}", "C1", f"{tag}.2")
    quiz = make_quiz(records, tmp_path, clock=clock)
    answered = quiz.next_question("U1", "C1")
    quiz.answer(answered.token, "U1", list(range(answered.question.choose)))
    unanswered = quiz.next_question("U2", "C1")
    daily = quiz.daily_question("C9")
    with records.begin() as conn:
        post_id = conn.execute(sa.select(QuizPost.id).where(QuizPost.token == daily.token))
        conn.execute(
            sa.insert(DailyPost).values(
                channel_id="C9",
                local_date=clock.now.date().isoformat(),
                post_id=post_id.scalar_one(),
                claimed_at=clock.now,
                posted_at=clock.now,
            )
        )
        day = clock.now.date().isoformat()
        conn.execute(
            sa.insert(ReminderSend).values(
                user_id="U1", local_date=day, due_reviews=3, claimed_at=clock.now
            )
        )
        conn.execute(
            sa.insert(LeaderboardPost).values(channel_id="C1", week=tag, claimed_at=clock.now)
        )
        conn.execute(sa.insert(JobRun).values(job="retention", period=day, claimed_at=clock.now))
    return {"ask": ask, "unanswered": unanswered.token, "answered": answered.token}


def _count(records: Records, model) -> int:
    with records.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def test_retention_removes_old_records_and_keeps_quiz_history(db_url, tmp_path):
    now = datetime.now(UTC).replace(microsecond=0)
    clock = Clock(now - timedelta(days=200))
    records = Records.from_url(db_url, clock=clock)
    records.upgrade()
    seed_bank(records)
    _fill(records, clock, tmp_path, "old")
    clock.now = now - timedelta(days=3)  # inside retention, outside the delivery window
    _fill(records, clock, tmp_path, "mid")
    clock.now = now
    cache = tmp_path / "fetch-cache"
    cache.mkdir()
    (cache / "old.body").write_bytes(b"x")
    (cache / "new.body").write_bytes(b"y")
    stale = (now - timedelta(days=181)).timestamp()
    os.utime(cache / "old.body", (stale, stale))

    removed = Retention(records, 180, cache).prune(now)

    assert removed == {
        "slack_events": 2,  # 200 and 3 days old: past the delivery window
        "asks": 1,
        "bot_threads": 1,
        "quiz_posts": 1,  # the old unanswered one; answered and daily posts stay
        "reminder_sends": 1,  # once-a-day and once-a-week claims past retention
        "leaderboard_posts": 1,
        "job_runs": 1,
        "fetch_cache": 1,
    }
    assert _count(records, ReminderSend) == 1 and _count(records, LeaderboardPost) == 1
    assert _count(records, Ask) == 1 and _count(records, BotThread) == 1
    assert _count(records, SlackEvent) == 0
    assert _count(records, QuizAttempt) == 2  # every answer is kept
    assert _count(records, QuizPost) == 5
    assert [p.name for p in cache.iterdir()] == ["new.body"]
    assert Retention(records, 180, cache).prune(now)["asks"] == 0  # nothing more to do
    records.close()


def test_studybot_prune_removes_what_is_past_retention_now(cli_env, tmp_path):
    url = f"sqlite:///{tmp_path / 'prune.db'}"
    runner = cli_env(url)
    records = Records.from_url(url)
    records.upgrade()
    records.claim_event("EvOld", "C1", "1.1")
    with records.begin() as conn:
        conn.execute(sa.update(SlackEvent).values(created_at=records.now() - timedelta(days=3)))
    records.close()

    out = runner.invoke(cli, ["prune", "--json"])

    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["slack_events"] == 1
    again = runner.invoke(cli, ["prune"])
    assert again.exit_code == 0 and "slack_events: 0" in again.output


def test_delivery_claims_last_long_enough_for_slack_retries(db_url):
    records = Records.from_url(db_url)
    records.upgrade()
    assert records.claim_event("EvR", "C1", "1.1")
    Retention(records, 1).prune(records.now() + DELIVERY_RETENTION - timedelta(minutes=1))
    assert not records.claim_event("EvR", "C1", "1.1")  # a late retry is still a duplicate
    records.close()


def test_two_replicas_prune_once_a_day(db_url, tmp_path):
    one = Records.from_url(db_url)
    one.upgrade()
    two = Records.from_url(db_url)
    now = datetime.now(UTC)
    results = [Retention(r, 30).run(now) for r in (one, two, one)]
    assert sum(r is not None for r in results) == 1
    assert Retention(two, 30).run(now + timedelta(days=1)) is not None  # the next day's run
    with one.connect() as conn:
        rows = conn.execute(sa.select(JobRun.period, JobRun.finished_at)).all()
    assert len(rows) == 2 and all(finished is not None for _, finished in rows)
    one.close()
    two.close()


def test_the_retention_setting_is_validated():
    with pytest.raises(ValueError):
        Settings(_env_file=None, retention_days=0)
    assert Settings(_env_file=None).retention_days == 180


def test_the_retention_driver_schedules_a_daily_run_and_one_after_start(db_url, settings):
    from bot.retention import RetentionDriver

    records = Records.from_url(db_url)
    records.upgrade()
    driver = RetentionDriver(records, settings)
    driver.start()
    try:
        jobs = {job.id: job for job in driver.scheduler.get_jobs()}
        assert set(jobs) == {"retention", "retention-first"}
        assert jobs["retention"].next_run_time.hour == 3
        assert driver.run_safely() is not None and driver.run_safely() is None
    finally:
        driver.stop()
        records.close()
