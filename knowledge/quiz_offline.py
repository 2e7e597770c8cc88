"""Offline questions: built from the material's own structure, no model.

`knowledge.quiz_extract` reads the terms, their descriptions, kinds, groups and pools from the
chunks; this module turns them into questions. Groups of a pooled kind in one collection lend
each other distractors; at most `MAX_TERMS_PER_TABLE` term questions come from one table.

Four kinds of question (``generator="offline:<kind>"``):

- ``term``: "Which <kind> matches this description: “…”?" - the answer and three siblings;
  only the opening sentence (or first bullets) of a description is quoted: it defines the term;
- ``multi``: "Which TWO …" - two terms of one chunk by their descriptions, or "Which TWO of the
  following are <group heading>?" against members of other groups (services and algorithms);
- ``blank``: a defining sentence ("X is a …", "X helps you …") with the name blanked, when the
  rest of the sentence says something specific;
- ``title``: an AWS doc page's opening sentence with the page's subject blanked, the options
  other pages' subjects of the same kind from the same guide.

Every question cites the one chunk it is answerable from, and its correct options appear in that
chunk. Distractors are other entities of the same kind: never the same entity under another name
("KNN" / "k-NN"), nor, across groups, one whose name contains the other's ("Glue" / "Glue
crawler"), nor one whose description nearly repeats the answer's. No stem names its answer or
uses a word that only the answer's name has ("directly" for "Direct access", "95th" for "p95"):
such candidates are dropped, not patched.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING

from knowledge.question import ChunkLike, GenerationStats, Question, appears_in
from knowledge.quiz_extract import (
    MIN_DESCRIPTION_WORDS,
    VENDOR,
    ChunkView,
    Corpus,
    Entity,
    Entry,
    chunk_view,
    defining_sentences,
    is_service,
    mention_pattern,
    name_shape,
    split_sentences,
)
from knowledge.text import STOPWORDS, clean_inline, content_terms, stem_word

if TYPE_CHECKING:
    from knowledge.blueprint import Blueprint

KINDS = ("term", "multi", "blank", "title")
BLANK = "______"
MAX_QUOTE_CHARS = 260
MAX_EXPLANATION_CHARS = 420
MAX_TERMS_PER_TABLE = 6  # term questions from one table (hyperparameters, metrics)
MIN_SPECIFIC_TERMS = 3  # uncommon words a defining sentence needs to single out its subject
SIMILAR_DESCRIPTIONS = 0.6  # term Jaccard above which two descriptions may describe one thing
# Kinds whose group headings sort their members into disjoint categories ("Streaming ingestion
# services" vs "Batch and bulk ingestion services"); metric lists overlap ("CloudWatch metrics"
# vs an algorithm's metrics, which CloudWatch also receives).
GROUP_KINDS = {"service", "algorithm"}
_GENERIC_TOKENS = {  # (stemmed) words of names that give nothing away
    "amazon", "aw", "aws", "sagemaker", "data", "model", "learn", "machin", "algorithm",
}  # fmt: skip
COMMON_SHARE = 0.08  # a word in more than this share of chunks is too common to be specific
_DEFINING = (
    r"is|are|provides|helps|lets|enables|allows|automates|offers|delivers|reduces|"
    r"turns|converts|transcribes|translates|detects|extracts|identifies|trains|learns|"
    r"partitions|assigns|maps|scans|builds|creates|generates|monitors|manages|stores|orchestrates"
)
MAX_BLANKS_PER_ENTITY = 6


# --------------------------------------------------------------------------------------------
# Stems, leaks and distractors
# --------------------------------------------------------------------------------------------


_WORDS = re.compile(r"[a-z0-9]+")
_stem_cached = lru_cache(maxsize=200_000)(stem_word)


def _term_set(text: str) -> set[str]:
    """`knowledge.text.content_terms` as a set, with the stemming cached (for whole corpora)."""
    stems = {_stem_cached(w) for w in _WORDS.findall(text.lower()) if len(w) > 1}
    return {s for s in stems if s not in STOPWORDS}


def _related(a: Entity, b: Entity) -> bool:
    """Same entity, or (across groups) one name inside the other ("Glue" / "Glue crawler").

    Two names listed side by side in one group ("S3 Standard", "S3 Standard-Infrequent
    Access") are distinct alternatives by the material's own account.
    """
    if a.keys & b.keys:
        return True
    if a.group == b.group:
        return False
    ta, tb = a.tokens - {"amazon", "aws"}, b.tokens - {"amazon", "aws"}
    return bool(ta and tb) and (ta <= tb or tb <= ta)


def _plural(label: str) -> str:
    if " of “" in label:  # "parameter of “Confusion”" -> "parameters of “Confusion”"
        noun, _, rest = label.partition(" of “")
        return f"{_plural(noun)} of “{rest}"
    head, _, last = label.rpartition(" ")
    if last.endswith(("s", "x", "ch", "sh")):
        plural = last + "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        plural = last[:-1] + "ies"
    else:
        plural = last + "s"
    return f"{head} {plural}" if head else plural


def _stem_label(entity: Entity, pooled: bool) -> str:
    """How a stem names the answer's kind: the group's label, or the bare kind when the
    distractors come from other groups too."""
    if pooled and name_shape(entity.name) == "sagemaker":
        return "SageMaker feature"
    if pooled and is_service(entity.name):
        return "AWS service"
    if pooled:
        return entity.noun or entity.label
    if entity.label == "service" and is_service(entity.name):
        return "AWS service"
    return entity.label


def _restyle(name: str, like: str) -> str:
    """Write a SageMaker feature's name the way the answer is written ("Amazon SageMaker X" or
    "SageMaker X"), so no option stands out by its prefix."""
    if not re.match(r"^(?:Amazon\s+)?SageMaker\s+", name):
        return name
    core = VENDOR.sub("", name)
    if like.startswith("Amazon SageMaker "):
        return f"Amazon SageMaker {core}"
    if like.startswith("SageMaker "):
        return f"SageMaker {core}"
    return name


def _name_words(name: str) -> list[str]:
    """Lower-case words of a name, camelCase and snake_case split ("ModelLoadingWaitTime")."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return re.findall(r"[a-z0-9]+", spaced.lower())


