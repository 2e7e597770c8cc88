"""Grounded answers: question + retrieved hits -> an `Answer` with numbered citations.

Four ways to answer, decided in this order:

1. ``not_covered``: no retrieved passage addresses the question (`coverage.assess` weighs the
   question's terms found in one passage item, the dense cosine and names the material never
   mentions), or the model said the passages do not answer. The reply says so plainly and
   names the closest topics that are covered.
2. exam facts: a question about the exam itself (questions, time, passing score, question types,
   domains, weights, objectives) is answered from the blueprint (`knowledge.exam`), citing the
   guide's passage that states the same facts when retrieval found it, else the blueprint.
3. ``llm``: a chat model answers from the passages (``prompts/answer.md``) and cites them as
   ``[n]``. It sees the passages whenever any of them may address the question (a lower bar
   than the offline answer's), so coverage never keeps from it what it could answer from. Only
   a reply with at least one valid citation is shown as grounded; citations are renumbered in
   order of first use.
4. ``extractive``: no model configured, the model failed (timeout, connection, HTTP error) or
   its reply cited nothing: the deciding sentences of the passage that answers are quoted
   (`knowledge.extract`), each with its citation. No model is loaded for this.

The domain tag comes from the passage the answer cites first when its tag is confident, else
from the question and the quoted sentences (the blueprint's keywords), so the tag follows the
answer rather than every keyword retrieval touched.
"""

from __future__ import annotations

import copy
import html
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from langchain_core.language_models import BaseChatModel

from knowledge.blueprint import Blueprint
from knowledge.coverage import (
    Evidence,
    TermStats,
    assess,
    question_names,
    question_weights,
    term_keys,
)
from knowledge.exam import ExamQuestion, blueprint_text, exam_lines, exam_question, exam_values
from knowledge.extract import name_first, question_shape, score_units, select
from knowledge.keywords import KeywordIndex
from knowledge.llm import describe_llm_error, make_chat_model, message_text, prompt_messages
from knowledge.passages import Sentence, mentions, split_passage, topic_of
from knowledge.settings import Settings
from knowledge.subject import asked_subject
from knowledge.text import clean_inline
from knowledge.types import Answer, Citation, DomainTag, Hit

log = logging.getLogger(__name__)

#: What the model must reply, alone, when the passages do not answer the question.
NOT_COVERED = "NOT_COVERED"

MAX_LLM_PASSAGES = 6  # passages sent to the model
MAX_PASSAGE_CHARS = 2000  # per passage sent to the model
EXTRACT_PASSAGES = 5  # passages coverage and the extractive mode read
MAX_CLOSEST_TOPICS = 5
HISTORY_TURNS = 3  # earlier questions given to the model / used for a follow-up
#: The model is asked when the evidence reaches this share of the offline threshold: below it
#: no passage holds the question's terms (calibrated: no covered question of the set falls
#: below it, see bench/coverage_calibration.py).
LLM_THRESHOLD_FACTOR = 0.6
#: A passage's own tag decides the answer's domain from this tag confidence up (ingest gives
#: 1.0 to sections under the guide's objective headings).
CONFIDENT_TAG = 0.5

OFFLINE_LABEL = "_Extracted from the study material (no language model configured):_"
FALLBACK_LABEL = "_Extracted from the study material:_"
EXAM_LABEL = "_From the exam blueprint:_"
NO_CITATION_NOTE = (
    "The language model's answer did not cite the study material, "
    "so this answer is extracted from the material."
)

# --------------------------------------------------------------------------------------------
# Domain tags and closest topics.
# --------------------------------------------------------------------------------------------


def _resolve_objective(hit: Hit, blueprint: Blueprint) -> tuple[int, str] | None:
    """(domain id, objective label) for a hit; label "" when the objective is unknown."""
    domain_ids = {d.id for d in blueprint.domains}
    objective_id = (hit.objective or "").strip().split(" ", 1)[0]
    if objective_id:
        try:
            objective = blueprint.objective(objective_id)
        except KeyError:
            pass
        else:
            return objective.domain_id, objective.label
    if hit.domain in domain_ids:
        return hit.domain, ""
    return None


