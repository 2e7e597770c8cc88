"""Study records: SQLAlchemy 2 models, Alembic migrations and the small API front ends use.

SQLite by default (WAL, busy timeout), PostgreSQL by URL. Imports no Slack. Every table lives in
this module so later features (quiz items, attempts, schedules, stats) add models here and a new
migration under `bot/migrations/versions/`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import StaticPool

from knowledge.types import Answer, Citation, DomainTag

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
DEFAULT_BLUEPRINT = "mls-c01"  # what answers recorded before 0007 were for
QUESTION_MAX_CHARS = 4000  # stored questions are cut here (the Slack layer cuts earlier)
ANSWER_MAX_CHARS = 4000  # stored answers: enough context for follow-ups
HISTORY_TURNS = 6  # previous question/answer pairs `thread_history` returns
SQLITE_BUSY_TIMEOUT_S = 30
PG_CONNECT_TIMEOUT_S = 5
_PG_MIGRATION_LOCK = 73_112_024  # pg_advisory_xact_lock key: one migrating replica at a time

Clock = Callable[[], datetime]


class RecordsUnavailable(RuntimeError):
    """The records database cannot be reached.

    The message names the database (host, port: for the log and the operator); front ends show
    users the generic RECORDS_UNAVAILABLE line instead, never this message.
    """


RECORDS_UNAVAILABLE = (
    "Sorry, my study records are unavailable right now. Please try again in a few minutes."
)


@dataclass(frozen=True)
class RecordedAsk:
    """An answered question as recorded: who asked where, and the answer as it was shown."""

    ask_id: int
    user_id: str
    channel_id: str
    question: str
    answer: Answer
    created_at: datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


# --------------------------------------------------------------------------- models (0001_asks)


class Ask(Base):
    """One question answered by the bot, wherever it was asked."""

    __tablename__ = "asks"
    __table_args__ = (
        sa.Index(None, "channel_id", "thread_ts"),
        sa.Index(None, "user_id", "created_at"),
        sa.Index("ix_asks_stats_channel", "channel_id", "created_at", "user_id"),  # 0004: stats
        sa.Index(None, "created_at"),  # 0006: retention
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    user_id: Mapped[str] = mapped_column(sa.String(64))
    channel_id: Mapped[str] = mapped_column(sa.String(64))
    thread_ts: Mapped[str | None] = mapped_column(sa.String(32))  # thread root the answer is in
    question: Mapped[str] = mapped_column(sa.Text)  # cut to QUESTION_MAX_CHARS
    answer: Mapped[str | None] = mapped_column(sa.Text)  # cut to ANSWER_MAX_CHARS
    mode: Mapped[str] = mapped_column(sa.String(16))  # llm | extractive | not_covered
    confidence: Mapped[float] = mapped_column(sa.Float)
    domain: Mapped[int | None]
    objective: Mapped[str | None] = mapped_column(sa.String(200))
    answer_ts: Mapped[str | None] = mapped_column(sa.String(32))  # the bot's message
    latency_ms: Mapped[int | None]
    # 0005: the rest of the answer as shown (citations, domain tags, note, closest topics), so a
    # private answer can be shown again in the channel when its asker shares it.
    details: Mapped[dict | None] = mapped_column(sa.JSON)


FEEDBACK_REASONS = ("wrong", "not_helpful", "off_topic")  # why a 👎 (0005)


class Feedback(Base):
    """A 👍/👎 on an answer: one row per (ask, user); a later click updates it. A 👎 may carry
    a reason (FEEDBACK_REASONS) that leads read in the stats."""

    __tablename__ = "feedback"
    __table_args__ = (
        sa.UniqueConstraint("ask_id", "user_id"),
        sa.CheckConstraint("value IN (-1, 1)", name="value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ask_id: Mapped[int] = mapped_column(sa.ForeignKey("asks.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(sa.String(64))
    value: Mapped[int] = mapped_column(sa.SmallInteger)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(sa.String(16))  # 0005: wrong | not_helpful | …


class SlackEvent(Base):
    """Claimed Slack deliveries: a retry or a second event for the same message finds its row."""

    __tablename__ = "slack_events"
    __table_args__ = (
        sa.UniqueConstraint("channel_id", "message_ts"),
        sa.Index(None, "created_at"),  # 0006: retention
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    channel_id: Mapped[str | None] = mapped_column(sa.String(64))
    message_ts: Mapped[str | None] = mapped_column(sa.String(32))
    created_at: Mapped[datetime]


class BotThread(Base):
    """Threads the bot answered in: replies there are follow-ups without a new mention."""

    __tablename__ = "bot_threads"
    __table_args__ = (sa.Index(None, "created_at"),)  # 0006: retention

    channel_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    thread_ts: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    created_at: Mapped[datetime]


# --------------------------------------------------------------------------- models (0002_quiz)


class QuizQuestion(Base):
    """A question in the bank: exam-style, single answer (1 of 4), "choose N" (N of 5), or an
    ordering or matching item (`knowledge.arranged`: `correct` is then a sequence)."""

    __tablename__ = "quiz_questions"
    __table_args__ = (sa.Index(None, "blueprint", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # rejects near-duplicates; other exams than MLS-C01 salt it with their id (bot.quiz_bank)
    fingerprint: Mapped[str] = mapped_column(sa.String(64), unique=True)
    blueprint: Mapped[str] = mapped_column(sa.String(32))
    domain: Mapped[int]
    objective: Mapped[str] = mapped_column(sa.String(16))
    format: Mapped[str] = mapped_column(sa.String(8))  # single | multi | ordering | matching
    choose: Mapped[int] = mapped_column(sa.SmallInteger)
    stem: Mapped[str] = mapped_column(sa.Text)
    options: Mapped[list] = mapped_column(sa.JSON)  # list[str]
    correct: Mapped[list] = mapped_column(sa.JSON)  # list[int], 0-based
    explanation: Mapped[str] = mapped_column(sa.Text)
    chunk_ids: Mapped[list] = mapped_column(sa.JSON)  # list[str]
    source: Mapped[str] = mapped_column(sa.Text)
    title: Mapped[str] = mapped_column(sa.String(300))
    generator: Mapped[str] = mapped_column(sa.String(32))  # llm | offline:<kind>
    created_at: Mapped[datetime]


class Exam(Base):
    """A mock exam in a DM: N questions answered one at a time, then a scaled score."""

    __tablename__ = "exams"
    __table_args__ = (sa.Index(None, "user_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.String(64))
    channel_id: Mapped[str] = mapped_column(sa.String(64))
    question_ids: Mapped[list] = mapped_column(sa.JSON)  # list[int], in order
    position: Mapped[int] = mapped_column(default=0)  # index of the next question
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    scaled_score: Mapped[int | None]


class QuizPost(Base):
    """One showing of a question (on demand, daily, exam). Buttons carry its opaque token."""

    __tablename__ = "quiz_posts"
    __table_args__ = (
        sa.Index(None, "channel_id", "created_at"),
        sa.Index(  # 0004: the daily questions a channel got (stats); one row per channel and day
            "ix_quiz_posts_daily",
            "channel_id",
            "created_at",
            postgresql_where=sa.text("kind = 'daily'"),
            sqlite_where=sa.text("kind = 'daily'"),
        ),
        sa.Index(None, "created_at"),  # 0006: retention
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(32), unique=True)  # secrets.token_urlsafe
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_questions.id"))
    kind: Mapped[str] = mapped_column(sa.String(8))  # ondemand | daily | exam
    channel_id: Mapped[str] = mapped_column(sa.String(64))
    user_id: Mapped[str | None] = mapped_column(sa.String(64))  # who may answer; None = anyone
    exam_id: Mapped[int | None] = mapped_column(sa.ForeignKey("exams.id", ondelete="CASCADE"))
    message_ts: Mapped[str | None] = mapped_column(sa.String(32))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class QuizAttempt(Base):
    """One person's answer to one post: a double click or a retry finds the existing row."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        sa.UniqueConstraint("post_id", "user_id"),
        sa.Index(  # 0004: covers the channel stats (replaces 0002's (channel_id, created_at))
            "ix_quiz_attempts_stats_channel",
            "channel_id",
            "blueprint",  # 0007
            "created_at",
            "domain",
            "objective",
            "correct",
            "user_id",
            "kind",
        ),
        sa.Index(None, "user_id", "created_at"),
        sa.Index(None, "question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_posts.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_questions.id"))
    user_id: Mapped[str] = mapped_column(sa.String(64))
    channel_id: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(8))  # copied from the post, for stats
    # 0007: the question's blueprint, so progress and stats are per exam
    blueprint: Mapped[str] = mapped_column(sa.String(32), server_default=DEFAULT_BLUEPRINT)
    domain: Mapped[int]
    objective: Mapped[str] = mapped_column(sa.String(16))
    choices: Mapped[list] = mapped_column(sa.JSON)  # list[int] the learner picked
    correct: Mapped[bool]
    created_at: Mapped[datetime]


