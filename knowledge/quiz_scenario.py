"""Scenario questions: "A team needs X under constraint Y. Which service/algorithm/approach?"

Built offline from the material's decision content, in two kinds (``generator``):

- ``offline:scenario``, from *decision lines*: the notes' "need → choice" bullets ("Land
  clickstream JSON in S3 as Parquet with the least operational effort → Firehose with record
  format conversion."). The choice is resolved to a known entity ("Firehose" → Amazon Kinesis
  Data Firehose, "DMS" by its initials); a line whose choice names nothing known is skipped.
  Distractors are the list's other choices and the answer's siblings of the same kind, minus
  everything the line's choice names. A choice of two alternatives ("Glue job or DMS") gives a
  "choose two"; two lines of one list give "two requirements, one solution each".
- ``offline:need``, from what the material says a thing is for: a term's description ("Turns
  text into lifelike speech"), a guide bullet ("add image and video analysis to your
  applications …"), a page's defining sentence ("Amazon SageMaker Clarify helps you detect
  bias …", "… is a service that …") or a "Use X to …" sentence, phrased as a team's need
  (`knowledge.quiz_grammar.need_of`). Single answer, and "choose two" from two siblings.

Only exam-relevant answers are asked about (`knowledge.quiz_build.Builder.worth`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from knowledge.question import Question, appears_in
from knowledge.quiz_build import (
    MAX_EXPLANATION_CHARS,
    Builder,
    explain,
    names_in,
    plural,
    quote,
    related,
    stem_label,
)
from knowledge.quiz_extract import (
    VENDOR,
    ChunkView,
    Entity,
    Entry,
    is_service,
    mention_pattern,
    name_shape,
    split_sentences,
)
from knowledge.quiz_grammar import Need, need_of
from knowledge.quiz_material import AWS_KINDS, Material
from knowledge.quiz_relevance import REFERENCE_KINDS
from knowledge.text import BULLET, clean_inline, content_terms

MAX_NEEDS_PER_ENTITY = 6  # need questions with one answer, from different pages
MAX_PAIRS_PER_LIST = 3  # "two requirements" questions from one decision list
MIN_NEED_TERMS = 3  # content words a decision's need must have to stand alone
MIN_NOUN_NEED = 6  # words of "X is a …" as a need: "a fully managed service" says nothing
#: Kinds one uses (a need may be a noun phrase: "needs a rugged physical appliance …").
TOOL_KINDS = AWS_KINDS | {
    "algorithm", "technique", "method", "approach", "strategy", "mode", "format", "chart",
    "encoding", "transform", "transformation", "pattern", "instance", "accelerator",
    "database", "warehouse", "store", "endpoint", "option", "model",
}  # fmt: skip
_ARROW = re.compile(r"\s+(?:→|->|=>)\s+")
_CHOICE_CUT = re.compile(
    r"\s*\(|,\s|;\s|\s(?:with|in|on|which|that|often|orchestrated|such as|using|plus|for|via)\s"
)
_ALTERNATIVES = re.compile(r"\s+(?:or|and)\s+|\s*/\s*")
_USE_TO = re.compile(
    r"^(?:You can )?[Uu]se (?P<name>(?:Amazon |AWS )?[A-Z][\w\-]*(?: [A-Z][\w\-]*){0,4}) "
    r"to (?P<vp>[a-z].+)$"
)
_WITH_YOU_CAN = re.compile(r"^With (?P<name>[^,]{3,60}), you can (?P<vp>[a-z].+)$")
_RELATIVE = re.compile(r"^(?:is|are) (?:a|an|the)\b[^,]*?\b(?:that|which) (?P<vp>.+)$")
_PREDICATE_PURPOSE = re.compile(
    r"^(?:(?:is|are) (?:used|designed|built|intended) to|(?:is|are) (?:a|an) \S+(?: \S+)? to)"
    r" (?P<vp>[a-z].+)$"
)  # not "can …": "Studio can connect only to a local repository" is a limit, not a purpose
_KIND_NP = re.compile(
    r"^(?:is|are) (?P<np>(?:a|an) [^,;]*?\b(?:service|tool|solution|platform|feature|capability|"
    r"library|framework|engine|system|warehouse|database|algorithm))(?:\s+(?:for|that|to)\b.*)?$"
)
_TO_USE = re.compile(
    r"^To (?P<vp>[a-z][^,]{10,}), (?:you can )?use (?P<name>(?:Amazon |AWS )?[A-Z][\w\-]*"
    r"(?: [A-Z][\w\-]*){0,4})\b"
)
_ACTORS = {"aws": "A company", "algorithm": "A data scientist"}
#: Verbs that say what a thing is for, as a prose sentence's predicate starts ("Amazon
#: Comprehend uses natural language processing to …"); other verbs describe mechanics.
CAPABILITY_VERBS = frozenset(
    ["helps", "lets", "enables", "allows", "makes", "automates", "simplifies"]
)
#: Words of a need that any service could meet (plumbing): a prose need holding one says
#: nothing that singles out its subject, unless the subject is about exactly that.
PLUMBING = re.compile(
    r"\b(?:kms|keys?|encrypt\w*|permissions?|iam|roles?|polic(?:y|ies)|vpcs?|subnets?|buckets?|"
    r"console|apis?|sdks?|quotas?|limits?|tags?|cloudwatch|logs?|logging|accounts?|credentials|"
    r"defaults?|parameters?|regions?|notebooks?|json|arn|urls?|endpoints? url|learn how)\b",
    re.IGNORECASE,
)


@dataclass
class Decision:
    """One "need → choice" pair of a decision list."""

    view: ChunkView
    line: str  # the whole line, cleaned (the explanation quotes it)
    need: str
    answers: list[Entity]  # the choice's alternatives, resolved
    surfaces: list[str]  # how the cited chunk writes each answer
    named: list[Entity]  # everything the choice names (never a distractor)
    group: str  # the decision list (source + heading path)


# --------------------------------------------------------------------------------------------
# Reading decision lines
# --------------------------------------------------------------------------------------------


def decision_pairs(line: str) -> list[tuple[str, str]]:
    """(need, choice) pairs of a "need → choice" line; ';' separates several. A later need
    that starts in lower case borrows the first need's context before its comma ("Structured
    data, need strong accuracy → XGBoost; need a simple baseline → Linear Learner")."""
    text = clean_inline(BULLET.sub("", line)).strip()
    pairs: list[tuple[str, str]] = []
    context = ""
    for part in re.split(r";\s+", text):
        pieces = _ARROW.split(part, maxsplit=1)
        if len(pieces) != 2:
            continue
        need, choice = (p.strip().strip('"“”').strip() for p in pieces)
        if not pairs and "," in need:
            context = need.split(",", 1)[0]
        elif pairs and need[:1].islower() and context:
            need = f"{context}, {need}"
        choice = choice.rstrip(".").strip()
        if need and choice:
            pairs.append((need, choice))
    return pairs


