"""Does the material answer the question? Decided from the evidence as a whole.

A list chunk of the study guide ("Amazon Polly - turns text into lifelike speech", then eight
more services) has a low cosine to a question about one of its entries, so the best cosine
alone refuses exactly the guide's answers. The decision here weighs:

* **the question's terms found in one passage item** (`passages.Sentence.item`: a list entry
  with its bullets, or a paragraph under one heading), each term weighted by how rare it is in
  the whole store (BM25's document frequencies), so "Neo" or "Random Cut Forest" count far more
  than "data" or "model"; words that only frame the question ("difference", "best", "which
  service") count little. Two items may share the work (a comparison names two things);
* **the best dense cosine**, blended in with a small weight (a paraphrase with few shared
  words still counts);
* **names no passage mentions**: a capitalised name, acronym or versioned name in the
  question ("Azure", "Bedrock", "AI-102") that appears in no retrieved passage vetoes
  coverage, however close the passages are.

``score = (1 - DENSE_WEIGHT) * share + DENSE_WEIGHT * cosine``; covered when no name is missing
and ``score >= threshold`` (`Settings.not_covered_threshold`). The weights and the threshold are
calibrated, cross-validated, by bench/answers.py on tests/data/answer_questions.jsonl.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from knowledge.passages import Sentence
from knowledge.text import content_terms, stem_word, wordset
from knowledge.types import Hit

#: Weight of the best dense cosine in the score (the rest is the question's terms found).
DENSE_WEIGHT = 0.5
#: A second item of the same passage may complete the first (X vs Y); its help counts at this
#: discount.
SECOND_ITEM_DISCOUNT = 0.85

#: Words that frame a question rather than name its topic.
FRAMING = wordset(
    """difference differences differ different compare comparison compared versus vs between
    kind kinds type types sort good best better worse idea way ways should shall need needs want
    wants wish tell mean meaning meant work works working happen happens look looks like example
    examples pick picking choose choosing choice decide help helps thing things right correct
    option options recommend recommended get gets go make sure possible able exactly main key
    important purpose useful usually typically really actually just also first still well much
    many long often every someone something anything know learn understand find trying try let
    me us say said call called does doing done one two three"""
)
#: Words that say what kind of answer is wanted ("Which service ..."): they matter a little.
ANSWER_TYPES = wordset(
    """service services tool tools feature features algorithm algorithms option method methods
    technique techniques approach metric metrics capability capabilities product offering aws
    amazon"""
)
FRAMING_FACTOR, ANSWER_TYPE_FACTOR = 0.15, 0.35
#: A name in the question ("XGBoost", "Neo") is what the question is about: it counts double.
NAME_FACTOR = 2.0
_GENERIC_NAMES = wordset("aws amazon i")
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-.][A-Za-z0-9]+)*")
_WORD = re.compile(r"[a-z0-9]+")
_CASED = re.compile(r"[A-Za-z0-9]+")


class TermStats(Protocol):
    """Document frequencies of the store's terms (the lexical index provides them)."""

    @property
    def size(self) -> int: ...

    def document_frequencies(self, terms: Iterable[str]) -> dict[str, int]: ...


@dataclass
class Evidence:
    """What the coverage decision saw, and its verdict."""

    score: float
    share: float  # weighted share of the question's terms found in the best item(s)
    dense: float | None  # best dense cosine among the hits
    missing_names: list[str] = field(default_factory=list)
    best_item: tuple[int, int] | None = None  # (passage, item) that addresses the question
    covered: bool = False


def term_keys(text: str) -> list[str]:
    """The content terms (stems) of a text; `has_term` matches them loosely."""
    return content_terms(text)


def has_term(term: str, terms: set[str]) -> bool:
    """``term`` is in ``terms``, or one is a prefix of the other and the shorter has at least
    five letters ("detect" meets "detection", "stream" meets "streams"; "factory" does not
    meet "factoriz")."""
    if term in terms:
        return True
    if len(term) < 5:
        return False
    return any(
        len(other) >= 5 and (other.startswith(term) or term.startswith(other)) for other in terms
    )


def idf(df: int, size: int) -> float:
    """BM25's inverse document frequency of a term found in ``df`` of ``size`` passages."""
    return math.log(1 + (size - df + 0.5) / (df + 0.5))


def term_weights(question: str, stats: TermStats | None) -> dict[str, float]:
    """Match keys of the question's content terms -> weight (rarity in the store x role)."""
    stems = set(content_terms(question))
    raw = {w: stem_word(w) for w in _WORD.findall(question.lower()) if stem_word(w) in stems}
    if stats is not None and stats.size:
        df = stats.document_frequencies(raw)
        rarity = {w: idf(df.get(w, 0), stats.size) for w in raw}
    else:  # no store statistics (hand-made hits): every term is equally rare
        rarity = dict.fromkeys(raw, 1.0)
    named = {w for name in question_names(question) for w in _WORD.findall(name.lower())}
    weights: dict[str, float] = {}
    for word, stem in raw.items():
        role = (
            FRAMING_FACTOR
            if word in FRAMING or stem in FRAMING
            else ANSWER_TYPE_FACTOR
            if word in ANSWER_TYPES or stem in ANSWER_TYPES
            else NAME_FACTOR
            if word in named
            else 1.0
        )
        weights[stem] = max(weights.get(stem, 0.0), role * rarity[word])
    return weights


