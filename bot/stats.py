"""Study statistics: channel figures for team leads, personal progress for learners. No Slack.

Every figure is an aggregate computed by the database (SQLAlchemy Core, GROUP BY in SQL); Python
only ever sees aggregated rows (domains x objectives, ISO weeks, days, the top learners), never
the attempt rows themselves. The indexes these queries need come with migration 0004.

Periods are rolling windows ending at an injected `now`: `7d` = the last 7 x 24 hours, `30d` =
the last 30 x 24 hours, `all` = everything up to `now`. Weeks are ISO weeks (Monday to Sunday,
UTC) and days are UTC days.

What a channel's figures count: what happened *in that channel* (questions asked there, quiz
answers given there, including the daily question). On-demand quizzes and mock exams in a
learner's DM belong to the DM, not to a study channel; they count in the learner's own progress.

Readiness estimate (`Readiness`, shown by `/study me`, the App Home and `studybot me`):

1. Per domain, the learner's accuracy over all their answers (every channel and DM, all time),
   smoothed with a Beta(2, 2) prior: (correct + 2) / (answers + 4). The prior is worth four
   answers at 50 %, so a domain answered three times out of three counts as 71 %, not 100 %.
2. These accuracies are weighted by the blueprint's domain weights (MLS-C01: 20/24/36/20 %) into
   one weighted accuracy `p`.
3. `p` is mapped linearly onto the exam's scale: score = min + (max - min) x p (MLS-C01:
   100 + 900 x p, rounded), and compared with the passing score (750).
4. The estimate states the number of answers it rests on. Below 20 answers in total, or with any
   domain answered fewer than 3 times, it says "not enough data" (and how many more answers
   would do) instead of a score.

It is a study aid, not a prediction: the real exam's scaling is not linear, and quiz questions
are not exam questions.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from bot.records import FEEDBACK_REASONS, Ask, Feedback, QuizAttempt, QuizPost, Records, Review
from knowledge.blueprint import Blueprint

PERIODS: dict[str, timedelta | None] = {
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "all": None,
}
PERIOD_LABELS = {"7d": "last 7 days", "30d": "last 30 days", "all": "all time"}
DEFAULT_PERIOD = "30d"
TARGET_ACCURACY = 0.75  # the line every domain is measured against
TREND_WEEKS = 8  # ISO weeks in the trend (the current one included)
TOP_LEARNERS = 5
WEAKEST_MIN_ANSWERS = 3  # a domain needs this many answers to be called the weakest
STREAK_LOOKBACK_DAYS = 400
PRIOR_CORRECT = 2.0  # Beta prior of the readiness estimate: alpha
PRIOR_WRONG = 2.0  # ... and beta
READINESS_MIN_ANSWERS = 20
READINESS_MIN_DOMAIN_ANSWERS = 3

Clock = Callable[[], datetime]


class UnknownPeriod(ValueError):
    """A period other than 7d, 30d or all."""


def parse_period(text: str | None) -> str:
    """'7d', '30D', ' all ' -> the period key; '' or None -> the default (30d)."""
    key = (text or "").strip().lower() or DEFAULT_PERIOD
    if key not in PERIODS:
        raise UnknownPeriod(f"Unknown period {text!r}: use one of {', '.join(PERIODS)}.")
    return key


def period_start(period: str, now: datetime) -> datetime | None:
    span = PERIODS[parse_period(period)]
    return None if span is None else now - span


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def iso_week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


# --------------------------------------------------------------------------- SQL helpers


class week_start(FunctionElement):  # noqa: N801 - reads like a SQL function
    """The Monday (UTC) of a timestamp's ISO week, as 'YYYY-MM-DD' text."""

    type = sa.String()
    inherit_cache = True
    name = "week_start"


class utc_day(FunctionElement):  # noqa: N801
    """A timestamp's UTC day as 'YYYY-MM-DD' text."""

    type = sa.String()
    inherit_cache = True
    name = "utc_day"