def _resolve(material: Material, text: str) -> Entity | None:
    """The entity a choice's head names; shorter prefixes are tried ("Athena CREATE TABLE AS
    SELECT query" → Athena)."""
    words = re.sub(r"^(?:an?|the)\s+", "", text.strip(), flags=re.I).split()
    for end in range(len(words), 0, -1):
        entity = material.entity_named(" ".join(words[:end]))
        if entity is not None:
            return entity
    return None


def _surface(entity: Entity, passage: str, written: str) -> str | None:
    """How the cited chunk writes the entity: its name, without the vendor, or as the line
    wrote it ("Firehose")."""
    core = VENDOR.sub("", entity.name) or entity.name
    for form in (entity.name, core, written):
        if form and appears_in(form, passage):
            return form
    return None


def decisions(material: Material) -> list[Decision]:
    """Every decision pair whose choice resolves to known entities."""
    out: list[Decision] = []
    for view in material.views:
        group = f"{view.source}\x00{' > '.join(view.path)}"
        for raw in view.chunk.text.splitlines():
            if not _ARROW.search(raw) or not BULLET.match(raw):
                continue
            line = clean_inline(raw)
            for need, choice in decision_pairs(raw):
                if len(set(content_terms(need))) < MIN_NEED_TERMS:
                    continue  # "Translation", "where is it": needs their line's context
                head = _CHOICE_CUT.split(choice, maxsplit=1)[0]
                whole = material.entity_named(head)  # "Mean or median imputation" is one term
                parts = [head] if whole else [p for p in _ALTERNATIVES.split(head) if p.strip()]
                answers = [_resolve(material, p) for p in parts]
                if not answers or any(a is None for a in answers):
                    continue
                resolved = [a for a in answers if a is not None]
                surfaces = [
                    _surface(a, view.passage, p) for a, p in zip(resolved, parts, strict=True)
                ]
                if any(s is None for s in surfaces):
                    continue
                named = [e for e in material.pooled_entities() if names_in(choice, [e])]
                out.append(
                    Decision(view, line, need, resolved, [s for s in surfaces if s], named, group)
                )
    return out


