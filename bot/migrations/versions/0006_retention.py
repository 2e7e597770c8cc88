"""retention: job_runs (one replica claims each run of a periodic job) and created_at indexes

The daily retention job deletes old rows by creation time from slack_events, bot_threads, asks
and quiz_posts: each gets an index on created_at so the prune reads only what it deletes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = sa.DateTime(timezone=True)
RETENTION_INDEXED = ("slack_events", "bot_threads", "asks", "quiz_posts")


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("claimed_at", _UTC, nullable=False),
        sa.Column("finished_at", _UTC, nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "period", name=op.f("uq_job_runs_job_period")),
    )
    for table in RETENTION_INDEXED:
        op.create_index(op.f(f"ix_{table}_created_at"), table, ["created_at"], unique=False)


def downgrade() -> None:
    for table in reversed(RETENTION_INDEXED):
        op.drop_index(op.f(f"ix_{table}_created_at"), table_name=table)
    op.drop_table("job_runs")
