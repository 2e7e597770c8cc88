"""Migration 0007: answers and review cards recorded before it keep their exam (MLS-C01), on
an upgrade of a database that holds them (foreign keys on), and back."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from bot.records import alembic_config

NOW = "2026-11-30 10:00:00"


def _seed_before_0007(conn) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO quiz_questions (id, fingerprint, blueprint, domain, objective, format, "
            "choose, stem, options, correct, explanation, chunk_ids, source, title, generator, "
            "created_at) VALUES (1, 'fp1', 'mls-c01', 3, '3.4', 'single', 1, 'Which?', "
            "'[\"a\",\"b\",\"c\",\"d\"]', '[0]', 'Because.', '[]', 'notes.md', 'T', "
            f"'offline:test', '{NOW}')"
        )
    )
    conn.execute(
        sa.text(
            "INSERT INTO quiz_posts (id, token, question_id, kind, channel_id, user_id, "
            f"created_at, expires_at) VALUES (1, 'tok1', 1, 'ondemand', 'C1', 'U1', '{NOW}', "
            f"'{NOW}')"
        )
    )
    conn.execute(
        sa.text(
            "INSERT INTO quiz_attempts (post_id, question_id, user_id, channel_id, kind, domain, "
            f"objective, choices, correct, created_at) VALUES (1, 1, 'U1', 'C1', 'ondemand', 3, "
            f"'3.4', '[0]', true, '{NOW}')"
        )
    )
    conn.execute(
        sa.text(
            "INSERT INTO reviews (user_id, question_id, card, due_at, last_review_at, reps, "
            f"lapses) VALUES ('U1', 1, '{{}}', '{NOW}', '{NOW}', 1, 0)"
        )
    )


def test_0007_keeps_old_answers_on_mls_c01(db_url):
    cfg = alembic_config(db_url)
    command.upgrade(cfg, "0006")
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            _seed_before_0007(conn)
        command.upgrade(cfg, "head")
        with engine.begin() as conn:
            assert conn.execute(sa.text("SELECT blueprint FROM quiz_attempts")).all() == [
                ("mls-c01",)
            ]
            assert conn.execute(sa.text("SELECT blueprint FROM reviews")).all() == [("mls-c01",)]
        command.downgrade(cfg, "0006")
        command.upgrade(cfg, "head")
    finally:
        engine.dispose()