# --------------------------------------------------------------------------------------------
# Decision questions
# --------------------------------------------------------------------------------------------


def _requirement(need: str) -> str:
    need = need.rstrip(".")
    if need.endswith("?"):
        return f"“{need}”"
    return f"“{need[:1].upper()}{need[1:]}.”"


def _label(entity: Entity, distractors: Sequence[Entity] = ()) -> str:
    if is_service(entity.name) or name_shape(entity.name) != "other" or entity.noun in AWS_KINDS:
        return "solution"
    pooled = any(d.group != entity.group for d in distractors)
    return stem_label(entity, pooled) or "option"


def _decision_candidates(
    builder: Builder, decision: Decision, siblings: Sequence[Decision]
) -> list[Entity]:
    """Wrong options for a decision: the answer's siblings (one kind by the material's own
    account), the list's other choices of that kind, then the answer's pool."""
    first = decision.answers[0]
    out: list[Entity] = list(builder.corpus.groups.get(first.group, []))
    for other in siblings:  # of the answer's kind: its noun, or its group when it has none
        out += [a for a in other.answers if (a.noun or a.group) == (first.noun or first.group)]
    out += builder.corpus.pools.get(first.pool or "", [])
    unique = list({id(e): e for e in out}.values())
    return [e for e in unique if not any(related(e, n) for n in decision.named)]


def decision_question(
    builder: Builder, decision: Decision, siblings: Sequence[Decision], multi: bool
) -> Question | None:
    """One decision as a question: single answer, or "choose two" of two alternatives."""
    answers = decision.answers[:2] if multi else decision.answers[:1]
    if multi != (len(decision.answers) >= 2) or not all(builder.worth(a) for a in answers):
        return None
    chosen: list[Entity] = []
    candidates = _decision_candidates(builder, decision, siblings)
    builder.pick(candidates, 3, answers, decision.need, chosen, decision.view.objective)
    if len(chosen) < 3:
        builder.skip("few_distractors")
        return None
    label = _label(answers[0], chosen)
    requirement = _requirement(decision.need)
    needs = re.match(r"^[Nn]eeds? (?:an? |the )?\S", decision.need)
    if needs and not multi and not decision.need.endswith("?"):
        wants = decision.need.split(" ", 1)[1].rstrip(".")
        stem = f"A team needs {wants}. Which {label} meets this need?"
    elif decision.need.rstrip().endswith("?"):
        stem = f"A team is asked: {requirement} Which {label} is this?"
    elif multi:
        stem = (
            f"A team has this requirement: {requirement} Which TWO {plural(label)} could meet it?"
        )
    else:
        stem = f"A team has this requirement: {requirement} Which {label} meets it?"
    names = decision.surfaces[: len(answers)]
    chosen = _bare_if(chosen, names[0])
    explanation = quote(f"The material says: “{decision.line}”", MAX_EXPLANATION_CHARS)
    return builder.question(
        decision.view, stem, answers, chosen, explanation, "scenario", answer_names=names
    )


