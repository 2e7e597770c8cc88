"""Study records on SQLite (tmp_path) and PostgreSQL (a throwaway schema on 127.0.0.1:5432)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.records import (
    QUESTION_MAX_CHARS,
    Base,
    Records,
    RecordsUnavailable,
    alembic_config,
    normalize_url,
)
from knowledge.types import Answer, Citation, DomainTag
from tests.pg import PG_URL

TABLES = {"asks", "feedback", "slack_events", "bot_threads"}


# bench/quiz_clicks.py reads the PostgreSQL URL from here.
_PG_URL = PG_URL


@pytest.fixture
def records(db_url) -> Iterator[Records]:
    r = Records.from_url(db_url)
    r.upgrade()
    yield r
    r.close()


def _answer(text: str = "SageMaker AMT tunes hyperparameters [1].", mode: str = "llm") -> Answer:
    return Answer(
        text=text,
        citations=[Citation(1, "Tuning", "notes/3.4.md", None, "c1", 0.9)],
        domains=[DomainTag(3, "Modeling", "3.4 Perform hyperparameter optimization")],
        mode=mode,
        confidence=0.75,
    )


def _tables(records: Records) -> set[str]:
    return set(sa.inspect(records.engine).get_table_names())


# --------------------------------------------------------------------------- migrations


def test_upgrade_from_empty_creates_the_schema_and_is_idempotent(db_url):
    r = Records.from_url(db_url)
    try:
        assert not (_tables(r) & TABLES)
        r.upgrade()
        r.upgrade()  # second run: nothing to do
        assert _tables(r) >= TABLES
        with r.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            script = ScriptDirectory.from_config(alembic_config())
            assert ctx.get_current_revision() == script.get_current_head()
            # the models and the migrations describe the same schema
            assert compare_metadata(ctx, Base.metadata) == []
    finally:
        r.close()


def test_alembic_cli_config_upgrades_and_downgrades(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    cfg = alembic_config(url)  # env.py builds its own engine on this path
    command.upgrade(cfg, "head")
    r = Records.from_url(url)
    try:
        assert _tables(r) >= TABLES
        command.downgrade(cfg, "base")
        assert not (_tables(r) & TABLES)
    finally:
        r.close()


# --------------------------------------------------------------------------- claims


def test_claim_event_is_true_exactly_once_under_20_racing_threads(db_url, records):
    second_process = Records.from_url(db_url)  # another replica on the same database
    barrier = threading.Barrier(20)
    results: list[bool] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        r = records if i % 2 else second_process
        barrier.wait()
        won = r.claim_event("Ev123", "C1", "1700000000.000100")
        with lock:
            results.append(won)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    second_process.close()
    assert len(results) == 20
    assert results.count(True) == 1

    restarted = Records.from_url(db_url)  # after a restart the claim still holds
    try:
        assert restarted.claim_event("Ev123", "C1", "1700000000.000100") is False
    finally:
        restarted.close()


def test_claim_event_dedupes_by_event_id_and_by_message(records):
    assert records.claim_event("EvA", "C1", "1.000001") is True
    assert records.claim_event("EvA", "C1", "1.000001") is False  # a retry
    assert records.claim_event("EvA", "C2", "9.000009") is False  # same event id
    assert records.claim_event("EvB", "C1", "1.000001") is False  # app_mention + message
    assert records.claim_event("EvC", "C1", "1.000002") is True
    assert records.claim_event(None, "C3", "3.000003") is True  # no event id: message key
    assert records.claim_event(None, "C3", "3.000003") is False


# --------------------------------------------------------------------------- asks, threads


def test_record_ask_stores_the_answer_metadata(records):
    now = datetime(2025, 11, 28, 12, 0, tzinfo=UTC)
    r = Records(records.engine, clock=lambda: now)
    ask_id = r.record_ask(
        "x" * (QUESTION_MAX_CHARS + 500),
        _answer(),
        user_id="U1",
        channel_id="C1",
        thread_ts="1.1",
        latency_ms=42,
    )
    r.attach_answer(ask_id, answer_ts="2.2")
    with records.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM asks WHERE id = :i"), {"i": ask_id}).mappings()
        row = row.one()
    assert len(row["question"]) == QUESTION_MAX_CHARS
    assert (row["mode"], row["domain"], row["latency_ms"]) == ("llm", 3, 42)
    assert row["objective"].startswith("3.4")
    assert (row["thread_ts"], row["answer_ts"]) == ("1.1", "2.2")
    # read back through the model: an aware UTC datetime on every backend
    with r.engine.connect() as conn:
        from bot.records import Ask

        created = conn.execute(sa.select(Ask.created_at).where(Ask.id == ask_id)).scalar_one()
    assert created == now and created.tzinfo is not None


def test_thread_history_returns_recent_turns_oldest_first(records):
    for i in range(8):
        records.record_ask(f"q{i}", _answer(f"a{i}"), user_id="U1", channel_id="C1", thread_ts="T1")
    records.record_ask("other", _answer("x"), user_id="U1", channel_id="C1", thread_ts="T2")
    assert records.thread_history("C1", "T1", limit=3) == [("q5", "a5"), ("q6", "a6"), ("q7", "a7")]
    assert records.thread_history("C1", "missing") == []


def test_remember_thread_and_is_bot_thread(records):
    assert records.is_bot_thread("C1", "1.1") is False
    records.remember_thread("C1", "1.1")
    records.remember_thread("C1", "1.1")  # idempotent
    assert records.is_bot_thread("C1", "1.1") is True
    assert records.is_bot_thread("C2", "1.1") is False


# --------------------------------------------------------------------------- feedback


def test_feedback_is_one_row_per_user_and_a_later_click_updates_it(records):
    times = iter(datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=i) for i in range(10))
    r = Records(records.engine, clock=lambda: next(times))
    ask_id = r.record_ask("q", _answer(), user_id="U1", channel_id="C1")
    r.record_feedback(ask_id, "U2", 1)
    r.record_feedback(ask_id, "U2", -1)
    r.record_feedback(ask_id, "U3", 1)
    with records.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT user_id, value FROM feedback WHERE ask_id = :a ORDER BY user_id"),
            {"a": ask_id},
        ).all()
    assert [tuple(row) for row in rows] == [("U2", -1), ("U3", 1)]


def test_feedback_rejects_bad_values_and_unknown_asks(records):
    ask_id = records.record_ask("q", _answer(), user_id="U1", channel_id="C1")
    with pytest.raises(ValueError, match="must be"):
        records.record_feedback(ask_id, "U2", 2)
    with pytest.raises(ValueError, match="no ask"):
        records.record_feedback(ask_id + 999, "U2", 1)


# --------------------------------------------------------------------------- outages, URLs


def test_unreachable_postgres_raises_records_unavailable_in_one_sentence():
    r = Records.from_url("postgresql://studybot:hunter2@127.0.0.1:1/studybot")
    try:
        with pytest.raises(RecordsUnavailable) as info:
            r.upgrade()
        message = str(info.value)
        assert message.startswith("The study records database (postgresql+psycopg://studybot:***@")
        assert "hunter2" not in message
        assert message.endswith(".") and "\n" not in message
        with pytest.raises(RecordsUnavailable):
            r.claim_event("Ev1", "C1", "1.1")
    finally:
        r.close()


def test_unopenable_sqlite_file_raises_records_unavailable(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be")
    r = Records.from_url(f"sqlite:///{blocker / 'records.db'}")
    try:
        with pytest.raises(RecordsUnavailable, match="unavailable"):
            r.is_bot_thread("C1", "1.1")
    finally:
        r.close()


def test_sqlite_uses_wal_and_a_busy_timeout(tmp_path):
    r = Records.from_url(f"sqlite:///{tmp_path / 'sub' / 'w.db'}")  # parent dir is created
    try:
        with r.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        r.close()


def test_urls_are_normalized_to_psycopg_and_others_refused():
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite"
    with pytest.raises(ValueError, match="DATABASE_URL"):
        normalize_url("mysql://u@h/db")


# --------------------------------------------------------------------------- 0005: shares, reasons


def test_a_recorded_answer_comes_back_as_it_was_shown(records):
    answer = _answer()
    answer.note = "Your question was long."
    ask_id = records.record_ask("What does AMT tune?", answer, user_id="U1", channel_id="C1")
    again = records.recorded_ask(ask_id)
    assert (again.user_id, again.channel_id, again.question) == ("U1", "C1", "What does AMT tune?")
    assert again.answer == answer  # text, citations, domain tags, note: all of it
    assert records.recorded_ask(ask_id + 1) is None


def test_a_thumbs_down_keeps_its_reason_until_it_becomes_a_thumbs_up(records):
    ask_id = records.record_ask("q", _answer(), user_id="U1", channel_id="C1")
    assert records.feedback_reason(ask_id, "U2", "wrong") is False  # no 👎 to explain yet
    records.record_feedback(ask_id, "U2", -1)
    records.record_feedback(ask_id, "U3", 1)
    assert records.feedback_reason(ask_id, "U2", "off_topic") is True
    assert records.feedback_counts(ask_id) == (1, 1)
    with pytest.raises(ValueError):
        records.feedback_reason(ask_id, "U2", "rude")
    records.record_feedback(ask_id, "U2", 1)  # changed their mind: the reason goes
    with records.engine.connect() as conn:
        reasons = conn.execute(sa.text("SELECT reason FROM feedback")).scalars().all()
    assert reasons == [None, None] and records.feedback_counts(ask_id) == (2, 0)


def test_the_last_answer_in_a_thread_says_who_asked_and_when(records):
    assert records.last_answer_in_thread("C1", "1.0") is None
    records.record_ask("q1", _answer(), user_id="U1", channel_id="C1", thread_ts="1.0")
    records.record_ask("q2", _answer(), user_id="U2", channel_id="C1", thread_ts="1.0")
    who, when = records.last_answer_in_thread("C1", "1.0")
    assert who == "U2" and when.tzinfo is not None