def _tokens(text: str) -> set[str]:
    """Words of a stem as `_leaks` compares them: lower case, digit runs on their own ("95" of
    "95th"); two-letter words only when they hold a digit or are an acronym ("L2", "AI")."""
    out = set(re.findall(r"\d+", text))
    for raw in re.findall(r"[A-Za-z0-9]+", text):
        word = raw.lower()
        if len(word) >= 3 or (len(word) == 2 and (raw.isupper() or any(c.isdigit() for c in raw))):
            out.add(word)
    return out


def _alike(a: str, b: str) -> bool:
    """Two words that read as one: equal, a plural ("bins", "bin"), the same stem ("resizing",
    "resize"), the same first six letters ("directly", "direct"), or one a prefix of the other
    ("characters", "char"; "skipping", "skip")."""
    if a == b or a in (b + "s", b + "es") or b in (a + "s", a + "es"):
        return True
    if len(a) < 4 or len(b) < 4:
        return False
    if _stem_cached(a) == _stem_cached(b):
        return True
    return a[:6] == b[:6] or a.startswith(b) or b.startswith(a)


def _gives_away(token: str, word: str) -> bool:
    """A stem token that gives away a name word: alike, a long token inside a compound name
    word ("features" in "nfeatures"), or its digits ("95" in "p95")."""
    if _alike(token, word):
        return True
    if len(token) >= 4 and (token in word or _stem_cached(token) in word):
        return True  # "features" in "nfeatures", "re-initialized" in "reinitialize_top_layer"
    if len(word) == 3 and len(token) >= 5 and token.startswith(word):
        return True  # "min" of "minimum", "max" of "maximum"
    return token.isdigit() and token in word


