"""Which exam each channel studies for: a row per channel that chose one, else the default.

`/study exam-guide mla-c01` stores the channel's choice; everything the channel does (answers,
quizzes, the question of the day, mock exams, stats) then uses that blueprint. Imports no Slack.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from bot.optins import OptIns
from bot.records import ChannelExam, QuizAttempt, Records
from knowledge.blueprint import Blueprint


class UnknownExam(ValueError):
    """The named exam is not installed; the message lists the choices."""


def exam_code(blueprint: Blueprint) -> str:
    """How people write the exam: ``MLA-C01``."""
    return blueprint.id.upper()


class ChannelExams:
    """The channels' exam choices over the records; `default` for channels without one."""

    def __init__(self, records: Records, installed: Sequence[Blueprint], default: Blueprint):
        self.records = records
        self.installed = list(installed)
        self.default = default
        self._rows = OptIns(records, ChannelExam, "channel_id", clock=records.now)

    def find(self, text: str) -> Blueprint | None:
        """'mla-c01', 'MLA-C01' or 'mla' -> an installed blueprint (None if none matches)."""
        t = text.strip().lower()
        for b in self.installed:
            if t and (t == b.id or t == b.id.split("-")[0]):
                return b
        return None

    def by_id(self, blueprint_id: str | None) -> Blueprint:
        """The installed blueprint with this id; the default for None or an uninstalled id."""
        return next((b for b in self.installed if b.id == blueprint_id), self.default)

    def of(self, channel: str) -> Blueprint:
        """The channel's exam: its choice, else the default. RecordsUnavailable propagates."""
        row = self._rows.get(channel)
        return self.by_id(row.blueprint if row is not None else None)

    def choose(self, channel: str, text: str, by: str) -> Blueprint:
        """Store the channel's exam. UnknownExam when `text` names no installed exam."""
        found = self.find(text)
        if found is None:
            choices = ", ".join(b.id for b in self.installed)
            raise UnknownExam(f"There is no exam {text.strip()!r} here; pick one of: {choices}.")
        self._rows.save({"channel_id": channel, "blueprint": found.id, "set_by": by})
        return found

    def last_studied(self, user_id: str) -> Blueprint:
        """The exam of a learner's latest quiz answer (where no channel is given, e.g. the App
        Home), else the default."""
        stmt = (
            sa.select(QuizAttempt.blueprint)
            .where(QuizAttempt.user_id == user_id)
            .order_by(QuizAttempt.created_at.desc(), QuizAttempt.id.desc())
            .limit(1)
        )
        with self.records.connect() as conn:
            return self.by_id(conn.execute(stmt).scalar())