def question_names(question: str) -> list[str]:
    """Capitalised names, acronyms and versioned names in a question ("Azure", "AI-102").

    A capitalised word opening a sentence is no name unless it looks like one anyway
    (inner capitals, digits: "SageMaker", "MLS-C01").
    """
    names = []
    sentence_start = True
    for match in _TOKEN.finditer(question):
        token = match.group(0)
        gap = question[: match.start()].rstrip()
        opens = sentence_start or gap.endswith((".", "?", "!", ":", ";", "\n"))
        sentence_start = False
        has_digit = any(c.isdigit() for c in token) and any(c.isalpha() for c in token)
        inner_caps = any(c.isupper() for c in token[1:])
        if token.lower() in _GENERIC_NAMES or token.isdigit():
            continue
        if has_digit or inner_caps or (token[0].isupper() and not opens):
            names.append(token)
    return names


def missing_names(question: str, hits: Sequence[Hit], known: str = "") -> list[str]:
    """Names of the question that no retrieved passage (nor ``known`` text) contains.

    Only the passages count, not the whole store: an answer can only quote what retrieval
    brought, and a large store mentions nearly any word somewhere ("Cortex" in a list of ARM
    processors says nothing about Snowflake Cortex). Case is free (titles capitalise what
    prose does not), except inside a camel-cased name: "WorkSpaces" is not the "workspaces"
    of a URL. Plurals and stems are free.
    """
    written = " ".join(f"{h.title} {h.title_path} {h.text}" for h in hits)
    exact = set(_CASED.findall(written))
    anywhere = {w.lower() for w in exact}
    stems = {stem_word(w) for w in anywhere}
    known_words = set(_WORD.findall(known.lower()))
    missing = []
    for name in question_names(question):
        words = _CASED.findall(name)
        if all(w.lower() in known_words for w in words):
            continue  # the blueprint's own names ("MLS-C01")
        if not all(_named_in(w, exact, anywhere, stems) for w in words):
            missing.append(name)
    return missing


def _named_in(word: str, exact: set[str], anywhere: set[str], stems: set[str]) -> bool:
    if any(c.isupper() for c in word[1:]) and not word.isupper():  # camel case: "WorkSpaces"
        return word in exact or word.rstrip("s") in exact
    low = word.lower()
    plural = low[:-1] if word[:-1].isupper() and low.endswith("s") else low  # "AMIs"
    return low in anywhere or plural in anywhere or stem_word(low) in stems


def _item_terms(units: Sequence[Sentence], hits: Sequence[Hit]) -> dict[tuple[int, int], set[str]]:
    """(passage, item) -> the terms of the item's sentences, its subject and its headings."""
    items: dict[tuple[int, int], set[str]] = {}
    heading_terms: dict[int, set[str]] = {}
    for unit in units:
        if unit.passage not in heading_terms:
            hit = hits[unit.passage]
            heading_terms[unit.passage] = set(term_keys(f"{hit.title} {hit.title_path}"))
        key = (unit.passage, unit.item)
        terms = items.setdefault(key, set(heading_terms[unit.passage]))
        terms.update(unit.terms | unit.subject_terms)
    return items


def best_share(
    weights: dict[str, float], items: dict[tuple[int, int], set[str]]
) -> tuple[float, tuple[int, int] | None]:
    """The weighted share of the question's terms the best item contains, completed by a
    second item of the same passage (a comparison of two entries of one list)."""
    total = sum(weights.values())
    if not total or not items:
        return 0.0, None

    def found(terms: set[str]) -> float:
        return sum(w for t, w in weights.items() if has_term(t, terms))

    ranked = sorted(items, key=lambda k: (-found(items[k]), k))
    best = ranked[0]
    first = found(items[best])
    partners = [k for k in ranked[1:] if k[0] == best[0]][:6]  # items of the same passage
    second = max((found(items[k] | items[best]) for k in partners), default=first)
    share = first + SECOND_ITEM_DISCOUNT * (second - first)
    return share / total, best


def question_weights(question: str, stats: TermStats | None, context: str = "") -> dict[str, float]:
    """`term_weights` of the question; a follow-up's ``context`` (the previous question) adds
    its own terms at half weight."""
    weights = term_weights(question, stats)
    if context:
        for term, weight in term_weights(context, stats).items():
            weights.setdefault(term, 0.5 * weight)
    return weights


def assess(
    question: str,
    hits: Sequence[Hit],
    units: Sequence[Sentence],
    threshold: float,
    stats: TermStats | None = None,
    known: str = "",
    context: str = "",
) -> Evidence:
    """The coverage evidence for ``question`` and its verdict at ``threshold``.

    ``units`` are the hits' sentences (`passages.split_passage`); ``known`` is text the answer
    may also draw on (the exam blueprint), whose names count as present; ``context`` is the
    previous question of a follow-up.
    """
    if not hits:
        return Evidence(0.0, 0.0, None)
    weights = question_weights(question, stats, context)
    share, best = best_share(weights, _item_terms(units, hits))
    dense_scores = [h.dense_score for h in hits if h.dense_score is not None]
    dense = max(0.0, min(1.0, max(dense_scores))) if dense_scores else None
    score = share if dense is None else (1 - DENSE_WEIGHT) * share + DENSE_WEIGHT * dense
    missing = missing_names(question, hits, known)
    covered = not missing and score >= threshold
    return Evidence(score, share, dense, missing, best, covered)
