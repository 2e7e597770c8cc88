"""channel exams: a channel chooses its blueprint; attempts, reviews and the bank per blueprint

- ``channel_exams``: the exam (blueprint id) a channel studies for; no row = the settings'.
- ``quiz_attempts.blueprint`` and ``reviews.blueprint``: the answered question's blueprint, so
  a learner in two channels keeps separate progress per exam; existing rows get their
  question's blueprint.
- the stats index over quiz_attempts gets the blueprint (stats are per exam).

``quiz_questions`` already has a ``blueprint`` column (each exam its own bank); its fingerprint
stays unique, and `bot.quiz_bank` writes other exams' fingerprints salted with the blueprint
(changing the constraint would rebuild the table on SQLite, which foreign keys forbid).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = sa.DateTime(timezone=True)
DEFAULT_BLUEPRINT = "mls-c01"  # the only blueprint before this revision
PER_BLUEPRINT = ("quiz_attempts", "reviews")
STATS_INDEX = "ix_quiz_attempts_stats_channel"
STATS_COLUMNS = ["channel_id", "created_at", "domain", "objective", "correct", "user_id", "kind"]


def upgrade() -> None:
    op.create_table(
        "channel_exams",
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("blueprint", sa.String(length=32), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channel_exams")),
    )
    for table in PER_BLUEPRINT:
        op.add_column(
            table,
            sa.Column(
                "blueprint",
                sa.String(length=32),
                server_default=DEFAULT_BLUEPRINT,
                nullable=False,
            ),
        )
        op.execute(
            f"UPDATE {table} SET blueprint = (SELECT q.blueprint FROM quiz_questions q "
            f"WHERE q.id = {table}.question_id)"
        )
    # the channel stats read one exam's answers: the covering index gets the blueprint
    op.drop_index(STATS_INDEX, table_name="quiz_attempts")
    op.create_index(
        STATS_INDEX, "quiz_attempts", [STATS_COLUMNS[0], "blueprint", *STATS_COLUMNS[1:]]
    )


def downgrade() -> None:
    op.drop_index(STATS_INDEX, table_name="quiz_attempts")
    op.create_index(STATS_INDEX, "quiz_attempts", STATS_COLUMNS)
    for table in reversed(PER_BLUEPRINT):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("blueprint")
    op.drop_table("channel_exams")