class Review(Base):
    """A learner's spaced-repetition card for one question (fsrs Card as JSON)."""

    __tablename__ = "reviews"
    __table_args__ = (sa.Index(None, "user_id", "due_at"),)

    user_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("quiz_questions.id", ondelete="CASCADE"), primary_key=True
    )
    card: Mapped[dict] = mapped_column(sa.JSON)
    # 0007: the question's blueprint (a card is per blueprint and question)
    blueprint: Mapped[str] = mapped_column(sa.String(32), server_default=DEFAULT_BLUEPRINT)
    due_at: Mapped[datetime]
    last_review_at: Mapped[datetime]
    reps: Mapped[int] = mapped_column(default=0)
    lapses: Mapped[int] = mapped_column(default=0)


class ChannelExam(Base):
    """The exam a channel studies for (0007); channels without a row use the settings'."""

    __tablename__ = "channel_exams"

    channel_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    blueprint: Mapped[str] = mapped_column(sa.String(32))
    set_by: Mapped[str] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime]


class DailySchedule(Base):
    """A channel's question of the day: local time, timezone, weekdays only or every day."""

    __tablename__ = "daily_schedules"

    channel_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    time_of_day: Mapped[str] = mapped_column(sa.String(5))  # HH:MM, local
    timezone: Mapped[str] = mapped_column(sa.String(64))  # IANA name
    weekdays_only: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime]