def two_requirements(builder: Builder, first: Decision, second: Decision) -> Question | None:
    """Two decisions of one list: "two requirements, which TWO solutions (one each)?"."""
    answers = [first.answers[0], second.answers[0]]
    if related(*answers) or not all(builder.worth(a) for a in answers):
        return None
    if first.view.id != second.view.id or _label(answers[0]) != _label(answers[1]):
        return None
    named = [*first.named, *second.named, *first.answers, *second.answers]
    candidates = [
        e for e in _decision_candidates(builder, first, []) if not any(related(e, n) for n in named)
    ]
    chosen: list[Entity] = []
    core = f"{first.need} {second.need}"
    builder.pick(candidates, 3, answers, core, chosen, first.view.objective)
    if len(chosen) < 3 or any(n.endswith("?") for n in (first.need, second.need)):
        builder.skip("few_distractors")
        return None
    label = plural(_label(answers[0], chosen))
    stem = (
        f"A team has two requirements: (1) {_requirement(first.need)} (2) "
        f"{_requirement(second.need)} Which TWO {label} meet them, one for each?"
    )
    names = [first.surfaces[0], second.surfaces[0]]
    explanation = quote(
        f"The material says: “{first.line}” and “{second.line}”", MAX_EXPLANATION_CHARS
    )
    chosen = _bare_if(chosen, names[0])
    return builder.question(
        first.view, stem, answers, chosen, explanation, "scenario", answer_names=names
    )


def _bare_if(distractors: list[Entity], answer_name: str) -> list[Entity]:
    """Distractors without "Amazon"/"AWS" when the answer is written without it."""
    if VENDOR.match(answer_name):
        return distractors
    return [replace(d, name=VENDOR.sub("", d.name) or d.name) for d in distractors]


def scenario_questions(material: Material, builder: Builder) -> list[Question]:
    """Decision questions: each pair single, alternatives as "choose two", and pairs of lines."""
    out: list[Question] = []
    by_list: dict[str, list[Decision]] = {}
    for decision in decisions(material):
        by_list.setdefault(decision.group, []).append(decision)
    for members in by_list.values():
        for decision in members:
            siblings = [d for d in members if d is not decision]
            for multi in (False, True):
                q = decision_question(builder, decision, siblings, multi)
                if q is not None:
                    out.append(q)
        pairs = 0
        for i in range(0, len(members) - 1, 2):
            if pairs >= MAX_PAIRS_PER_LIST:
                break
            q = two_requirements(builder, members[i], members[i + 1])
            if q is not None:
                out.append(q)
                pairs += 1
    return out


# --------------------------------------------------------------------------------------------
# Need questions
# --------------------------------------------------------------------------------------------


def _kind(entity: Entity) -> str:
    if is_service(entity.name) or name_shape(entity.name) != "other" or entity.noun in AWS_KINDS:
        return "aws"
    return entity.noun or ""


def _ask(entity: Entity, label: str, two: bool = False) -> str:
    """The closing question of a need stem ("option" when the material names no kind)."""
    label = label or "option"
    if two:
        return f"Which TWO {plural(label)} should they use?"
    if entity.noun in ("type", "problem", "paradigm", "task"):
        return f"Which {label} fits this need?"
    if entity.noun == "algorithm":
        return f"Which {label} should they choose?"
    return f"Which {label} should they use?"


