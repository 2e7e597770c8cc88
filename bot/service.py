"""The one core API every front end (Slack, terminal, scheduler) calls. Imports no Slack."""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.types import Answer


@dataclass(frozen=True)
class Conversation:
    """Where a question was asked: who, in which channel, in which thread (None = new)."""

    who: str
    where: str
    thread: str | None = None


class StudyService:
    """Facade over knowledge (retrieval, answers, quiz) and study records."""

    def ask(self, question: str, who: str, where: str, thread: str | None = None) -> Answer:
        """Answer a question grounded in the material; follow-ups in `thread` keep context."""
        raise NotImplementedError  # filled in by the ask issue