def _leaks(stem: str, answers: Sequence[Entity], others: Sequence[Entity]) -> bool:
    """The stem gives the answer away: it names it, or uses a word of its name that no other
    option's name shares ("Which k-NN hyperparameter is the type of index?" -> index_type)."""
    tokens = _tokens(stem) - STOPWORDS
    other_words = {w for o in others for w in _name_words(o.name)}
    for entity in answers:
        if mention_pattern(entity).search(stem):
            return True
        for word in _name_words(entity.name):
            # two-letter words count too: the stem keeps only acronyms ("IO") and "L2"-likes
            if len(word) < 2 or word in STOPWORDS:
                continue
            if _stem_cached(word) in _GENERIC_TOKENS:
                continue
            if any(_alike(word, o) for o in other_words):
                continue  # another option shares the word: it singles nothing out
            if any(_gives_away(t, word) for t in tokens):
                return True
    return False


def _names_in(text: str, entities: Iterable[Entity]) -> bool:
    return any(mention_pattern(e).search(text) for e in entities)


def _quote(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    text = " ".join(text.split()).strip()
    text = text[:1].upper() + text[1:]
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"
    return text


def _explain(entity: Entity, description: str) -> str:
    return _quote(f"{entity.name}: {description}", MAX_EXPLANATION_CHARS)


def _compatible(candidate: Entity, answers: Sequence[Entity], stem: str) -> bool:
    for answer in answers:
        if _related(candidate, answer):
            return False
        if candidate.desc_terms and answer.desc_terms:
            union = candidate.desc_terms | answer.desc_terms
            if len(candidate.desc_terms & answer.desc_terms) / len(union) >= SIMILAR_DESCRIPTIONS:
                return False
    return not mention_pattern(candidate).search(stem)


def _pick(
    candidates: Sequence[Entity],
    n: int,
    answers: Sequence[Entity],
    stem: str,
    rng: random.Random,
    chosen: list[Entity],
    prefer_objective: str | None = None,
    tries: int = 60,
) -> None:
    """Add up to ``n`` distractors from ``candidates`` to ``chosen`` (rng order, filtered)."""
    if not candidates:
        return
    order = list(range(len(candidates)))
    if len(order) > tries:
        order = rng.sample(order, tries)
    else:
        rng.shuffle(order)
    shape = name_shape(answers[0].name)
    order.sort(
        key=lambda i: (
            name_shape(candidates[i].name) != shape,
            prefer_objective is not None and candidates[i].objective != prefer_objective,
        )
    )
    need = len(chosen) + n
    for i in order:
        if len(chosen) >= need:
            return
        cand = candidates[i]
        if not _compatible(cand, answers, stem) or any(_related(cand, c) for c in chosen):
            continue
        chosen.append(cand)


class _Builder:
    def __init__(self, corpus: Corpus, rng: random.Random, stats: GenerationStats | None):
        self.corpus = corpus
        self.rng = rng
        self.stats = stats
        self.used_sentences: set[tuple[str, str]] = set()
        df: dict[str, int] = {}
        for view in corpus.views:
            for term in _term_set(view.chunk.text):
                df[term] = df.get(term, 0) + 1
        floor = max(5, COMMON_SHARE * len(corpus.views))
        self.common = frozenset(t for t, n in df.items() if n > floor)

    def distinctive(self, text: str) -> bool:
        """Whether a sentence says enough that is specific (not "a feature to train models")."""
        specific = {
            t for t in content_terms(text) if t not in self.common and t not in _GENERIC_TOKENS
        }
        return len(specific) >= MIN_SPECIFIC_TERMS

    def leaks(self, stem: str, answers: Sequence[Entity], others: Sequence[Entity]) -> bool:
        return _leaks(stem, answers, others)

    def skip(self, reason: str) -> None:
        if self.stats is not None:
            self.stats.reject(f"offline_{reason}")

    # -- helpers ------------------------------------------------------------------------------
    def distractors(
        self, answers: Sequence[Entity], n: int, stem: str, objective: str
    ) -> tuple[list[Entity], bool]:
        """``n`` distractors: siblings first, then the answer's pool; (list, pooled?)."""
        first = answers[0]
        chosen: list[Entity] = []
        siblings = self.corpus.groups.get(first.group) or self.corpus.page_entities.get(
            first.group, []
        )
        _pick(siblings, n, answers, stem, self.rng, chosen)
        pooled = False
        if len(chosen) < n and first.pool:
            pool = self.corpus.pools.get(first.pool) or self.corpus.page_entities.get(
                first.pool, []
            )
            before = len(chosen)
            _pick(pool, n - len(chosen), answers, stem, self.rng, chosen, objective)
            pooled = len(chosen) > before
        return chosen, pooled

    def question(
        self,
        view: ChunkView,
        stem: str,
        answers: Sequence[Entity],
        distractors: Sequence[Entity],
        explanation: str,
        kind: str,
        answer_names: Sequence[str] | None = None,
    ) -> Question | None:
        names = list(answer_names or [a.name for a in answers])
        options = names + [_restyle(d.name, names[0]) for d in distractors]
        if any(appears_in(n, stem) for n in names) or self.leaks(stem, answers, distractors):
            self.skip("leak")
            return None
        order = list(range(len(options)))
        self.rng.shuffle(order)
        shuffled = [options[i] for i in order]
        correct = sorted(order.index(i) for i in range(len(answers)))
        multi = len(answers) > 1
        return Question(
            stem=stem,
            options=shuffled,
            correct=correct,
            explanation=explanation,
            chunk_ids=[view.id],
            source=view.source,
            title=view.title,
            domain=view.domain,
            objective=view.objective,
            format="multi" if multi else "single",
            choose=len(answers),
            generator=f"offline:{kind}",
            passage=view.passage,
        )

    def descriptions(self, entry: Entry, others: Sequence[Entity] = ()) -> list[str]:
        """Quotable sentences of the entry's description that do not name the answer.

        Only the opening sentences (or bullets) count: they define the term, later ones add
        details that may fit its siblings too ("Data is encrypted to be private and secure").
        """
        out = []
        for sentence in dict.fromkeys(entry.sentences):
            if len(sentence.split()) < MIN_DESCRIPTION_WORDS:
                continue
            if _names_in(sentence, [entry.entity, *others]):
                continue
            out.append(_quote(sentence))
        return out

    # -- (a) term + description ---------------------------------------------------------------
    def term(self, entry: Entry) -> Question | None:
        entity = entry.entity
        reason = "leak"
        for quote in self.descriptions(entry):
            distractors, pooled = self.distractors([entity], 3, quote, entry.chunk.objective)
            if len(distractors) < 3:
                reason = "few_distractors"
                continue
            if not self.leaks(quote, [entity], distractors):
                break
            reason = "leak"
        else:
            self.skip(reason)
            return None
        if entity.noun is None:
            stem = f"Which term from “{entity.heading}” matches this description: “{quote}”?"
        else:
            stem = f"Which {_stem_label(entity, pooled)} matches this description: “{quote}”?"
        return self.question(
            entry.chunk, stem, [entity], distractors, _explain(entity, entry.description), "term"
        )

    # -- (b) choose two -------------------------------------------------------------------------
    def pair(self, first: Entry, second: Entry) -> Question | None:
        answers = [first.entity, second.entity]
        d1, d2 = (
            self.descriptions(first, [second.entity]),
            self.descriptions(second, [first.entity]),
        )
        if not d1 or not d2:
            self.skip("leak")
            return None
        q1, q2 = d1[0], d2[0]
        entity = first.entity
        quotes = f"(1) “{q1}” (2) “{q2}”"
        distractors, pooled = self.distractors(answers, 3, quotes, first.chunk.objective)
        if len(distractors) < 3:
            self.skip("few_distractors")
            return None
        if entity.noun is None:
            lead = f"Which TWO terms from “{entity.heading}”"
        else:
            lead = f"Which TWO of the following {_plural(_stem_label(entity, pooled))}"
        stem = f"{lead} match these descriptions? {quotes}"
        if self.leaks(stem, answers, distractors):
            self.skip("leak")
            return None
        explanation = " ".join(
            [_explain(first.entity, first.description), _explain(second.entity, second.description)]
        )
        return self.question(first.chunk, stem, answers, distractors, explanation, "multi")

    def group(self, entries: list[Entry]) -> Question | None:
        """'Which TWO of the following are <group heading>?' against other groups of the kind."""
        entity = entries[0].entity
        modifiers = set(content_terms(entity.label)) - set(content_terms(entity.noun or ""))
        if entity.noun not in GROUP_KINDS or not entity.pool or not modifiers or not entity.headed:
            return None
        members = self.corpus.groups.get(entity.group, [])
        first, second = self.rng.sample(entries, 2)
        answers = [first.entity, second.entity]
        stem = f"Which TWO of the following are {_plural(entity.label)}?"
        candidates = [
            e
            for e in self.corpus.pools.get(entity.pool, [])
            if e.group != entity.group
            and not (set(content_terms(e.label)) & modifiers)
            and not (e.desc_terms & modifiers)
            and not any(_related(e, m) for m in members)
        ]
        chosen: list[Entity] = []
        _pick(candidates, 3, answers, stem, self.rng, chosen)
        if len(chosen) < 3:
            self.skip("few_distractors")
            return None
        explanation = _quote(
            f"The material lists {first.entity.name} and {second.entity.name} under "
            f"“{entity.heading}”. {_explain(first.entity, first.description)} "
            f"{_explain(second.entity, second.description)}",
            MAX_EXPLANATION_CHARS,
        )
        return self.question(first.chunk, stem, answers, chosen, explanation, "multi")

    # -- (c) blanked definition ---------------------------------------------------------------
    def blank(self, view: ChunkView, sentence: str, entity: Entity) -> Question | None:
        pattern = mention_pattern(entity, case=True)
        found = pattern.search(sentence)
        blanked = pattern.sub(BLANK, sentence)
        if found is None or len(blanked.split()) < 6:
            return None
        surface = found.group(0)
        if not self.distinctive(blanked):
            self.skip("vague")
            return None
        quote = _quote(blanked)
        distractors, pooled = self.distractors([entity], 3, quote, view.objective)
        if len(distractors) < 3:
            self.skip("few_distractors")
            return None
        if self.leaks(quote, [entity], distractors):
            self.skip("leak")
            return None
        bare = not VENDOR.match(surface)
        if sum(1 for d in distractors if VENDOR.match(d.name)) < 2:
            surface = VENDOR.sub("", surface) or surface  # "Neo" among "Studio", "Autopilot"
            bare = True
        if entity.noun is None:
            lead = f"Which term from “{entity.heading}” fills the blank"
        else:
            lead = f"Which {_stem_label(entity, pooled)} fills the blank"
        stem = f"{lead}: “{quote}”?"
        explanation = f"The material says: “{_quote(sentence, MAX_EXPLANATION_CHARS)}”"
        if bare:  # "Studio Lab" among "Canvas", "Model Dashboard", not "Amazon SageMaker ..."
            distractors = [replace(d, name=VENDOR.sub("", d.name) or d.name) for d in distractors]
        return self.question(
            view, stem, [entity], distractors, explanation, "blank", answer_names=[surface]
        )

    # -- (d) page title + summary -------------------------------------------------------------
    def title(self, view: ChunkView, entity: Entity) -> Question | None:
        pattern = mention_pattern(entity)
        text = " ".join(
            clean_inline(line) for line in view.chunk.text.split("\n\n")[0].splitlines()
        )
        for sentence in split_sentences(text)[:3]:
            match = pattern.search(sentence)
            if not match or len(sentence[: match.start()].split()) > 4:
                continue
            tail = sentence[match.end() :]
            if not re.match(rf"^(?:\s+[\w\-()]+){{0,3}}?\s+(?:{_DEFINING})\b", tail):
                continue
            if sentence.rstrip().endswith(":") or len(sentence.split()) < 8:
                continue
            if not self.distinctive(pattern.sub(" ", sentence)):
                continue
            blanked = _quote(pattern.sub(BLANK, sentence))
            options: list[Entity] = []
            pool = self.corpus.page_entities.get(entity.pool or "", [])
            _pick(pool, 3, [entity], blanked, self.rng, options, view.objective)
            if len(options) < 3:
                self.skip("few_distractors")
                return None
            if self.leaks(blanked, [entity], options):
                self.skip("leak")
                return None
            self.used_sentences.add((view.id, sentence))
            stem = f"Which {entity.label} does this describe: “{blanked}”?"
            explanation = (
                f"The page “{view.title}” opens: “{_quote(sentence, MAX_EXPLANATION_CHARS)}”"
            )
            return self.question(view, stem, [entity], options, explanation, "title")
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
) -> list[Question]:
    """Candidate questions built from the structure of ``chunks`` (validate them before use).

    ``kinds`` picks among ``term``, ``multi``, ``blank`` and ``title``. Chunks without a
    domain and objective of ``blueprint`` are skipped. Deterministic for a given ``rng`` state
    and chunk order. Questions a structure could not support (no non-leaking description, too
    few distractors) are counted in ``stats`` as ``offline_<reason>`` rejections.
    """
    views: list[ChunkView] = []
    for chunk in chunks:
        view = chunk_view(chunk, blueprint)
        if view is None:
            if stats is not None:
                stats.rejected["offline_untagged_chunk"] += 1
            continue
        views.append(view)
    corpus = Corpus(views)
    builder = _Builder(corpus, rng, stats)
    out: list[Question] = []
    if "term" in kinds:
        out += _term_questions(corpus, builder, rng)
    if "multi" in kinds:
        out += _multi_questions(corpus, builder, rng)
    if "title" in kinds:
        for view in views:
            entity = corpus.page_of.get(view.source)
            if entity is not None and view.position == 0:
                out += _some(builder.title(view, entity))
    if "blank" in kinds:
        out += _blank_questions(corpus, builder)
    return out


