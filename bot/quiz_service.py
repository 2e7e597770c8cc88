"""Quiz core: the question bank, selection (FSRS + weak domains), grading, mock exams.

Front ends (Slack, terminal, the daily scheduler) call these methods through StudyService.
Imports no Slack. CONTRACT: the names and fields below are what the front ends code against.
"""

from __future__ import annotations

import logging
import math
import operator
import random
import re
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler
from sqlalchemy.engine import Connection

from bot import quiz_bank
from bot.records import Clock, Exam, QuizAttempt, QuizPost, QuizQuestion, Records, Review, utcnow
from bot.selection import (
    HISTORY_WINDOW,
    NO_REPEAT,
    Card,
    LearnerState,
    apportion,
    pick_daily,
    pick_next,
    plan_exam,
)
from knowledge.types import DomainTag

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from knowledge.blueprint import Blueprint
    from knowledge.settings import Settings
    from knowledge.store import KnowledgeStore

log = logging.getLogger(__name__)


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
    choose: int  # 1 = single answer of 4; 2 = "choose 2 of 5"
    domain: DomainTag
    source: str
    title: str


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


@dataclass(frozen=True)
class Grade:
    """The result of an answer; `already_answered` when this person had answered this post."""

    correct: bool
    answer: list[int]  # the correct option indices (0-based)
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


@dataclass(frozen=True)
class DailyRecap:
    """Yesterday's question of the day: its answer and how the channel did."""

    stem: str
    answer_text: str  # the correct option(s) as text
    answered: int
    share_correct: float  # 0..1; 0 when nobody answered


# --------------------------------------------------------------------------- implementation

#: How long a post's buttons work, by kind.
TTL = {"ondemand": timedelta(hours=24), "daily": timedelta(hours=48), "exam": timedelta(hours=24)}
EXAM_QUESTIONS = 15  # default length of a mock exam
GAP_FILL_LLM = 5  # questions one on-demand gap fill asks the model for (offline: all it can)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,32}")  # secrets.token_urlsafe(12) gives 16 characters

UNKNOWN = (
    "I can't find that question (it may come from an old or altered message); ask for a new one."
)
EXPIRED = "This question has expired; ask for a fresh one."
NOT_YOURS = "This question belongs to <@{user}>; try /study quiz for your own."
NO_MATERIAL = (
    "There are no quiz questions yet: no study material has been ingested (run `studybot ingest`)."
)
NO_QUESTIONS_MADE = "I could not make quiz questions from the ingested material yet."
SEEN_ALL = "No new question for you{where} right now: you have seen them all in the last 7 days."

POST = QuizPost.__table__
QUESTION = QuizQuestion.__table__
ATTEMPT = QuizAttempt.__table__
EXAM = Exam.__table__
REVIEW = Review.__table__


