"""Opt-in rows keyed by one column: a channel's question-of-the-day schedule, a learner's review
reminder, a channel's weekly leaderboard. One upsert to turn on (or change), one conditional
UPDATE to turn off, reads by key and of every enabled row. Imports no Slack.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.records import Records


class OptIns:
    """The rows of `model` (with `enabled` and `updated_at` columns), keyed by `key`."""

    def __init__(
        self, records: Records, model: Any, key: str, *, clock: Callable[[], datetime]
    ) -> None:
        self.records = records
        self.model = model
        self.key = key
        self._clock = clock

    def save(self, values: Mapping[str, Any]) -> None:
        """Insert the row, or update every given column of the existing one."""
        row = {**values, "updated_at": self._clock()}
        stmt = self.records.insert(self.model).values(**row)
        stmt = stmt.on_conflict_do_update(
            index_elements=[self.key],
            set_={k: stmt.excluded[k] for k in row if k != self.key},
        )
        with self.records.begin() as conn:
            conn.execute(stmt)

    def disable(self, key: str) -> bool:
        """Turn the row off; False when it was not on."""
        stmt = (
            sa.update(self.model)
            .where(getattr(self.model, self.key) == key, self.model.enabled.is_(True))
            .values(enabled=False, updated_at=self._clock())
        )
        with self.records.begin() as conn:
            return conn.execute(stmt).rowcount > 0

    def get(self, key: str) -> Any | None:
        stmt = sa.select(self.model).where(getattr(self.model, self.key) == key)
        with self.records.connect() as conn:
            return conn.execute(stmt).first()

    def enabled(self) -> list[Any]:
        with self.records.connect() as conn:
            return list(conn.execute(sa.select(self.model).where(self.model.enabled.is_(True))))
