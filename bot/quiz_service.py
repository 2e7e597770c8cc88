"""Quiz core: the question bank, selection (FSRS + weak domains), posts, grading, mock exams.

Front ends (Slack, terminal, the daily scheduler) call these methods through StudyService; this
module is the quiz's public surface (`__all__`). The work is split by job: `bot.quiz_posts` (the
posts and their tokens), `bot.quiz_grading` (answers recorded exactly once, FSRS, the streak),
`bot.quiz_exams` (mock exams), `bot.quiz_bank` (the stored questions) and `bot.selection` (which
question next). Imports no Slack.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from fsrs import Scheduler

from bot import quiz_bank
from bot.quiz_exams import EXAM_QUESTIONS, MockExams, scaled_score
from bot.quiz_grading import Grader
from bot.quiz_posts import POST, QUESTION, QuestionView, QuizPosts
from bot.quiz_types import (
    UNKNOWN,
    DailyRecap,
    ExamProgress,
    ExamResult,
    Grade,
    PublicQuestion,
    QuizError,
    ShownQuestion,
)
from bot.records import Clock, QuizAttempt, Records, Review, utcnow
from bot.selection import (
    BALANCE_WINDOW,
    HISTORY_WINDOW,
    NO_REPEAT,
    Card,
    LearnerState,
    apportion,
    pick_daily,
    pick_next,
)
from knowledge.arranged import answer_text, is_arranged
from knowledge.quiz_material import Material
from knowledge.types import DomainTag

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

    from knowledge.blueprint import Blueprint
    from knowledge.settings import Settings
    from knowledge.store import KnowledgeStore

__all__ = [
    "DailyRecap",
    "EXAM_QUESTIONS",
    "ExamProgress",
    "ExamResult",
    "Grade",
    "PublicQuestion",
    "QuizError",
    "QuizService",
    "ShownQuestion",
    "scaled_score",
]

log = logging.getLogger(__name__)

GAP_FILL_LLM = 5  # questions one on-demand gap fill asks the model for (offline: all it can)
NO_MATERIAL = (
    "There are no quiz questions yet: no study material has been ingested (run `studybot ingest`)."
)
NO_QUESTIONS_MADE = "I could not make quiz questions from the ingested material yet."
SEEN_ALL = "No new question for you{where} right now: you have seen them all in the last 7 days."

ATTEMPT = QuizAttempt.__table__
REVIEW = Review.__table__


class QuizService:
    """The quiz core: bank filling, selection, posts, grading (exactly once), FSRS and exams.

    Thread-safe; one instance serves every front end of a process. ``clock`` returns aware
    datetimes (UTC); ``rng`` drives every random choice; ``scheduler`` is the FSRS scheduler
    (``Scheduler()`` by default; tests pass ``Scheduler(enable_fuzzing=False)``);
    ``embeddings`` (the store's model) lets bank fills check key safety by embedding too.
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
        embeddings: Embeddings | None = None,
    ) -> None:
        self.settings = settings
        self.records = records
        self.blueprint = blueprint
        self.chat_model = chat_model
        self.rng = rng or random.Random()
        self.clock = clock
        self.posts = QuizPosts(records, blueprint)
        self.exams = MockExams(records, blueprint, self.posts, self.rng)
        self.grader = Grader(records, self.posts, self.exams, scheduler or Scheduler(), self.now)
        self._store = store
        self.embeddings = embeddings  # the embedding key-safety check when filling the bank
        self._material: tuple[int, Material] | None = None  # (store generation, what it read)
        self._fill_lock = threading.Lock()
        # domain (None = all) -> store generation at which a gap fill added nothing new
        self._exhausted: dict[int | None, int] = {}

    def for_blueprint(self, blueprint: Blueprint) -> QuizService:
        """The same quiz over the same records, store, model, clock and scheduler, for another
        exam (its own bank, selection weights, mock exams and domain labels)."""
        if blueprint.id == self.blueprint.id:
            return self
        return QuizService(
            self.settings,
            self.records,
            blueprint,
            store=self._store,
            chat_model=self.chat_model,
            clock=self.clock,
            rng=self.rng,
            scheduler=self.grader.scheduler,
            embeddings=self.embeddings,
        )

    # -- plumbing ------------------------------------------------------------------------------

    @property
    def store(self) -> KnowledgeStore:
        if self._store is None:
            from knowledge.embeddings import make_embeddings, model_id_of
            from knowledge.store import KnowledgeStore

            self._store = KnowledgeStore(self.settings, model_id_of(make_embeddings(self.settings)))
        return self._store

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    @property
    def weights(self) -> dict[int, float]:
        return self.blueprint.weights

    def domain_tag(self, domain: int, objective: str) -> DomainTag:
        """The domain and objective label of a question ("3.4 Perform hyperparameter …")."""
        return self.posts.domain_tag(domain, objective)

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
                embeddings=self.embeddings,
                material=self._read_material(store),
            )
        log.info("quiz bank fill (domain %s): %s", d, stats.to_dict())
        return stats

    def _read_material(self, store: KnowledgeStore) -> Material:
        """The store's chunks as question generation reads them, kept until an ingest changes
        the store (a gap fill then costs generation only)."""
        generation = store.generation()
        if self._material is None or self._material[0] != generation:
            chunks = quiz_bank.load_chunks(store, self.blueprint.id)
            self._material = (generation, Material.read(chunks, self.blueprint))
        return self._material[1]

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

    def _candidates(self) -> list:
        """The bank's questions in the formats the blueprint's exam uses."""
        return quiz_bank.candidates(self.records, self.blueprint.id, self.blueprint.formats)

    def _bank(self) -> list:
        """The bank's candidates; an empty bank is filled first (errors propagate)."""
        bank = self._candidates()
        if not bank:
            self._fill_gap(None, quiet=False)
            bank = self._candidates()
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
                state.bank = self._candidates()
            pick = pick_next(state, self.weights, now, self.rng, domain=d, filled=filled)
        if pick.question_id is None:
            where_text = f" in {self.blueprint.domain(d).label}" if d is not None else ""
            raise QuizError("no_questions", SEEN_ALL.format(where=where_text))
        with self.records.begin() as conn:
            return self.posts.create(
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
            .where(ATTEMPT.c.blueprint == self.blueprint.id)  # another exam's domains differ
            .group_by(ATTEMPT.c.domain)
        )
        session_q = (
            sa.select(QUESTION.c.domain, sa.func.count())
            .join(QUESTION, QUESTION.c.id == POST.c.question_id)
            .where(POST.c.user_id == who, POST.c.created_at >= now - BALANCE_WINDOW)
            .where(QUESTION.c.blueprint == self.blueprint.id)
            .group_by(QUESTION.c.domain)
        )
        with self.records.begin() as conn:
            cards = [Card(q, d, due) for q, d, due in conn.execute(cards_q)]
            last_shown = {q: at for q, at in conn.execute(shown_q)}
            recent = set(last_shown) | {q for (q,) in conn.execute(answered_q)}
            history = {d: (int(r or 0), int(n)) for d, n, r in conn.execute(history_q)}
            shown = {d: int(n) for d, n in conn.execute(session_q)}
        return LearnerState(
            bank=bank,
            cards=cards,
            recent=recent,
            history=history,
            last_shown=last_shown,
            shown_by_domain=shown,
        )

    # -- posts and answers ---------------------------------------------------------------------

    def shown(self, token: str) -> ShownQuestion:
        """A post as it was shown (e.g. to draw its message again). QuizError("unknown")."""
        return self.posts.shown(token)

    def set_message_ts(self, token: str, ts: str) -> None:
        """Remember the Slack message a post went out as. QuizError("unknown")."""
        self.posts.set_message_ts(token, ts)

    def answer(self, token: str, who: str, choices: Sequence[int]) -> Grade:
        """Grade ``who``'s answer to a post; each person's answer is recorded exactly once.

        ``choices``: 0-based option indices, as many as the question's ``choose``. A repeat
        (double click, retry, concurrent submission) returns the first answer's Grade with
        ``already_answered=True``. Raises QuizError: unknown, not_yours, invalid_choice,
        expired.
        """
        return self.grader.answer(token, who, choices)

    def recorded_grade(self, token: str, who: str) -> Grade | None:
        """``who``'s recorded answer to a post, graded (None: not answered). QuizError unknown."""
        return self.grader.recorded(token, who)

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
            bank = self._candidates()
        return self.exams.start(who, where, bank, n, now)

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
            bank = self._candidates()
            pick = pick_daily(bank, last_posted, self.weights, now, self.rng)
        if pick.question_id is None:  # cannot happen with a non-empty bank
            raise QuizError("no_questions", NO_QUESTIONS_MADE)
        with self.records.begin() as conn:
            return self.posts.create(conn, pick.question_id, "daily", channel, None, now)

    def daily_recap(self, post_token_or_id: str | int) -> DailyRecap:
        """How the channel did on a post: its answer, how many answered, the share correct."""
        with self.records.begin() as conn:
            row = self.posts.lookup(conn, post_token_or_id)
            if row is None:
                raise QuizError("unknown", UNKNOWN)
            answered, right = conn.execute(
                sa.select(
                    sa.func.count(), sa.func.sum(sa.case((ATTEMPT.c.correct, 1), else_=0))
                ).where(ATTEMPT.c.post_id == row.id)
            ).one()
        q = QuestionView(row)
        return DailyRecap(
            stem=q.stem,
            answer_text=(
                answer_text(q.format, q.options, q.correct, q.choose)
                if is_arranged(q.format)
                else "; ".join(q.options[i] for i in sorted(q.correct))
            ),
            answered=int(answered),
            share_correct=(int(right or 0) / answered) if answered else 0.0,
        )