class QuizService:
    """The quiz core: bank filling, selection, posts, grading (exactly once), FSRS and exams.

    Thread-safe; one instance serves every front end of a process. ``clock`` returns aware
    datetimes (UTC); ``rng`` drives every random choice; ``scheduler`` is the FSRS scheduler
    (``Scheduler()`` by default; tests pass ``Scheduler(enable_fuzzing=False)``).
    """

    def __init__(
        self,
        settings: Settings,
        records: Records,
        blueprint: Blueprint,
        *,
        store: KnowledgeStore | None = None,
        chat_model: BaseChatModel | None = None,
        clock: Clock = utcnow,
        rng: random.Random | None = None,
        scheduler: Scheduler | None = None,
    ) -> None:
        self.settings = settings
        self.records = records
        self.blueprint = blueprint
        self.chat_model = chat_model
        self.rng = rng or random.Random()
        self.scheduler = scheduler or Scheduler()
        self._store = store
        self._clock = clock
        self._fill_lock = threading.Lock()
        # domain (None = all) -> store generation at which a gap fill added nothing new
        self._exhausted: dict[int | None, int] = {}

    # -- plumbing ------------------------------------------------------------------------------

    @property
    def store(self) -> KnowledgeStore:
        if self._store is None:
            from knowledge.embeddings import make_embeddings, model_id_of
            from knowledge.store import KnowledgeStore

            self._store = KnowledgeStore(self.settings, model_id_of(make_embeddings(self.settings)))
        return self._store

    def now(self) -> datetime:
        return self._clock().astimezone(UTC)

    @property
    def weights(self) -> dict[int, float]:
        return self.blueprint.weights

    def domain_tag(self, domain: int, objective: str) -> DomainTag:
        """The domain and objective label of a question ("3.4 Perform hyperparameter …")."""
        try:
            name = self.blueprint.domain(domain).name
        except KeyError:
            name = f"Domain {domain}"
        try:
            label = self.blueprint.objective(objective).label
        except KeyError:
            label = objective
        return DomainTag(domain, name, label)

    def resolve_domain(self, domain: int | str | None) -> int | None:
        """1, "3", "modeling" -> a domain id of the blueprint; None for no filter."""
        if domain is None or (isinstance(domain, str) and not domain.strip()):
            return None
        found = (
            self.blueprint.find_domain(str(domain))
            if isinstance(domain, str)
            else next((d for d in self.blueprint.domains if d.id == domain), None)
        )
        if found is None:
            names = ", ".join(f"{d.id} {d.name}" for d in self.blueprint.domains)
            raise QuizError(
                "invalid_domain", f"There is no domain {domain!r}; pick one of: {names}."
            )
        return found.id

    # -- the bank ------------------------------------------------------------------------------

    def fill_bank(
        self, domain: int | str | None = None, count: int | None = None
    ) -> quiz_bank.FillStats:
        """Generate questions from the store's chunks and add the new ones to the bank.

        Returns `bot.quiz_bank.FillStats` (a `GenerationStats` with ``inserted`` and
        ``bank_size``). Raises QuizError("no_questions") when nothing was ingested.
        """
        d = self.resolve_domain(domain)
        store = self.store
        if not store.exists() or store.count() == 0:
            raise QuizError("no_questions", NO_MATERIAL)
        with self._fill_lock:
            stats = quiz_bank.fill(
                self.records,
                store,
                self.blueprint,
                now=self.now(),
                rng=self.rng,
                chat_model=self.chat_model,
                domain=d,
                count=count,
            )
        log.info("quiz bank fill (domain %s): %s", d, stats.to_dict())
        return stats

    def _fill_gap(self, domain: int | None, *, quiet: bool = True) -> bool:
        """Fill the bank for one domain (None: all) on demand; True when something was added.

        A gap fill that added nothing is not retried until the store changes (a new ingest).
        ``quiet``: failures (nothing ingested, store down) only mean "nothing added"; otherwise
        they propagate (QuizError no_questions, StoreError).
        """
        try:
            generation = self.store.generation()
            if self._exhausted.get(domain) == generation:
                return False
            count = None if self.chat_model is None else GAP_FILL_LLM
            stats = self.fill_bank(domain, count)
        except QuizError:
            if not quiet:
                raise
            return False
        except Exception as exc:
            if not quiet:
                raise
            log.warning("quiz gap fill for domain %s failed: %s", domain, exc)
            return False
        if not stats.inserted:
            self._exhausted[domain] = generation
        return stats.inserted > 0

    def _bank(self) -> list:
        """The bank's candidates; an empty bank is filled first (errors propagate)."""
        bank = quiz_bank.candidates(self.records, self.blueprint.id)
        if not bank:
            self._fill_gap(None, quiet=False)
            bank = quiz_bank.candidates(self.records, self.blueprint.id)
        if not bank:
            raise QuizError("no_questions", NO_QUESTIONS_MADE)
        return bank

    # -- on demand -----------------------------------------------------------------------------

    def next_question(self, who: str, where: str, domain: int | str | None = None) -> ShownQuestion:
        """The learner's next question (due review, else new by weak domain; see bot.selection).

        Only ``who`` may answer it. Raises QuizError: invalid_domain, no_questions.
        """
        d = self.resolve_domain(domain)
        now = self.now()
        bank = self._bank()
        state = self._learner_state(who, now, bank)
        filled: set[int] = set()
        pick = pick_next(state, self.weights, now, self.rng, domain=d)
        while pick.kind == "gap" and pick.domain is not None and pick.domain not in filled:
            filled.add(pick.domain)
            if self._fill_gap(pick.domain):
                state.bank = quiz_bank.candidates(self.records, self.blueprint.id)
            pick = pick_next(state, self.weights, now, self.rng, domain=d, filled=filled)
        if pick.question_id is None:
            where_text = f" in {self.blueprint.domain(d).label}" if d is not None else ""
            raise QuizError("no_questions", SEEN_ALL.format(where=where_text))
        with self.records.begin() as conn:
            return self._create_post(
                conn, pick.question_id, "ondemand", where, who, now, review=pick.kind == "review"
            )

    def _learner_state(self, who: str, now: datetime, bank: list) -> LearnerState:
        since = now - NO_REPEAT
        cards_q = (
            sa.select(REVIEW.c.question_id, QUESTION.c.domain, REVIEW.c.due_at)
            .join(QUESTION, QUESTION.c.id == REVIEW.c.question_id)
            .where(REVIEW.c.user_id == who, QUESTION.c.blueprint == self.blueprint.id)
        )
        shown_q = (
            sa.select(POST.c.question_id, sa.func.max(POST.c.created_at))
            .where(POST.c.user_id == who, POST.c.created_at >= since)
            .group_by(POST.c.question_id)
        )
        answered_q = sa.select(ATTEMPT.c.question_id).where(
            ATTEMPT.c.user_id == who, ATTEMPT.c.created_at >= since
        )
        history_q = (
            sa.select(
                ATTEMPT.c.domain,
                sa.func.count(),
                sa.func.sum(sa.case((ATTEMPT.c.correct, 1), else_=0)),
            )
            .where(ATTEMPT.c.user_id == who, ATTEMPT.c.created_at >= now - HISTORY_WINDOW)
            .group_by(ATTEMPT.c.domain)
        )
        with self.records.begin() as conn:
            cards = [Card(q, d, due) for q, d, due in conn.execute(cards_q)]
            last_shown = {q: at for q, at in conn.execute(shown_q)}
            recent = set(last_shown) | {q for (q,) in conn.execute(answered_q)}
            history = {d: (int(r or 0), int(n)) for d, n, r in conn.execute(history_q)}
        return LearnerState(
            bank=bank, cards=cards, recent=recent, history=history, last_shown=last_shown
        )

    # -- posts ---------------------------------------------------------------------------------

    def _create_post(
        self,
        conn: Connection,
        question_id: int,
        kind: str,
        channel: str,
        user: str | None,
        now: datetime,
        *,
        exam: ExamProgress | None = None,
        review: bool = False,
    ) -> ShownQuestion:
        token = secrets.token_urlsafe(12)
        conn.execute(
            sa.insert(POST).values(
                token=token,
                question_id=question_id,
                kind=kind,
                channel_id=channel,
                user_id=user,
                exam_id=exam.exam_id if exam else None,
                created_at=now,
                expires_at=now + TTL[kind],
            )
        )
        row = conn.execute(sa.select(QUESTION).where(QUESTION.c.id == question_id)).one()
        return ShownQuestion(
            token=token,
            kind=kind,
            question=self._public(row),
            channel_id=channel,
            user_id=user,
            exam=exam,
            review=review,
        )

    def _public(self, q: Any) -> PublicQuestion:
        return PublicQuestion(
            question_id=q.id,
            stem=q.stem,
            options=list(q.options),
            choose=q.choose,
            domain=self.domain_tag(q.domain, q.objective),
            source=q.source,
            title=q.title,
        )

    def _lookup(self, conn: Connection, token_or_id: str | int) -> Any:
        """The post joined with its question (columns of both; the question's as q_*), or None."""
        cols = [POST] + [c.label(f"q_{c.name}") for c in QUESTION.c]
        stmt = sa.select(*cols).join(QUESTION, QUESTION.c.id == POST.c.question_id)
        if isinstance(token_or_id, int) and not isinstance(token_or_id, bool):
            stmt = stmt.where(POST.c.id == token_or_id)
        elif isinstance(token_or_id, str) and _TOKEN.fullmatch(token_or_id):
            stmt = stmt.where(POST.c.token == token_or_id)
        else:
            return None
        return conn.execute(stmt).first()

    def shown(self, token: str) -> ShownQuestion:
        """A post as it was shown (e.g. to draw its message again). QuizError("unknown")."""
        with self.records.begin() as conn:
            row = self._lookup(conn, token)
            if row is None:
                raise QuizError("unknown", UNKNOWN)
            progress = None
            if row.exam_id is not None:
                ids = conn.execute(
                    sa.select(EXAM.c.question_ids).where(EXAM.c.id == row.exam_id)
                ).scalar_one()
                progress = ExamProgress(row.exam_id, ids.index(row.question_id) + 1, len(ids))
        return ShownQuestion(
            token=row.token,
            kind=row.kind,
            question=self._public(_QuestionView(row)),
            channel_id=row.channel_id,
            user_id=row.user_id,
            exam=progress,
        )

    def set_message_ts(self, token: str, ts: str) -> None:
        """Remember the Slack message a post went out as. QuizError("unknown")."""
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            raise QuizError("unknown", UNKNOWN)
        with self.records.begin() as conn:
            done = conn.execute(sa.update(POST).where(POST.c.token == token).values(message_ts=ts))
        if done.rowcount == 0:
            raise QuizError("unknown", UNKNOWN)

    # -- answers -------------------------------------------------------------------------------

    def answer(self, token: str, who: str, choices: Sequence[int]) -> Grade:
        """Grade ``who``'s answer to a post; each person's answer is recorded exactly once.

        ``choices``: 0-based option indices, as many as the question's ``choose``. A repeat
        (double click, retry, concurrent submission) returns the first answer's Grade with
        ``already_answered=True``. Raises QuizError: unknown, not_yours, invalid_choice,
        expired.
        """
        with self.records.begin() as conn:
            row = self._lookup(conn, token) if isinstance(token, str) else None
        if row is None:
            raise QuizError("unknown", UNKNOWN)
        if row.user_id is not None and row.user_id != who:
            raise QuizError("not_yours", NOT_YOURS.format(user=row.user_id))
        q = _QuestionView(row)
        chosen = _check_choices(choices, len(q.options), q.choose)
        now = self.now()
        if now >= row.expires_at:
            grade = self._repeat(row, who)
            if grade is None:
                raise QuizError("expired", EXPIRED)
            return grade
        correct = sorted(chosen) == sorted(q.correct)
        insert = (
            self.records.insert(QuizAttempt)
            .values(
                post_id=row.id,
                question_id=q.id,
                user_id=who,
                channel_id=row.channel_id,
                kind=row.kind,
                domain=q.domain,
                objective=q.objective,
                choices=chosen,
                correct=correct,
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(QuizAttempt.id)
        )
        exam = next_post = result = None
        with self.records.begin() as conn:  # the insert comes first: it takes the write lock
            inserted = conn.execute(insert).first() is not None
            if inserted:
                self._review(conn, who, q.id, correct, now)
                if row.exam_id is not None:
                    exam, next_post, result = self._advance_exam(conn, row, now)
                streak = self._streak(conn, who)
        if not inserted:
            grade = self._repeat(row, who)
            if grade is None:  # cannot happen: the conflicting row is committed by now
                raise QuizError("unknown", UNKNOWN)
            return grade
        return self._grade(q, correct, chosen, streak, exam, next_post, result)

    def _repeat(self, row: Any, who: str) -> Grade | None:
        """The Grade of ``who``'s recorded answer to this post (already_answered), or None."""
        q = _QuestionView(row)
        with self.records.begin() as conn:
            attempt = conn.execute(
                sa.select(ATTEMPT.c.choices, ATTEMPT.c.correct).where(
                    ATTEMPT.c.post_id == row.id, ATTEMPT.c.user_id == who
                )
            ).first()
            if attempt is None:
                return None
            exam = next_post = result = None
            if row.exam_id is not None:
                exam, next_post, result = self._exam_state(conn, row)
            streak = self._streak(conn, who)
        return self._grade(
            q,
            bool(attempt.correct),
            list(attempt.choices),
            streak,
            exam,
            next_post,
            result,
            already_answered=True,
        )

    def _grade(
        self,
        q: _QuestionView,
        correct: bool,
        chosen: list[int],
        streak: int,
        exam: ExamProgress | None,
        next_post: ShownQuestion | None,
        result: ExamResult | None,
        *,
        already_answered: bool = False,
    ) -> Grade:
        """The Grade of an answer to ``q`` (a first answer, or a repeat when already_answered)."""
        return Grade(
            correct=correct,
            answer=sorted(q.correct),
            chosen=chosen,
            explanation=q.explanation,
            source=q.source,
            title=q.title,
            domain=self.domain_tag(q.domain, q.objective),
            streak=streak,
            already_answered=already_answered,
            exam=exam,
            next=next_post,
            exam_result=result,
        )

    def _review(self, conn: Connection, who: str, question_id: int, correct: bool, now: datetime):
        """Move the learner's FSRS card: Good when right, Again when wrong."""
        key = (REVIEW.c.user_id == who, REVIEW.c.question_id == question_id)
        found = conn.execute(
            sa.select(REVIEW.c.card, REVIEW.c.reps, REVIEW.c.lapses).where(*key).with_for_update()
        ).first()
        card = FsrsCard.from_dict(found.card) if found else FsrsCard(card_id=question_id, due=now)
        card, _ = self.scheduler.review_card(card, Rating.Good if correct else Rating.Again, now)
        values = {
            "card": card.to_dict(),
            "due_at": card.due,
            "last_review_at": now,
            "reps": (found.reps if found else 0) + 1,
            "lapses": (found.lapses if found else 0) + (0 if correct else 1),  # wrong answers
        }
        stmt = self.records.insert(Review).values(user_id=who, question_id=question_id, **values)
        conn.execute(
            stmt.on_conflict_do_update(index_elements=["user_id", "question_id"], set_=values)
        )

    def _streak(self, conn: Connection, who: str) -> int:
        """Consecutive correct answers of ``who``, most recent first."""
        last_wrong = (
            sa.select(sa.func.coalesce(sa.func.max(ATTEMPT.c.id), 0))
            .where(ATTEMPT.c.user_id == who, sa.not_(ATTEMPT.c.correct))
            .scalar_subquery()
        )
        stmt = sa.select(sa.func.count()).where(
            ATTEMPT.c.user_id == who, ATTEMPT.c.correct, ATTEMPT.c.id > last_wrong
        )
        return int(conn.execute(stmt).scalar_one())

    # -- mock exams ----------------------------------------------------------------------------

    def start_exam(self, who: str, where: str, n: int = EXAM_QUESTIONS) -> ShownQuestion:
        """A mock exam of ``n`` questions (1..the real exam's count) by domain weight.

        Unseen questions first; gaps in the bank are filled. Returns the first question with
        its ExamProgress; each Grade carries the next one, the last the ExamResult.
        """
        n = max(1, min(int(n), self.blueprint.exam.questions))
        now = self.now()
        bank = self._bank()
        quota = apportion(self.weights, n)
        have: dict[int, int] = {}
        for c in bank:
            have[c.domain] = have.get(c.domain, 0) + 1
        refill = [d for d, k in quota.items() if have.get(d, 0) < k]
        if any([self._fill_gap(d) for d in refill]):
            bank = quiz_bank.candidates(self.records, self.blueprint.id)
        with self.records.begin() as conn:
            seen = {
                q
                for (q,) in conn.execute(
                    sa.select(ATTEMPT.c.question_id).where(ATTEMPT.c.user_id == who).distinct()
                )
            }
        fresh: dict[int, list[int]] = {}
        stale: dict[int, list[int]] = {}
        for c in bank:
            (stale if c.question_id in seen else fresh).setdefault(c.domain, []).append(
                c.question_id
            )
        available = {}
        for d in {*fresh, *stale}:
            a, b = fresh.get(d, []), stale.get(d, [])
            self.rng.shuffle(a)
            self.rng.shuffle(b)
            available[d] = a + b
        ids = plan_exam(available, self.weights, n, self.rng)
        with self.records.begin() as conn:
            exam_id = conn.execute(
                sa.insert(EXAM)
                .values(user_id=who, channel_id=where, question_ids=ids, position=0, started_at=now)
                .returning(EXAM.c.id)
            ).scalar_one()
            return self._create_post(
                conn, ids[0], "exam", where, who, now, exam=ExamProgress(exam_id, 1, len(ids))
            )

    def _advance_exam(self, conn: Connection, row: Any, now: datetime):
        """After the answer to exam question i: post question i+1, or finish with the result."""
        exam = conn.execute(sa.select(EXAM).where(EXAM.c.id == row.exam_id)).one()
        ids = list(exam.question_ids)
        i = ids.index(row.question_id)
        progress = ExamProgress(exam.id, i + 1, len(ids))
        moved = conn.execute(
            sa.update(EXAM).where(EXAM.c.id == exam.id, EXAM.c.position == i).values(position=i + 1)
        )
        if moved.rowcount != 1:  # defensive: someone else advanced it
            return self._exam_state(conn, row)
        if i + 1 < len(ids):
            shown = self._create_post(
                conn,
                ids[i + 1],
                "exam",
                exam.channel_id,
                exam.user_id,
                now,
                exam=ExamProgress(exam.id, i + 2, len(ids)),
            )
            return progress, shown, None
        result = self._exam_result(conn, exam.id, len(ids))
        conn.execute(
            sa.update(EXAM)
            .where(EXAM.c.id == exam.id)
            .values(finished_at=now, scaled_score=result.scaled_score)
        )
        return progress, None, result

    def _exam_state(self, conn: Connection, row: Any):
        """(progress, next post, result) of an exam question answered earlier."""
        exam = conn.execute(sa.select(EXAM).where(EXAM.c.id == row.exam_id)).one()
        ids = list(exam.question_ids)
        i = ids.index(row.question_id)
        progress = ExamProgress(exam.id, i + 1, len(ids))
        if i + 1 < len(ids):
            nxt = conn.execute(
                sa.select(POST.c.token).where(
                    POST.c.exam_id == exam.id, POST.c.question_id == ids[i + 1]
                )
            ).first()
            if nxt is None:
                return progress, None, None
            post = self._lookup(conn, nxt.token)
            shown = ShownQuestion(
                token=post.token,
                kind="exam",
                question=self._public(_QuestionView(post)),
                channel_id=post.channel_id,
                user_id=post.user_id,
                exam=ExamProgress(exam.id, i + 2, len(ids)),
            )
            return progress, shown, None
        if exam.finished_at is None:
            return progress, None, None
        return progress, None, self._exam_result(conn, exam.id, len(ids))

    def _exam_result(self, conn: Connection, exam_id: int, total: int) -> ExamResult:
        rows = conn.execute(
            sa.select(ATTEMPT.c.domain, ATTEMPT.c.correct)
            .join(POST, POST.c.id == ATTEMPT.c.post_id)
            .where(POST.c.exam_id == exam_id)
        ).all()
        per_domain: dict[int, tuple[int, int]] = {}
        for domain, ok in rows:
            right, seen = per_domain.get(domain, (0, 0))
            per_domain[domain] = (right + int(bool(ok)), seen + 1)
        right = sum(r for r, _ in per_domain.values())
        scale = self.blueprint.exam.scale
        scaled = scaled_score(right, total, scale.min, scale.max)
        return ExamResult(
            exam_id=exam_id,
            answered=len(rows),
            correct=right,
            scaled_score=scaled,
            passing_score=self.blueprint.exam.passing_score,
            passed=scaled >= self.blueprint.exam.passing_score,
            per_domain=dict(sorted(per_domain.items())),
        )

    # -- daily ---------------------------------------------------------------------------------

    def daily_question(self, channel: str) -> ShownQuestion:
        """A question of the day for ``channel`` (anyone may answer; 48 h), not repeated there
        within 30 days, domain drawn by the blueprint weights. QuizError("no_questions")."""
        now = self.now()
        bank = self._bank()
        stmt = (
            sa.select(POST.c.question_id, sa.func.max(POST.c.created_at))
            .where(POST.c.channel_id == channel, POST.c.kind == "daily")
            .group_by(POST.c.question_id)
        )
        with self.records.begin() as conn:
            last_posted = {q: at for q, at in conn.execute(stmt)}
        pick = pick_daily(bank, last_posted, self.weights, now, self.rng)
        if pick.kind == "gap" and self._fill_gap(None):
            bank = quiz_bank.candidates(self.records, self.blueprint.id)
            pick = pick_daily(bank, last_posted, self.weights, now, self.rng)
        if pick.question_id is None:  # cannot happen with a non-empty bank
            raise QuizError("no_questions", NO_QUESTIONS_MADE)
        with self.records.begin() as conn:
            return self._create_post(conn, pick.question_id, "daily", channel, None, now)

    def daily_recap(self, post_token_or_id: str | int) -> DailyRecap:
        """How the channel did on a post: its answer, how many answered, the share correct."""
        with self.records.begin() as conn:
            row = self._lookup(conn, post_token_or_id)
            if row is None:
                raise QuizError("unknown", UNKNOWN)
            answered, right = conn.execute(
                sa.select(
                    sa.func.count(), sa.func.sum(sa.case((ATTEMPT.c.correct, 1), else_=0))
                ).where(ATTEMPT.c.post_id == row.id)
            ).one()
        q = _QuestionView(row)
        return DailyRecap(
            stem=q.stem,
            answer_text="; ".join(q.options[i] for i in sorted(q.correct)),
            answered=int(answered),
            share_correct=(int(right or 0) / answered) if answered else 0.0,
        )


def scaled_score(correct: int, total: int, low: int, high: int) -> int:
    """min + (max − min) × correct / total, rounded half up (``low`` when total is 0)."""
    if total <= 0:
        return low
    return int(math.floor(low + (high - low) * correct / total + 0.5))


def _check_choices(choices: Sequence[int], n_options: int, choose: int) -> list[int]:
    """Distinct valid 0-based indices, exactly ``choose`` of them, sorted; else invalid_choice."""
    try:
        if isinstance(choices, str | bytes) or any(isinstance(c, bool) for c in choices):
            raise TypeError
        picked = [operator.index(c) for c in choices]
    except TypeError:
        picked = None
    if (
        picked is None
        or len(picked) != choose
        or len(set(picked)) != len(picked)
        or any(not 0 <= c < n_options for c in picked)
    ):
        what = "one option" if choose == 1 else f"exactly {choose} different options"
        raise QuizError("invalid_choice", f"Pick {what} of the {n_options}.")
    return sorted(picked)


class _QuestionView:
    """The question columns of a `_lookup` row (``q_*``) under their own names."""

    def __init__(self, row: Any) -> None:
        self._row = row

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, f"q_{name}")