def _arg(element: FunctionElement, compiler: Any, **kw: Any) -> str:
    return compiler.process(next(iter(element.clauses)), **kw)


@compiles(week_start, "sqlite")
def _week_start_sqlite(element: week_start, compiler: Any, **kw: Any) -> str:
    # SQLite keeps UTC as naive text; %w is 0 on Sunday, so (w + 6) % 7 days back is Monday.
    col = _arg(element, compiler, **kw)
    return f"date({col}, '-' || ((CAST(strftime('%w', {col}) AS INTEGER) + 6) % 7) || ' days')"


@compiles(week_start, "postgresql")
def _week_start_pg(element: week_start, compiler: Any, **kw: Any) -> str:
    col = _arg(element, compiler, **kw)
    return f"to_char(date_trunc('week', timezone('UTC', {col})), 'YYYY-MM-DD')"


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"date({_arg(element, compiler, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_pg(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"to_char(timezone('UTC', {_arg(element, compiler, **kw)}), 'YYYY-MM-DD')"


A = QuizAttempt.__table__
K = Ask.__table__
P = QuizPost.__table__
R = Review.__table__
F = Feedback.__table__

_CORRECT = sa.func.sum(sa.case((A.c.correct, 1), else_=0))
# A literal, not a bound parameter: only then can PostgreSQL's generic plans and SQLite's
# prepared statements use the partial index on daily posts (WHERE kind = 'daily').
_DAILY_LITERAL = sa.literal_column("'daily'", sa.String)


def _window(created_at: sa.ColumnElement, since: datetime | None, now: datetime) -> list:
    clauses = [created_at <= now]
    if since is not None:
        clauses.append(created_at >= since)
    return clauses


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class DomainFigure:
    """Answers and accuracy in one exam domain."""

    domain: int
    name: str
    weight: float  # share of the exam, 0..1
    answers: int
    correct: int

    @property
    def accuracy(self) -> float | None:
        return _ratio(self.correct, self.answers)

    @property
    def meets_target(self) -> bool | None:
        acc = self.accuracy
        return None if acc is None else acc >= TARGET_ACCURACY

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "name": self.name,
            "weight": self.weight,
            "answers": self.answers,
            "correct": self.correct,
            "accuracy": _round(self.accuracy),
            "meets_target": self.meets_target,
        }


@dataclass(frozen=True)
class Focus:
    """The weakest domain and, inside it, the weakest objective to study next."""

    domain: DomainFigure
    objective: str | None  # e.g. "2.1"
    objective_name: str | None
    objective_answers: int
    objective_correct: int

    @property
    def objective_accuracy(self) -> float | None:
        return _ratio(self.objective_correct, self.objective_answers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain.domain,
            "domain_name": self.domain.name,
            "accuracy": _round(self.domain.accuracy),
            "answers": self.domain.answers,
            "objective": self.objective,
            "objective_name": self.objective_name,
            "objective_answers": self.objective_answers,
            "objective_accuracy": _round(self.objective_accuracy),
        }


@dataclass(frozen=True)
class WeekFigure:
    """One ISO week: quiz answers, accuracy, learners answering, questions asked."""

    week: str  # "2026-W48"
    start: date  # its Monday
    answers: int
    correct: int
    learners: int
    asks: int

    @property
    def accuracy(self) -> float | None:
        return _ratio(self.correct, self.answers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "week": self.week,
            "start": self.start.isoformat(),
            "answers": self.answers,
            "correct": self.correct,
            "accuracy": _round(self.accuracy),
            "learners": self.learners,
            "asks": self.asks,
        }


@dataclass(frozen=True)
class DailyParticipation:
    """The question of the day in this channel: posts, answers, distinct participants."""

    posts: int
    answers: int
    participants: int
    active_learners: int

    @property
    def answers_per_post(self) -> float | None:
        return _ratio(self.answers, self.posts)

    @property
    def share_of_active(self) -> float | None:
        """Participants / active learners of the channel in the period."""
        return _ratio(self.participants, self.active_learners)

    def to_dict(self) -> dict[str, Any]:
        return {
            "posts": self.posts,
            "answers": self.answers,
            "participants": self.participants,
            "answers_per_post": _round(self.answers_per_post, 2),
            "share_of_active": _round(self.share_of_active),
        }


