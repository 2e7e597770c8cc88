"""Mock exams: N questions by domain weight, answered one at a time, then a scaled score.

`MockExams.start` plans the exam from the bank (unseen questions first) and posts its first
question; after each graded answer `advance` posts the next one or finishes the exam with its
`ExamResult`. Imports no Slack.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.quiz_posts import POST, QuestionView, QuizPosts
from bot.quiz_types import ExamProgress, ExamResult, ShownQuestion
from bot.records import Exam, QuizAttempt, Records
from bot.selection import Candidate, plan_exam

if TYPE_CHECKING:
    from datetime import datetime

    from knowledge.blueprint import Blueprint

EXAM_QUESTIONS = 15  # default length of a mock exam

EXAM = Exam.__table__
ATTEMPT = QuizAttempt.__table__


class ExamStep(NamedTuple):
    """Where an exam stands after the answer to one of its questions."""

    progress: ExamProgress | None  # the question just answered (None: not an exam question)
    next: ShownQuestion | None  # the next question, when there is one (and it was posted)
    result: ExamResult | None  # when the exam is finished


NOT_AN_EXAM = ExamStep(None, None, None)


def scaled_score(correct: int, total: int, low: int, high: int) -> int:
    """min + (max − min) × correct / total, rounded half up (``low`` when total is 0)."""
    if total <= 0:
        return low
    return int(math.floor(low + (high - low) * correct / total + 0.5))


class MockExams:
    """The exams table: planning, advancing one question at a time, and the result."""

    def __init__(
        self, records: Records, blueprint: Blueprint, posts: QuizPosts, rng: random.Random
    ) -> None:
        self.records = records
        self.blueprint = blueprint
        self.posts = posts
        self.rng = rng

    def start(
        self, who: str, where: str, bank: list[Candidate], n: int, now: datetime
    ) -> ShownQuestion:
        """Plan an ``n``-question exam from ``bank`` (unseen questions first, in random order
        within a domain), store it and post its first question."""
        with self.records.begin() as conn:
            seen = {
                q
                for (q,) in conn.execute(
                    sa.select(ATTEMPT.c.question_id).where(ATTEMPT.c.user_id == who).distinct()
                )
            }
        fresh: dict[int, list[int]] = {}
        stale: dict[int, list[int]] = {}
        for c in bank:
            (stale if c.question_id in seen else fresh).setdefault(c.domain, []).append(
                c.question_id
            )
        available = {}
        for d in {*fresh, *stale}:
            a, b = fresh.get(d, []), stale.get(d, [])
            self.rng.shuffle(a)
            self.rng.shuffle(b)
            available[d] = a + b
        ids = plan_exam(available, self.blueprint.weights, n, self.rng)
        with self.records.begin() as conn:
            exam_id = conn.execute(
                sa.insert(EXAM)
                .values(user_id=who, channel_id=where, question_ids=ids, position=0, started_at=now)
                .returning(EXAM.c.id)
            ).scalar_one()
            return self.posts.create(
                conn, ids[0], "exam", where, who, now, exam=ExamProgress(exam_id, 1, len(ids))
            )

    def advance(self, conn: Connection, row: Any, now: datetime) -> ExamStep:
        """After the answer to exam question i: post question i+1, or finish with the result."""
        exam = conn.execute(sa.select(EXAM).where(EXAM.c.id == row.exam_id)).one()
        ids = list(exam.question_ids)
        i = ids.index(row.question_id)
        progress = ExamProgress(exam.id, i + 1, len(ids))
        moved = conn.execute(
            sa.update(EXAM).where(EXAM.c.id == exam.id, EXAM.c.position == i).values(position=i + 1)
        )
        if moved.rowcount != 1:  # defensive: someone else advanced it
            return self.state(conn, row)
        if i + 1 < len(ids):
            shown = self.posts.create(
                conn,
                ids[i + 1],
                "exam",
                exam.channel_id,
                exam.user_id,
                now,
                exam=ExamProgress(exam.id, i + 2, len(ids)),
            )
            return ExamStep(progress, shown, None)
        result = self.result(conn, exam.id, len(ids))
        conn.execute(
            sa.update(EXAM)
            .where(EXAM.c.id == exam.id)
            .values(finished_at=now, scaled_score=result.scaled_score)
        )
        return ExamStep(progress, None, result)

    def state(self, conn: Connection, row: Any) -> ExamStep:
        """Where the exam stands after a question that was answered earlier."""
        exam = conn.execute(sa.select(EXAM).where(EXAM.c.id == row.exam_id)).one()
        ids = list(exam.question_ids)
        i = ids.index(row.question_id)
        progress = ExamProgress(exam.id, i + 1, len(ids))
        if i + 1 < len(ids):
            nxt = conn.execute(
                sa.select(POST.c.token).where(
                    POST.c.exam_id == exam.id, POST.c.question_id == ids[i + 1]
                )
            ).first()
            if nxt is None:
                return ExamStep(progress, None, None)
            post = self.posts.lookup(conn, nxt.token)
            shown = ShownQuestion(
                token=post.token,
                kind="exam",
                question=self.posts.public(QuestionView(post)),
                channel_id=post.channel_id,
                user_id=post.user_id,
                exam=ExamProgress(exam.id, i + 2, len(ids)),
            )
            return ExamStep(progress, shown, None)
        if exam.finished_at is None:
            return ExamStep(progress, None, None)
        return ExamStep(progress, None, self.result(conn, exam.id, len(ids)))

    def result(self, conn: Connection, exam_id: int, total: int) -> ExamResult:
        """The scaled score and accuracy per domain of an exam's answers."""
        rows = conn.execute(
            sa.select(ATTEMPT.c.domain, ATTEMPT.c.correct)
            .join(POST, POST.c.id == ATTEMPT.c.post_id)
            .where(POST.c.exam_id == exam_id)
        ).all()
        per_domain: dict[int, tuple[int, int]] = {}
        for domain, ok in rows:
            right, seen = per_domain.get(domain, (0, 0))
            per_domain[domain] = (right + int(bool(ok)), seen + 1)
        right = sum(r for r, _ in per_domain.values())
        scale = self.blueprint.exam.scale
        scaled = scaled_score(right, total, scale.min, scale.max)
        return ExamResult(
            exam_id=exam_id,
            answered=len(rows),
            correct=right,
            scaled_score=scaled,
            passing_score=self.blueprint.exam.passing_score,
            passed=scaled >= self.blueprint.exam.passing_score,
            per_domain=dict(sorted(per_domain.items())),
            blueprint=self.blueprint.id,
        )
