"""learner features: review reminders, weekly leaderboards, 👎 reasons, shareable answers

- `reminders` (a learner's opt-in time and timezone) and `reminder_sends` (the claim on
  (learner, local date): one reminder a day across replicas, INSERT … ON CONFLICT DO NOTHING);
- `leaderboards` (a channel's opt-in) and `leaderboard_posts` (the claim on (channel, ISO week));
- `feedback.reason`: why a 👎 (wrong | not_helpful | off_topic), read by leads in the stats;
- `asks.details`: the answer's citations, domain tags, note and closest topics as shown, so a
  private answer can be shown again in the channel when its asker shares it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("time_of_day", sa.String(length=5), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_reminders")),
    )
    op.create_table(
        "reminder_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("local_date", sa.String(length=10), nullable=False),
        sa.Column("due_reviews", sa.Integer(), nullable=False),
        sa.Column("claimed_at", _UTC, nullable=False),
        sa.Column("sent_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_sends")),
        sa.UniqueConstraint(
            "user_id", "local_date", name=op.f("uq_reminder_sends_user_id_local_date")
        ),
    )
    op.create_table(
        "leaderboards",
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("time_of_day", sa.String(length=5), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_leaderboards")),
    )
    op.create_table(
        "leaderboard_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("claimed_at", _UTC, nullable=False),
        sa.Column("posted_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leaderboard_posts")),
        sa.UniqueConstraint(
            "channel_id", "week", name=op.f("uq_leaderboard_posts_channel_id_week")
        ),
    )
    op.add_column("feedback", sa.Column("reason", sa.String(length=16), nullable=True))
    op.add_column("asks", sa.Column("details", sa.JSON(), nullable=True))


def downgrade() -> None:
    # batch mode: SQLite drops a column by copying the table
    with op.batch_alter_table("asks") as batch:
        batch.drop_column("details")
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("reason")
    op.drop_table("leaderboard_posts")
    op.drop_table("leaderboards")
    op.drop_table("reminder_sends")
    op.drop_table("reminders")