@dataclass(frozen=True)
class LearnerFigure:
    user_id: str
    answers: int
    correct: int

    @property
    def accuracy(self) -> float | None:
        return _ratio(self.correct, self.answers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "answers": self.answers,
            "correct": self.correct,
            "accuracy": _round(self.accuracy),
        }


@dataclass(frozen=True)
class FeedbackFigure:
    """👍/👎 on the channel's answers, and why the 👎 (wrong | not_helpful | off_topic | none)."""

    helpful: int = 0
    not_helpful: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"helpful": self.helpful, "not_helpful": self.not_helpful, "reasons": self.reasons}


def _feedback(channel_id: str, since: datetime | None, now: datetime) -> sa.Select:
    """(value, reason, count) of the feedback given in the period on the channel's answers."""
    return (
        sa.select(F.c.value, F.c.reason, sa.func.count())
        .join(K, K.c.id == F.c.ask_id)
        .where(K.c.channel_id == channel_id, *_window(F.c.updated_at, since, now))
        .group_by(F.c.value, F.c.reason)
    )


def _feedback_figure(rows: list) -> FeedbackFigure:
    reasons = dict.fromkeys((*FEEDBACK_REASONS, "none"), 0)
    helpful = not_helpful = 0
    for value, reason, n in rows:
        if value == 1:
            helpful += int(n)
        else:
            not_helpful += int(n)
            key = reason if reason in reasons else "none"
            reasons[key] += int(n)
    return FeedbackFigure(helpful, not_helpful, reasons)


@dataclass(frozen=True)
class ChannelStats:
    """A channel's study figures over a period (for team leads only: it names learners)."""

    channel_id: str
    period: str
    since: datetime | None
    now: datetime
    active_learners: int  # distinct people who asked or answered here
    questions_asked: int
    quiz_answers: int
    correct: int
    domains: list[DomainFigure]
    weeks: list[WeekFigure]
    daily: DailyParticipation
    weakest: Focus | None
    top_learners: list[LearnerFigure]
    target: float = TARGET_ACCURACY
    feedback: FeedbackFigure = field(default_factory=FeedbackFigure)
    exam: str = ""  # the exam these answers are for, as people write it ("MLS-C01")

    @property
    def accuracy(self) -> float | None:
        return _ratio(self.correct, self.quiz_answers)

    @property
    def period_label(self) -> str:
        return PERIOD_LABELS[self.period]

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel_id": self.channel_id,
            "exam": self.exam,
            "period": self.period,
            "since": self.since.isoformat() if self.since else None,
            "now": self.now.isoformat(),
            "active_learners": self.active_learners,
            "questions_asked": self.questions_asked,
            "quiz_answers": self.quiz_answers,
            "correct": self.correct,
            "accuracy": _round(self.accuracy),
            "target": self.target,
            "domains": [d.to_dict() for d in self.domains],
            "weeks": [w.to_dict() for w in self.weeks],
            "daily": self.daily.to_dict(),
            "weakest": self.weakest.to_dict() if self.weakest else None,
            "top_learners": [t.to_dict() for t in self.top_learners],
            "feedback": self.feedback.to_dict(),
        }


