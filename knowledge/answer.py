"""Grounded answers: question + retrieved hits -> an `Answer` with numbered citations.

Three ways to answer, decided in this order:

1. ``not_covered``: retrieval found nothing close enough (`is_covered`), or the model said the
   passages do not answer. The reply says so plainly and names the closest topics that are
   covered.
2. ``llm``: a chat model answers from the passages (``prompts/answer.md``) and cites them as
   ``[n]``. Only a reply with at least one valid citation is shown as grounded; citations are
   renumbered in order of first use.
3. ``extractive``: no model configured, the model failed (timeout, connection, HTTP error) or
   its reply cited nothing: the best-matching sentences are quoted from the top passages, each
   with its citation. No model is loaded for this; it is plain term overlap.
"""

from __future__ import annotations

import html
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel

from knowledge.blueprint import Blueprint
from knowledge.lexical import tokenize
from knowledge.llm import describe_llm_error, make_chat_model, message_text, prompt_messages
from knowledge.settings import Settings
from knowledge.text import (
    BULLET,
    SENTENCE_SPLIT,
    TABLE_RULE,
    clean_inline,
    content_terms,
    is_term_line,
    wordset,
)
from knowledge.types import Answer, Citation, DomainTag, Hit

log = logging.getLogger(__name__)

#: What the model must reply, alone, when the passages do not answer the question.
NOT_COVERED = "NOT_COVERED"

#: BM25 score at which a lexical-only hit counts as 50 % coverage (used only when no hit has
#: a dense cosine score). A calibration knob, like `Settings.not_covered_threshold`.
LEXICAL_HALF_SCORE = 10.0
TERM_WEIGHT = 0.3  # weight of the question's words found in the passages


MAX_LLM_PASSAGES = 6  # passages sent to the model
MAX_PASSAGE_CHARS = 2000  # per passage sent to the model
EXTRACT_PASSAGES = 4  # passages the extractive mode reads
MIN_SENTENCES, MAX_SENTENCES = 2, 4  # extractive answer length
MAX_SENTENCE_CHARS = 400
MAX_CLOSEST_TOPICS = 5
HISTORY_TURNS = 3  # earlier questions given to the model / used for a follow-up

OFFLINE_LABEL = "_Extracted from the study material (no language model configured):_"
FALLBACK_LABEL = "_Extracted from the study material:_"
NO_CITATION_NOTE = (
    "The language model's answer did not cite the study material, "
    "so this answer is extracted from the material."
)

# --------------------------------------------------------------------------------------------
# Coverage: the one place that decides "not covered" from retrieval scores.
# --------------------------------------------------------------------------------------------


def term_share(question: str, hits: Sequence[Hit]) -> float:
    """Share of the question's content words that appear in the hits (headings and text).

    Names the material never mentions (Azure, Vertex AI, sourdough) keep this low even when a
    passage is semantically near; a service the material describes keeps it high.
    """
    wanted = set(tokenize(question))
    if not wanted:
        return 0.0
    found = set(tokenize(" ".join(f"{h.title_path} {h.text}" for h in hits)))
    return len(wanted & found) / len(wanted)


def coverage(hits: Sequence[Hit], question: str | None = None) -> float:
    """How well the material covers the question, in [0, 1].

    The best dense cosine similarity among the hits (or, for lexical-only hits, the best BM25
    score squashed by ``s / (s + LEXICAL_HALF_SCORE)``), blended with `term_share` when the
    question is given: ``(best + TERM_WEIGHT * share) / (1 + TERM_WEIGHT)``. Calibrated on
    tests/data/coverage_questions.jsonl by bench/not_covered.py. No hits: 0.
    """
    dense = [h.dense_score for h in hits if h.dense_score is not None]
    lexical = [h.lexical_score for h in hits if h.lexical_score is not None]
    if dense:
        best = float(min(1.0, max(0.0, max(dense))))
    elif lexical:
        top = max(0.0, max(lexical))
        best = top / (top + LEXICAL_HALF_SCORE)
    else:
        return 0.0
    if question is None:
        return best
    return (best + TERM_WEIGHT * term_share(question, hits)) / (1 + TERM_WEIGHT)


def is_covered(hits: Sequence[Hit], threshold: float, question: str | None = None) -> bool:
    """True when retrieval found material close enough to answer from (coverage >= threshold)."""
    return bool(hits) and coverage(hits, question) >= threshold


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


