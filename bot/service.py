"""The one core API every front end (Slack, terminal, scheduler) calls. Imports no Slack."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from bot.records import Records
from knowledge.answer import AnswerGenerator
from knowledge.blueprint import Blueprint, load_blueprint
from knowledge.retrieve import Retriever
from knowledge.settings import Settings
from knowledge.types import Answer

if TYPE_CHECKING:
    from bot.quiz_bank import FillStats
    from bot.quiz_service import Grade, QuizService, ShownQuestion

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
TOP_K = 5
LONG_QUESTION_NOTE = "Your question was long, so I answered its first {n:,} characters."


class EmptyQuestion(ValueError):
    """The question had no text."""


class StudyService:
    """Facade over knowledge (retrieval, answers) and the study records."""

    def __init__(
        self,
        settings: Settings,
        *,
        retriever: Retriever | None = None,
        generator: AnswerGenerator | None = None,
        records: Records | None = None,
        blueprint: Blueprint | None = None,
        quiz: QuizService | None = None,
    ) -> None:
        self.settings = settings
        self.blueprint = blueprint or load_blueprint(settings.blueprint)
        self._retriever = retriever
        self._generator = generator
        self._records = records
        self._quiz = quiz

    @cached_property
    def retriever(self) -> Retriever:
        return self._retriever or Retriever.from_settings(self.settings)

    @cached_property
    def generator(self) -> AnswerGenerator:
        return self._generator or AnswerGenerator.from_settings(self.settings, self.blueprint)

    @cached_property
    def records(self) -> Records:
        if self._records is not None:
            return self._records
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        records = Records.from_url(self.settings.database_url)
        records.upgrade()
        return records

    @cached_property
    def quiz(self) -> QuizService:
        """The quiz core over the same records, store and chat model (offline without a key)."""
        if self._quiz is not None:
            return self._quiz
        from bot.quiz_service import QuizService

        return QuizService(
            self.settings,
            self.records,
            self.blueprint,
            store=self.retriever.store,
            chat_model=getattr(self.generator, "chat_model", None),
        )

    def ask(self, question: str, who: str, where: str, thread: str | None = None) -> Answer:
        """Answer a question grounded in the material; follow-ups in `thread` keep context.

        Raises EmptyQuestion for blank input, StoreError when the store is unavailable and
        RecordsUnavailable when a follow-up's thread cannot be read.
        """
        question = " ".join(question.split())
        if not question:
            raise EmptyQuestion("Ask a question about the study material.")
        note = None
        if len(question) > MAX_QUESTION_CHARS:
            question = question[:MAX_QUESTION_CHARS]
            note = LONG_QUESTION_NOTE.format(n=MAX_QUESTION_CHARS)
        history = self.records.thread_history(where, thread) if thread else []
        query = self.generator.condense(question, history) if history else question
        hits = self.retriever.search(query, k=TOP_K)
        answer = self.generator.answer(question, hits, history)
        if note:
            answer.note = f"{note} {answer.note}" if answer.note else note
        return answer

    def record_ask(
        self,
        question: str,
        answer: Answer,
        who: str,
        where: str,
        thread: str | None = None,
        latency_ms: int | None = None,
    ) -> int:
        """Store an answered question (for follow-ups, feedback and stats); returns its id."""
        return self.records.record_ask(
            question,
            answer,
            user_id=who,
            channel_id=where,
            thread_ts=thread,
            latency_ms=latency_ms,
        )

    # -- quiz (bot.quiz_service.QuizService; daily_question, daily_recap and set_message_ts
    #    are on `self.quiz`)

    def next_question(self, who: str, where: str, domain: int | str | None = None) -> ShownQuestion:
        """The learner's next question (due review first, else new, leaning to weak domains)."""
        return self.quiz.next_question(who, where, domain)

    def answer_question(self, token: str, who: str, choices: Sequence[int]) -> Grade:
        """Grade an answer (0-based option indices); recorded once per person and post."""
        return self.quiz.answer(token, who, choices)

    def start_exam(self, who: str, where: str, n: int = 15) -> ShownQuestion:
        """A mock exam of ``n`` questions by domain weight; returns the first question."""
        return self.quiz.start_exam(who, where, n)

    def fill_bank(self, domain: int | str | None = None, count: int | None = None) -> FillStats:
        """Generate questions from the ingested material into the bank."""
        return self.quiz.fill_bank(domain, count)