@dataclass(frozen=True)
class Readiness:
    """The readiness estimate (see the module docstring for how it is computed)."""

    score: int | None  # on the exam scale; None = not enough data
    weighted_accuracy: float | None  # None = not enough data
    answers: int  # how many answers it rests on
    passing_score: int
    scale_min: int
    scale_max: int
    domain_estimates: dict[int, float] = field(default_factory=dict)  # smoothed, 0..1
    more_answers_needed: int = 0  # to reach READINESS_MIN_ANSWERS
    domains_short: dict[int, int] = field(default_factory=dict)  # domain -> answers missing

    @property
    def enough_data(self) -> bool:
        return self.score is not None

    @property
    def passes(self) -> bool | None:
        return None if self.score is None else self.score >= self.passing_score

    @property
    def missing(self) -> str | None:
        """What an estimate still needs, e.g. "needs 14 more answers" (None when there is one)."""
        if self.enough_data:
            return None
        parts = []
        if self.more_answers_needed:
            parts.append(f"{self.more_answers_needed} more answers")
        if self.domains_short:
            short = ", ".join(
                f"domain {d}: {n} more" for d, n in sorted(self.domains_short.items())
            )
            parts.append(f"at least {READINESS_MIN_DOMAIN_ANSWERS} in every domain ({short})")
        return "needs " + " and ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "enough_data": self.enough_data,
            "passes": self.passes,
            "weighted_accuracy": _round(self.weighted_accuracy),
            "answers": self.answers,
            "passing_score": self.passing_score,
            "scale": [self.scale_min, self.scale_max],
            "domain_estimates": {str(k): _round(v) for k, v in self.domain_estimates.items()},
            "missing": self.missing,
        }


@dataclass(frozen=True)
class LearnerProgress:
    """One learner's progress over all their answers (every channel and DM)."""

    user_id: str
    now: datetime
    answers: int
    correct: int
    answers_7d: int
    correct_7d: int
    domains: list[DomainFigure]
    due_reviews: int
    streak_days: int  # consecutive UTC days with an answer, ending today (or yesterday)
    readiness: Readiness
    focus: Focus | None
    target: float = TARGET_ACCURACY
    exam: str = ""  # the exam this progress is for, as people write it ("MLS-C01")

    @property
    def accuracy(self) -> float | None:
        return _ratio(self.correct, self.answers)

    @property
    def accuracy_7d(self) -> float | None:
        return _ratio(self.correct_7d, self.answers_7d)

    def to_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "exam": self.exam,
            "now": self.now.isoformat(),
            "answers": self.answers,
            "correct": self.correct,
            "accuracy": _round(self.accuracy),
            "answers_7d": self.answers_7d,
            "accuracy_7d": _round(self.accuracy_7d),
            "target": self.target,
            "domains": [d.to_dict() for d in self.domains],
            "due_reviews": self.due_reviews,
            "streak_days": self.streak_days,
            "readiness": self.readiness.to_dict(),
            "focus": self.focus.to_dict() if self.focus else None,
        }


# --------------------------------------------------------------------------- computation


def readiness(
    domains: list[DomainFigure],
    blueprint: Blueprint,
    *,
    min_answers: int = READINESS_MIN_ANSWERS,
    min_domain_answers: int = READINESS_MIN_DOMAIN_ANSWERS,
) -> Readiness:
    """The readiness estimate from per-domain answers (pure; see the module docstring)."""
    by_id = {d.domain: d for d in domains}
    weights = blueprint.weights
    estimates: dict[int, float] = {}
    short: dict[int, int] = {}
    for domain_id in weights:
        d = by_id.get(domain_id)
        answers, correct = (d.answers, d.correct) if d else (0, 0)
        estimates[domain_id] = (correct + PRIOR_CORRECT) / (answers + PRIOR_CORRECT + PRIOR_WRONG)
        if answers < min_domain_answers:
            short[domain_id] = min_domain_answers - answers
    total = sum(d.answers for d in domains if d.domain in weights)
    scale = blueprint.exam.scale
    facts = {
        "answers": total,
        "passing_score": blueprint.exam.passing_score,
        "scale_min": scale.min,
        "scale_max": scale.max,
        "domain_estimates": estimates,
    }
    if total < min_answers or short:
        return Readiness(
            score=None,
            weighted_accuracy=None,
            more_answers_needed=max(0, min_answers - total),
            domains_short=short,
            **facts,
        )
    p = sum(weights[k] * estimates[k] for k in weights) / sum(weights.values())
    score = math.floor(scale.min + (scale.max - scale.min) * p + 0.5)
    return Readiness(score=score, weighted_accuracy=p, **facts)


