"""indexes for the study stats (bot/stats.py): covering channel indexes on attempts and asks

The channel figures read quiz attempts by (channel, time) and need domain, objective, correct,
user and kind: one index holds them all, so PostgreSQL and SQLite answer from the index alone. It
replaces 0002's (channel_id, created_at) index, which is its prefix. Asks get (channel_id,
created_at, user_id) for questions asked and active learners. Daily questions get a partial
index (kind = 'daily'): counting a channel's daily posts then reads one entry per day instead of
every on-demand post of the channel.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ATTEMPTS_STATS = "ix_quiz_attempts_stats_channel"
ASKS_STATS = "ix_asks_stats_channel"
ATTEMPTS_CHANNEL_0002 = "ix_quiz_attempts_channel_id_created_at"
POSTS_DAILY = "ix_quiz_posts_daily"


def upgrade() -> None:
    op.create_index(
        ATTEMPTS_STATS,
        "quiz_attempts",
        ["channel_id", "created_at", "domain", "objective", "correct", "user_id", "kind"],
        unique=False,
    )
    op.drop_index(ATTEMPTS_CHANNEL_0002, table_name="quiz_attempts")
    op.create_index(ASKS_STATS, "asks", ["channel_id", "created_at", "user_id"], unique=False)
    op.create_index(
        POSTS_DAILY,
        "quiz_posts",
        ["channel_id", "created_at"],
        unique=False,
        postgresql_where=sa.text("kind = 'daily'"),
        sqlite_where=sa.text("kind = 'daily'"),
    )


def downgrade() -> None:
    op.drop_index(POSTS_DAILY, table_name="quiz_posts")
    op.drop_index(ASKS_STATS, table_name="asks")
    op.create_index(
        ATTEMPTS_CHANNEL_0002, "quiz_attempts", ["channel_id", "created_at"], unique=False
    )
    op.drop_index(ATTEMPTS_STATS, table_name="quiz_attempts")
