"""quiz bank, posts, attempts, spaced-repetition reviews, mock exams, daily schedules and posts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    # In this order: foreign keys point at tables created before them.
    _daily_schedules()
    _exams()
    _quiz_questions()
    _quiz_posts()
    _reviews()
    _daily_posts()
    _quiz_attempts()


def _daily_schedules() -> None:
    """A channel's question of the day: local time, timezone, weekdays only or every day."""
    op.create_table(
        "daily_schedules",
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("time_of_day", sa.String(length=5), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("weekdays_only", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_daily_schedules")),
    )


def _exams() -> None:
    """Mock exams: the questions in order, the position, the scaled score."""
    op.create_table(
        "exams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("question_ids", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("started_at", _UTC, nullable=False),
        sa.Column("finished_at", _UTC, nullable=True),
        sa.Column("scaled_score", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exams")),
    )
    op.create_index(
        op.f("ix_exams_user_id_started_at"), "exams", ["user_id", "started_at"], unique=False
    )


def _quiz_questions() -> None:
    """The question bank (a fingerprint rejects near-duplicates)."""
    op.create_table(
        "quiz_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("blueprint", sa.String(length=32), nullable=False),
        sa.Column("domain", sa.Integer(), nullable=False),
        sa.Column("objective", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("choose", sa.SmallInteger(), nullable=False),
        sa.Column("stem", sa.Text(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("correct", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("chunk_ids", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("generator", sa.String(length=32), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_questions")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_quiz_questions_fingerprint")),
    )
    op.create_index(
        op.f("ix_quiz_questions_blueprint_domain"),
        "quiz_questions",
        ["blueprint", "domain"],
        unique=False,
    )


def _quiz_posts() -> None:
    """Each showing of a question; its buttons carry the unique token."""
    op.create_table(
        "quiz_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("exam_id", sa.Integer(), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("expires_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["exam_id"], ["exams.id"], name=op.f("fk_quiz_posts_exam_id_exams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["quiz_questions.id"],
            name=op.f("fk_quiz_posts_question_id_quiz_questions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_posts")),
        sa.UniqueConstraint("token", name=op.f("uq_quiz_posts_token")),
    )
    op.create_index(
        op.f("ix_quiz_posts_channel_id_created_at"),
        "quiz_posts",
        ["channel_id", "created_at"],
        unique=False,
    )


def _reviews() -> None:
    """Each learner's spaced-repetition card per question."""
    op.create_table(
        "reviews",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("card", sa.JSON(), nullable=False),
        sa.Column("due_at", _UTC, nullable=False),
        sa.Column("last_review_at", _UTC, nullable=False),
        sa.Column("reps", sa.Integer(), nullable=False),
        sa.Column("lapses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["quiz_questions.id"],
            name=op.f("fk_reviews_question_id_quiz_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "question_id", name=op.f("pk_reviews")),
    )
    op.create_index(
        op.f("ix_reviews_user_id_due_at"), "reviews", ["user_id", "due_at"], unique=False
    )


def _daily_posts() -> None:
    """The claim on (channel, local date): one daily post per channel and day."""
    op.create_table(
        "daily_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("local_date", sa.String(length=10), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", _UTC, nullable=False),
        sa.Column("posted_at", _UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["post_id"], ["quiz_posts.id"], name=op.f("fk_daily_posts_post_id_quiz_posts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_posts")),
        sa.UniqueConstraint(
            "channel_id", "local_date", name=op.f("uq_daily_posts_channel_id_local_date")
        ),
    )


def _quiz_attempts() -> None:
    """One answer per (post, user)."""
    op.create_table(
        "quiz_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("domain", sa.Integer(), nullable=False),
        sa.Column("objective", sa.String(length=16), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["quiz_posts.id"],
            name=op.f("fk_quiz_attempts_post_id_quiz_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["quiz_questions.id"],
            name=op.f("fk_quiz_attempts_question_id_quiz_questions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_attempts")),
        sa.UniqueConstraint("post_id", "user_id", name=op.f("uq_quiz_attempts_post_id_user_id")),
    )
    op.create_index(
        op.f("ix_quiz_attempts_channel_id_created_at"),
        "quiz_attempts",
        ["channel_id", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_quiz_attempts_question_id"), "quiz_attempts", ["question_id"], unique=False
    )
    op.create_index(
        op.f("ix_quiz_attempts_user_id_created_at"),
        "quiz_attempts",
        ["user_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    for table in (
        "daily_posts",
        "daily_schedules",
        "reviews",
        "quiz_attempts",
        "quiz_posts",
        "exams",
        "quiz_questions",
    ):
        op.drop_table(table)