def _domain_figures(
    rows: list[tuple[int, str, int, int]], blueprint: Blueprint
) -> tuple[list[DomainFigure], dict[int, list[tuple[str, int, int]]]]:
    """(per-domain figures for every blueprint domain, objectives per domain) from
    (domain, objective, answers, correct) rows."""
    totals: dict[int, list[int]] = {}
    objectives: dict[int, list[tuple[str, int, int]]] = {}
    for domain, objective, answers, correct in rows:
        t = totals.setdefault(int(domain), [0, 0])
        t[0] += int(answers)
        t[1] += int(correct or 0)
        objectives.setdefault(int(domain), []).append(
            (str(objective), int(answers), int(correct or 0))
        )
    weights = blueprint.weights
    figures = [
        DomainFigure(d.id, d.name, weights[d.id], *totals.get(d.id, (0, 0)))
        for d in blueprint.domains
    ]
    for domain_id in sorted(set(totals) - set(weights)):  # answers tagged outside the blueprint
        figures.append(DomainFigure(domain_id, f"Domain {domain_id}", 0.0, *totals[domain_id]))
    return figures, objectives


def _focus(
    figures: list[DomainFigure],
    objectives: dict[int, list[tuple[str, int, int]]],
    blueprint: Blueprint,
) -> Focus | None:
    """The domain with the lowest accuracy (>= WEAKEST_MIN_ANSWERS answers; ties: more answers,
    then lower id) and its objective with the lowest accuracy (ties: more answers, then id)."""
    candidates = [d for d in figures if d.weight > 0 and d.answers >= WEAKEST_MIN_ANSWERS]
    if not candidates:
        return None
    weakest = min(candidates, key=lambda d: (d.accuracy, -d.answers, d.domain))
    inside = objectives.get(weakest.domain, [])
    if not inside:
        return Focus(weakest, None, None, 0, 0)
    objective, answers, correct = min(inside, key=lambda o: (o[2] / o[1], -o[1], o[0]))
    try:
        name = blueprint.objective(objective).name
    except KeyError:
        name = None
    return Focus(weakest, objective, name, answers, correct)


def _in_channel(
    channel_id: str, exam: str, since: datetime | None, now: datetime
) -> list[sa.ColumnElement]:
    """The channel's quiz answers for one exam (blueprint id) in the period."""
    return [
        A.c.channel_id == channel_id,
        A.c.blueprint == exam,
        *_window(A.c.created_at, since, now),
    ]


def _channel_objectives(
    channel_id: str, exam: str, since: datetime | None, now: datetime
) -> sa.Select:
    """(domain, objective, answers, correct) of the channel's quiz answers in the period."""
    return (
        sa.select(A.c.domain, A.c.objective, sa.func.count(), _CORRECT)
        .where(*_in_channel(channel_id, exam, since, now))
        .group_by(A.c.domain, A.c.objective)
    )


