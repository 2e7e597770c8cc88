"""Key safety: a question whose wrong option also fits the stem, or whose options differ in kind.

Two checks say whether a distractor's own description matches what the stem asks for:

- lexical (`lexically_unsafe`): most of the stem's specific words are in the distractor's
  description, about as many as in the answer's;
- by embedding (`embedding_unsafe`): the distractor's description is about as close to the stem
  as the answer's, or very close outright.

`mixed_kinds` flags options of different kinds (an AWS service beside an algorithm, a table
value beside a concept). The checks run on every candidate in `knowledge.quiz.generate`,
offline and model-written alike; the offline builder also passes unsafe siblings over while it
picks distractors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from knowledge.text import content_terms

#: A distractor whose description holds this share of the stem's specific words fits it too …
LEXICAL_SHARE = 0.5
#: … unless the answer's description holds clearly more of them.
LEXICAL_MARGIN = 0.15
MIN_CORE_TERMS = 3
#: Cosine similarity of a distractor's description to the stem that is too close outright …
EMBED_TOO_CLOSE = 0.85
#: … or that comes within this margin of the answer's (and above the floor).
EMBED_MARGIN = 0.03
EMBED_FLOOR = 0.5
#: Kinds that may stand side by side (see `mixed_kinds`).
COMPATIBLE_KINDS = (
    frozenset({"technique", "method", "approach", "strategy", "pattern", "transform",
               "transformation", "encoding"}),
    frozenset({"metric", "measure", "statistic"}),
    frozenset({"type", "problem", "paradigm", "task"}),
    frozenset({"mode", "option"}),
)  # fmt: skip
_UNKNOWN = frozenset({"name"})
_GENERIC = frozenset(  # stems of scenario words that say nothing about the answer
    {"amazon", "aw", "aws", "sagemaker", "data", "model", "team", "need", "company", "must"}
    | {"want", "should", "servic", "solution", "scientist", "engineer", "requirement"}
)
_QUOTED = re.compile(r"“([^”]+)”")
_QUESTION_TAIL = re.compile(r"\s*(?:Which|What)\b[^.?!]*\?\s*$")


def stem_core(stem: str) -> str:
    """What a stem says about the answer: its quotations, else the stem without its closing
    "Which … ?" question."""
    quoted = _QUOTED.findall(stem)
    if quoted:
        return " ".join(quoted)
    core = _QUESTION_TAIL.sub("", stem).strip()
    return core or stem


def _specific_terms(text: str) -> set[str]:
    return {t for t in content_terms(text) if t not in _GENERIC}


def lexically_unsafe(core: str, distractor_description: str, answer_description: str = "") -> bool:
    """Whether a distractor's description holds as much of the stem's core as the answer's
    (and at least `LEXICAL_SHARE` of it). Without the answer's description it only has to
    hold `LEXICAL_SHARE`."""
    terms = _specific_terms(core)
    if len(terms) < MIN_CORE_TERMS or not distractor_description:
        return False
    d_share = len(terms & _specific_terms(distractor_description)) / len(terms)
    if d_share < LEXICAL_SHARE:
        return False
    if not answer_description:
        return True
    a_share = len(terms & _specific_terms(answer_description)) / len(terms)
    return d_share >= a_share - LEXICAL_MARGIN


def embedding_unsafe(
    core: np.ndarray, answers: Sequence[np.ndarray], distractors: Sequence[np.ndarray]
) -> bool:
    """Whether a distractor's description is as close to the stem's core as the answer's
    (unit vectors: cosine is the dot product)."""
    best_answer = max((float(core @ a) for a in answers), default=None)
    for vector in distractors:
        sim = float(core @ vector)
        if sim >= EMBED_TOO_CLOSE:
            return True
        if best_answer is not None and sim >= EMBED_FLOOR and sim >= best_answer - EMBED_MARGIN:
            return True
    return False


def mixed_kinds(kinds: Sequence[str]) -> bool:
    """Whether options of these kinds (`knowledge.quiz_material.Material.kind_of`) differ:
    an identifier beside a name, an AWS service beside an algorithm, two unrelated kinds.
    "name" (a capitalised name of unknown kind) goes with any kind but an identifier."""
    distinct = set(kinds)
    if len(distinct) <= 1:
        return False
    if "identifier" in distinct:
        return True
    known = distinct - _UNKNOWN
    if len(known) <= 1:
        return False
    return not any(known <= group for group in COMPATIBLE_KINDS)


__all__ = [
    "embedding_unsafe",
    "lexically_unsafe",
    "mixed_kinds",
    "stem_core",
]