def _topic(hit: Hit) -> str:
    """The most specific heading of a hit (last title-path element), else its title."""
    parts = [p.strip() for p in (hit.title_path or "").split(">") if p.strip()]
    return clean_inline(parts[-1] if parts else hit.title)


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
        add(_topic(hit))
    for tag in domain_tags(hits, blueprint):
        add(tag.objective)
    for hit in hits:
        add(_topic(hit))
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
# Extractive answers.
# --------------------------------------------------------------------------------------------


_PRONOUN_STARTS = wordset("it its this these that those they their them he she which who whose")
_GENERIC_PREFIXES = ("amazon ", "aws ")
_ADMONITIONS = wordset("note important tip warning caution example examples topics contents")
# Question words that say little about the answer ("Which AWS service ..."): low weight.
_GENERIC_TERMS = {"aws": 0.3, "amazon": 0.3, "servic": 0.3, "featur": 0.5, "tool": 0.5}  # stemmed


@dataclass
class Sentence:
    """A candidate sentence (or bullet) of a passage, as the extractive mode sees it."""

    passage: int  # index into the hits
    position: int  # order within the passage
    text: str  # cleaned sentence
    subject: str  # the heading term the sentence is about ("" if unknown)
    bullet: bool
    described: bool = False  # a bullet right under a term line: a description of `subject`
    score: float = 0.0

    def display(self, follows_previous: bool = False) -> str:
        """The sentence as shown, its subject prefixed when the sentence does not name it.

        ``follows_previous``: the line shown just before is the sentence that precedes this one
        in the passage and it names the subject, so a leading "It ..." reads right unprefixed.
        """
        text = self.text
        if len(text) > MAX_SENTENCE_CHARS:
            text = text[:MAX_SENTENCE_CHARS].rsplit(" ", 1)[0] + " …"
        text = text.rstrip().rstrip(".;:,").rstrip()
        if follows_previous and not self.bullet:
            return text
        if _needs_subject(text, self.subject, self.described):
            first, _, rest = text.partition(" ")
            word = first.lower().strip(",")
            if (word in _PRONOUN_STARTS or word in _VERB_STARTS) and not first.isupper():
                text = first.lower() + (" " + rest if rest else "")
            return f"{self.subject}: {text}"
        return text


_VERB_STARTS = wordset(
    """is are was can provides provide supports support lets let allows allow enables enable turns
    turn converts convert uses use helps help offers offer creates create builds build detects
    detect extracts extract identifies identify automates automate makes make gives give runs run
    stores store returns return includes include requires require delivers deliver analyzes
    analyze translates translate transcribes transcribe generates generate trains train deploys
    deploy handles handle performs perform produces produce scales scale works work adds add
    finds find recognizes recognize processes process manages manage"""
)