def domain_tags(question_hits: Sequence[Hit], blueprint: Blueprint) -> list[DomainTag]:
    """One tag per exam domain the hits belong to, most relevant first.

    Each hit votes for its (domain, objective) with its retrieval score; a domain ranks by the
    sum of its votes, and its tag names its best-voted objective. Ties keep retrieval order.
    Hits tagged with no domain of this blueprint are ignored.
    """
    domain_votes: dict[int, float] = {}
    objective_votes: dict[int, dict[str, float]] = {}
    for hit in question_hits:
        resolved = _resolve_objective(hit, blueprint)
        if resolved is None:
            continue
        domain_id, objective = resolved
        weight = max(hit.score, 0.0) or 1e-9  # every tagged hit counts a little
        domain_votes[domain_id] = domain_votes.get(domain_id, 0.0) + weight
        if objective:
            votes = objective_votes.setdefault(domain_id, {})
            votes[objective] = votes.get(objective, 0.0) + weight
    order = sorted(domain_votes, key=lambda d: -domain_votes[d])  # stable: retrieval order
    tags = []
    for domain_id in order:
        votes = objective_votes.get(domain_id, {})
        objective = max(votes, key=lambda o: votes[o]) if votes else ""
        tags.append(DomainTag(domain_id, blueprint.domain(domain_id).name, objective))
    return tags


def _tag_of(hit: Hit, blueprint: Blueprint) -> DomainTag | None:
    resolved = _resolve_objective(hit, blueprint)
    if resolved is None:
        return None
    domain_id, objective = resolved
    return DomainTag(domain_id, blueprint.domain(domain_id).name, objective)


def answer_domains(
    question: str,
    answer_text: str,
    cited: Hit | None,
    hits: Sequence[Hit],
    blueprint: Blueprint,
    keywords: KeywordIndex,
) -> list[DomainTag]:
    """The answer's domain first, then the other domains the hits belong to.

    The passage cited first decides when its tag is confident (``CONFIDENT_TAG``); otherwise
    the blueprint keywords of the question (twice) and of the quoted sentences vote, the cited
    passage's tag adding its confidence as one more vote. No keyword and a weak tag: no tag.
    """
    first = _tag_of(cited, blueprint) if cited is not None else None
    confidence = float((cited.metadata if cited else {}).get("tag_confidence", 0.0) or 0.0)
    if cited is None or confidence < CONFIDENT_TAG:
        votes = 2 * keywords.scores(question) + keywords.scores(answer_text)
        if not votes.any():
            return []  # a weak tag and no word of the blueprint: better no tag than a guess
        if first is not None and first.objective:
            objective_id = first.objective.split(" ", 1)[0]
            if objective_id in keywords.ids:
                votes[keywords.ids.index(objective_id)] += confidence
        objective = _best_objective(votes, keywords.ids, blueprint)
        domain = blueprint.domain(objective.domain_id)
        first = DomainTag(domain.id, domain.name, objective.label)
    rest = [t for t in domain_tags(hits, blueprint) if first is None or t.id != first.id]
    return ([first] if first else []) + rest


def _best_objective(votes: np.ndarray, ids: Sequence[str], blueprint: Blueprint):
    """The objective the votes point to: first the domain with the most votes over its
    objectives (an answer's words spread over 3.3, 3.4 and 3.5 point to Modeling, not to the
    one 2.2 keyword that sorts first), then that domain's best-voted objective."""
    objectives = [blueprint.objective(i) for i in ids]
    by_domain: dict[int, float] = {}
    for objective, vote in zip(objectives, votes, strict=True):
        by_domain[objective.domain_id] = by_domain.get(objective.domain_id, 0.0) + float(vote)
    domain = max(by_domain, key=lambda d: by_domain[d])  # ties: blueprint order
    inside = [n for n, o in enumerate(objectives) if o.domain_id == domain]
    return objectives[max(inside, key=lambda n: (float(votes[n]), -n))]


def closest_topics(
    hits: Sequence[Hit], blueprint: Blueprint, limit: int = MAX_CLOSEST_TOPICS
) -> list[str]:
    """Distinct topics the material does cover near the question: hit headings, then objectives."""
    topics: list[str] = []
    seen: set[str] = set()

    def add(topic: str) -> None:
        key = topic.casefold()
        if topic and key not in seen and len(topics) < limit:
            seen.add(key)
            topics.append(topic)

    for hit in hits[: max(limit - 2, 1)]:
        add(topic_of(hit))
    for tag in domain_tags(hits, blueprint):
        add(tag.objective)
    for hit in hits:
        add(topic_of(hit))
    return topics


