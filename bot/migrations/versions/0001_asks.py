"""asks, feedback, Slack event claims and bot threads

Revision ID: 0001
Revises:
Create Date: 2025-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "asks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("thread_ts", sa.String(32), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("domain", sa.Integer(), nullable=True),
        sa.Column("objective", sa.String(200), nullable=True),
        sa.Column("answer_ts", sa.String(32), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_asks"),
    )
    op.create_index("ix_asks_channel_id_thread_ts", "asks", ["channel_id", "thread_ts"])
    op.create_index("ix_asks_user_id_created_at", "asks", ["user_id", "created_at"])

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ask_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
        sa.ForeignKeyConstraint(
            ["ask_id"], ["asks.id"], name="fk_feedback_ask_id_asks", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("ask_id", "user_id", name="uq_feedback_ask_id_user_id"),
        sa.CheckConstraint("value IN (-1, 1)", name="ck_feedback_value"),
    )

    op.create_table(
        "slack_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=True),
        sa.Column("channel_id", sa.String(64), nullable=True),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_slack_events"),
        sa.UniqueConstraint("event_id", name="uq_slack_events_event_id"),
        sa.UniqueConstraint(
            "channel_id", "message_ts", name="uq_slack_events_channel_id_message_ts"
        ),
    )

    op.create_table(
        "bot_threads",
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("thread_ts", sa.String(32), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "thread_ts", name="pk_bot_threads"),
    )


def downgrade() -> None:
    op.drop_table("bot_threads")
    op.drop_table("slack_events")
    op.drop_table("feedback")
    op.drop_index("ix_asks_user_id_created_at", table_name="asks")
    op.drop_index("ix_asks_channel_id_thread_ts", table_name="asks")
    op.drop_table("asks")
