"""The question bank: questions from `knowledge.quiz.generate` stored in `quiz_questions`.

Filling reads every chunk of the store, generates, and inserts with ``ON CONFLICT DO NOTHING``
on the question's fingerprint, so a refill, or two processes filling at once, never stores a
near-duplicate twice. Reads return plain rows for the quiz service and `bot.selection`.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bot.records import DEFAULT_BLUEPRINT, QuizQuestion, Records
from bot.selection import Candidate
from knowledge.arranged import is_arranged
from knowledge.question import GenerationStats, Question, normalize_stem
from knowledge.quiz import generate
from knowledge.tags import for_blueprint

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

    from knowledge.blueprint import Blueprint
    from knowledge.quiz_material import Material
    from knowledge.store import KnowledgeStore, StoredChunk

INSERT_BATCH = 200
TITLE_MAX_CHARS = 300  # quiz_questions.title is VARCHAR(300)


@dataclass
class FillStats(GenerationStats):
    """`GenerationStats` of one fill, plus what reached the bank."""

    inserted: int = 0  # new to the bank
    in_bank: int = 0  # valid, but the bank already had the question (same fingerprint or stem)
    bank_size: int = 0  # questions in the bank for this blueprint afterwards

    @classmethod
    def of(cls, stats: GenerationStats, inserted: int, in_bank: int, bank_size: int) -> FillStats:
        return cls(**vars(stats), inserted=inserted, in_bank=in_bank, bank_size=bank_size)

    def to_dict(self) -> dict[str, Any]:
        extra = {"inserted": self.inserted, "in_bank": self.in_bank, "bank_size": self.bank_size}
        return {**super().to_dict(), **extra}


def bank_fingerprint(q: Question, blueprint_id: str) -> str:
    """The question's fingerprint in its exam's bank: unique across banks, since one passage
    may give the same question for two exams. MLS-C01's bank keeps the plain fingerprint (its
    rows predate other exams)."""
    if blueprint_id == DEFAULT_BLUEPRINT:
        return q.fingerprint
    return hashlib.sha256(f"{blueprint_id}|{q.fingerprint}".encode()).hexdigest()


def question_values(q: Question, blueprint_id: str, now: datetime) -> dict[str, Any]:
    """One `quiz_questions` row for a generated question."""
    return {
        "fingerprint": bank_fingerprint(q, blueprint_id),
        "blueprint": blueprint_id,
        "domain": q.domain,
        "objective": q.objective[:16],
        "format": q.format,
        "choose": q.choose,
        "stem": q.stem,
        "options": list(q.options),
        "correct": list(q.correct) if is_arranged(q.format) else sorted(q.correct),
        "explanation": q.explanation,
        "chunk_ids": list(q.chunk_ids),
        "source": q.source,
        "title": q.title[:TITLE_MAX_CHARS],
        "generator": q.generator[:32],
        "created_at": now,
    }


def insert_questions(
    records: Records, questions: Iterable[Question], blueprint_id: str, now: datetime
) -> int:
    """Store questions, skipping fingerprints already in the bank; returns how many were new."""
    rows = [question_values(q, blueprint_id, now) for q in questions]
    inserted = 0
    for start in range(0, len(rows), INSERT_BATCH):
        batch = rows[start : start + INSERT_BATCH]
        stmt = (
            records.insert(QuizQuestion)
            .values(batch)
            .on_conflict_do_nothing(index_elements=["fingerprint"])
            .returning(QuizQuestion.id)
        )
        with records.begin() as conn:
            inserted += len(conn.execute(stmt).all())
    return inserted


def load_chunks(store: KnowledgeStore, blueprint_id: str) -> list[StoredChunk]:
    """Every chunk in the store (empty when nothing was ingested), its plain domain and
    objective being its tag for `blueprint_id` (chunks carry one per installed blueprint)."""
    return [
        replace(chunk, metadata=for_blueprint(chunk.metadata, blueprint_id))
        for batch in store.iter_all()
        for chunk in batch
    ]


def fill(
    records: Records,
    store: KnowledgeStore,
    blueprint: Blueprint,
    *,
    now: datetime,
    rng: random.Random,
    chat_model: BaseChatModel | None = None,
    domain: int | None = None,
    count: int | None = None,
    chunks: Sequence[StoredChunk] | None = None,
    embeddings: Embeddings | None = None,
    material: Material | None = None,
) -> FillStats:
    """Generate from the store's chunks (or ``chunks``) and insert what is new.

    ``embeddings`` adds the embedding key-safety check; ``material``: the chunks already read
    (see `knowledge.quiz.generate`).

    A question whose normalised stem is already in the bank is skipped too: the offline
    generator draws distractors at random, so a refill would otherwise add the same question
    with other wrong options (a new fingerprint, the same question to a learner).
    """
    pool = (
        load_chunks(store, blueprint.id)
        if chunks is None and material is None
        else list(chunks or ())
    )
    questions, stats = generate(
        pool,
        blueprint,
        chat_model=chat_model,
        embeddings=embeddings,
        count=count,
        domain=domain,
        rng=rng,
        material=material,
    )
    known = bank_stems(records, blueprint.id)
    new = [q for q in questions if normalize_stem(q.stem) not in known]
    inserted = insert_questions(records, new, blueprint.id, now)
    return FillStats.of(
        stats, inserted, len(questions) - inserted, bank_size(records, blueprint.id)
    )


# --------------------------------------------------------------------------- reads


def bank_size(records: Records, blueprint_id: str) -> int:
    stmt = sa.select(sa.func.count()).where(QuizQuestion.blueprint == blueprint_id)
    with records.begin() as conn:
        return int(conn.execute(stmt).scalar_one())


def bank_stems(records: Records, blueprint_id: str) -> set[str]:
    """The normalised stems of the blueprint's questions (near-duplicate check on refills)."""
    stmt = sa.select(QuizQuestion.stem).where(QuizQuestion.blueprint == blueprint_id)
    with records.begin() as conn:
        return {normalize_stem(stem) for (stem,) in conn.execute(stmt)}


def candidates(
    records: Records, blueprint_id: str, formats: Sequence[str] | None = None
) -> list[Candidate]:
    """Every question of the blueprint as (id, domain), by id; only ``formats`` when given
    (an exam without ordering or matching items never draws one)."""
    stmt = sa.select(QuizQuestion.id, QuizQuestion.domain).where(
        QuizQuestion.blueprint == blueprint_id
    )
    if formats is not None:
        stmt = stmt.where(QuizQuestion.format.in_(list(formats)))
    stmt = stmt.order_by(QuizQuestion.id)
    with records.begin() as conn:
        return [Candidate(qid, domain) for qid, domain in conn.execute(stmt)]


QUESTION = QuizQuestion.__table__


def get_question(records: Records, question_id: int) -> sa.Row | None:
    """One `quiz_questions` row with its answer (grading, recaps, the demo), or None."""
    with records.begin() as conn:
        return conn.execute(sa.select(QUESTION).where(QUESTION.c.id == question_id)).first()


def to_question(row: sa.Row) -> Question:
    """A stored question back as a `knowledge.question.Question` (without its passage)."""
    return Question(
        stem=row.stem,
        options=list(row.options),
        correct=list(row.correct),
        explanation=row.explanation,
        chunk_ids=list(row.chunk_ids),
        source=row.source,
        title=row.title,
        domain=row.domain,
        objective=row.objective,
        format=row.format,
        choose=row.choose,
        generator=row.generator,
    )