# --------------------------------------------------------------------------------------------
# Citations in a model's reply.
# --------------------------------------------------------------------------------------------

_NUMBER_LIST = r"\d+(?:\s*[-–]\s*\d+)?(?:\s*[,;]\s*\d+(?:\s*[-–]\s*\d+)?)*"
# [1], [1, 3], [1-2], [passage 2]; not a Markdown link "[1](url)". Code spans are skipped.
_CITATION = re.compile(rf"(?<!\[)\[\s*(?:passages?\s*)?({_NUMBER_LIST})\s*\](?!\()", re.IGNORECASE)
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)
_MAX_RANGE = 20


def _numbers(group: str) -> list[int]:
    """'1, 3-4' -> [1, 3, 4] (ranges capped)."""
    out: list[int] = []
    for part in re.split(r"\s*[,;]\s*", group.strip()):
        bounds = re.split(r"\s*[-–]\s*", part)
        if len(bounds) == 2:
            lo, hi = int(bounds[0]), int(bounds[1])
            if 0 <= hi - lo <= _MAX_RANGE:
                out.extend(range(lo, hi + 1))
            else:
                out.extend([lo, hi])
        elif part:
            out.append(int(part))
    return out


def renumber_citations(text: str, passage_count: int) -> tuple[str, list[int]]:
    """Keep valid citation numbers and renumber them 1, 2, ... in order of first use.

    Returns the rewritten text and, for each new number, the original (1-based) passage number.
    A marker with no valid number is removed.
    """
    mapping: dict[int, int] = {}

    def replace(match: re.Match[str]) -> str:
        new_numbers: list[int] = []
        for n in _numbers(match.group(1)):
            if not 1 <= n <= passage_count:
                continue
            if n not in mapping:
                mapping[n] = len(mapping) + 1
            if mapping[n] not in new_numbers:
                new_numbers.append(mapping[n])
        if not new_numbers:
            return "\x00"  # removed below, with the space before it
        return "[" + ", ".join(str(n) for n in sorted(new_numbers)) + "]"

    pieces: list[str] = []
    last = 0
    for code in _CODE.finditer(text):  # e.g. `x[1]` in code is not a citation
        pieces += [_CITATION.sub(replace, text[last : code.start()]), code.group(0)]
        last = code.end()
    pieces.append(_CITATION.sub(replace, text[last:]))
    rewritten = re.sub(r"[ \t]*\x00", "", "".join(pieces))
    order = sorted(mapping, key=lambda n: mapping[n])
    return rewritten.strip(), order


def _is_not_covered_reply(text: str) -> bool:
    """True when the model's reply is (or starts with) the NOT_COVERED sentinel."""
    stripped = text.strip().strip("`*_\"' ").upper()
    return stripped.startswith(NOT_COVERED)


# --------------------------------------------------------------------------------------------
# Passages for the model: clearly delimited data.
# --------------------------------------------------------------------------------------------

_DATA_TAG = re.compile(r"<(\s*/?\s*)(passages?|question|conversation|follow_up)\b", re.IGNORECASE)


def neutralize(text: str) -> str:
    """Escape anything in untrusted text that could open or close one of our data blocks."""
    return _DATA_TAG.sub(lambda m: "&lt;" + m.group(1) + m.group(2), text)


def _attr(value: str) -> str:
    return html.escape(" ".join(value.split()), quote=True)


def format_passages(hits: Sequence[Hit], max_chars: int = MAX_PASSAGE_CHARS) -> str:
    """Hits as numbered ``<passage n=".." source=".." title="..">`` blocks (text escaped)."""
    blocks = []
    for n, hit in enumerate(hits, start=1):
        text = hit.text.strip()
        if len(text) > max_chars:
            text = text[:max_chars].rsplit(" ", 1)[0] + " …"
        title = (hit.title_path or hit.title).replace(" > ", " › ")
        blocks.append(
            f'<passage n="{n}" source="{_attr(hit.source)}" title="{_attr(title)}">\n'
            f"{neutralize(text)}\n</passage>"
        )
    return "\n".join(blocks)


