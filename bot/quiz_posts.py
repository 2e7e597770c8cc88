"""Quiz posts: each showing of a question (on demand, daily, exam) and the token it carries.

A post row holds who may answer, where, until when, and (for exams) which exam; the buttons of
the message carry only its opaque token, which `QuizPosts.lookup` resolves. Imports no Slack.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.quiz_types import UNKNOWN, ExamProgress, PublicQuestion, QuizError, ShownQuestion
from bot.records import Exam, QuizPost, QuizQuestion, Records
from knowledge.types import DomainTag

if TYPE_CHECKING:
    from knowledge.blueprint import Blueprint

#: How long a post's buttons work, by kind.
TTL = {"ondemand": timedelta(hours=24), "daily": timedelta(hours=48), "exam": timedelta(hours=24)}
TOKEN = re.compile(r"[A-Za-z0-9_-]{8,32}")  # secrets.token_urlsafe(12) gives 16 characters

POST = QuizPost.__table__
QUESTION = QuizQuestion.__table__
EXAM = Exam.__table__


class QuestionView:
    """The question columns of a `QuizPosts.lookup` row (``q_*``) under their own names."""

    def __init__(self, row: Any) -> None:
        self._row = row

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, f"q_{name}")


class QuizPosts:
    """Creates posts, finds them by token or id, and shows them as front ends see them."""

    def __init__(self, records: Records, blueprint: Blueprint) -> None:
        self.records = records
        self.blueprint = blueprint

    def domain_tag(self, domain: int, objective: str) -> DomainTag:
        """The domain and objective label of a question ("3.4 Perform hyperparameter …")."""
        try:
            name = self.blueprint.domain(domain).name
        except KeyError:
            name = f"Domain {domain}"
        try:
            label = self.blueprint.objective(objective).label
        except KeyError:
            label = objective
        return DomainTag(domain, name, label)

    def create(
        self,
        conn: Connection,
        question_id: int,
        kind: str,
        channel: str,
        user: str | None,
        now: datetime,
        *,
        exam: ExamProgress | None = None,
        review: bool = False,
    ) -> ShownQuestion:
        """Insert a post of ``question_id`` (in the caller's transaction) and show it."""
        token = secrets.token_urlsafe(12)
        conn.execute(
            sa.insert(POST).values(
                token=token,
                question_id=question_id,
                kind=kind,
                channel_id=channel,
                user_id=user,
                exam_id=exam.exam_id if exam else None,
                created_at=now,
                expires_at=now + TTL[kind],
            )
        )
        row = conn.execute(sa.select(QUESTION).where(QUESTION.c.id == question_id)).one()
        return ShownQuestion(
            token=token,
            kind=kind,
            question=self.public(row),
            channel_id=channel,
            user_id=user,
            exam=exam,
            review=review,
        )

    def public(self, q: Any) -> PublicQuestion:
        """What a learner sees of a question row (or a `QuestionView`): never the answer."""
        return PublicQuestion(
            question_id=q.id,
            stem=q.stem,
            options=list(q.options),
            choose=q.choose,
            domain=self.domain_tag(q.domain, q.objective),
            source=q.source,
            title=q.title,
            format=q.format,
        )

    def lookup(self, conn: Connection, token_or_id: str | int) -> Any:
        """The post joined with its question (columns of both; the question's as q_*), or None."""
        cols = [POST] + [c.label(f"q_{c.name}") for c in QUESTION.c]
        stmt = sa.select(*cols).join(QUESTION, QUESTION.c.id == POST.c.question_id)
        if isinstance(token_or_id, int) and not isinstance(token_or_id, bool):
            stmt = stmt.where(POST.c.id == token_or_id)
        elif isinstance(token_or_id, str) and TOKEN.fullmatch(token_or_id):
            stmt = stmt.where(POST.c.token == token_or_id)
        else:
            return None
        return conn.execute(stmt).first()

    def shown(self, token: str) -> ShownQuestion:
        """A post as it was shown (e.g. to draw its message again). QuizError("unknown")."""
        with self.records.begin() as conn:
            row = self.lookup(conn, token)
            if row is None:
                raise QuizError("unknown", UNKNOWN)
            progress = None
            if row.exam_id is not None:
                ids = conn.execute(
                    sa.select(EXAM.c.question_ids).where(EXAM.c.id == row.exam_id)
                ).scalar_one()
                progress = ExamProgress(row.exam_id, ids.index(row.question_id) + 1, len(ids))
        return ShownQuestion(
            token=row.token,
            kind=row.kind,
            question=self.public(QuestionView(row)),
            channel_id=row.channel_id,
            user_id=row.user_id,
            exam=progress,
        )

    def set_message_ts(self, token: str, ts: str) -> None:
        """Remember the Slack message a post went out as. QuizError("unknown")."""
        if not isinstance(token, str) or not TOKEN.fullmatch(token):
            raise QuizError("unknown", UNKNOWN)
        with self.records.begin() as conn:
            done = conn.execute(sa.update(POST).where(POST.c.token == token).values(message_ts=ts))
        if done.rowcount == 0:
            raise QuizError("unknown", UNKNOWN)


def post_blueprint(records: Records, token_or_id: str | int) -> str | None:
    """The blueprint of a post's question (None for an unknown post)."""
    if isinstance(token_or_id, str) and not TOKEN.fullmatch(token_or_id):
        return None
    key = POST.c.token if isinstance(token_or_id, str) else POST.c.id
    stmt = (
        sa.select(QUESTION.c.blueprint)
        .join(POST, POST.c.question_id == QUESTION.c.id)
        .where(key == token_or_id)
    )
    with records.connect() as conn:
        return conn.execute(stmt).scalar()
