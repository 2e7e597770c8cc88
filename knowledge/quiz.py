"""Exam-style questions from the material: `generate` (LLM first, offline fallback).

The question model, its validation and `GenerationStats` live in `knowledge.question`.
Generators live next door:

- ``knowledge.quiz_offline.generate_offline``: built from the material's own structure
  (scenarios from decision lines and needs, term and description, "choose two", blanked
  definitions, page title and summary sentence); no model.
- ``knowledge.quiz_llm.generate_llm``: one question per chunk from the chat model
  (``prompts/quiz.md``), rejected unless it survives `validate_question`.

`generate` ties them together: LLM when a model is given (falling back to offline questions from
the same chunk); every candidate, whoever wrote it, validated, then checked for exam relevance,
key safety and option kinds and tagged with the objective it tests (`knowledge.quiz_checks`);
near-duplicates dropped by `Question.fingerprint`; no page supplies more than
`knowledge.quiz_relevance.MAX_PAGE_SHARE` of the run (ordering and matching items, which are
few, are capped among their own format); and a `GenerationStats` that says what was
tried, kept and rejected (by reason and objective).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from knowledge.arranged import is_arranged
from knowledge.question import (
    ChunkLike,
    Format,
    GenerationStats,
    Question,
    normalize_stem,
    reason_of,
    validate_question,
)
from knowledge.quiz_checks import QuestionChecks
from knowledge.quiz_llm import generate_llm
from knowledge.quiz_material import Material
from knowledge.quiz_offline import generate_offline
from knowledge.quiz_relevance import MAX_PAGE_SHARE, cap_per_source

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

    from knowledge.blueprint import Blueprint


def _chunk_domain(chunk: ChunkLike) -> int:
    try:
        return int(chunk.metadata.get("domain") or 0)
    except (TypeError, ValueError):
        return 0


class _Keeper:
    """Validation, the checks and de-duplication of one run, with its stats."""

    def __init__(self, blueprint: Blueprint, checks: QuestionChecks, stats: GenerationStats):
        self.blueprint = blueprint
        self.checks = checks
        self.stats = stats
        self.kept: list[Question] = []
        self.seen: set[str] = set()

    def reject(self, reasons: Sequence[str]) -> bool:
        for reason in dict.fromkeys(reasons):
            self.stats.rejected[reason] += 1
        return False

    def keep(self, q: Question, embedding_checked: bool = False) -> bool:
        errors = validate_question(q, blueprint=self.blueprint)
        if errors:
            return self.reject([reason_of(e) for e in errors])
        problems = self.checks.problems(q)
        if not problems and not embedding_checked and self.checks.embedding_rejects([q]):
            problems = ["key_unsafe_embedding"]
        if problems:
            return self.reject([p if q.generator != "llm" else f"llm_{p}" for p in problems])
        q = self.checks.retagged(q)
        keys = {q.fingerprint, "stem:" + normalize_stem(q.stem)}
        if keys & self.seen:
            return self.reject(["duplicate"])
        self.seen.update(keys)
        self.kept.append(q)
        return True


def generate(
    chunks: Sequence[ChunkLike],
    blueprint: Blueprint,
    *,
    chat_model: BaseChatModel | None = None,
    embeddings: Embeddings | None = None,
    count: int | None = None,
    domain: int | None = None,
    rng: random.Random,
    multi_share: float = 0.3,
    page_share: float = MAX_PAGE_SHARE,
    material: Material | None = None,
) -> tuple[list[Question], GenerationStats]:
    """Questions from ``chunks``: validated, checked, near-duplicates dropped, with stats.

    With a ``chat_model`` each chunk (in ``rng`` order) is first given to the model
    (``multi_share`` of them as "choose 2 of 5"); when the model fails or its question is
    rejected, the offline questions citing that chunk stand in. Without a model, the offline
    generator runs over all chunks. ``embeddings`` adds the embedding key-safety check (the
    lexical one always runs). ``domain`` keeps one exam domain (the other domains' chunks still
    lend sibling terms as distractors). No source supplies more than ``page_share`` of the
    result (see `cap_per_source`). ``count`` caps the result (offline questions are then spread
    round-robin across objectives, in ``rng`` order). ``material``: ``chunks`` already read by
    `Material.read` (a caller that generates often from the same store keeps it). Deterministic
    for a given ``rng`` state (and, with a model, its replies).
    """
    started = time.perf_counter()
    stats = GenerationStats()
    material = material or Material.read(chunks, blueprint, stats)
    chunks = chunks or [view.chunk for view in material.views]
    keeper = _Keeper(blueprint, QuestionChecks(material, embeddings), stats)
    if chat_model is None:
        _offline_run(keeper, chunks, material, rng, domain)
    else:
        _model_run(keeper, chunks, material, chat_model, rng, domain, count, multi_share)
    kept: list[Question] = []
    for family in ("plain", "ordering", "matching"):  # the few arranged items: by format
        pool = [
            q for q in keeper.kept if (q.format if is_arranged(q.format) else "plain") == family
        ]
        some, capped = cap_per_source(
            pool, lambda q: q.source, lambda q: q.objective, page_share, lambda q: q.format
        )
        kept += some
        if capped:
            stats.rejected["page_cap"] += capped
    if chat_model is None and count is not None and len(kept) > count:
        kept = _spread(kept, count, rng)
    stats.valid = len(kept)
    stats.per_objective = Counter(q.objective for q in kept)
    stats.per_generator = Counter(q.generator for q in kept)
    stats.seconds = time.perf_counter() - started
    return kept, stats


def _offline_run(
    keeper: _Keeper,
    chunks: Sequence[ChunkLike],
    material: Material,
    rng: random.Random,
    domain: int | None,
) -> None:
    candidates = generate_offline(
        chunks, keeper.blueprint, rng, stats=keeper.stats, material=material
    )
    candidates = [q for q in candidates if domain is None or q.domain == domain]
    keeper.stats.attempted += len(candidates)
    unsafe = keeper.checks.embedding_rejects(candidates)
    for n, q in enumerate(candidates):
        if n in unsafe and not validate_question(q, blueprint=keeper.blueprint):
            keeper.reject(["key_unsafe_embedding"])
            continue
        keeper.keep(q, embedding_checked=True)


def _model_run(
    keeper: _Keeper,
    chunks: Sequence[ChunkLike],
    material: Material,
    chat_model: BaseChatModel,
    rng: random.Random,
    domain: int | None,
    count: int | None,
    multi_share: float,
) -> None:
    stats = keeper.stats
    offline_by_chunk: dict[str, list[Question]] | None = None
    order = [c for c in chunks if domain is None or _chunk_domain(c) == domain]
    rng.shuffle(order)
    for chunk in order:
        if count is not None and len(keeper.kept) >= count:
            break
        fmt: Format = "multi" if rng.random() < multi_share else "single"
        stats.attempted += 1
        stats.llm_calls += 1
        q = generate_llm(chunk, keeper.blueprint, chat_model, fmt, stats=stats)
        if q is not None and keeper.keep(q):
            continue
        stats.llm_fallbacks += 1
        if offline_by_chunk is None:  # built once, over the whole pool (siblings matter)
            offline_by_chunk = {}
            offline = generate_offline(
                chunks, keeper.blueprint, random.Random(rng.random()), material=material
            )
            for cand in offline:
                offline_by_chunk.setdefault(cand.chunk_ids[0], []).append(cand)
        for cand in offline_by_chunk.get(chunk.id, []):
            stats.attempted += 1
            if keeper.keep(cand):
                break


def _spread(questions: list[Question], count: int, rng: random.Random) -> list[Question]:
    """``count`` questions taken round-robin across objectives (each objective in rng order)."""
    by_objective: dict[str, list[Question]] = {}
    for q in questions:
        by_objective.setdefault(q.objective, []).append(q)
    queues = []
    for objective in sorted(by_objective):
        items = list(by_objective[objective])
        rng.shuffle(items)
        queues.append(items)
    rng.shuffle(queues)
    out: list[Question] = []
    while len(out) < count and any(queues):
        for queue in queues:
            if queue and len(out) < count:
                out.append(queue.pop())
    return out


__all__ = ["generate"]