def _previous_questions(history: Sequence[tuple[str, str]] | None) -> list[str]:
    """The user's earlier questions, oldest first (history holds (question, answer) pairs)."""
    return [q for q, _ in (history or [])[-HISTORY_TURNS:] if q and q.strip()]


# --------------------------------------------------------------------------------------------
# The generator.
# --------------------------------------------------------------------------------------------


def _citation(number: int, hit: Hit) -> Citation:
    """Citation ``number`` for a hit; url only for web sources (paths are the front end's job)."""
    source = hit.source or ""
    url = source if source.startswith(("http://", "https://")) else None
    doc_title, topic = clean_inline(hit.title or ""), topic_of(hit)
    if doc_title and topic and topic.casefold() != doc_title.casefold():
        title = f"{doc_title} › {topic}"
    else:
        title = topic or doc_title or source
    return Citation(number, title, source, url, hit.id, float(hit.score))


@dataclass
class Request:
    """One question being answered, with what every mode needs."""

    question: str
    hits: Sequence[Hit]
    history: Sequence[tuple[str, str]] | None
    stats: TermStats | None
    units: Sequence[Sentence]
    evidence: Evidence


class AnswerGenerator:
    """Turns a question and its retrieved hits into an `Answer`.

    ``chat_model`` is any LangChain chat model (``make_chat_model(settings)`` builds the
    configured one); None answers offline, extractively. `from_settings` does the wiring.
    """

    def __init__(
        self, settings: Settings, blueprint: Blueprint, chat_model: BaseChatModel | None = None
    ) -> None:
        self.settings = settings
        self.blueprint = blueprint
        self.chat_model = chat_model
        self.keywords = KeywordIndex(blueprint)
        self._known = blueprint_text(blueprint)

    @classmethod
    def from_settings(cls, settings: Settings, blueprint: Blueprint) -> AnswerGenerator:
        """A generator using the configured chat model (offline when no OpenAI key is set)."""
        return cls(settings, blueprint, make_chat_model(settings))

    def for_blueprint(self, blueprint: Blueprint) -> AnswerGenerator:
        """The same generator (settings, chat model) answering for another exam."""
        if blueprint.id == self.blueprint.id:
            return self
        other = copy.copy(self)
        other.blueprint = blueprint
        other.keywords = KeywordIndex(blueprint)
        other._known = blueprint_text(blueprint)
        return other

    # -- public API ---------------------------------------------------------------------------
    def answer(
        self,
        question: str,
        hits: list[Hit],
        history: list[tuple[str, str]] | None = None,
        stats: TermStats | None = None,
    ) -> Answer:
        """Answer ``question`` from ``hits`` (best first).

        ``history`` holds the thread's earlier (question, answer) pairs, oldest first; it only
        helps to understand a follow-up, it is never a source. ``stats`` gives the store's term
        document frequencies (the retriever's lexical index) so rare terms weigh more.
        """
        units = _units(hits)
        evidence = self.evidence(question, hits, stats, units, history)
        request = Request(question, hits, history, stats, units, evidence)
        asked = exam_question(question, self.blueprint)
        if asked is not None and not evidence.missing_names:
            return self._exam(question, asked, hits, evidence)
        if self.chat_model is None:
            if not evidence.covered:
                return self._not_covered(hits, evidence.score)
            return self._extractive(request, OFFLINE_LABEL)
        llm_threshold = LLM_THRESHOLD_FACTOR * self.settings.not_covered_threshold
        if evidence.missing_names or evidence.score < llm_threshold:
            return self._not_covered(hits, evidence.score)
        return self._from_model(request)

    def evidence(
        self,
        question: str,
        hits: Sequence[Hit],
        stats: TermStats | None = None,
        units: Sequence[Sentence] | None = None,
        history: Sequence[tuple[str, str]] | None = None,
    ) -> Evidence:
        """What coverage sees for this question and these hits (see `coverage.assess`)."""
        previous = _previous_questions(history)
        return assess(
            question,
            hits[:EXTRACT_PASSAGES],
            _units(hits) if units is None else units,
            self.settings.not_covered_threshold,
            stats,
            self._known,
            previous[-1] if previous else "",
        )

    def condense(self, question: str, history: list[tuple[str, str]] | None) -> str:
        """A standalone version of a follow-up ``question``, for retrieval.

        With a model: rewritten by ``prompts/condense.md``. Offline (or if the model fails):
        the question followed by the previous question, which keeps retrieval on topic.
        """
        previous = _previous_questions(history)
        if not previous:
            return question
        offline = f"{question} {previous[-1]}"
        if self.chat_model is None:
            return offline
        conversation = "\n".join(
            f"User: {neutralize(q)}\nAssistant: {neutralize(_brief(a))}"
            for q, a in (history or [])[-HISTORY_TURNS:]
        )
        messages = prompt_messages(
            "condense",
            exam=self.blueprint.name,
            conversation=conversation,
            question=neutralize(question),
        )
        try:
            reply = message_text(self.chat_model.invoke(messages))
        except Exception as exc:  # fall back to the offline rewrite
            log.warning("condense failed (%s); using the offline rewrite", type(exc).__name__)
            return offline
        lines = [ln.strip().strip("\"'`").strip() for ln in reply.strip().splitlines()]
        standalone = next((ln for ln in lines if ln), "")
        if not standalone or NOT_COVERED in standalone or len(standalone) > 500:
            return offline
        return standalone

    # -- the modes ----------------------------------------------------------------------------
    def _from_model(self, request: Request) -> Answer:
        question, hits, evidence = request.question, request.hits, request.evidence
        passages = list(hits[:MAX_LLM_PASSAGES])
        try:
            reply = self._ask_model(question, passages, request.history)
        except Exception as exc:  # any model failure falls back; the bot must still answer
            log.warning("chat model failed (%s); answering extractively", type(exc).__name__)
            note = describe_llm_error(exc)
            return self._fallback(request, note)

        said_not_covered = NOT_COVERED in reply.upper()
        without_sentinel = re.sub(NOT_COVERED, "", reply, flags=re.IGNORECASE).strip()
        text, order = renumber_citations(without_sentinel, len(passages))
        if _is_not_covered_reply(reply) or (said_not_covered and not order):
            return self._not_covered(hits, evidence.score)
        if not order:  # not grounded: never show it as an answer from the material
            log.info("chat model reply had no valid citation; answering extractively")
            return self._fallback(request, NO_CITATION_NOTE)
        citations = [_citation(new, passages[old - 1]) for new, old in enumerate(order, start=1)]
        cited = passages[order[0] - 1]
        return Answer(
            text=text,
            citations=citations,
            domains=answer_domains(question, text, cited, hits, self.blueprint, self.keywords),
            mode="llm",
            confidence=evidence.score,
        )

    def _fallback(self, request: Request, note: str) -> Answer:
        """The extractive answer when the model failed; "not covered" if the offline bar is
        not met either."""
        if not request.evidence.covered:
            answer = self._not_covered(request.hits, request.evidence.score)
            answer.note = note
            return answer
        return self._extractive(request, FALLBACK_LABEL, note)

    def _ask_model(
        self, question: str, passages: Sequence[Hit], history: Sequence[tuple[str, str]] | None
    ) -> str:
        previous = _previous_questions(history)
        conversation = ""
        if previous:
            conversation = (
                "<conversation>\nEarlier questions in this thread, to resolve references only:\n"
                + "\n".join(f"- {neutralize(q)}" for q in previous)
                + "\n</conversation>"
            )
        messages = prompt_messages(
            "answer",
            exam=self.blueprint.name,
            sentinel=NOT_COVERED,
            passages=format_passages(passages),
            conversation=conversation,
            question=neutralize(question.strip()),
        )
        return message_text(self.chat_model.invoke(messages))

    def _not_covered(self, hits: Sequence[Hit], score: float) -> Answer:
        topics = closest_topics(hits, self.blueprint)
        text = "The study material does not cover this question."
        if topics:
            text += " The closest topics it does cover: " + "; ".join(topics) + "."
        return Answer(
            text=text,
            citations=[],
            domains=[],
            mode="not_covered",
            confidence=score,
            closest_topics=topics,
        )

    def _exam(
        self, question: str, asked: ExamQuestion, hits: Sequence[Hit], evidence: Evidence
    ) -> Answer:
        """Exam facts from the blueprint, citing the passage that states them when there is one."""
        values = exam_values(asked, self.blueprint)
        source = next((h for h in hits if _states(h.text, values)), None)
        if source is not None:
            citation = _citation(1, source)
        else:
            citation = Citation(
                1,
                f"Exam blueprint › {self.blueprint.name}",
                f"blueprint:{self.blueprint.id}",
                None,
                "",
                1.0,
            )
        lines = exam_lines(asked, self.blueprint)
        domains = []
        if asked.objective is not None:
            domain = self.blueprint.domain(asked.objective.domain_id)
            domains = [DomainTag(domain.id, domain.name, asked.objective.label)]
        elif asked.domain is not None:
            domains = [DomainTag(asked.domain.id, asked.domain.name, "")]
        return Answer(
            text=EXAM_LABEL + "\n" + "\n".join(f"{line} [1]" for line in lines),
            citations=[citation],
            domains=domains,
            mode="extractive",
            confidence=max(evidence.score, 1.0 if source is not None else evidence.score),
        )

    def _extractive(self, request: Request, label: str, note: str | None = None) -> Answer:
        question, hits, units = request.question, request.hits, request.units
        evidence = request.evidence
        shape = question_shape(question)
        previous = _previous_questions(request.history)
        weights = question_weights(question, request.stats, previous[-1] if previous else "")
        names = question_names(question)
        # "What is targeted sentiment in Amazon Comprehend?" is about targeted sentiment
        asked = asked_subject(question)
        named = [asked] if asked else names
        focus = {t for name in named for t in term_keys(name)} & set(weights)
        score_units(units, hits, weights, shape, evidence.best_item, focus, names)
        chosen = select(units, shape) or _lead(units, evidence.best_item)
        if not chosen:
            answer = self._not_covered(hits, evidence.score)
            answer.note = note
            return answer
        numbers: dict[int, int] = {}
        lines = []
        previous: Sentence | None = None
        shown = ""
        for n, unit in enumerate(chosen):
            number = numbers.setdefault(unit.passage, len(numbers) + 1)
            follows = (
                previous is not None
                and (previous.passage, previous.position + 1) == (unit.passage, unit.position)
                and previous.subject == unit.subject
                and mentions(shown, unit.subject)
            )
            shown = unit.display(follows)
            if n == 0 and shape.kind == "which":
                shown = name_first(unit, shown)
            lines.append(f"{shown} [{number}]")
            previous = unit
        citations = [_citation(number, hits[i]) for i, number in numbers.items()]
        body = "\n".join(lines)
        cited = hits[chosen[0].passage]
        return Answer(
            text=label + "\n" + body,
            citations=citations,
            domains=answer_domains(question, body, cited, hits, self.blueprint, self.keywords),
            mode="extractive",
            confidence=evidence.score,
            note=note,
        )


