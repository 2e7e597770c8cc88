"""What the quiz gives front ends: the questions they show, the grades, the refusals.

Plain frozen dataclasses and one exception, shared by the quiz modules (`bot.quiz_posts`,
`bot.quiz_grading`, `bot.quiz_exams`, `bot.quiz_service`) and re-exported by `bot.quiz_service`,
the module front ends import. CONTRACT: the names and fields below are what the front ends code
against.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.arranged import is_arranged, split_options
from knowledge.types import DomainTag

UNKNOWN = (
    "I can't find that question (it may come from an old or altered message); ask for a new one."
)


class QuizError(Exception):
    """A polite refusal; ``str(exc)`` is one sentence to show the user.

    `code`: unknown | expired | not_yours | invalid_choice | no_questions | invalid_domain.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class PublicQuestion:
    """What a learner sees (never the answer)."""

    question_id: int
    stem: str
    options: list[str]
    choose: int  # 1 = single answer of 4; 2 = "choose 2 of 5"; arranged: the item count
    domain: DomainTag
    source: str
    title: str
    format: str = "single"  # single | multi | ordering | matching (see knowledge.arranged)

    @property
    def arranged(self) -> bool:
        """Answered with a sequence: a step per position, or a description per term."""
        return is_arranged(self.format)

    @property
    def items(self) -> list[str]:
        """The steps to order, or the terms to match."""
        return split_options(self.format, self.options, self.choose)[0]

    @property
    def targets(self) -> list[str]:
        """What each position or term is given: the steps again, or the descriptions."""
        return split_options(self.format, self.options, self.choose)[1]


@dataclass(frozen=True)
class ExamProgress:
    exam_id: int
    position: int  # 1-based number of this question
    total: int


@dataclass(frozen=True)
class ShownQuestion:
    """One showing of a question; buttons carry `token`, which the server looks up."""

    token: str
    kind: str  # ondemand | daily | exam
    question: PublicQuestion
    channel_id: str
    user_id: str | None  # who may answer; None = anyone in the channel (daily)
    exam: ExamProgress | None = None
    review: bool = False  # a spaced-repetition review (the learner missed or met it before)


@dataclass(frozen=True)
class ExamResult:
    exam_id: int
    answered: int
    correct: int
    scaled_score: int  # on the blueprint's scale (e.g. 100-1000)
    passing_score: int
    passed: bool
    per_domain: dict[int, tuple[int, int]] = field(default_factory=dict)  # domain -> (right, total)
    blueprint: str = ""  # the exam's blueprint id (its domain names and scale)


@dataclass(frozen=True)
class Grade:
    """The result of an answer; `already_answered` when this person had answered this post."""

    correct: bool
    answer: list[int]  # the correct option indices (0-based); arranged: the right sequence
    chosen: list[int]  # what this person chose (the first recorded choice on a repeat)
    explanation: str
    source: str
    title: str
    domain: DomainTag
    streak: int  # consecutive correct answers of this learner
    already_answered: bool = False
    exam: ExamProgress | None = None
    next: ShownQuestion | None = None  # the next exam question, if any
    exam_result: ExamResult | None = None  # when this answer finished an exam
    format: str = "single"  # the question's format: how `answer` and `chosen` read
    answer_lines: list[str] = field(default_factory=list)  # arranged: the right order / pairs


@dataclass(frozen=True)
class DailyRecap:
    """Yesterday's question of the day: its answer and how the channel did."""

    stem: str
    answer_text: str  # the correct option(s) as text
    answered: int
    share_correct: float  # 0..1; 0 when nobody answered