class NeedFinder:
    """Needs an entity serves, read from its descriptions and the pages' sentences."""

    def __init__(self, material: Material, builder: Builder) -> None:
        self.material = material
        self.builder = builder
        self._subjects: re.Pattern[str] | None = None
        self.by_form: dict[str, Entity] = {}

    def need(self, entity: Entity, text: str, verb_first: bool = False) -> Need | None:
        """``text`` as a need of a team, when it is specific and does not name the answer."""
        if entity.noun in REFERENCE_KINDS or not self.builder.distinctive(text):
            return None
        noun_ok = (_kind(entity) == "aws" or entity.noun in TOOL_KINDS) and not verb_first
        need = need_of(text, self.material.names, noun_ok=noun_ok, verb_first=verb_first)
        if need is None or names_in(need.text, [entity]):
            return None
        return need

    def from_entry(self, entry: Entry) -> Need | None:
        for sentence in split_sentences(entry.description):
            need = self.need(entry.entity, sentence.rstrip("."))
            if need is not None:
                return need
        return None

    def subjects(self) -> re.Pattern[str]:
        """One pattern for every exam-relevant named entity as a sentence's subject."""
        if self._subjects is None:
            forms: dict[str, Entity] = {}
            for category in ("aws", "algorithm"):
                for entity in self.material.by_category(category):
                    if self.builder.unworthy(entity):
                        continue
                    for form in (entity.name, VENDOR.sub("", entity.name)):
                        if len(form) >= 3 and form[:1].isupper():
                            forms.setdefault(form, entity)
            self.by_form = forms
            names = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
            vendor = r"(?:(?:Amazon|AWS)\s+)?(?:SageMaker\s+)?"
            self._subjects = re.compile(
                rf"^(?:The\s+)?{vendor}(?P<name>{names or 'a^'})(?![\w-])(?!\s+[A-Z0-9])"
                rf"(?:\s*\([^)]*\))?,?\s+(?P<pred>[a-z].+)$"
            )
        return self._subjects

    def from_sentences(self, view: ChunkView) -> Iterator[tuple[Entity, Need, str]]:
        """(entity, need, sentence) from a page's prose: a sentence whose subject is an exam
        entity ("Amazon Comprehend helps you …", "X is a service that …"), and "Use X to …",
        "With X, you can …", "To …, use X" sentences on a page about X."""
        subjects = self.subjects()
        for line in view.chunk.text.splitlines():
            if line.lstrip().startswith(("|", "#", "```")):
                continue
            for sentence in split_sentences(clean_inline(line)):
                if len(sentence.split()) < 6 or sentence.endswith((":", "?")):
                    continue
                found = self._prose_need(subjects, sentence, view)
                if found is not None:
                    yield (*found, sentence)

    def _prose_need(
        self, subjects: re.Pattern[str], sentence: str, view: ChunkView
    ) -> tuple[Entity, Need] | None:
        match = subjects.match(sentence)
        if match:
            entity = self.by_form[match.group("name")]
            predicate = match.group("pred")
            relative = _RELATIVE.match(predicate)
            purpose = _PREDICATE_PURPOSE.match(predicate)
            verb = predicate.split(" ", 1)[0].lower()
            if not (relative or purpose or verb in CAPABILITY_VERBS or verb in ("is", "are")):
                return None  # "Ground Truth creates one output file …": mechanics, not a need
            if relative:
                need = self.need(entity, relative.group("vp"))
            elif purpose:
                need = self.need(entity, purpose.group("vp"), verb_first=True)
            elif _KIND_NP.match(predicate):
                noun = _KIND_NP.match(predicate).group("np")
                need = self.need(entity, noun) if len(noun.split()) >= MIN_NOUN_NEED else None
            elif verb in ("is", "are"):
                return None
            else:
                need = self.need(entity, predicate)
            return (entity, need) if self._specific(entity, need) else None
        match = _USE_TO.match(sentence) or _WITH_YOU_CAN.match(sentence) or _TO_USE.match(sentence)
        if not match:
            return None
        entity = self.material.entity_named(match.group("name"))
        if entity is None or self.material.category(entity) is None:
            return None
        if not _about(entity, view):
            return None  # "Use Studio to enable model monitoring" on the Model Monitor page
        need = self.need(entity, match.group("vp"))
        ok = need is not None and need.form == "verb" and self._specific(entity, need)
        return (entity, need) if ok else None

    def _specific(self, entity: Entity, need: Need | None) -> bool:
        """A prose need that singles its subject out: no plumbing any service has (keys,
        permissions, logs), unless the subject's own name is about it (AWS KMS and keys)."""
        if need is None or "`" in need.text:
            return False
        plumbing = PLUMBING.findall(need.text)
        return not plumbing or all(p.lower() in entity.name.lower() for p in plumbing)


def _about(entity: Entity, view: ChunkView) -> bool:
    """Whether a page is about the entity: its title or heading path names it, or the doc set
    is the entity's own ("comprehend/latest/dg" for Amazon Comprehend)."""
    where = " ".join([view.title, *view.path])
    if mention_pattern(entity).search(where):
        return True
    words = [w for w in re.findall(r"[a-z0-9]+", view.source.lower().split("/latest/")[0])]
    core = [w.lower() for w in VENDOR.sub("", entity.name).split()]
    return bool(core) and core[0] in words


