"""Exam-style questions: the model, its validation, and `generate` (LLM first, offline fallback).

A `Question` is one exam item in either format: ``single`` (one correct option of four) or
``multi`` ("choose 2 of 5"). It keeps the chunk it was written from (``chunk_ids`` plus the
``passage`` text) so every question can be checked against, and cite, its source.

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

import hashlib
import random
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, Field, field_validator

from knowledge.text import clean_inline, content_terms

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from knowledge.blueprint import Blueprint

#: Options per format, and how many of them are correct.
OPTION_COUNT = {"single": 4, "multi": 5}
CHOOSE = {"single": 1, "multi": 2}

#: Share of the explanation's content terms that must occur in the cited passage.
EXPLANATION_OVERLAP = 0.5
#: Share of a (model-written) correct option's content terms that must occur in the passage.
OPTION_SUPPORT = 0.6

Format = Literal["single", "multi"]


class ChunkLike(Protocol):
    """What the generators read from a chunk: `knowledge.store.StoredChunk` has it."""

    id: str
    text: str
    metadata: dict


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_VENDOR_PREFIX = re.compile(r"^(?:(?:amazon|aws|sagemaker)\s+)+")


def normalize_option(text: str) -> str:
    """Option text for equality: case, punctuation, spacing and an Amazon/AWS prefix ignored."""
    flat = _NON_ALNUM.sub(" ", clean_inline(text).lower()).strip()
    return _VENDOR_PREFIX.sub("", flat).strip() or flat


def normalize_stem(text: str) -> str:
    """A stem as its sorted content terms: near-identical wordings map to the same string."""
    return " ".join(sorted(set(content_terms(clean_inline(text)))))


def passage_of(chunk: ChunkLike) -> str:
    """The text a question cites: heading path, then the chunk text."""
    path = str(chunk.metadata.get("title_path") or "")
    return f"{path}\n{chunk.text}" if path else chunk.text


def term_overlap(text: str, passage: str) -> float:
    """Share of the content terms of ``text`` that also occur in ``passage`` (0 when empty)."""
    terms = set(content_terms(text))
    if not terms:
        return 0.0
    return len(terms & set(content_terms(passage))) / len(terms)


def _flat(text: str) -> str:
    return " ".join(_NON_ALNUM.sub(" ", text.lower()).split())


def appears_in(option: str, passage: str) -> bool:
    """Whether an option's words appear, in order, in the passage (markup and case ignored)."""
    needle = _flat(clean_inline(option))
    hay = _flat(" ".join(clean_inline(line) for line in passage.splitlines()))
    return bool(needle) and f" {needle} " in f" {hay} "


# --------------------------------------------------------------------------------------------
# The question
# --------------------------------------------------------------------------------------------


class Question(BaseModel):
    """One exam item with its answer, explanation and the passage it rests on."""

    stem: str
    options: list[str]
    correct: list[int]  # 0-based indices into options
    explanation: str
    chunk_ids: list[str]
    source: str
    title: str
    domain: int
    objective: str  # objective id, e.g. "3.2"
    format: Format
    choose: int = 1  # 1 for single, 2 for "choose 2 of 5"
    generator: str  # "offline:<kind>" | "llm"
    # The cited chunk as the generator saw it (heading path + text): validation and citations.
    passage: str = Field(default="", repr=False)

    @field_validator("generator")
    @classmethod
    def _generator_name(cls, value: str) -> str:
        if value != "llm" and not re.fullmatch(r"offline:[a-z_]+", value):
            raise ValueError(f"generator must be 'llm' or 'offline:<kind>', not {value!r}")
        return value

    @property
    def answers(self) -> list[str]:
        """The text of the correct options, in option order."""
        return [self.options[i] for i in sorted(self.correct) if 0 <= i < len(self.options)]

    @property
    def fingerprint(self) -> str:
        """Hash of the normalised stem and the sorted normalised options (near-duplicates match)."""
        options = sorted(normalize_option(o) for o in self.options)
        key = normalize_stem(self.stem) + "\x00" + "\x01".join(options)
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]

    def to_public_dict(self) -> dict[str, Any]:
        """What a learner may see before answering: no correct set, no explanation."""
        return {
            "fingerprint": self.fingerprint,
            "stem": self.stem,
            "options": list(self.options),
            "format": self.format,
            "choose": self.choose,
            "domain": self.domain,
            "objective": self.objective,
            "source": self.source,
            "title": self.title,
        }