class DailyPost(Base):
    """The claim on (channel, local date): exactly one daily post, even with several replicas."""

    __tablename__ = "daily_posts"
    __table_args__ = (sa.UniqueConstraint("channel_id", "local_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[str] = mapped_column(sa.String(64))
    local_date: Mapped[str] = mapped_column(sa.String(10))  # YYYY-MM-DD in the channel's tz
    post_id: Mapped[int | None] = mapped_column(sa.ForeignKey("quiz_posts.id"))
    claimed_at: Mapped[datetime]
    posted_at: Mapped[datetime | None]


# --------------------------------------------------------------------------- models (0005)


class Reminder(Base):
    """A learner's opt-in: a DM when reviews are due, at their local time, at most once a day."""

    __tablename__ = "reminders"

    user_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    time_of_day: Mapped[str] = mapped_column(sa.String(5))  # HH:MM, local
    timezone: Mapped[str] = mapped_column(sa.String(64))  # IANA name
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime]


class ReminderSend(Base):
    """The claim on (learner, local date): one reminder a day, even with several replicas."""

    __tablename__ = "reminder_sends"
    __table_args__ = (sa.UniqueConstraint("user_id", "local_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.String(64))
    local_date: Mapped[str] = mapped_column(sa.String(10))  # YYYY-MM-DD in the learner's tz
    due_reviews: Mapped[int]
    claimed_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class Leaderboard(Base):
    """A channel's opt-in weekly leaderboard (posted on Mondays at its local time)."""

    __tablename__ = "leaderboards"

    channel_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    time_of_day: Mapped[str] = mapped_column(sa.String(5))  # HH:MM, local, on Mondays
    timezone: Mapped[str] = mapped_column(sa.String(64))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime]


class LeaderboardPost(Base):
    """The claim on (channel, ISO week): one leaderboard a week, even with several replicas."""

    __tablename__ = "leaderboard_posts"
    __table_args__ = (sa.UniqueConstraint("channel_id", "week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[str] = mapped_column(sa.String(64))
    week: Mapped[str] = mapped_column(sa.String(8))  # 2026-W48, in the channel's tz
    claimed_at: Mapped[datetime]
    posted_at: Mapped[datetime | None]


# --------------------------------------------------------------------------- answers as stored


def answer_details(answer: Answer) -> dict[str, Any]:
    """What `asks.details` keeps of an answer besides its text (JSON-safe)."""
    return {
        "citations": [asdict(c) for c in answer.citations],
        "domains": [asdict(d) for d in answer.domains],
        "note": answer.note,
        "closest_topics": list(answer.closest_topics),
    }


def answer_from_details(
    text: str, mode: str, confidence: float, details: dict[str, Any] | None
) -> Answer:
    """The Answer `answer_details` kept (an ask recorded before 0005 has text only)."""
    details = details or {}
    return Answer(
        text=text,
        citations=[Citation(**c) for c in details.get("citations") or []],
        domains=[DomainTag(**d) for d in details.get("domains") or []],
        mode=mode,
        confidence=confidence,
        note=details.get("note"),
        closest_topics=list(details.get("closest_topics") or []),
    )


# --------------------------------------------------------------------------- models (0006)


class JobRun(Base):
    """The claim on one run of a periodic job (e.g. the daily retention prune): one replica
    inserts the (job, period) row and runs it; the others find it taken."""

    __tablename__ = "job_runs"
    __table_args__ = (sa.UniqueConstraint("job", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(sa.String(32))
    period: Mapped[str] = mapped_column(sa.String(32))  # e.g. the UTC date of a daily job
    claimed_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    result: Mapped[dict | None] = mapped_column(sa.JSON)  # what the run did


# --------------------------------------------------------------------------- engine and API


class InvalidDatabaseURL(RecordsUnavailable, ValueError):
    """DATABASE_URL cannot be used as written; the message says what to write instead."""


URL_EXAMPLES = "e.g. postgresql://user:password@host:5432/studybot or sqlite:////data/studybot.db"


def normalize_url(url: str | URL) -> URL:
    """`postgres://` and `postgresql://` use psycopg 3 (the installed driver).

    InvalidDatabaseURL (one sentence, never the password) when the URL cannot be used.
    """
    try:
        u = make_url(url) if isinstance(url, str) else url
    except (exc.ArgumentError, ValueError) as e:
        reason = "" if isinstance(e, exc.ArgumentError) else f" ({str(e).splitlines()[0]})"
        raise InvalidDatabaseURL(
            f"DATABASE_URL is not a database URL I can read{reason}: write it as {URL_EXAMPLES}."
        ) from None
    if u.drivername in ("postgres", "postgresql"):
        u = u.set(drivername="postgresql+psycopg")
    if u.get_backend_name() not in ("sqlite", "postgresql"):
        raise InvalidDatabaseURL(
            f"DATABASE_URL must be a sqlite:/// or postgresql:// URL, not {u.drivername}://."
        )
    return u


def make_engine(url: str | URL) -> Engine:
    """An engine with the house settings: SQLite WAL + busy timeout + FKs, PG connect timeout.

    InvalidDatabaseURL when the URL cannot be used (unknown driver, bad port, ...).
    """
    u = normalize_url(url)
    try:
        return _engine(u)
    except (exc.ArgumentError, ValueError, TypeError) as e:
        raise InvalidDatabaseURL(
            f"DATABASE_URL ({u.render_as_string(hide_password=True)}) cannot be used: "
            f"{str(e).splitlines()[0].rstrip('.')}; write it as {URL_EXAMPLES}."
        ) from None


def _engine(u: URL) -> Engine:
    if u.get_backend_name() == "sqlite":
        memory = u.database in (None, "", ":memory:")
        kwargs: dict[str, Any] = {
            "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
        }
        if memory:
            kwargs["poolclass"] = StaticPool
        else:
            with suppress(OSError):  # reported as RecordsUnavailable on first use
                Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(u, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            try:
                if not memory:
                    cur.execute("PRAGMA journal_mode=WAL")
                    cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
                cur.execute("PRAGMA foreign_keys=ON")
            finally:
                cur.close()

        return engine
    return sa.create_engine(
        u, pool_pre_ping=True, connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S}
    )


def alembic_config(url: str | URL | None = None):
    """Programmatic Alembic config pointing at the package's migrations (no alembic.ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if url is not None:
        u = normalize_url(url)
        cfg.set_main_option(
            "sqlalchemy.url", u.render_as_string(hide_password=False).replace("%", "%%")
        )
    return cfg


class Records:
    """The study records. Methods are small, thread-safe and raise RecordsUnavailable on outages.

    Modules that keep their own tables here (the quiz, the daily question, the stats) use the
    public surface: `begin()` (a transaction) or `connect()` (reads), `insert(table)` (INSERT
    with ON CONFLICT … DO NOTHING / DO UPDATE and RETURNING on both backends) and `now()` (the
    records' clock). An outage inside either context manager becomes RecordsUnavailable.
    """

    def __init__(self, engine: Engine, *, clock: Clock = utcnow) -> None:
        self.engine = engine
        self._clock = clock
        dialect = engine.dialect.name
        self._dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert

    @classmethod
    def from_url(cls, url: str | URL, *, clock: Clock = utcnow) -> Records:
        return cls(make_engine(url), clock=clock)

    @property
    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except (exc.OperationalError, exc.InterfaceError) as e:
            reason = str(getattr(e, "orig", None) or e).strip().splitlines()[0].rstrip(".")
            raise RecordsUnavailable(
                f"The study records database ({self.safe_url}) is unavailable: {reason}."
            ) from e

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in a transaction: committed on success, rolled back on an exception."""
        with self._guard(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reads (no transaction is committed)."""
        with self._guard(), self.engine.connect() as conn:
            yield conn

    def insert(self, table: type[Base] | sa.Table) -> Any:
        """INSERT into `table` in this database's dialect.

        Supports `.on_conflict_do_nothing()`, `.on_conflict_do_update()` and `.returning()` on
        SQLite and PostgreSQL alike: one statement claims a row or finds it taken (see
        `bot.daily.DailyStore.claim` and `claim_event` below).
        """
        return self._dialect_insert(table)

    def now(self) -> datetime:
        """The records' clock (aware UTC unless a test passes another clock)."""
        return self._clock()

    def ping(self) -> None:
        """One round trip to the database; RecordsUnavailable when it does not answer."""
        with self.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    # -- schema

    def upgrade(self, revision: str = "head") -> None:
        """Apply the Alembic migrations up to `revision` (idempotent; safe with replicas on PG)."""
        from alembic import command

        cfg = alembic_config()
        with self.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    # -- asks

    def record_ask(
        self,
        question: str,
        answer: Answer,
        *,
        user_id: str,
        channel_id: str,
        thread_ts: str | None = None,
        answer_ts: str | None = None,
        latency_ms: int | None = None,
    ) -> int:
        """Store one answered question; returns the ask id (the feedback buttons carry it)."""
        top = answer.domains[0] if answer.domains else None
        values = {
            "created_at": self.now(),
            "user_id": user_id,
            "channel_id": channel_id,
            "thread_ts": thread_ts,
            "question": question[:QUESTION_MAX_CHARS],
            "answer": answer.text[:ANSWER_MAX_CHARS],
            "mode": answer.mode[:16],
            "confidence": float(answer.confidence),
            "domain": top.id if top else None,
            "objective": top.objective[:200] if top else None,
            "answer_ts": answer_ts,
            "latency_ms": latency_ms,
            "details": answer_details(answer),
        }
        with self.begin() as conn:
            return int(conn.execute(sa.insert(Ask).values(**values).returning(Ask.id)).scalar_one())

    def recorded_ask(self, ask_id: int) -> RecordedAsk | None:
        """An ask and its answer as shown (None when there is no such ask)."""
        with self.connect() as conn:
            row = conn.execute(sa.select(Ask).where(Ask.id == ask_id)).first()
        if row is None:
            return None
        answer = answer_from_details(row.answer or "", row.mode, row.confidence, row.details)
        return RecordedAsk(
            row.id, row.user_id, row.channel_id, row.question, answer, row.created_at
        )

    def last_answer_in_thread(self, channel_id: str, thread_ts: str) -> tuple[str, datetime] | None:
        """(who asked, when) of the bot's latest answer in a thread, or None."""
        stmt = (
            sa.select(Ask.user_id, Ask.created_at)
            .where(Ask.channel_id == channel_id, Ask.thread_ts == thread_ts)
            .order_by(Ask.id.desc())
            .limit(1)
        )
        with self.connect() as conn:
            row = conn.execute(stmt).first()
        return (row.user_id, row.created_at) if row is not None else None

    def attach_answer(self, ask_id: int, *, answer_ts: str, thread_ts: str | None = None) -> None:
        """Link an ask to the message that answered it (and its thread, when it started one)."""
        values: dict[str, Any] = {"answer_ts": answer_ts}
        if thread_ts is not None:
            values["thread_ts"] = thread_ts
        with self.begin() as conn:
            conn.execute(sa.update(Ask).where(Ask.id == ask_id).values(**values))

    def thread_history(
        self, channel_id: str, thread_ts: str, limit: int = HISTORY_TURNS
    ) -> list[tuple[str, str]]:
        """The last `limit` (question, answer) pairs in a thread, oldest first."""
        stmt = (
            sa.select(Ask.question, Ask.answer)
            .where(Ask.channel_id == channel_id, Ask.thread_ts == thread_ts)
            .order_by(Ask.id.desc())
            .limit(limit)
        )
        with self.begin() as conn:
            rows = conn.execute(stmt).all()
        return [(q, a or "") for q, a in reversed(rows)]

    # -- feedback

    def record_feedback(self, ask_id: int, user_id: str, value: int) -> None:
        """+1 or -1 from a user on an ask; a later click replaces the earlier one (and its
        reason)."""
        if value not in (1, -1):
            raise ValueError(f"Feedback must be +1 or -1, not {value!r}.")
        now = self.now()
        stmt = self.insert(Feedback).values(
            ask_id=ask_id, user_id=user_id, value=value, created_at=now, updated_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["ask_id", "user_id"],
            set_={
                "value": stmt.excluded.value,
                "updated_at": stmt.excluded.updated_at,
                "reason": None,
            },
        )
        try:
            with self.begin() as conn:
                conn.execute(stmt)
        except exc.IntegrityError as e:
            raise ValueError(f"There is no ask with id {ask_id}.") from e

    def feedback_reason(self, ask_id: int, user_id: str, reason: str) -> bool:
        """The reason for a user's 👎 on an ask; False when they have no 👎 there."""
        if reason not in FEEDBACK_REASONS:
            raise ValueError(f"Unknown feedback reason {reason!r}.")
        stmt = (
            sa.update(Feedback)
            .where(Feedback.ask_id == ask_id, Feedback.user_id == user_id, Feedback.value == -1)
            .values(reason=reason, updated_at=self.now())
        )
        with self.begin() as conn:
            return conn.execute(stmt).rowcount > 0

    def feedback_counts(self, ask_id: int) -> tuple[int, int]:
        """(👍, 👎) on an ask."""
        stmt = sa.select(
            sa.func.count().filter(Feedback.value == 1),
            sa.func.count().filter(Feedback.value == -1),
        ).where(Feedback.ask_id == ask_id)
        with self.connect() as conn:
            up, down = conn.execute(stmt).one()
        return int(up), int(down)

    # -- Slack delivery bookkeeping

    def claim_event(self, event_id: str | None, channel_id: str | None, ts: str | None) -> bool:
        """True exactly once per event id and per (channel, message ts), across processes."""
        stmt = (
            self.insert(SlackEvent)
            .values(event_id=event_id, channel_id=channel_id, message_ts=ts, created_at=self.now())
            .on_conflict_do_nothing()
            .returning(SlackEvent.id)  # a row comes back only when this call inserted it
        )
        with self.begin() as conn:
            return conn.execute(stmt).first() is not None

    def remember_thread(self, channel_id: str, thread_ts: str) -> None:
        stmt = (
            self.insert(BotThread)
            .values(channel_id=channel_id, thread_ts=thread_ts, created_at=self.now())
            .on_conflict_do_nothing()
        )
        with self.begin() as conn:
            conn.execute(stmt)

    def is_bot_thread(self, channel_id: str, thread_ts: str) -> bool:
        stmt = sa.select(sa.literal(1)).where(
            BotThread.channel_id == channel_id, BotThread.thread_ts == thread_ts
        )
        with self.begin() as conn:
            return conn.execute(stmt).first() is not None