def _channel_figures_and_top(
    channel_id: str, exam: str, since: datetime | None, now: datetime
) -> sa.Select:
    """One statement for the one-row figures (daily answers, daily participants, active
    learners, questions asked, daily posts), repeated on each of the top learners' rows
    (user, answers, correct); one row with NULL learner columns when nobody answered."""
    in_channel = _in_channel(channel_id, exam, since, now)
    per_learner = (
        sa.select(
            A.c.user_id,
            sa.func.count().label("n"),
            _CORRECT.label("c"),
            sa.func.sum(sa.case((A.c.kind == "daily", 1), else_=0)).label("daily"),
        )
        .where(*in_channel)
        .group_by(A.c.user_id)
        .cte("per_learner")
    )
    askers = (
        sa.select(K.c.user_id, sa.func.count().label("n"))
        .where(K.c.channel_id == channel_id, *_window(K.c.created_at, since, now))
        .group_by(K.c.user_id)
        .cte("askers")
    )
    people = sa.union(sa.select(per_learner.c.user_id), sa.select(askers.c.user_id))
    one_row = sa.select(
        sa.select(sa.func.coalesce(sa.func.sum(per_learner.c.daily), 0))
        .scalar_subquery()
        .label("daily_answers"),
        sa.select(sa.func.count())
        .select_from(per_learner)
        .where(per_learner.c.daily > 0)
        .scalar_subquery()
        .label("daily_people"),
        sa.select(sa.func.count()).select_from(people.subquery()).scalar_subquery().label("active"),
        sa.select(sa.func.coalesce(sa.func.sum(askers.c.n), 0)).scalar_subquery().label("asked"),
        sa.select(sa.func.count())
        .select_from(P)
        .where(
            P.c.channel_id == channel_id,
            P.c.kind == _DAILY_LITERAL,  # matches the partial index ix_quiz_posts_daily
            *_window(P.c.created_at, since, now),
        )
        .scalar_subquery()
        .label("daily_posts"),
    ).subquery()
    best = (
        sa.select(per_learner.c.user_id, per_learner.c.n, per_learner.c.c)
        .order_by(per_learner.c.c.desc(), per_learner.c.n, per_learner.c.user_id)
        .limit(TOP_LEARNERS)
        .subquery()
    )
    return (
        sa.select(one_row, best.c.user_id, best.c.n, best.c.c)
        .select_from(one_row.outerjoin(best, sa.true()))
        .order_by(best.c.c.desc(), best.c.n, best.c.user_id)
    )


def _channel_trend(
    channel_id: str, exam: str, trend_since: datetime, now: datetime
) -> sa.CompoundSelect:
    """Per ISO week: ("a", week, answers, correct, learners) and ("k", week, asks, 0, 0)."""
    week = week_start(A.c.created_at)
    ask_week = week_start(K.c.created_at)
    return sa.union_all(
        sa.select(
            sa.literal("a", sa.String).label("src"),
            week.label("week"),
            sa.func.count().label("n"),
            _CORRECT.label("c"),
            sa.func.count(sa.distinct(A.c.user_id)).label("u"),
        )
        .where(*_in_channel(channel_id, exam, trend_since, now))
        .group_by(week),
        sa.select(
            sa.literal("k", sa.String),
            ask_week.label("week"),
            sa.func.count(),
            sa.literal(0, sa.Integer),
            sa.literal(0, sa.Integer),
        )
        .where(K.c.channel_id == channel_id, *_window(K.c.created_at, trend_since, now))
        .group_by(ask_week),
    )


def _week_figures(trend_rows: list, this_monday: date, since: datetime | None) -> list[WeekFigure]:
    """The last TREND_WEEKS ISO weeks (those ending after `since`), empty weeks included."""
    asks_by_week = {str(w): int(n) for src, w, n, _c, _u in trend_rows if src == "k"}
    by_week = {
        str(w): (int(n), int(c or 0), int(u)) for src, w, n, c, u in trend_rows if src == "a"
    }
    weeks = []
    for i in range(TREND_WEEKS):
        monday = this_monday - timedelta(weeks=TREND_WEEKS - 1 - i)
        end = datetime.combine(monday + timedelta(days=7), datetime.min.time(), UTC)
        if since is not None and end <= since:
            continue  # the week lies wholly before the period
        key = monday.isoformat()
        n, c, u = by_week.get(key, (0, 0, 0))
        weeks.append(WeekFigure(iso_week_label(monday), monday, n, c, u, asks_by_week.get(key, 0)))
    return weeks