def validate_question(
    q: Question, passage: str | None = None, blueprint: Blueprint | None = None
) -> list[str]:
    """Everything wrong with a question, as ``"<reason>: <detail>"`` lines; empty when valid.

    ``passage`` (default: ``q.passage``) is the cited chunk; without one the grounding checks
    fail. Offline questions must have their correct options appear in the passage; model-written
    ones must have most of each correct option's terms there. With a ``blueprint`` the domain and
    objective must belong to it.
    """
    errors: list[str] = []
    text = q.passage if passage is None else passage
    expected = OPTION_COUNT.get(q.format)
    if expected is None:
        return [f"format: unknown format {q.format!r}"]
    if q.choose != CHOOSE[q.format]:
        errors.append(f"choose: {q.format} questions choose {CHOOSE[q.format]}, not {q.choose}")
    if len(q.options) != expected:
        errors.append(f"option_count: {q.format} needs {expected} options, got {len(q.options)}")
    if any(not o.strip() for o in q.options):
        errors.append("empty_option: an option is blank")
    normalized = [normalize_option(o) for o in q.options]
    if len(set(normalized)) != len(normalized):
        errors.append("repeated_options: two options are the same after normalisation")
    if any(not 0 <= i < len(q.options) for i in q.correct):
        errors.append(f"correct_range: correct indices {q.correct} outside the options")
    if len(set(q.correct)) != q.choose or len(q.correct) != q.choose:
        errors.append(f"correct_count: {len(set(q.correct))} correct options, expected {q.choose}")
    if not q.stem.strip():
        errors.append("empty_stem: the stem is blank")
    if not q.explanation.strip():
        errors.append("empty_explanation: the explanation is blank")
    if not q.chunk_ids:
        errors.append("no_chunk: the question cites no chunk")
    if not text.strip():
        errors.append("no_passage: nothing to check the question against")
        return errors
    if q.explanation.strip():
        overlap = term_overlap(q.explanation, text)
        if overlap < EXPLANATION_OVERLAP:
            errors.append(f"explanation_unsupported: {overlap:.0%} of its terms are in the passage")
    for answer in q.answers:
        if q.generator.startswith("offline:"):
            supported = appears_in(answer, text)
        else:
            supported = appears_in(answer, text) or term_overlap(answer, text) >= OPTION_SUPPORT
        if not supported:
            errors.append(f"answer_unsupported: {answer!r} is not supported by the passage")
        if len(normalize_option(answer)) >= 3 and appears_in(answer, q.stem):
            errors.append(f"answer_in_stem: the stem names the answer {answer!r}")
    if blueprint is not None:
        try:
            objective = blueprint.objective(q.objective)
        except KeyError:
            errors.append(f"objective: {q.objective!r} is not an objective of {blueprint.id}")
        else:
            if objective.domain_id != q.domain:
                errors.append(f"domain: objective {q.objective} is in domain {objective.domain_id}")
    return errors


def reason_of(error: str) -> str:
    """The reason code of a `validate_question` line ("repeated_options: ..." -> its code)."""
    return error.split(":", 1)[0].strip()


# --------------------------------------------------------------------------------------------
# Generation over many chunks
# --------------------------------------------------------------------------------------------


@dataclass
class GenerationStats:
    """What one `generate` run tried, kept and threw away."""

    attempted: int = 0  # candidate questions tried (including ones a generator gave up on)
    valid: int = 0  # kept: valid and not a near-duplicate
    rejected: Counter = field(default_factory=Counter)  # reason -> count
    per_objective: Counter = field(default_factory=Counter)  # objective id -> kept
    per_generator: Counter = field(default_factory=Counter)  # generator -> kept
    llm_calls: int = 0
    llm_fallbacks: int = 0  # chunks where the model gave nothing usable
    seconds: float = 0.0

    def reject(self, reason: str, attempted: bool = True) -> None:
        self.rejected[reason] += 1
        if attempted:
            self.attempted += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "attempted": self.attempted,
            "valid": self.valid,
            "valid_share": round(self.valid / self.attempted, 4) if self.attempted else 0.0,
            "rejected": dict(sorted(self.rejected.items(), key=lambda kv: (-kv[1], kv[0]))),
            "per_objective": dict(sorted(self.per_objective.items())),
            "per_generator": dict(sorted(self.per_generator.items())),
            "llm_calls": self.llm_calls,
            "llm_fallbacks": self.llm_fallbacks,
            "seconds": round(self.seconds, 3),
        }


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
    from knowledge.quiz_llm import generate_llm
    from knowledge.quiz_offline import generate_offline

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


def valid_only(questions: Iterable[Question], blueprint: Blueprint | None = None) -> list[Question]:
    """The questions that pass `validate_question`."""
    return [q for q in questions if not validate_question(q, blueprint=blueprint)]


__all__ = [
    "CHOOSE",
    "OPTION_COUNT",
    "ChunkLike",
    "GenerationStats",
    "Question",
    "appears_in",
    "generate",
    "normalize_option",
    "normalize_stem",
    "passage_of",
    "reason_of",
    "term_overlap",
    "valid_only",
    "validate_question",
]
