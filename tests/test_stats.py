"""Study stats against a hand-computed history, on SQLite and PostgreSQL.

The history below is written out row by row with a frozen `now`; every expected figure was
worked out by hand from it (the comments show the arithmetic), not by running the code.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command

from bot.records import (
    Ask,
    QuizAttempt,
    QuizPost,
    QuizQuestion,
    Records,
    Review,
    alembic_config,
)
from bot.stats import (
    PERIODS,
    DomainFigure,
    StudyStats,
    UnknownPeriod,
    parse_period,
    readiness,
)
from bot.stats_chart import PNG_SIGNATURE, render_stats_chart
from knowledge.blueprint import load_blueprint
from tests.pg import DB_BACKENDS, database_url

BP = load_blueprint("mls-c01")


def at(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


NOW = at(11, 25, 12)  # Wednesday of ISO week 2026-W48 (Monday 2026-11-23)
# 7d  = since 2026-11-18 12:00; 30d = since 2026-10-26 12:00.

# --------------------------------------------------------------------------- the history

# Daily question posts: key -> (channel, created_at).
DAILY_POSTS = {
    "daily1": ("C1", at(11, 23, 9)),  # in 7d
    "daily2": ("C1", at(11, 16, 9)),  # in 30d, not 7d
    "daily3": ("C1", at(11, 24, 9)),  # in 7d, nobody answered
    "daily_c2": ("C2", at(11, 24, 9)),  # another channel
}


@dataclass(frozen=True)
class Row:
    n: str  # the row's name in the comments
    user: str
    channel: str
    kind: str  # ondemand | daily | exam
    objective: str  # its domain is the part before the dot
    correct: bool
    at: datetime
    post: str | None = None  # a DAILY_POSTS key; None = a post of its own


ATTEMPTS = [
    # C1, inside 7d
    Row("1", "U1", "C1", "ondemand", "1.1", True, at(11, 24, 10)),
    Row("2", "U1", "C1", "ondemand", "1.2", False, at(11, 24, 10, 5)),
    Row("3", "U1", "C1", "ondemand", "3.2", True, at(11, 25, 9)),
    Row("4", "U2", "C1", "daily", "2.1", False, at(11, 23, 9, 30), "daily1"),
    Row("5", "U1", "C1", "daily", "2.1", True, at(11, 23, 9, 40), "daily1"),
    Row("6", "U3", "C1", "daily", "2.1", False, at(11, 23, 10), "daily1"),
    Row("7", "U2", "C1", "ondemand", "2.2", False, at(11, 20, 15)),
    Row("8", "U2", "C1", "ondemand", "3.4", False, at(11, 19, 8)),
    # C1, inside 30d only
    Row("9", "U1", "C1", "ondemand", "1.3", True, at(11, 10, 10)),
    Row("10", "U3", "C1", "ondemand", "4.1", True, at(11, 5, 10)),
    Row("11", "U3", "C1", "ondemand", "4.2", True, at(11, 5, 10, 10)),
    Row("12", "U4", "C1", "daily", "2.3", False, at(11, 16, 9, 15), "daily2"),
    Row("13", "U2", "C1", "daily", "2.3", True, at(11, 16, 9, 20), "daily2"),
    # C1, older than 30d
    Row("14", "U4", "C1", "ondemand", "3.1", True, at(9, 1, 10)),
    Row("15", "U4", "C1", "ondemand", "3.1", True, at(9, 1, 10, 5)),
    # elsewhere: never in C1's figures
    Row("c2", "U5", "C2", "ondemand", "1.1", True, at(11, 24, 8)),
    Row("dm", "U1", "DU1", "exam", "3.5", False, at(11, 24, 11)),
    # after `now`: never counted
    Row("future", "U1", "C1", "ondemand", "1.1", True, at(11, 26, 10)),
]

# U9 studies alone in a DM: enough answers for a readiness estimate.
# (objective, answers, correct): D1 5/4, D2 5/3, D3 8/6, D4 4/2 = 22 answers.
U9_TABLE = [
    ("1.1", 3, 3),
    ("1.2", 2, 1),
    ("2.1", 5, 3),
    ("3.2", 8, 6),
    ("4.1", 2, 1),
    ("4.2", 2, 1),
]
U9_ROWS = [
    Row(f"u9-{obj}-{i}", "U9", "DU9", "ondemand", obj, i < right, at(11, 10, 8, minute))
    for minute, (obj, i, right) in enumerate(
        (obj, i, right) for obj, total, right in U9_TABLE for i in range(total)
    )
]

# Questions asked: (user, channel, created_at).
ASKS = [
    ("U1", "C1", at(11, 24, 14)),  # 7d, W48
    ("U4", "C1", at(11, 22, 14)),  # 7d, W47 (a Sunday)
    ("U1", "C1", at(11, 1, 10)),  # 30d, W44 (a Sunday)
    ("U5", "C1", at(8, 1, 10)),  # all only
    ("U2", "C2", at(11, 24, 10)),  # another channel
]

# U1's review cards: (due_at) -> 2 due at NOW (due_at <= now), 1 not yet.
U1_REVIEWS = [at(11, 20), NOW, at(11, 30)]


def seed(records: Records) -> None:
    """Write the history above into fresh records."""
    objectives = sorted({r.objective for r in ATTEMPTS + U9_ROWS})
    with records.engine.begin() as conn:
        qids = {}
        for obj in objectives:
            qids[obj] = conn.execute(
                sa.insert(QuizQuestion)
                .values(
                    fingerprint=f"fp-{obj}",
                    blueprint="mls-c01",
                    domain=int(obj.split(".")[0]),
                    objective=obj,
                    format="single",
                    choose=1,
                    stem=f"Question on {obj}?",
                    options=["a", "b", "c", "d"],
                    correct=[0],
                    explanation="Because.",
                    chunk_ids=["c"],
                    source="notes.md",
                    title=obj,
                    generator="offline:test",
                    created_at=at(8, 1),
                )
                .returning(QuizQuestion.id)
            ).scalar_one()

        def post(kind: str, channel: str, created: datetime, obj: str) -> int:
            return conn.execute(
                sa.insert(QuizPost)
                .values(
                    token=uuid.uuid4().hex[:16],
                    question_id=qids[obj],
                    kind=kind,
                    channel_id=channel,
                    created_at=created,
                    expires_at=created,
                )
                .returning(QuizPost.id)
            ).scalar_one()

        daily_obj = {r.post: r.objective for r in ATTEMPTS if r.post}
        daily_ids = {
            key: post("daily", channel, created, daily_obj.get(key, "1.1"))
            for key, (channel, created) in DAILY_POSTS.items()
        }
        for r in ATTEMPTS + U9_ROWS:
            post_id = daily_ids[r.post] if r.post else post(r.kind, r.channel, r.at, r.objective)
            conn.execute(
                sa.insert(QuizAttempt).values(
                    post_id=post_id,
                    question_id=qids[r.objective],
                    user_id=r.user,
                    channel_id=r.channel,
                    kind=r.kind,
                    domain=int(r.objective.split(".")[0]),
                    objective=r.objective,
                    choices=[0],
                    correct=r.correct,
                    created_at=r.at,
                )
            )
        for user, channel, created in ASKS:
            conn.execute(
                sa.insert(Ask).values(
                    created_at=created,
                    user_id=user,
                    channel_id=channel,
                    question="q?",
                    answer="a.",
                    mode="extractive",
                    confidence=0.5,
                )
            )
        for i, due in enumerate(U1_REVIEWS):
            conn.execute(
                sa.insert(Review).values(
                    user_id="U1",
                    question_id=qids[objectives[i]],
                    card={},
                    due_at=due,
                    last_review_at=at(11, 1),
                )
            )


# --------------------------------------------------------------------------- databases


@pytest.fixture(scope="module", params=DB_BACKENDS)
def db_url(request, tmp_path_factory) -> Iterator[str]:
    """Module-scoped (the history is seeded once): a SQLite file or a PostgreSQL schema."""
    with database_url(request.param, tmp_path_factory.mktemp("stats"), "test_stats") as url:
        yield url


@pytest.fixture(scope="module")
def records(db_url) -> Iterator[Records]:
    r = Records.from_url(db_url, clock=lambda: NOW)
    r.upgrade()
    seed(r)
    yield r
    r.close()


@pytest.fixture(scope="module")
def stats(records) -> StudyStats:
    return StudyStats(records, BP)


def week(label: str, start: str, answers=0, correct=0, learners=0, asks=0, accuracy=None):
    return {
        "week": label,
        "start": start,
        "answers": answers,
        "correct": correct,
        "accuracy": accuracy,
        "learners": learners,
        "asks": asks,
    }


def dom(domain: int, answers: int, correct: int, accuracy: float | None, meets: bool | None):
    names = {1: "Data Engineering", 2: "Exploratory Data Analysis", 3: "Modeling"}
    names[4] = "Machine Learning Implementation and Operations"
    weights = {1: 0.2, 2: 0.24, 3: 0.36, 4: 0.2}
    return {
        "domain": domain,
        "name": names[domain],
        "weight": weights[domain],
        "answers": answers,
        "correct": correct,
        "accuracy": accuracy,
        "meets_target": meets,
    }


# --------------------------------------------------------------------------- channel figures


def test_channel_stats_7d(stats):
    s = stats.channel_stats("C1", "7d").to_dict()
    assert s["since"] == "2026-11-18T12:00:00+00:00" and s["now"] == "2026-11-25T12:00:00+00:00"
    assert s["active_learners"] == 4  # answered U1 U2 U3, asked U1 U4
    assert s["questions_asked"] == 2
    assert s["quiz_answers"] == 8  # rows 1-8
    assert s["correct"] == 3  # rows 1, 3, 5
    assert s["accuracy"] == 0.375
    assert s["domains"] == [
        dom(1, 2, 1, 0.5, False),  # rows 1, 2
        dom(2, 4, 1, 0.25, False),  # rows 4, 5, 6, 7
        dom(3, 2, 1, 0.5, False),  # rows 3, 8
        dom(4, 0, 0, None, None),
    ]
    assert s["weeks"] == [
        week("2026-W47", "2026-11-16", 2, 0, 1, 1, 0.0),  # rows 7, 8 (after 11-18 12:00); U4 ask
        week("2026-W48", "2026-11-23", 6, 3, 3, 1, 0.5),  # rows 1-6; U1 ask
    ]
    # daily1 + daily3 posted; rows 4, 5, 6 from U2, U1, U3; 3 of 4 active learners
    assert s["daily"] == {
        "posts": 2,
        "answers": 3,
        "participants": 3,
        "answers_per_post": 1.5,
        "share_of_active": 0.75,
    }
    # only domain 2 has >= 3 answers; inside it 2.2 is 0/1 (2.1 is 1/3)
    assert s["weakest"] == {
        "domain": 2,
        "domain_name": "Exploratory Data Analysis",
        "accuracy": 0.25,
        "answers": 4,
        "objective": "2.2",
        "objective_name": "Perform feature engineering",
        "objective_answers": 1,
        "objective_accuracy": 0.0,
    }
    # U1 3 right of 4; U3 0 of 1 before U2 0 of 3 (fewer answers for the same right ones)
    assert s["top_learners"] == [
        {"user_id": "U1", "answers": 4, "correct": 3, "accuracy": 0.75},
        {"user_id": "U3", "answers": 1, "correct": 0, "accuracy": 0.0},
        {"user_id": "U2", "answers": 3, "correct": 0, "accuracy": 0.0},
    ]


def test_channel_stats_30d(stats):
    s = stats.channel_stats("C1", "30d").to_dict()
    assert (s["active_learners"], s["questions_asked"]) == (4, 3)
    assert (s["quiz_answers"], s["correct"], s["accuracy"]) == (13, 7, 0.5385)  # 7/13
    assert s["domains"] == [
        dom(1, 3, 2, 0.6667, False),  # rows 1, 2, 9
        dom(2, 6, 2, 0.3333, False),  # rows 4, 5, 6, 7, 12, 13
        dom(3, 2, 1, 0.5, False),  # rows 3, 8
        dom(4, 2, 2, 1.0, True),  # rows 10, 11
    ]
    assert s["weeks"] == [
        week("2026-W44", "2026-10-26", asks=1),  # U1's ask on Sunday 11-01
        week("2026-W45", "2026-11-02", 2, 2, 1, 0, 1.0),  # rows 10, 11
        week("2026-W46", "2026-11-09", 1, 1, 1, 0, 1.0),  # row 9
        week("2026-W47", "2026-11-16", 4, 1, 2, 1, 0.25),  # rows 7, 8, 12, 13
        week("2026-W48", "2026-11-23", 6, 3, 3, 1, 0.5),
    ]
    assert s["daily"] == {
        "posts": 3,
        "answers": 5,  # rows 4, 5, 6, 12, 13
        "participants": 4,
        "answers_per_post": 1.67,
        "share_of_active": 1.0,
    }
    assert s["weakest"]["domain"] == 2 and s["weakest"]["objective"] == "2.2"
    assert [(t["user_id"], t["answers"], t["correct"]) for t in s["top_learners"]] == [
        ("U1", 5, 4),
        ("U3", 3, 2),
        ("U2", 4, 1),
        ("U4", 1, 0),
    ]


def test_channel_stats_all(stats):
    s = stats.channel_stats("C1", "all").to_dict()
    assert s["since"] is None
    assert (s["active_learners"], s["questions_asked"]) == (5, 4)  # U5 only asked, in August
    assert (s["quiz_answers"], s["correct"], s["accuracy"]) == (15, 9, 0.6)
    assert s["domains"][2] == dom(3, 4, 3, 0.75, True)  # rows 3, 8, 14, 15: on the line
    assert [w["week"] for w in s["weeks"]] == [f"2026-W{n}" for n in range(41, 49)]
    assert s["weeks"][:3] == [
        week("2026-W41", "2026-10-05"),
        week("2026-W42", "2026-10-12"),
        week("2026-W43", "2026-10-19"),
    ]
    assert s["daily"]["share_of_active"] == 0.8  # 4 of 5
    assert s["weakest"]["domain"] == 2 and s["weakest"]["objective"] == "2.2"
    # U3 and U4 both 2 of 3: user id decides
    assert [(t["user_id"], t["correct"]) for t in s["top_learners"]] == [
        ("U1", 4),
        ("U3", 2),
        ("U4", 2),
        ("U2", 1),
    ]


def test_another_channel_counts_only_its_own_rows(stats):
    s = stats.channel_stats("C2", "7d").to_dict()
    assert (s["active_learners"], s["questions_asked"], s["quiz_answers"]) == (2, 1, 1)
    assert s["daily"]["posts"] == 1 and s["daily"]["participants"] == 0
    assert s["top_learners"] == [{"user_id": "U5", "answers": 1, "correct": 1, "accuracy": 1.0}]
    empty = stats.channel_stats("C-nobody", "all").to_dict()
    assert (empty["active_learners"], empty["quiz_answers"], empty["accuracy"]) == (0, 0, None)
    assert empty["weakest"] is None and empty["top_learners"] == []
    assert empty["daily"]["answers_per_post"] is None


def test_now_is_injected_per_call(stats):
    # a week earlier the 7d window is 11-11 12:00 .. 11-18 12:00: rows 12 and 13, no asks
    s = stats.channel_stats("C1", "7d", now=at(11, 18, 12))
    assert (s.quiz_answers, s.correct, s.questions_asked) == (2, 1, 0)


# --------------------------------------------------------------------------- a learner


def test_learner_progress_without_enough_data(stats):
    p = stats.learner_progress("U1").to_dict()
    # rows 1, 2, 3, 5, 9 in C1 and the exam answer in the DM; the future row is not counted
    assert (p["answers"], p["correct"], p["accuracy"]) == (6, 4, 0.6667)
    assert (p["answers_7d"], p["accuracy_7d"]) == (5, 0.6)  # rows 1, 2, 3, 5, dm: 3 right
    assert [(d["domain"], d["answers"], d["correct"]) for d in p["domains"]] == [
        (1, 3, 2),
        (2, 1, 1),
        (3, 2, 1),
        (4, 0, 0),
    ]
    assert p["due_reviews"] == 2  # due 11-20 and due exactly now
    assert p["streak_days"] == 3  # 11-25, 11-24, 11-23
    r = p["readiness"]
    assert r["score"] is None and r["enough_data"] is False and r["answers"] == 6
    assert r["domain_estimates"] == {"1": 0.5714, "2": 0.6, "3": 0.5, "4": 0.5}  # (c+2)/(n+4)
    assert r["missing"] == (
        "needs 14 more answers and at least 3 in every domain "
        "(domain 2: 2 more, domain 3: 1 more, domain 4: 3 more)"
    )
    # only domain 1 has 3 answers; 1.2 is its 0-of-1 objective
    assert p["focus"]["domain"] == 1 and p["focus"]["objective"] == "1.2"
    assert p["focus"]["objective_name"] == "Identify and implement a data-ingestion solution"


def test_readiness_estimate_from_the_fixture(stats):
    p = stats.learner_progress("U9")
    r = p.readiness
    # D1 (4+2)/9, D2 (3+2)/9, D3 (6+2)/12, D4 (2+2)/8
    # p = .2*6/9 + .24*5/9 + .36*8/12 + .2*.5 = .13333 + .13333 + .24 + .1 = .60667
    # score = 100 + 900 * .60667 = 646
    assert r.enough_data and r.answers == 22
    assert r.weighted_accuracy == pytest.approx(0.6066667, abs=1e-6)
    assert r.score == 646 and r.passes is False and r.passing_score == 750
    assert p.streak_days == 0 and p.due_reviews == 0
    # raw accuracy D4 2/4 is the lowest; 4.1 and 4.2 tie at 1/2: the lower id
    assert p.focus is not None and (p.focus.domain.domain, p.focus.objective) == (4, "4.1")


def test_readiness_thresholds_and_scale():
    def figs(*counts: tuple[int, int]) -> list[DomainFigure]:
        return [DomainFigure(i + 1, f"D{i + 1}", 0.25, n, c) for i, (n, c) in enumerate(counts)]

    perfect = readiness(figs((20, 20), (20, 20), (20, 20), (20, 20)), BP)
    assert perfect.score == 925 and perfect.passes  # 22/24 -> 100 + 900 * .91667
    assert perfect.weighted_accuracy == pytest.approx(22 / 24)
    nineteen = readiness(figs((5, 5), (5, 5), (5, 5), (4, 4)), BP)
    assert nineteen.score is None and nineteen.more_answers_needed == 1
    thin = readiness(figs((30, 30), (2, 2), (30, 30), (30, 30)), BP)
    assert thin.score is None and thin.domains_short == {2: 1} and thin.more_answers_needed == 0
    assert thin.missing == "needs at least 3 in every domain (domain 2: 1 more)"
    nothing = readiness([], BP)
    assert nothing.answers == 0 and nothing.domain_estimates == {1: 0.5, 2: 0.5, 3: 0.5, 4: 0.5}


def test_unknown_learner_has_zeros(stats):
    p = stats.learner_progress("U-new")
    assert (p.answers, p.accuracy, p.due_reviews, p.streak_days, p.focus) == (0, None, 0, 0, None)
    assert p.readiness.more_answers_needed == 20


# --------------------------------------------------------------------------- export, periods


def test_export_csv(stats):
    assert stats.export_csv("C1", "30d") == (
        "user_id,asks,answers,correct,accuracy,d1_answers,d1_correct,d2_answers,d2_correct,"
        "d3_answers,d3_correct,d4_answers,d4_correct,last_active\n"
        "U1,2,5,4,0.8000,3,2,1,1,1,1,0,0,2026-11-25T09:00:00+00:00\n"
        "U3,0,3,2,0.6667,0,0,1,0,0,0,2,2,2026-11-23T10:00:00+00:00\n"
        "U2,0,4,1,0.2500,0,0,3,1,1,0,0,0,2026-11-23T09:30:00+00:00\n"
        "U4,1,1,0,0.0000,0,0,1,0,0,0,0,0,2026-11-22T14:00:00+00:00\n"
    )
    header_only = stats.export_csv("C-nobody", "all")
    assert header_only.count("\n") == 1 and header_only.startswith("user_id,")


def test_periods():
    assert parse_period(None) == parse_period("") == "30d"
    assert parse_period(" 7D ") == "7d" and parse_period("all") == "all"
    assert set(PERIODS) == {"7d", "30d", "all"}
    with pytest.raises(UnknownPeriod):
        parse_period("90d")


# --------------------------------------------------------------------------- SQL does the work


def test_attempt_rows_are_aggregated_in_the_database(records, stats):
    statements: list[str] = []

    def capture(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(records.engine, "before_cursor_execute", capture)
    try:
        stats.channel_stats("C1", "all")
        stats.learner_progress("U1")
        stats.learner_rows("C1", "all")
    finally:
        sa.event.remove(records.engine, "before_cursor_execute", capture)
    reads = [s for s in statements if "quiz_attempts" in s]
    assert len(reads) >= 5
    for sql in reads:  # every read of attempts is an aggregate (count/sum/GROUP BY)
        upper = sql.upper()
        assert "COUNT(" in upper or "SUM(" in upper or "GROUP BY" in upper, sql


def test_sqlite_answers_channel_stats_from_the_stats_indexes(records):
    if records.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan")
    with records.engine.connect() as conn:
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT domain, objective, count(*), "
            "sum(CASE WHEN correct THEN 1 ELSE 0 END) FROM quiz_attempts "
            "WHERE channel_id = 'C1' AND created_at >= '2026-10-26' GROUP BY domain, objective"
        ).all()
        daily = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM quiz_posts WHERE channel_id = 'C1' "
            "AND kind = 'daily' AND created_at >= '2026-10-26'"
        ).all()
    assert "COVERING INDEX ix_quiz_attempts_stats_channel" in " ".join(str(r[-1]) for r in plan)
    assert "ix_quiz_posts_daily" in " ".join(str(r[-1]) for r in daily)


def test_migration_0004_downgrades_and_upgrades(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    engine = sa.create_engine(url)
    try:

        def indexes(table: str) -> set[str]:
            return {i["name"] for i in sa.inspect(engine).get_indexes(table)}

        assert "ix_quiz_attempts_stats_channel" in indexes("quiz_attempts")
        assert "ix_quiz_attempts_channel_id_created_at" not in indexes("quiz_attempts")
        assert "ix_asks_stats_channel" in indexes("asks")
        assert "ix_quiz_posts_daily" in indexes("quiz_posts")
        command.downgrade(cfg, "0004-1")
        assert "ix_quiz_attempts_stats_channel" not in indexes("quiz_attempts")
        assert "ix_quiz_attempts_channel_id_created_at" in indexes("quiz_attempts")
        assert "ix_asks_stats_channel" not in indexes("asks")
        assert "ix_quiz_posts_daily" not in indexes("quiz_posts")
        command.upgrade(cfg, "head")
        assert "ix_quiz_attempts_stats_channel" in indexes("quiz_attempts")
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- chart and CLI


def test_chart_is_a_png(stats):
    png = render_stats_chart(stats.channel_stats("C1", "30d"))
    assert png.startswith(PNG_SIGNATURE) and len(png) > 10_000
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1100, 420)
    assert render_stats_chart(stats.channel_stats("C-nobody", "7d")).startswith(PNG_SIGNATURE)


@pytest.fixture
def cli_env(records, monkeypatch):
    from knowledge.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", records.engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_cli_stats_json_prints_the_figures(stats, cli_env, tmp_path):
    from typer.testing import CliRunner

    from bot.cli import app

    chart = tmp_path / "chart.png"
    result = CliRunner().invoke(
        app,
        [
            "stats",
            "--channel",
            "C1",
            "--period",
            "7d",
            "--as-of",
            "2026-11-25T12:00:00Z",
            "--json",
            "--chart",
            str(chart),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == stats.channel_stats("C1", "7d").to_dict()
    assert chart.read_bytes().startswith(PNG_SIGNATURE)


def test_cli_stats_table_and_me(stats, cli_env):
    from typer.testing import CliRunner

    from bot.cli import app

    runner = CliRunner()
    table = runner.invoke(app, ["stats", "--channel", "C1", "--as-of", "2026-11-25T12:00:00Z"])
    assert table.exit_code == 0, table.output
    assert "Quiz answers" in table.stdout and "53.8%" in table.stdout  # 7/13 in 30d
    me = runner.invoke(app, ["me", "--user", "U9", "--as-of", "2026-11-25T12:00:00Z", "--json"])
    assert me.exit_code == 0, me.output
    assert json.loads(me.stdout)["readiness"]["score"] == 646
    text = runner.invoke(app, ["me", "--user", "U9", "--as-of", "2026-11-25T12:00:00Z"])
    assert text.exit_code == 0 and "646" in text.stdout
    bad = runner.invoke(app, ["stats", "--channel", "C1", "--period", "90d"])
    assert bad.exit_code != 0
