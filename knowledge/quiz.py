"""Exam-style questions from the material: `generate` (LLM first, offline fallback).

The question model, its validation and `GenerationStats` live in `knowledge.question`.
Generators live next door:

- ``knowledge.quiz_offline.generate_offline``: built from the material's own structure (term and
  description, "choose two", blanked definitions, page title and summary sentence); no model.
- ``knowledge.quiz_llm.generate_llm``: one question per chunk from the chat model
  (``prompts/quiz.md``), rejected unless it survives `validate_question`.

`generate` ties them together: LLM when a model is given (falling back to offline questions from
the same chunk), every candidate validated, near-duplicates dropped by `Question.fingerprint`,
and a `GenerationStats` that says what was tried, kept and rejected (by reason and objective).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from knowledge.question import (
    ChunkLike,
    Format,
    GenerationStats,
    Question,
    normalize_stem,
    reason_of,
    validate_question,
)
from knowledge.quiz_llm import generate_llm
from knowledge.quiz_offline import generate_offline

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from knowledge.blueprint import Blueprint


# --------------------------------------------------------------------------------------------
# Generation over many chunks
# --------------------------------------------------------------------------------------------


def _chunk_domain(chunk: ChunkLike) -> int:
    try:
        return int(chunk.metadata.get("domain") or 0)
    except (TypeError, ValueError):
        return 0


def generate(
    chunks: Sequence[ChunkLike],
    blueprint: Blueprint,
    *,
    chat_model: BaseChatModel | None = None,
    count: int | None = None,
    domain: int | None = None,
    rng: random.Random,
    multi_share: float = 0.3,
) -> tuple[list[Question], GenerationStats]:
    """Questions from ``chunks``: validated, near-duplicates dropped, with stats.

    With a ``chat_model`` each chunk (in ``rng`` order) is first given to the model
    (``multi_share`` of them as "choose 2 of 5"); when the model fails or its question is
    rejected, the offline questions citing that chunk stand in. Without a model, the offline
    generator runs over all chunks. ``count`` caps the result (offline questions are then spread
    round-robin across objectives, in ``rng`` order); ``domain`` keeps one exam domain (the
    other domains' chunks still lend the offline generator sibling terms as distractors).
    Deterministic for a given ``rng`` state (and, with a model, its replies).
    """
    started = time.perf_counter()
    stats = GenerationStats()
    pool = [c for c in chunks if domain is None or _chunk_domain(c) == domain]
    kept: list[Question] = []
    seen: set[str] = set()

    def keep(q: Question) -> bool:
        errors = validate_question(q, blueprint=blueprint)
        if errors:
            for error in dict.fromkeys(reason_of(e) for e in errors):
                stats.rejected[error] += 1
            return False
        keys = {q.fingerprint, "stem:" + normalize_stem(q.stem)}
        if keys & seen:
            stats.rejected["duplicate"] += 1
            return False
        seen.update(keys)
        kept.append(q)
        stats.valid += 1
        stats.per_objective[q.objective] += 1
        stats.per_generator[q.generator] += 1
        return True

    if chat_model is None:
        candidates = generate_offline(chunks, blueprint, rng, stats=stats)
        candidates = [q for q in candidates if domain is None or q.domain == domain]
        stats.attempted += len(candidates)
        for q in candidates:
            keep(q)
        if count is not None and len(kept) > count:
            kept = _spread(kept, count, rng)
            stats.valid = len(kept)
    else:
        offline_by_chunk: dict[str, list[Question]] | None = None
        order = list(pool)
        rng.shuffle(order)
        for chunk in order:
            if count is not None and len(kept) >= count:
                break
            fmt: Format = "multi" if rng.random() < multi_share else "single"
            stats.attempted += 1
            stats.llm_calls += 1
            q = generate_llm(chunk, blueprint, chat_model, fmt, stats=stats)
            if q is not None and keep(q):
                continue
            stats.llm_fallbacks += 1
            if offline_by_chunk is None:  # built once, over the whole pool (siblings matter)
                offline_by_chunk = {}
                for cand in generate_offline(chunks, blueprint, random.Random(rng.random())):
                    offline_by_chunk.setdefault(cand.chunk_ids[0], []).append(cand)
            for cand in offline_by_chunk.get(chunk.id, []):
                stats.attempted += 1
                if keep(cand):
                    break
    stats.per_objective = Counter(q.objective for q in kept)
    stats.per_generator = Counter(q.generator for q in kept)
    stats.seconds = time.perf_counter() - started
    return kept, stats


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