def _units(hits: Sequence[Hit]) -> list[Sentence]:
    """The sentences of the passages coverage and the extractive mode read."""
    return [u for i, hit in enumerate(hits[:EXTRACT_PASSAGES]) for u in split_passage(hit, i)]


def _lead(units: Sequence[Sentence], best_item: tuple[int, int] | None) -> list[Sentence]:
    """No sentence shares a word with the question (a paraphrase) though coverage holds: the
    first sentences of the passage item it found, else of the top passage."""
    passage, item = best_item if best_item is not None else (0, 0)
    lead = [u for u in units if (u.passage, u.item) == (passage, item)] or [
        u for u in units if u.passage == passage
    ]
    return lead[:2]


def _states(text: str, values: Sequence[str]) -> bool:
    """Whether a passage states the given exam values (each as a whole number or word)."""
    found = sum(bool(re.search(rf"(?<![\w.]){re.escape(v)}(?![\w])", text)) for v in values)
    return bool(values) and found >= max(1, (len(values) + 1) // 2)


def _brief(text: str, limit: int = 300) -> str:
    """An earlier answer shortened for the condense prompt."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit].rsplit(" ", 1)[0] + " …"


__all__ = [
    "NOT_COVERED",
    "AnswerGenerator",
    "answer_domains",
    "closest_topics",
    "domain_tags",
    "format_passages",
    "neutralize",
    "renumber_citations",
]
