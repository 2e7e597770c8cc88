"""Opt-in nudges, the core: a review reminder (at the learner's time, at most once a day,
claimed once across replicas) and a weekly leaderboard per channel (by accuracy, with a minimum
of answers), on SQLite and PostgreSQL; migration 0005. In Slack: tests/test_slack_nudges.py.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from bot.leaderboard import MIN_ANSWERS, LeaderboardSetting, WeeklyLeaderboards, standings
from bot.records import Records, Review, alembic_config
from bot.reminders import Reminders, ReminderSetting, ReminderStore, parse_remind_command
from tests.test_quiz_slack import correct_of, make_quiz, seed_bank

DAY = datetime(2026, 12, 7, tzinfo=UTC)  # a Monday


def at(hour: int, minute: int = 0, *, days: int = 0) -> datetime:
    return DAY + timedelta(days=days, hours=hour, minutes=minute)


def _due(records: Records, user: str, n: int, when: datetime) -> None:
    """`n` of `user`'s reviews fall due at `when` (their cards, as the quiz left them)."""
    with records.begin() as conn:
        ids = conn.execute(sa.select(sa.text("id")).select_from(sa.text("quiz_questions")))
        for qid in [r[0] for r in ids][:n]:
            conn.execute(
                sa.insert(Review).values(
                    user_id=user, question_id=qid, card={}, due_at=when, last_review_at=when
                )
            )


@pytest.fixture
def records(db_url):
    r = Records.from_url(db_url)
    r.upgrade()
    seed_bank(r)
    yield r
    r.close()


# --------------------------------------------------------------------------- the core


def test_migration_0005_upgrades_downgrades_and_upgrades(db_url):
    cfg = alembic_config(db_url)
    command.upgrade(cfg, "head")
    engine = sa.create_engine(db_url)
    try:

        def tables() -> set[str]:
            return set(sa.inspect(engine).get_table_names())

        def columns(table: str) -> set[str]:
            return {c["name"] for c in sa.inspect(engine).get_columns(table)}

        new = {"reminders", "reminder_sends", "leaderboards", "leaderboard_posts"}
        assert new <= tables() and "reason" in columns("feedback") and "details" in columns("asks")
        command.downgrade(cfg, "0004")
        assert not (new & tables()) and "reason" not in columns("feedback")
        assert "details" not in columns("asks") and "feedback" in tables()
        command.upgrade(cfg, "head")
        assert new <= tables() and "reason" in columns("feedback")
    finally:
        engine.dispose()


def test_a_reminder_goes_at_the_learners_time_once_a_day_and_only_with_reviews_due(records):
    sent: list[tuple[str, int]] = []
    reminders = Reminders(records, lambda user, due: sent.append((user, due)) or True)
    store = reminders.store
    store.save(ReminderSetting("U1", "08:00", "Europe/Berlin"))  # 07:00 UTC in December
    store.save(ReminderSetting("U2", "08:00", "UTC"))  # no reviews due: never reminded
    _due(records, "U1", 3, at(6))
    assert reminders.run_due(at(6, 59)) == [] and sent == []  # not yet 08:00 in Berlin
    [first] = reminders.run_due(at(7, 5))
    assert (first.user_id, first.local_date, first.due_reviews) == ("U1", "2026-12-07", 3)
    assert reminders.run_due(at(7, 10)) == [] and reminders.run_due(at(22)) == []
    assert reminders.run_due(at(7, 5, days=1)) != []  # the next day, still due: again
    assert sent == [("U1", 3), ("U1", 3)]
    assert store.disable("U1") and reminders.run_due(at(7, 5, days=2)) == []


def test_two_replicas_racing_send_one_reminder(records, db_url):
    other = Records.from_url(db_url)  # a second replica on the same database
    sent: list[str] = []
    lock = threading.Lock()

    def send(user: str, due: int) -> bool:
        with lock:
            sent.append(user)
        return True

    ReminderStore(records).save(ReminderSetting("U1", "08:00", "UTC"))
    _due(records, "U1", 1, at(7))
    barrier = threading.Barrier(8)

    def replica(i: int) -> None:
        barrier.wait()
        Reminders(records if i % 2 else other, send).run_due(at(8, 1))

    threads = [threading.Thread(target=replica, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    other.close()
    assert sent == ["U1"]


def test_a_failed_reminder_is_released_for_the_next_check(records):
    attempts: list[str] = []
    reminders = Reminders(records, lambda user, due: attempts.append(user) and False)
    reminders.store.save(ReminderSetting("U1", "08:00", "UTC"))
    _due(records, "U1", 1, at(7))
    assert reminders.run_due(at(8, 1)) == [] and reminders.run_due(at(8, 6)) == []
    assert attempts == ["U1", "U1"]  # tried again: nothing was claimed for good


def test_leaderboard_ranks_by_accuracy_with_a_minimum_of_answers(records, tmp_path):
    quiz = make_quiz(records, tmp_path, clock=lambda: at(9, days=-2))
    plan = {"U1": (6, 5), "U2": (5, 5), "U3": (MIN_ANSWERS - 1, MIN_ANSWERS - 1), "U4": (8, 4)}
    for user, (answers, right) in plan.items():
        for i in range(answers):
            shown = quiz.next_question(user, "C1")
            good = correct_of(records, shown.token)
            picks = good if i < right else [(good[0] + 1) % 4] if len(good) == 1 else [0, 2]
            quiz.answer(shown.token, user, picks)
    board = standings(records, "C1", at(9))
    assert [(s.user_id, s.answers, s.correct) for s in board.ranked] == [
        ("U2", 5, 5),
        ("U1", 6, 5),
        ("U4", 8, 4),
    ]
    assert board.unranked == 1  # U3: below the minimum, however accurate
    assert standings(records, "C1", at(9, days=6)).ranked == []  # older than 7 days
    posted = []
    weekly = WeeklyLeaderboards(records, lambda b: posted.append(b) or "1.0")
    weekly.store.save(LeaderboardSetting("C1", "09:00", "UTC", True, "U9"))
    assert weekly.run_due(at(8, 59)) == []  # Monday, before its time
    [post] = weekly.run_due(at(9, 1))
    assert post.week == "2026-W50" and post.ranked[0].user_id == "U2"
    assert weekly.run_due(at(9, 30)) == [] and weekly.run_due(at(9, days=1)) == []  # once a week
    assert len(posted) == 1


def test_remind_command_parsing():
    assert parse_remind_command("on 8:30 Europe/Berlin").time_of_day == "08:30"
    assert parse_remind_command("").action == "status"
    for bad in ("on", "on 25:00", "on 08:00 Mars/Base", "later"):
        with pytest.raises(ValueError):
            parse_remind_command(bad)
