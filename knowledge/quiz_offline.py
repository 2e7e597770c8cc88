"""Offline questions: built from the material's own structure, no model.

`knowledge.quiz_material.Material` reads the chunks (terms, descriptions, kinds, groups, the
exam vocabulary); `knowledge.quiz_build.Builder` picks distractors and checks each question.
Eight kinds of question (``generator="offline:<kind>"``), scenarios first:

- ``scenario`` and ``need`` (`knowledge.quiz_scenario`): a team's requirement or need, "which
  service/algorithm/approach?", from decision lines and from what the material says a thing is
  for; single answer and "choose two";
- ``term``: "Which <kind> matches this description: “…”?" - for an exam term whose description
  reads as no need; only the opening sentence (or first bullets) of a description is quoted;
- ``multi``: "Which TWO …" - two terms of one chunk by their descriptions, or "Which TWO of the
  following are <group label>?" against members of other groups (services and algorithms);
- ``blank``: a defining sentence ("X is a …", "X helps you …") with the name blanked, when the
  rest of the sentence says something specific and no need question took the sentence;
- ``title``: an AWS doc page's opening sentence with the page's subject blanked, the options
  other pages' subjects of the same kind from the same guide;
- ``ordering`` and ``matching`` (`knowledge.quiz_arranged`), for an exam that has such items:
  a numbered procedure's steps to put in order, sibling terms or decision lines to match.

Only exam-relevant answers are asked about: reference-table values, identifiers and terms
neither the guide nor the blueprint's keywords name are skipped (``offline_trivia``,
``offline_irrelevant``). A term whose kind the material does not say (no heading noun) gets no
question: "Which term from “<heading>” …" means nothing without the page. Every question cites
the one chunk it is answerable from, and its correct options appear in that chunk.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from knowledge.question import ChunkLike, GenerationStats, Question
from knowledge.quiz_arranged import matching_questions, ordering_questions
from knowledge.quiz_build import (
    GENERIC_TOKENS,
    MAX_EXPLANATION_CHARS,
    Builder,
    explain,
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
    defining_sentences,
    mention_pattern,
    split_sentences,
)
from knowledge.quiz_material import Material
from knowledge.quiz_scenario import need_questions, scenario_questions
from knowledge.text import clean_inline, content_terms

if TYPE_CHECKING:
    from knowledge.blueprint import Blueprint

KINDS = ("scenario", "need", "term", "multi", "blank", "title", "ordering", "matching")
BLANK = "______"
MAX_TERMS_PER_TABLE = 6  # term questions from one table (hyperparameters, metrics)
MAX_BLANKS_PER_ENTITY = 6
# Kinds whose group headings sort their members into disjoint categories ("Streaming ingestion
# services" vs "Batch and bulk ingestion services"); metric lists overlap.
GROUP_KINDS = {"service", "algorithm"}
_DEFINING = (
    r"is|are|provides|helps|lets|enables|allows|automates|offers|delivers|reduces|"
    r"turns|converts|transcribes|translates|detects|extracts|identifies|trains|learns|"
    r"partitions|assigns|maps|scans|builds|creates|generates|monitors|manages|stores|orchestrates"
)


# --------------------------------------------------------------------------------------------
# (a) term + description
# --------------------------------------------------------------------------------------------


def term_question(builder: Builder, entry: Entry) -> Question | None:
    entity = entry.entity
    if entity.noun is None:
        builder.skip("no_kind")
        return None
    if not builder.worth(entity):
        return None
    reason = "leak"
    for text in builder.descriptions(entry):
        distractors, pooled = builder.distractors([entity], 3, text, entry.chunk.objective)
        if len(distractors) < 3:
            reason = "few_distractors"
            continue
        label = stem_label(entity, pooled)
        stem = f"Which {label} matches this description: “{text}”?"
        return builder.question(
            entry.chunk, stem, [entity], distractors, explain(entity, entry.description), "term"
        )
    builder.skip(reason)
    return None


# --------------------------------------------------------------------------------------------
# (b) choose two
# --------------------------------------------------------------------------------------------


def pair_question(builder: Builder, first: Entry, second: Entry) -> Question | None:
    answers = [first.entity, second.entity]
    if first.entity.noun is None:
        builder.skip("no_kind")
        return None
    if not all(builder.worth(a) for a in answers):
        return None
    d1 = builder.descriptions(first, [second.entity])
    d2 = builder.descriptions(second, [first.entity])
    if not d1 or not d2:
        builder.skip("leak")
        return None
    quotes = f"(1) “{d1[0]}” (2) “{d2[0]}”"
    distractors, pooled = builder.distractors(answers, 3, quotes, first.chunk.objective)
    if len(distractors) < 3:
        builder.skip("few_distractors")
        return None
    label = plural(stem_label(first.entity, pooled))
    stem = f"Which TWO of the following {label} match these descriptions: {quotes}?"
    explanation = " ".join(
        [explain(first.entity, first.description), explain(second.entity, second.description)]
    )
    return builder.question(first.chunk, stem, answers, distractors, explanation, "multi")


def group_question(builder: Builder, entries: list[Entry]) -> Question | None:
    """'Which TWO of the following are <group label>?' against other groups of the kind."""
    entity = entries[0].entity
    modifiers = set(content_terms(entity.label)) - set(content_terms(entity.noun or ""))
    if entity.noun not in GROUP_KINDS or not entity.pool or not modifiers or not entity.headed:
        return None
    members = builder.corpus.groups.get(entity.group, [])
    first, second = builder.rng.sample(entries, 2)
    answers = [first.entity, second.entity]
    if not all(builder.worth(a) for a in answers):
        return None
    stem = f"Which TWO of the following are {plural(entity.label)}?"
    candidates = [
        e
        for e in builder.corpus.pools.get(entity.pool, [])
        if e.group != entity.group
        and not (set(content_terms(e.label)) & modifiers)
        and not (e.desc_terms & modifiers)
        and not any(related(e, m) for m in members)
    ]
    chosen: list[Entity] = []
    builder.pick(candidates, 3, answers, stem, chosen)
    if len(chosen) < 3:
        builder.skip("few_distractors")
        return None
    explanation = quote(
        f"The material lists {first.entity.name} and {second.entity.name} under "
        f"“{entity.heading}”. {explain(first.entity, first.description)} "
        f"{explain(second.entity, second.description)}",
        MAX_EXPLANATION_CHARS,
    )
    return builder.question(first.chunk, stem, answers, chosen, explanation, "multi")


# --------------------------------------------------------------------------------------------
# (c) blanked definition
# --------------------------------------------------------------------------------------------


def blank_question(
    builder: Builder, view: ChunkView, sentence: str, entity: Entity
) -> Question | None:
    pattern = mention_pattern(entity, case=True)
    found = pattern.search(sentence)
    blanked = pattern.sub(BLANK, sentence)
    if found is None or len(blanked.split()) < 6 or entity.noun is None or blanked.count(BLANK) > 1:
        return None
    if re.search(rf"\b(?:a|an|An|A)\s+{BLANK}", blanked):
        return None  # "An ______ key": the article gives the answer's first sound away
    if re.search(rf"{BLANK}\s+(?!is |are )[a-z]+\s+(?:enables|helps|lets)\b", blanked):
        return None  # "______ already enables you to encrypt …": a remark, not a definition
    others = builder.material.by_category("aws")
    if any(o.key != entity.key and mention_pattern(o, case=True).search(blanked) for o in others):
        return None  # names another service: about an integration, not what the answer is
    if not builder.worth(entity):
        return None
    surface = found.group(0)
    if not builder.distinctive(blanked):
        builder.skip("vague")
        return None
    text = quote(blanked)
    distractors, pooled = builder.distractors([entity], 3, text, view.objective)
    if len(distractors) < 3:
        builder.skip("few_distractors")
        return None
    bare = not VENDOR.match(surface)
    if sum(1 for d in distractors if VENDOR.match(d.name)) < 2:
        surface = VENDOR.sub("", surface) or surface  # "Neo" among "Studio", "Autopilot"
        bare = True
    stem = f"Which {stem_label(entity, pooled)} fills the blank: “{text}”?"
    explanation = f"The material says: “{quote(sentence, MAX_EXPLANATION_CHARS)}”"
    if bare:  # "Studio Lab" among "Canvas", "Model Dashboard", not "Amazon SageMaker ..."
        distractors = [replace(d, name=VENDOR.sub("", d.name) or d.name) for d in distractors]
    return builder.question(
        view, stem, [entity], distractors, explanation, "blank", answer_names=[surface]
    )


# --------------------------------------------------------------------------------------------
# (d) page title + summary
# --------------------------------------------------------------------------------------------


def title_question(builder: Builder, view: ChunkView, entity: Entity) -> Question | None:
    if builder.unworthy(entity):
        return None
    pattern = mention_pattern(entity)
    text = " ".join(clean_inline(line) for line in view.chunk.text.split("\n\n")[0].splitlines())
    for sentence in split_sentences(text)[:3]:
        match = pattern.search(sentence)
        if not match or len(sentence[: match.start()].split()) > 4:
            continue
        tail = sentence[match.end() :]
        if not re.match(rf"^(?:\s+[\w\-()]+){{0,3}}?\s+(?:{_DEFINING})\b", tail):
            continue
        if sentence.rstrip().endswith(":") or len(sentence.split()) < 8:
            continue
        if not builder.distinctive(pattern.sub(" ", sentence)):
            continue
        if (view.id, sentence) in builder.used_sentences:
            continue
        blanked = quote(pattern.sub(BLANK, sentence))
        options: list[Entity] = []
        pool = builder.corpus.page_entities.get(entity.pool or "", [])
        builder.pick(pool, 3, [entity], blanked, options, view.objective)
        if len(options) < 3:
            builder.skip("few_distractors")
            return None
        builder.used_sentences.add((view.id, sentence))
        stem = f"Which {entity.label} does this describe: “{blanked}”?"
        explanation = f"The page “{view.title}” opens: “{quote(sentence, MAX_EXPLANATION_CHARS)}”"
        return builder.question(view, stem, [entity], options, explanation, "title")
    return None


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


def generate_offline(
    chunks: Sequence[ChunkLike],
    blueprint: Blueprint,
    rng: random.Random,
    kinds: Sequence[str] = KINDS,
    *,
    stats: GenerationStats | None = None,
    material: Material | None = None,
) -> list[Question]:
    """Candidate questions built from the structure of ``chunks`` (validate them before use).

    ``kinds`` picks among `KINDS`; ordering and matching items only for a blueprint whose
    exam has them (`knowledge.blueprint.Blueprint.formats`). Chunks without a domain and
    objective of ``blueprint`` are skipped. ``material``: ``chunks`` already read
    (`Material.read`). Deterministic for a given ``rng`` state and chunk order. Candidates a
    structure could not support (no non-leaking description, too few distractors, trivia) are
    counted in ``stats`` as ``offline_<reason>``.
    """
    material = material or Material.read(chunks, blueprint, stats)
    builder = Builder(material, rng, stats)
    out: list[Question] = []
    if "scenario" in kinds:
        out += scenario_questions(material, builder)
    if "need" in kinds:
        out += need_questions(material, builder)
    if "term" in kinds:
        out += _term_questions(material, builder, rng)
    if "multi" in kinds:
        out += _multi_questions(material, builder, rng)
    if "title" in kinds:
        for view in material.views:
            entity = material.corpus.page_of.get(view.source)
            if entity is not None and view.position == 0:
                out += _some(title_question(builder, view, entity))
    if "blank" in kinds:
        out += _blank_questions(material, builder)
    if "ordering" in kinds and "ordering" in blueprint.formats:
        out += ordering_questions(material, builder)
    if "matching" in kinds and "matching" in blueprint.formats:
        out += matching_questions(material, builder)
    return out


def _some(q: Question | None) -> list[Question]:
    return [] if q is None else [q]


def _term_questions(material: Material, builder: Builder, rng: random.Random) -> list[Question]:
    """One term question per entry no need question took (an entry repeated by chunk overlap
    is asked once)."""
    out: list[Question] = []
    by_group: dict[str, list[Entry]] = {}
    seen: set[tuple[str, str]] = set()
    for entry in material.corpus.entries:
        if (entry.chunk.id, entry.entity.key) in builder.asked:
            continue
        if (entry.entity.group, entry.entity.key) not in seen:
            seen.add((entry.entity.group, entry.entity.key))
            by_group.setdefault(entry.entity.group, []).append(entry)
    for group, entries in by_group.items():
        if group.endswith("\x00table") and len(entries) > MAX_TERMS_PER_TABLE:
            # a 40-row parameter table is not 40 questions
            keep = sorted(rng.sample(range(len(entries)), MAX_TERMS_PER_TABLE))
            entries = [entries[k] for k in keep]
        for entry in entries:
            out += _some(term_question(builder, entry))
    return out


def _multi_questions(material: Material, builder: Builder, rng: random.Random) -> list[Question]:
    """Per chunk and group: a "choose two" by descriptions, and once per group its headings."""
    out: list[Question] = []
    by_chunk: dict[str, list[Entry]] = {}
    for entry in material.corpus.entries:
        by_chunk.setdefault(entry.chunk.id, []).append(entry)
    done_groups: set[str] = set()
    for view in material.views:
        groups: dict[str, list[Entry]] = {}
        for entry in by_chunk.get(view.id, []):
            groups.setdefault(entry.entity.group, []).append(entry)
        for group, members in groups.items():
            distinct = list({m.entity.key: m for m in members}.values())
            if len(distinct) < 2:
                continue
            first, second = rng.sample(distinct, 2)
            out += _some(pair_question(builder, first, second))
            if group not in done_groups:
                q = group_question(builder, distinct)
                if q is not None:
                    done_groups.add(group)
                    out.append(q)
    return out


def _blank_questions(material: Material, builder: Builder) -> list[Question]:
    """Blanked defining sentences: one per entity and page, `MAX_BLANKS_PER_ENTITY` at most."""
    out: list[Question] = []
    per_entity: dict[str, int] = {}
    per_page: set[tuple[str, str]] = set()
    for view in material.views:
        for sentence, entity in defining_sentences(material.corpus, view):
            if (view.id, sentence) in builder.used_sentences:
                continue
            if (entity.key, view.source) in per_page:
                continue
            if per_entity.get(entity.key, 0) >= MAX_BLANKS_PER_ENTITY:
                continue
            builder.used_sentences.add((view.id, sentence))
            q = blank_question(builder, view, sentence, entity)
            if q is not None:
                per_page.add((entity.key, view.source))
                per_entity[entity.key] = per_entity.get(entity.key, 0) + 1
                out.append(q)
    return out


__all__ = ["GENERIC_TOKENS", "KINDS", "generate_offline"]