def need_question(
    builder: Builder, view: ChunkView, entity: Entity, need: Need, source_text: str
) -> Question | None:
    """ "A team needs to … Which AWS service should they use?" with siblings as distractors."""
    if not builder.worth(entity):
        return None
    surface = _surface(entity, view.passage, "")
    if surface is None:
        builder.skip("not_in_chunk")
        return None
    distractors, pooled = builder.distractors([entity], 3, need.text, view.objective)
    if len(distractors) < 3:
        builder.skip("few_distractors")
        return None
    label = stem_label(entity, pooled)
    actor = _ACTORS.get(_kind(entity), "A team")
    stem = f"{need.sentence(actor)} {_ask(entity, label)}"
    explanation = quote(f"{entity.name}: {source_text}", MAX_EXPLANATION_CHARS)
    if names_in(source_text, [entity]):
        explanation = quote(f"The material says: “{source_text}”", MAX_EXPLANATION_CHARS)
    distractors = _bare_if(distractors, surface)
    return builder.question(
        view, stem, [entity], distractors, explanation, "need", answer_names=[surface]
    )


def need_pair(builder: Builder, first: tuple[Entry, Need], second: tuple[Entry, Need]):
    """Two siblings' needs: "A team has two needs: (1) … (2) … Which TWO … should they use?"."""
    (e1, n1), (e2, n2) = first, second
    answers = [e1.entity, e2.entity]
    if related(*answers) or not all(builder.worth(a) for a in answers):
        return None
    core = f"{n1.text} {n2.text}"
    distractors, pooled = builder.distractors(answers, 3, core, e1.chunk.objective)
    if len(distractors) < 3:
        builder.skip("few_distractors")
        return None
    label = stem_label(e1.entity, pooled)
    actor = _ACTORS.get(_kind(e1.entity), "A team")
    parts = [f"to {n.text}" if n.form == "verb" else n.text for n in (n1, n2)]
    stem = f"{actor} has two needs: (1) {parts[0]}; (2) {parts[1]}. " + _ask(e1.entity, label, True)
    explanation = " ".join([explain(e1.entity, e1.description), explain(e2.entity, e2.description)])
    return builder.question(e1.chunk, stem, answers, distractors, explanation, "need")


def need_questions(material: Material, builder: Builder) -> list[Question]:
    """Need questions from descriptions (single, and two siblings of one chunk) and from the
    pages' defining and "Use X to …" sentences; `MAX_NEEDS_PER_ENTITY` per answer."""
    finder = NeedFinder(material, builder)
    out: list[Question] = []
    asked: dict[str, set[str]] = {}

    def room(entity: Entity, source: str) -> bool:
        pages = asked.setdefault(entity.key, set())
        return source not in pages and len(pages) < MAX_NEEDS_PER_ENTITY

    by_chunk: dict[str, list[tuple[Entry, Need]]] = {}
    for entry in material.corpus.entries:
        if not room(entry.entity, entry.chunk.source) or builder.unworthy(entry.entity):
            continue
        need = finder.from_entry(entry)
        if need is None:
            continue
        q = need_question(builder, entry.chunk, entry.entity, need, entry.description)
        if q is not None:
            asked[entry.entity.key].add(entry.chunk.source)
            builder.asked.add((entry.chunk.id, entry.entity.key))
            out.append(q)
            by_chunk.setdefault(f"{entry.chunk.id}\x00{entry.entity.group}", []).append(
                (entry, need)
            )
    for members in by_chunk.values():
        if len(members) >= 2:
            first, second = builder.rng.sample(members, 2)
            q = need_pair(builder, first, second)
            if q is not None:
                out.append(q)
    for view in material.views:
        for entity, need, sentence in finder.from_sentences(view):
            if not room(entity, view.source) or builder.unworthy(entity):
                continue
            q = need_question(builder, view, entity, need, sentence)
            if q is not None:
                builder.used_sentences.add((view.id, sentence))
                asked[entity.key].add(view.source)
                out.append(q)
    return out


__all__ = [
    "Decision",
    "NeedFinder",
    "decision_pairs",
    "decisions",
    "need_questions",
    "scenario_questions",
]