def _mentions(text: str, subject: str) -> bool:
    """Whether ``text`` already names ``subject`` (with or without an Amazon/AWS prefix)."""
    subj = subject.lower().strip()
    names = [subj] + [subj[len(p) :] for p in _GENERIC_PREFIXES if subj.startswith(p)]
    low = text.lower()
    return any(name and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", low) for name in names)


def _needs_subject(text: str, subject: str, described: bool) -> bool:
    """A sentence keeps its subject: prefix the heading term to what does not name it.

    ``described``: the sentence is a bullet right under a term line of the passage (a heading,
    a lone link or a bold label), i.e. a description of that term. Other sentences are
    prefixed when they start like a fragment: lower case, a pronoun or a verb.
    """
    if not subject or not text or _mentions(text, subject):
        return False
    first = text.split(" ", 1)[0].lower().strip(",:;")
    return described or text[0].islower() or first in _PRONOUN_STARTS or first in _VERB_STARTS


def _units(hit: Hit, passage: int) -> list[Sentence]:
    """A passage as sentences and bullets, each with the heading term it belongs to."""
    base_subject = _topic(hit)
    subject = base_subject
    from_term_line = False
    units: list[Sentence] = []
    paragraph: list[str] = []

    def flush() -> None:
        text = " ".join(paragraph)
        paragraph.clear()
        for sentence in SENTENCE_SPLIT.split(text):
            add(sentence, bullet=False)

    def add(text: str, bullet: bool) -> None:
        cleaned = clean_inline(text)
        if len(content_terms(cleaned)) >= 2 and len(cleaned) >= 12:
            described = bullet and from_term_line
            units.append(Sentence(passage, len(units), cleaned, subject, bullet, described))

    lines = hit.text.splitlines()
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line or TABLE_RULE.match(line):
            flush()
            continue
        if is_term_line(line, lines[i + 1] if i + 1 < len(lines) else ""):
            flush()
            term = clean_inline(line).rstrip(":").strip()
            if term.lower() not in _ADMONITIONS:
                subject, from_term_line = term or base_subject, bool(term)
            continue
        if BULLET.match(line):
            flush()
            add(line, bullet=True)
            continue
        from_term_line = False  # prose between the term line and any bullets below it
        paragraph.append(line.replace("|", " "))
    flush()
    return units


def _near_duplicate(a: set[str], b: set[str]) -> bool:
    """Same sentence give or take a few words (Jaccard >= 0.8 or one nearly inside the other)."""
    if not a or not b:
        return a == b
    common = len(a & b)
    return common / len(a | b) >= 0.8 or common / min(len(a), len(b)) >= 0.9


def _question_weights(question: str, history: Sequence[tuple[str, str]] | None) -> dict[str, float]:
    """Question terms weigh 1; terms only in the previous question (a follow-up) weigh 0.5."""
    weights = {t: _GENERIC_TERMS.get(t, 1.0) for t in content_terms(question)}
    previous = _previous_questions(history)
    if previous:
        for term in content_terms(previous[-1]):
            weights.setdefault(term, 0.5 * _GENERIC_TERMS.get(term, 1.0))
    return weights


def extract(
    question: str,
    hits: Sequence[Hit],
    history: Sequence[tuple[str, str]] | None = None,
    max_passages: int = EXTRACT_PASSAGES,
) -> list[Sentence]:
    """The 2-4 sentences of the top passages that best answer the question, in reading order.

    A sentence scores the idf-weighted share of question terms it contains (its heading term
    counts at a lower weight), scaled down by passage rank and for very long sentences.
    Near-identical sentences are kept once. Reading order: passage rank, then position.
    """
    units = [u for i, hit in enumerate(hits[:max_passages]) for u in _units(hit, i)]
    if not units:
        return []
    q_weights = _question_weights(question, history)
    unit_terms = [set(content_terms(u.text)) for u in units]
    subject_terms = [set(content_terms(u.subject)) for u in units]
    df: dict[str, int] = {}
    for terms, subj in zip(unit_terms, subject_terms, strict=True):
        for term in terms | subj:
            df[term] = df.get(term, 0) + 1
    n = len(units)

    def idf(term: str) -> float:
        return math.log(1 + (n + 1) / (df.get(term, 0) + 0.5))

    total = sum(w * idf(t) for t, w in q_weights.items()) or 1.0
    for unit, terms, subj in zip(units, unit_terms, subject_terms, strict=True):
        matched = sum(
            w * idf(t) * (1.0 if t in terms else 0.6 if t in subj else 0.0)
            for t, w in q_weights.items()
        )
        words = len(unit.text.split())
        length_factor = 1.0 if words <= 45 else 45 / words
        unit.score = matched / total * length_factor / (1 + 0.15 * unit.passage)

    ranked = sorted(units, key=lambda u: (-u.score, u.passage, u.position))
    best = ranked[0].score
    chosen: list[Sentence] = []
    chosen_terms: list[set[str]] = []

    def take(unit: Sentence) -> None:
        terms = set(content_terms(unit.display()))
        if unit not in chosen and not any(_near_duplicate(terms, t) for t in chosen_terms):
            chosen.append(unit)
            chosen_terms.append(terms)

    for unit in ranked:
        # A weak match may fill the minimum; beyond it only sentences close to the best count.
        floor = (0.55 if len(chosen) >= MIN_SENTENCES else 0.35) * best
        if len(chosen) >= MAX_SENTENCES or unit.score <= 0 or unit.score < floor:
            break
        take(unit)

    # Too little matched (e.g. a paraphrased question): add the sentences around the best one,
    # about the same subject, nearest first.
    anchor = chosen[0] if chosen else ranked[0]
    neighbours = sorted(
        (u for u in units if u.passage == anchor.passage),
        key=lambda u: (u.subject != anchor.subject, abs(u.position - anchor.position), -u.position),
    )
    for unit in neighbours:
        if len(chosen) >= MIN_SENTENCES:
            break
        take(unit)
    return sorted(chosen, key=lambda u: (u.passage, u.position))


# --------------------------------------------------------------------------------------------
# The generator.
# --------------------------------------------------------------------------------------------


def _citation(number: int, hit: Hit) -> Citation:
    """Citation ``number`` for a hit; url only for web sources (paths are the front end's job)."""
    source = hit.source or ""
    url = source if source.startswith(("http://", "https://")) else None
    doc_title, topic = clean_inline(hit.title or ""), _topic(hit)
    if doc_title and topic and topic.casefold() != doc_title.casefold():
        title = f"{doc_title} › {topic}"
    else:
        title = topic or doc_title or source
    return Citation(number, title, source, url, hit.id, float(hit.score))


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

    @classmethod
    def from_settings(cls, settings: Settings, blueprint: Blueprint) -> AnswerGenerator:
        """A generator using the configured chat model (offline when no OpenAI key is set)."""
        return cls(settings, blueprint, make_chat_model(settings))

    # -- public API ---------------------------------------------------------------------------
    def answer(
        self, question: str, hits: list[Hit], history: list[tuple[str, str]] | None = None
    ) -> Answer:
        """Answer ``question`` from ``hits`` (best first).

        ``history`` holds the thread's earlier (question, answer) pairs, oldest first; it only
        helps to understand a follow-up, it is never a source.
        """
        score = coverage(hits, question)
        if not is_covered(hits, self.settings.not_covered_threshold, question):
            return self._not_covered(hits, score)
        if self.chat_model is None:
            return self._extractive(question, hits, history, score, OFFLINE_LABEL, None)

        passages = hits[:MAX_LLM_PASSAGES]
        try:
            reply = self._ask_model(question, passages, history)
        except Exception as exc:  # any model failure falls back; the bot must still answer
            log.warning("chat model failed (%s); answering extractively", type(exc).__name__)
            note = describe_llm_error(exc)
            return self._extractive(question, hits, history, score, FALLBACK_LABEL, note)

        said_not_covered = NOT_COVERED in reply.upper()
        without_sentinel = re.sub(NOT_COVERED, "", reply, flags=re.IGNORECASE).strip()
        text, order = renumber_citations(without_sentinel, len(passages))
        if _is_not_covered_reply(reply) or (said_not_covered and not order):
            return self._not_covered(hits, score)
        if not order:  # not grounded: never show it as an answer from the material
            log.info("chat model reply had no valid citation; answering extractively")
            note = NO_CITATION_NOTE
            return self._extractive(question, hits, history, score, FALLBACK_LABEL, note)
        citations = [_citation(new, passages[old - 1]) for new, old in enumerate(order, start=1)]
        return Answer(
            text=text,
            citations=citations,
            domains=domain_tags(hits, self.blueprint),
            mode="llm",
            confidence=score,
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

    # -- the three modes ----------------------------------------------------------------------
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

    def _extractive(
        self,
        question: str,
        hits: Sequence[Hit],
        history: Sequence[tuple[str, str]] | None,
        score: float,
        label: str,
        note: str | None,
    ) -> Answer:
        units = extract(question, hits, history)
        if not units:
            answer = self._not_covered(hits, score)
            answer.note = note
            return answer
        numbers: dict[int, int] = {}
        lines = []
        previous: Sentence | None = None
        shown = ""
        for unit in units:
            number = numbers.setdefault(unit.passage, len(numbers) + 1)
            follows = (
                previous is not None
                and (previous.passage, previous.position + 1) == (unit.passage, unit.position)
                and previous.subject == unit.subject
                and _mentions(shown, unit.subject)
            )
            shown = unit.display(follows)
            lines.append(f"{shown} [{number}]")
            previous = unit
        citations = [_citation(number, hits[i]) for i, number in numbers.items()]
        return Answer(
            text=label + "\n" + "\n".join(lines),
            citations=citations,
            domains=domain_tags(hits, self.blueprint),
            mode="extractive",
            confidence=score,
            note=note,
        )


def _brief(text: str, limit: int = 300) -> str:
    """An earlier answer shortened for the condense prompt."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit].rsplit(" ", 1)[0] + " …"


__all__ = [
    "NOT_COVERED",
    "AnswerGenerator",
    "closest_topics",
    "coverage",
    "domain_tags",
    "Sentence",
    "extract",
    "format_passages",
    "is_covered",
    "neutralize",
    "renumber_citations",
]