class StudyStats:
    """Channel stats, learner progress and the CSV export over the study records."""

    def __init__(self, records: Records, blueprint: Blueprint, *, clock: Clock | None = None):
        self.records = records
        self.blueprint = blueprint
        self._clock = clock or records.now

    def now(self, now: datetime | None = None) -> datetime:
        """`now` (or the clock's time) as an aware UTC datetime."""
        now = now or self._clock()
        return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)

    # -- a channel

    def channel_stats(
        self, channel_id: str, period: str = DEFAULT_PERIOD, *, now: datetime | None = None
    ) -> ChannelStats:
        period = parse_period(period)
        now = self.now(now)
        since = period_start(period, now)
        this_monday = now.date() - timedelta(days=now.weekday())
        trend_from = datetime.combine(
            this_monday - timedelta(weeks=TREND_WEEKS - 1), datetime.min.time(), UTC
        )
        trend_since = max(since, trend_from) if since else trend_from
        # 4 statements (4 round trips), each attempt row read at most twice: per objective;
        # per learner (-> the one-row figures and the top learners); the weekly trend; and the
        # feedback on the channel's answers.
        with self.records.connect() as conn:
            exam = self.blueprint.id
            by_objective = conn.execute(_channel_objectives(channel_id, exam, since, now)).all()
            rows = conn.execute(_channel_figures_and_top(channel_id, exam, since, now)).all()
            trend_rows = conn.execute(_channel_trend(channel_id, exam, trend_since, now)).all()
            feedback_rows = conn.execute(_feedback(channel_id, since, now)).all()
        daily_answers, daily_people, active, asked, daily_posts = rows[0][:5]
        top = [(u, n, c) for *_figures, u, n, c in rows if u is not None]
        domains, objectives = _domain_figures(list(by_objective), self.blueprint)
        return ChannelStats(
            channel_id=channel_id,
            period=period,
            since=since,
            now=now,
            active_learners=int(active),
            questions_asked=int(asked),
            quiz_answers=sum(d.answers for d in domains),
            correct=sum(d.correct for d in domains),
            domains=domains,
            weeks=_week_figures(trend_rows, this_monday, since),
            daily=DailyParticipation(
                int(daily_posts), int(daily_answers or 0), int(daily_people), int(active)
            ),
            weakest=_focus(domains, objectives, self.blueprint),
            top_learners=[LearnerFigure(u, int(n), int(c or 0)) for u, n, c in top],
            feedback=_feedback_figure(list(feedback_rows)),
            exam=self.blueprint.id.upper(),
        )

    # -- one learner

    def learner_progress(self, user_id: str, *, now: datetime | None = None) -> LearnerProgress:
        now = self.now(now)
        exam = self.blueprint.id  # progress is per exam: another exam's answers do not count
        mine = [A.c.user_id == user_id, A.c.blueprint == exam, A.c.created_at <= now]
        week_ago = now - timedelta(days=7)
        recent = A.c.created_at >= week_ago
        day = utc_day(A.c.created_at).label("day")
        with self.records.connect() as conn:
            by_objective = conn.execute(
                sa.select(A.c.domain, A.c.objective, sa.func.count(), _CORRECT)
                .where(*mine)
                .group_by(A.c.domain, A.c.objective)
            ).all()
            recent_figures = (
                sa.select(sa.func.count().label("n"), _CORRECT.label("c"))
                .where(*mine, recent)
                .subquery()
            )
            due_reviews = (
                sa.select(sa.func.count())
                .select_from(R)
                .where(R.c.user_id == user_id, R.c.blueprint == exam, R.c.due_at <= now)
                .scalar_subquery()
            )
            answers_7d, correct_7d, due = conn.execute(
                sa.select(recent_figures.c.n, recent_figures.c.c, due_reviews)
            ).one()
            days = conn.execute(
                sa.select(day)
                .where(*mine, A.c.created_at >= now - timedelta(days=STREAK_LOOKBACK_DAYS))
                .group_by(day)
                .order_by(day.desc())
            ).scalars()
            streak = streak_days([date.fromisoformat(d) for d in days], now.date())
        domains, objectives = _domain_figures(list(by_objective), self.blueprint)
        return LearnerProgress(
            user_id=user_id,
            now=now,
            answers=sum(d.answers for d in domains),
            correct=sum(d.correct for d in domains),
            answers_7d=int(answers_7d),
            correct_7d=int(correct_7d or 0),
            domains=domains,
            due_reviews=int(due),
            streak_days=streak,
            readiness=readiness(domains, self.blueprint),
            focus=_focus(domains, objectives, self.blueprint),
            exam=self.blueprint.id.upper(),
        )

    # -- the lead's CSV

    def learner_rows(
        self, channel_id: str, period: str = DEFAULT_PERIOD, *, now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """One row per learner active in the channel: asks, answers, accuracy, per domain."""
        period = parse_period(period)
        now = self.now(now)
        since = period_start(period, now)
        with self.records.connect() as conn:
            per_domain = conn.execute(
                sa.select(
                    A.c.user_id,
                    A.c.domain,
                    sa.func.count(),
                    _CORRECT,
                    sa.func.max(A.c.created_at),
                )
                .where(*_in_channel(channel_id, self.blueprint.id, since, now))
                .group_by(A.c.user_id, A.c.domain)
            ).all()
            asks = conn.execute(
                sa.select(K.c.user_id, sa.func.count(), sa.func.max(K.c.created_at))
                .where(K.c.channel_id == channel_id, *_window(K.c.created_at, since, now))
                .group_by(K.c.user_id)
            ).all()
        domain_ids = [d.id for d in self.blueprint.domains]
        rows: dict[str, dict[str, Any]] = {}

        def row(user: str) -> dict[str, Any]:
            if user not in rows:
                rows[user] = {"user_id": user, "asks": 0, "answers": 0, "correct": 0, "last": None}
                for d in domain_ids:
                    rows[user][f"d{d}_answers"] = 0
                    rows[user][f"d{d}_correct"] = 0
            return rows[user]

        def later(a: datetime | None, b: Any) -> datetime | None:
            b = _as_utc(b)
            return b if a is None or (b is not None and b > a) else a

        for user, domain, n, c, last in per_domain:
            r = row(user)
            r["answers"] += int(n)
            r["correct"] += int(c or 0)
            if f"d{domain}_answers" in r:
                r[f"d{domain}_answers"] += int(n)
                r[f"d{domain}_correct"] += int(c or 0)
            r["last"] = later(r["last"], last)
        for user, n, last in asks:
            r = row(user)
            r["asks"] = int(n)
            r["last"] = later(r["last"], last)
        out = []
        for r in sorted(rows.values(), key=lambda r: (-r["correct"], -r["answers"], r["user_id"])):
            acc = _ratio(r["correct"], r["answers"])
            ordered = {
                "user_id": r["user_id"],
                "asks": r["asks"],
                "answers": r["answers"],
                "correct": r["correct"],
                "accuracy": "" if acc is None else f"{acc:.4f}",
            }
            for d in domain_ids:
                ordered[f"d{d}_answers"] = r[f"d{d}_answers"]
                ordered[f"d{d}_correct"] = r[f"d{d}_correct"]
            ordered["last_active"] = r["last"].isoformat(timespec="seconds") if r["last"] else ""
            out.append(ordered)
        return out

    def export_csv(
        self, channel_id: str, period: str = DEFAULT_PERIOD, *, now: datetime | None = None
    ) -> str:
        """`learner_rows` as CSV text (a header row even when nobody was active)."""
        rows = self.learner_rows(channel_id, period, now=now)
        fields = ["user_id", "asks", "answers", "correct", "accuracy"]
        for d in self.blueprint.domains:
            fields += [f"d{d.id}_answers", f"d{d.id}_correct"]
        fields.append("last_active")
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue()


def _as_utc(value: Any) -> datetime | None:
    """max() over a UTCDateTime column comes back as text on SQLite: parse it."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def streak_days(days_desc: list[date], today: date) -> int:
    """Consecutive days ending today, or yesterday when there is no answer yet today."""
    seen = set(days_desc)
    start = today if today in seen else today - timedelta(days=1)
    n = 0
    while start - timedelta(days=n) in seen:
        n += 1
    return n
