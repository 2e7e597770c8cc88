"""Exactly-once claims across replicas: one row per key, won by one INSERT … ON CONFLICT.

The question of the day (`daily_posts`, per channel and local date), review reminders
(`reminder_sends`, per learner and local date) and weekly leaderboards (`leaderboard_posts`,
per channel and ISO week) each claim their row before they post: only the process whose insert
wins posts. A claim whose work posted nothing is released so a retry can try again; a claim left
unfinished by a process that died mid-run is taken over after a lease, by one conditional UPDATE
only one contender can win. Imports no Slack.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.records import Records

CLAIM_LEASE = timedelta(minutes=15)  # an unfinished claim older than this may be taken over


def claim(
    records: Records,
    model: Any,
    key: Mapping[str, Any],
    *,
    now: datetime,
    done_column: str,
    values: Mapping[str, Any] | None = None,
    lease: timedelta = CLAIM_LEASE,
) -> int | None:
    """The claim's id when this call won the row `key`; None when someone else holds it.

    `model` has `id` and `claimed_at` columns, a unique constraint on `key`'s columns and a
    nullable `done_column` (set when the work is done; a done claim is never taken over).
    `values` are further columns of a new row.
    """
    insert = (
        records.insert(model)
        .values(**key, **(values or {}), claimed_at=now)
        .on_conflict_do_nothing(index_elements=list(key))
        .returning(model.id)
    )
    take_over = (
        sa.update(model)
        .where(
            *(getattr(model, k) == v for k, v in key.items()),
            getattr(model, done_column).is_(None),
            model.claimed_at < now - lease,
        )
        .values(claimed_at=now)
        .returning(model.id)
    )
    with records.begin() as conn:
        won = conn.execute(insert).scalar()
        if won is None:
            won = conn.execute(take_over).scalar()
    return int(won) if won is not None else None


def release(records: Records, model: Any, claim_id: int, *, done_column: str) -> None:
    """Give up a claim whose work posted nothing, so a retry (or another replica) can post."""
    stmt = sa.delete(model).where(model.id == claim_id, getattr(model, done_column).is_(None))
    with records.begin() as conn:
        conn.execute(stmt)


def complete(records: Records, model: Any, claim_id: int, **values: Any) -> None:
    """Mark a claim done (its `done_column` and any other `values`)."""
    with records.begin() as conn:
        conn.execute(sa.update(model).where(model.id == claim_id).values(**values))
