"""The exam question: its model, the checks every question must pass, and generation stats.

A `Question` is one exam item in one of four formats: ``single`` (one correct option of four),
``multi`` ("choose 2 of 5"), ``ordering`` (3-5 steps shown shuffled; ``correct`` lists the
option indices in the right order) and ``matching`` (3-5 terms, then as many descriptions in
``options``; ``correct[i]`` is the description, counted from 0 among the descriptions, that
term ``i`` matches). Ordering and matching items are answered with a sequence (one step per
position, one description per term) and scored all-or-nothing (`knowledge.arranged.is_right`).
A question keeps the chunk it was written from (``chunk_ids`` plus the ``passage`` text) so
every question can be checked against, and cite, its source.
`validate_question` lists everything wrong with one; both generators (`knowledge.quiz_offline`,
`knowledge.quiz_llm`) build `Question`s from this module and `knowledge.quiz.generate` validates
them. `GenerationStats` is what one generation run tried, kept and rejected.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, Field, field_validator

from knowledge.arranged import MATCHING, ORDERING, gives_position, is_arranged, split_options
from knowledge.text import clean_inline, content_terms

if TYPE_CHECKING:
    from knowledge.blueprint import Blueprint

#: Options per format, and how many of them are correct.
OPTION_COUNT = {"single": 4, "multi": 5}
CHOOSE = {"single": 1, "multi": 2}
MIN_ITEMS, MAX_ITEMS = 3, 5  # steps of an ordering item, terms of a matching item
MAX_STEP_WORDS = 25  # a step a learner reads in one go
PAIR_LINES = 4  # a term's line and the next lines (its bullets) hold its description

#: Share of the explanation's content terms that must occur in the cited passage.
EXPLANATION_OVERLAP = 0.5
#: Share of a (model-written) correct option's content terms that must occur in the passage.
OPTION_SUPPORT = 0.6

Format = Literal["single", "multi", "ordering", "matching"]


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
    choose: int = 1  # 1 for single, 2 for "choose 2 of 5", the item count when arranged
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
        """The text of the correct options, in option order (arranged: the steps in their
        right order; the terms of a matching item)."""
        if self.format == "ordering":
            return [self.options[i] for i in self.correct if 0 <= i < len(self.options)]
        if self.format == "matching":
            return self.options[: self.choose]
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
    text = q.passage if passage is None else passage
    if is_arranged(q.format):
        return _arranged_errors(q, text) + _common_errors(q, text, blueprint)
    errors: list[str] = []
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
    return errors + _common_errors(q, text, blueprint)


def _common_errors(q: Question, text: str, blueprint: Blueprint | None) -> list[str]:
    """The checks every format shares: stem, explanation, grounding, answers, blueprint."""
    errors: list[str] = []
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
    for answer in [] if is_arranged(q.format) else q.answers:
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


def _arranged_errors(q: Question, text: str) -> list[str]:
    """Ordering and matching: 3-5 distinct items, a shuffled permutation as the key, no item
    that gives its place away, and (offline) every step, term and description in the passage,
    the steps in the passage's order."""
    n = q.choose
    if not MIN_ITEMS <= n <= MAX_ITEMS:
        return [f"item_count: {q.format} items have {MIN_ITEMS}-{MAX_ITEMS} items, not {n}"]
    expected = n if q.format == ORDERING else 2 * n
    if len(q.options) != expected:
        return [f"option_count: {q.format} of {n} needs {expected} options, got {len(q.options)}"]
    errors: list[str] = []
    if sorted(q.correct) != list(range(n)):
        errors.append(f"correct_range: {q.correct} is not an order of the {n} items")
    elif q.correct == list(range(n)):
        errors.append("unshuffled: the items are shown in their right order")
    items, targets = split_options(q.format, q.options, n)
    for part in (items, targets) if q.format == MATCHING else (items,):
        if any(not o.strip() for o in part):
            errors.append("empty_option: an option is blank")
        if len({normalize_option(o) for o in part}) != len(part):
            errors.append("repeated_options: two items are the same after normalisation")
    if q.format == ORDERING:
        if any(gives_position(s) for s in items):
            errors.append("position_giveaway: a step says where it goes")
        if any(len(s.split()) > MAX_STEP_WORDS for s in items):
            errors.append(f"long_step: a step is over {MAX_STEP_WORDS} words")
    elif any(appears_in(term_core(term), d) for term in items for d in targets):
        errors.append("term_in_description: a description names a term")
    if q.generator.startswith("offline:") and text.strip():
        errors += _arranged_grounding(q, items, targets, text)
    return errors


_MAKER = re.compile(r"^(?:(?:Amazon|AWS|Apache|SageMaker)\s+)+")


def term_core(term: str) -> str:
    """A term without its maker ("Apache Parquet" -> "Parquet"), as a description may write it."""
    return _MAKER.sub("", term) or term


def _arranged_grounding(q: Question, items: list[str], targets: list[str], text: str) -> list[str]:
    """Offline arranged items: every option in the passage, each term's description on its
    line or the `PAIR_LINES` - 1 lines after it, the steps in the passage's order."""
    missing = [o for o in (*items, *targets) if not appears_in(o, text)]
    if missing:
        return [f"answer_unsupported: {missing[0]!r} is not in the passage"]
    if q.format == MATCHING:
        lines = [line for line in text.splitlines() if line.strip()]
        for k, i in enumerate(q.correct):
            near = [
                " ".join(lines[j : j + PAIR_LINES])
                for j, line in enumerate(lines)
                if appears_in(items[k], line)
            ]
            if not any(appears_in(targets[i], block) for block in near):
                return [f"pair_unsupported: the passage does not pair {items[k]!r} with its match"]
    if q.format == ORDERING:
        hay = " " + _flat(" ".join(clean_inline(line) for line in text.splitlines())) + " "
        where = [hay.find(f" {_flat(clean_inline(items[i]))} ") for i in q.correct]
        if where != sorted(where):
            return ["order_unsupported: the passage lists the steps in another order"]
    return []


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


def valid_only(questions: Iterable[Question], blueprint: Blueprint | None = None) -> list[Question]:
    """The questions that pass `validate_question`."""
    return [q for q in questions if not validate_question(q, blueprint=blueprint)]


__all__ = [
    "CHOOSE",
    "MAX_ITEMS",
    "MIN_ITEMS",
    "OPTION_COUNT",
    "ChunkLike",
    "Format",
    "GenerationStats",
    "Question",
    "appears_in",
    "term_core",
    "normalize_option",
    "normalize_stem",
    "passage_of",
    "reason_of",
    "term_overlap",
    "valid_only",
    "validate_question",
]