def _some(q: Question | None) -> list[Question]:
    return [] if q is None else [q]


def _term_questions(corpus: Corpus, builder: _Builder, rng: random.Random) -> list[Question]:
    """One term question per entry (an entry repeated by chunk overlap is asked once)."""
    out: list[Question] = []
    by_group: dict[str, list[Entry]] = {}
    seen: set[tuple[str, str]] = set()
    for entry in corpus.entries:
        if (entry.entity.group, entry.entity.key) not in seen:
            seen.add((entry.entity.group, entry.entity.key))
            by_group.setdefault(entry.entity.group, []).append(entry)
    for group, entries in by_group.items():
        if group.endswith("\x00table") and len(entries) > MAX_TERMS_PER_TABLE:
            # a 40-row parameter table is not 40 questions
            keep = sorted(rng.sample(range(len(entries)), MAX_TERMS_PER_TABLE))
            entries = [entries[k] for k in keep]
        for entry in entries:
            out += _some(builder.term(entry))
    return out


def _multi_questions(corpus: Corpus, builder: _Builder, rng: random.Random) -> list[Question]:
    """Per chunk and group: a "choose two" by descriptions, and once per group its headings."""
    out: list[Question] = []
    by_chunk: dict[str, list[Entry]] = {}
    for entry in corpus.entries:
        by_chunk.setdefault(entry.chunk.id, []).append(entry)
    done_groups: set[str] = set()
    for view in corpus.views:
        groups: dict[str, list[Entry]] = {}
        for entry in by_chunk.get(view.id, []):
            groups.setdefault(entry.entity.group, []).append(entry)
        for group, members in groups.items():
            distinct = list({m.entity.key: m for m in members}.values())
            if len(distinct) < 2:
                continue
            first, second = rng.sample(distinct, 2)
            out += _some(builder.pair(first, second))
            if group not in done_groups:
                q = builder.group(distinct)
                if q is not None:
                    done_groups.add(group)
                    out.append(q)
    return out


def _blank_questions(corpus: Corpus, builder: _Builder) -> list[Question]:
    """Blanked defining sentences: one per entity and page, `MAX_BLANKS_PER_ENTITY` at most."""
    out: list[Question] = []
    per_entity: dict[str, int] = {}
    per_page: set[tuple[str, str]] = set()
    for view in corpus.views:
        for sentence, entity in defining_sentences(corpus, view):
            if (view.id, sentence) in builder.used_sentences:
                continue
            if (entity.key, view.source) in per_page:
                continue
            if per_entity.get(entity.key, 0) >= MAX_BLANKS_PER_ENTITY:
                continue
            builder.used_sentences.add((view.id, sentence))
            q = builder.blank(view, sentence, entity)
            if q is not None:
                per_page.add((entity.key, view.source))
                per_entity[entity.key] = per_entity.get(entity.key, 0) + 1
                out.append(q)
    return out


__all__ = ["KINDS", "generate_offline"]
