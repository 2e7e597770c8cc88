"""Grading: each person's answer to a post recorded exactly once, FSRS reviews, the streak.

The attempt is one INSERT … ON CONFLICT DO NOTHING RETURNING on (post, user): a double click, a
retry or a concurrent submission on another replica finds the first answer and gets its Grade
again (``already_answered``). Imports no Slack.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler
from sqlalchemy.engine import Connection

from bot.quiz_exams import NOT_AN_EXAM, ExamStep, MockExams
from bot.quiz_posts import QuestionView, QuizPosts
from bot.quiz_types import UNKNOWN, Grade, QuizError
from bot.records import QuizAttempt, Records, Review
from knowledge.arranged import answer_lines, is_arranged, is_right, sequence_problem

EXPIRED = "This question has expired; ask for a fresh one."
NOT_YOURS = "This question belongs to <@{user}>; try /study quiz for your own."

ATTEMPT = QuizAttempt.__table__
REVIEW = Review.__table__


class Grader:
    """Grades answers to posts, moves the learner's FSRS card and, in an exam, the exam."""

    def __init__(
        self,
        records: Records,
        posts: QuizPosts,
        exams: MockExams,
        scheduler: Scheduler,
        now: Callable[[], datetime],
    ) -> None:
        self.records = records
        self.posts = posts
        self.exams = exams
        self.scheduler = scheduler
        self.now = now

    def answer(self, token: str, who: str, choices: Sequence[int]) -> Grade:
        """Grade ``who``'s answer to a post; each person's answer is recorded exactly once.

        ``choices``: 0-based option indices, as many as the question's ``choose``. A repeat
        (double click, retry, concurrent submission) returns the first answer's Grade with
        ``already_answered=True``. Raises QuizError: unknown, not_yours, invalid_choice,
        expired.
        """
        with self.records.begin() as conn:
            row = self.posts.lookup(conn, token) if isinstance(token, str) else None
        if row is None:
            raise QuizError("unknown", UNKNOWN)
        if row.user_id is not None and row.user_id != who:
            raise QuizError("not_yours", NOT_YOURS.format(user=row.user_id))
        q = QuestionView(row)
        chosen = check_choices(choices, len(q.options), q.choose, q.format)
        now = self.now()
        if now >= row.expires_at:
            grade = self._repeat(row, who)
            if grade is None:
                raise QuizError("expired", EXPIRED)
            return grade
        correct = is_right(q.format, q.correct, chosen)
        insert = (
            self.records.insert(QuizAttempt)
            .values(
                post_id=row.id,
                question_id=q.id,
                user_id=who,
                channel_id=row.channel_id,
                kind=row.kind,
                blueprint=q.blueprint,
                domain=q.domain,
                objective=q.objective,
                choices=chosen,
                correct=correct,
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(QuizAttempt.id)
        )
        step = NOT_AN_EXAM
        with self.records.begin() as conn:  # the insert comes first: it takes the write lock
            inserted = conn.execute(insert).first() is not None
            if inserted:
                self._review(conn, who, q.id, correct, now, q.blueprint)
                if row.exam_id is not None:
                    step = self.exams.advance(conn, row, now)
                streak = correct_streak(conn, who)
        if not inserted:
            grade = self._repeat(row, who)
            if grade is None:  # cannot happen: the conflicting row is committed by now
                raise QuizError("unknown", UNKNOWN)
            return grade
        return self._grade(q, correct, chosen, streak, step)

    def recorded(self, token: str, who: str) -> Grade | None:
        """The Grade of ``who``'s recorded answer to a post (already_answered), or None when
        they have not answered it. QuizError("unknown") for an unknown token."""
        with self.records.begin() as conn:
            row = self.posts.lookup(conn, token) if isinstance(token, str) else None
        if row is None:
            raise QuizError("unknown", UNKNOWN)
        return self._repeat(row, who)

    def _repeat(self, row: Any, who: str) -> Grade | None:
        """The Grade of ``who``'s recorded answer to this post (already_answered), or None."""
        q = QuestionView(row)
        with self.records.begin() as conn:
            attempt = conn.execute(
                sa.select(ATTEMPT.c.choices, ATTEMPT.c.correct).where(
                    ATTEMPT.c.post_id == row.id, ATTEMPT.c.user_id == who
                )
            ).first()
            if attempt is None:
                return None
            step = self.exams.state(conn, row) if row.exam_id is not None else NOT_AN_EXAM
            streak = correct_streak(conn, who)
        return self._grade(
            q,
            bool(attempt.correct),
            list(attempt.choices),
            streak,
            step,
            already_answered=True,
        )

    def _grade(
        self,
        q: QuestionView,
        correct: bool,
        chosen: list[int],
        streak: int,
        step: ExamStep,
        *,
        already_answered: bool = False,
    ) -> Grade:
        """The Grade of an answer to ``q`` (a first answer, or a repeat when already_answered)."""
        arranged = is_arranged(q.format)
        return Grade(
            correct=correct,
            answer=list(q.correct) if arranged else sorted(q.correct),
            chosen=chosen,
            explanation=q.explanation,
            source=q.source,
            title=q.title,
            domain=self.posts.domain_tag(q.domain, q.objective),
            streak=streak,
            already_answered=already_answered,
            exam=step.progress,
            next=step.next,
            exam_result=step.result,
            format=q.format,
            answer_lines=answer_lines(q.format, q.options, q.correct, q.choose) if arranged else [],
        )

    def _review(
        self,
        conn: Connection,
        who: str,
        question_id: int,
        correct: bool,
        now: datetime,
        blueprint: str,
    ) -> None:
        """Move the learner's FSRS card: Good when right, Again when wrong."""
        key = (REVIEW.c.user_id == who, REVIEW.c.question_id == question_id)
        found = conn.execute(
            sa.select(REVIEW.c.card, REVIEW.c.reps, REVIEW.c.lapses).where(*key).with_for_update()
        ).first()
        card = FsrsCard.from_dict(found.card) if found else FsrsCard(card_id=question_id, due=now)
        card, _ = self.scheduler.review_card(card, Rating.Good if correct else Rating.Again, now)
        values = {
            "card": card.to_dict(),
            "due_at": card.due,
            "last_review_at": now,
            "reps": (found.reps if found else 0) + 1,
            "lapses": (found.lapses if found else 0) + (0 if correct else 1),  # wrong answers
        }
        stmt = self.records.insert(Review).values(
            user_id=who, question_id=question_id, blueprint=blueprint, **values
        )
        conn.execute(
            stmt.on_conflict_do_update(index_elements=["user_id", "question_id"], set_=values)
        )


def correct_streak(conn: Connection, who: str) -> int:
    """Consecutive correct answers of ``who``, most recent first."""
    last_wrong = (
        sa.select(sa.func.coalesce(sa.func.max(ATTEMPT.c.id), 0))
        .where(ATTEMPT.c.user_id == who, sa.not_(ATTEMPT.c.correct))
        .scalar_subquery()
    )
    stmt = sa.select(sa.func.count()).where(
        ATTEMPT.c.user_id == who, ATTEMPT.c.correct, ATTEMPT.c.id > last_wrong
    )
    return int(conn.execute(stmt).scalar_one())


def check_choices(
    choices: Sequence[int], n_options: int, choose: int, fmt: str = "single"
) -> list[int]:
    """Distinct valid 0-based indices, exactly ``choose`` of them, sorted; else invalid_choice.

    Ordering and matching (``fmt``): a sequence of ``choose`` different items, in the order
    given (a step per position, a description per term)."""
    try:
        if isinstance(choices, str | bytes) or any(isinstance(c, bool) for c in choices):
            raise TypeError
        picked = [operator.index(c) for c in choices]
    except TypeError:
        picked = None
    if picked is not None and is_arranged(fmt):
        problem = sequence_problem(fmt, picked, choose)
        if problem:
            raise QuizError("invalid_choice", problem)
        return picked
    if (
        picked is None
        or len(picked) != choose
        or len(set(picked)) != len(picked)
        or any(not 0 <= c < n_options for c in picked)
    ):
        what = "one option" if choose == 1 else f"exactly {choose} different options"
        raise QuizError("invalid_choice", f"Pick {what} of the {n_options}.")
    return sorted(picked)
