"""Building an offline question: distractors, leaks, key safety while choosing, the stem check.

`Builder` is what every offline question kind (`knowledge.quiz_offline`, `knowledge.quiz_scenario`)
builds with. Distractors are other entities of the same kind: siblings of the answer's group
first, then its pool; never the same entity under another name ("KNN" / "k-NN"), nor, across
groups, one whose name contains the other's ("Glue" / "Glue crawler"), nor one whose own
description also matches the stem (`knowledge.quiz_safety.lexically_unsafe`): such a candidate is
passed over for the next sibling. Exam-relevant siblings come first.

No stem names its answer or uses a word that only the answer's name has ("directly" for "Direct
access", "95th" for "p95"); every stem passes `knowledge.quiz_grammar.stem_problems`; every
question's objective is the one it tests (`knowledge.quiz_relevance.ExamVocabulary.objective_of`).
A candidate that fails is dropped, not patched, and counted in the stats as ``offline_<reason>``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from knowledge.question import GenerationStats, Question, appears_in
from knowledge.quiz_extract import (
    VENDOR,
    ChunkView,
    Entity,
    Entry,
    is_service,
    mention_pattern,
    name_shape,
)
from knowledge.quiz_grammar import stem_problems
from knowledge.quiz_material import Material
from knowledge.quiz_safety import lexically_unsafe
from knowledge.text import STOPWORDS, content_terms, stem_word

MAX_QUOTE_CHARS = 260
MAX_EXPLANATION_CHARS = 420
MIN_SPECIFIC_TERMS = 3  # uncommon words a sentence needs to single out its subject
SIMILAR_DESCRIPTIONS = 0.6  # term Jaccard above which two descriptions may describe one thing
COMMON_SHARE = 0.08  # a word in more than this share of chunks is too common to be specific
GENERIC_TOKENS = frozenset(
    {"amazon", "aw", "aws", "sagemaker", "data", "model", "learn", "machin", "algorithm"}
)  # (stemmed) words of names that give nothing away

#: Kind nouns that need their heading's words to mean anything in a stem.
VAGUE_NOUNS = frozenset(
    {"type", "option", "mode", "method", "setting", "feature", "model", "component", "task"}
    | {"tool", "family", "class", "block", "pattern", "policy", "function", "variable"}
)
_WORDS = re.compile(r"[a-z0-9]+")
_stem_cached = lru_cache(maxsize=200_000)(stem_word)


def term_set(text: str) -> set[str]:
    """`knowledge.text.content_terms` as a set, with the stemming cached (for whole corpora)."""
    stems = {_stem_cached(w) for w in _WORDS.findall(text.lower()) if len(w) > 1}
    return {s for s in stems if s not in STOPWORDS}


def related(a: Entity, b: Entity) -> bool:
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


def variant_or_alternative(candidate: Entity, answer: Entity) -> bool:
    """A candidate that does what the answer does: a variant named after it ("Ground Truth
    Plus" for Ground Truth), or an alternative by either's own description ("Neural-network
    alternative to LDA", "similar in purpose to Parquet")."""
    core = answer.tokens - {"amazon", "aws", "sagemaker"}
    if core and core < candidate.tokens - {"amazon", "aws", "sagemaker"}:
        return True
    return bool(
        (candidate.description and mention_pattern(answer, case=True).search(candidate.description))
        or (answer.description and mention_pattern(candidate, case=True).search(answer.description))
    )


def plural(label: str) -> str:
    """ "AWS service" -> "AWS services", "strategy" -> "strategies"."""
    head, _, last = label.rpartition(" ")
    if last.endswith(("s", "x", "ch", "sh")):
        word = last + "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        word = last[:-1] + "ies"
    else:
        word = last + "s"
    return f"{head} {word}" if head else word


def stem_label(entity: Entity, pooled: bool) -> str:
    """How a stem names the answer's kind: the group's label, or the bare kind when the
    distractors come from other groups too."""
    if pooled and name_shape(entity.name) == "sagemaker":
        return "SageMaker feature"
    if pooled and is_service(entity.name):
        return "AWS service"
    if pooled:  # a bare "type" or "mode" says nothing: "problem type", "input mode"
        return entity.label if entity.noun in VAGUE_NOUNS else entity.noun or entity.label
    if entity.label == "service" and is_service(entity.name):
        return "AWS service"
    return entity.label


def restyle(name: str, like: str) -> str:
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
    """Words of a stem as `leaks` compares them: lower case, digit runs on their own ("95" of
    "95th"); two-letter words only when they hold a digit or are an acronym ("L2", "AI")."""
    out = set(re.findall(r"\d+", text))
    for raw in re.findall(r"[A-Za-z0-9]+", text):
        word = raw.lower()
        if len(word) >= 3 or (len(word) == 2 and (raw.isupper() or any(c.isdigit() for c in raw))):
            out.add(word)
    return out


def _alike(a: str, b: str) -> bool:
    """Two words that read as one: equal, a plural, the same stem, the same first six letters,
    or one a prefix of the other ("characters", "char")."""
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
        return True
    if len(word) == 3 and len(token) >= 5 and token.startswith(word):
        return True  # "min" of "minimum", "max" of "maximum"
    return token.isdigit() and token in word


def leaks(stem: str, answers: Sequence[Entity], others: Sequence[Entity]) -> bool:
    """The stem gives the answer away: it names it, or uses a word of its name that no other
    option's name shares ("Which k-NN hyperparameter is the type of index?" -> index_type)."""
    tokens = _tokens(stem) - STOPWORDS
    other_words = {w for o in others for w in _name_words(o.name)}
    for entity in answers:
        if mention_pattern(entity).search(stem) or _spelled_out(entity.name, stem):
            return True
        for word in _name_words(entity.name):
            if len(word) < 2 or word in STOPWORDS or _stem_cached(word) in GENERIC_TOKENS:
                continue
            if any(_alike(word, o) for o in other_words):
                continue  # another option shares the word: it singles nothing out
            if any(_gives_away(t, word) for t in tokens):
                return True
    return False


def _spelled_out(name: str, stem: str) -> bool:
    """An acronym answer whose words the stem spells out ("Amazon Virtual Private Cloud
    (______)" for VPC)."""
    core = VENDOR.sub("", name).strip()
    if not re.fullmatch(r"[A-Z][A-Z0-9]{1,5}", core):
        return False
    words = re.findall(r"[A-Za-z][\w\-]*", stem)
    initials = "".join(w[0] for w in words if w[0].isupper())
    return core in initials


def names_in(text: str, entities: Iterable[Entity]) -> bool:
    return any(mention_pattern(e).search(text) for e in entities)


def quote(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """One line, capitalised, cut at a word before ``limit`` characters."""
    text = " ".join(text.split()).strip()
    text = text[:1].upper() + text[1:]
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"
    return text


def explain(entity: Entity, description: str) -> str:
    return quote(f"{entity.name}: {description}", MAX_EXPLANATION_CHARS)


class Builder:
    """Turns answers, distractors and a stem into a checked `Question` (see the module doc)."""

    def __init__(self, material: Material, rng: random.Random, stats: GenerationStats | None):
        self.material = material
        self.corpus = material.corpus
        self.vocab = material.vocab
        self.rng = rng
        self.stats = stats
        self.used_sentences: set[tuple[str, str]] = set()
        self.asked: set[tuple[str, str]] = set()  # (chunk id, entity key) a need question used
        df: dict[str, int] = {}
        for view in material.views:
            for term in term_set(view.chunk.text):
                df[term] = df.get(term, 0) + 1
        floor = max(5, COMMON_SHARE * len(material.views))
        self.common = frozenset(t for t, n in df.items() if n > floor)
        self._worth: dict[str, str | None] = {}

    # -- relevance ------------------------------------------------------------------------------
    def unworthy(self, entity: Entity) -> str | None:
        """Why a question with this answer is not worth asking ("trivia", "irrelevant"), or
        None when it is an exam concept."""
        if entity.key not in self._worth:
            from_table = entity.group.endswith("\x00table")
            if self.vocab.is_trivia(entity.name, entity.noun, from_table, entity.heading):
                self._worth[entity.key] = "trivia"
            elif not self.vocab.names(entity.name):
                self._worth[entity.key] = "irrelevant"
            else:
                self._worth[entity.key] = None
        return self._worth[entity.key]

    def worth(self, entity: Entity) -> bool:
        """`unworthy` is None; otherwise counted as a skip."""
        reason = self.unworthy(entity)
        if reason is not None:
            self.skip(reason)
        return reason is None

    def distinctive(self, text: str) -> bool:
        """Whether a sentence says enough that is specific (not "a feature to train models")."""
        specific = {
            t for t in content_terms(text) if t not in self.common and t not in GENERIC_TOKENS
        }
        return len(specific) >= MIN_SPECIFIC_TERMS

    def skip(self, reason: str) -> None:
        if self.stats is not None:
            self.stats.reject(f"offline_{reason}")

    # -- distractors ----------------------------------------------------------------------------
    def compatible(self, candidate: Entity, answers: Sequence[Entity], core: str) -> bool:
        """May ``candidate`` stand beside ``answers`` as a wrong option for a stem saying
        ``core``?"""
        for answer in answers:
            if related(candidate, answer) or variant_or_alternative(candidate, answer):
                return False
            ours, theirs = candidate.desc_terms, answer.desc_terms
            if ours and theirs and len(ours & theirs) / len(ours | theirs) >= SIMILAR_DESCRIPTIONS:
                return False
        if mention_pattern(candidate).search(core):
            return False
        answer_text = " ".join(a.description for a in answers)
        return not lexically_unsafe(core, candidate.description, answer_text)

    def pick(
        self,
        candidates: Sequence[Entity],
        n: int,
        answers: Sequence[Entity],
        core: str,
        chosen: list[Entity],
        prefer_objective: str | None = None,
        tries: int = 80,
    ) -> None:
        """Add up to ``n`` distractors from ``candidates`` to ``chosen`` (rng order, filtered;
        the answer's name shape first, then exam-relevant ones, then its objective's)."""
        if not candidates:
            return
        order = list(range(len(candidates)))
        if len(order) > tries:
            order = self.rng.sample(order, tries)
        else:
            self.rng.shuffle(order)
        shape = name_shape(answers[0].name)
        order.sort(
            key=lambda i: (
                name_shape(candidates[i].name) != shape,
                self.unworthy(candidates[i]) is not None,
                prefer_objective is not None and candidates[i].objective != prefer_objective,
            )
        )
        need = len(chosen) + n
        for i in order:
            if len(chosen) >= need:
                return
            cand = candidates[i]
            trivia = self.unworthy(cand) == "trivia" and cand.group != answers[0].group
            if trivia and self.unworthy(answers[0]) is None:
                continue  # another table's value is no plausible option beside an exam concept
            if not self.compatible(cand, answers, core) or any(related(cand, c) for c in chosen):
                continue
            chosen.append(cand)

    def distractors(
        self, answers: Sequence[Entity], n: int, core: str, objective: str, pooled_ok: bool = True
    ) -> tuple[list[Entity], bool]:
        """``n`` distractors: siblings first, then the answer's pool; (list, pooled?)."""
        first = answers[0]
        chosen: list[Entity] = []
        siblings = self.corpus.groups.get(first.group) or self.corpus.page_entities.get(
            first.group, []
        )
        self.pick(siblings, n, answers, core, chosen)
        pooled = False
        if len(chosen) < n and first.pool and pooled_ok:
            pool = self.corpus.pools.get(first.pool) or self.corpus.page_entities.get(
                first.pool, []
            )
            before = len(chosen)
            self.pick(pool, n - len(chosen), answers, core, chosen, objective)
            pooled = len(chosen) > before
        category = self.material.category(first)
        if len(chosen) < n and pooled_ok and (category or first.noun):
            before = len(chosen)
            self.pick(self.wider(first), n - len(chosen), answers, core, chosen, objective)
            pooled = pooled or len(chosen) > before
        return chosen, pooled

    def wider(self, entity: Entity) -> list[Entity]:
        """Exam-relevant entities of the answer's kind across the whole material: its category
        (AWS services and features, algorithms), else its kind noun ("problem type")."""
        category = self.material.category(entity)
        if category:
            members = self.material.by_category(category)
        else:
            members = [
                e
                for e in self.material.corpus.by_key.values()
                if e.noun == entity.noun and e.label == entity.label
            ]
        return [e for e in {id(e): e for e in members}.values() if not self.unworthy(e)]

    # -- the question ---------------------------------------------------------------------------
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
        """The checked question, or None (leak, grammar) with the reason counted."""
        names = list(answer_names or [a.name for a in answers])
        options = names + [restyle(d.name, names[0]) for d in distractors]
        if any(appears_in(n, stem) for n in names) or leaks(stem, answers, distractors):
            self.skip("leak")
            return None
        if stem_problems(stem):
            self.skip("grammar")
            return None
        order = list(range(len(options)))
        self.rng.shuffle(order)
        shuffled = [options[i] for i in order]
        correct = sorted(order.index(i) for i in range(len(answers)))
        objective = self.vocab.objective_of(names, stem, view.objective, view.exact)
        return Question(
            stem=stem,
            options=shuffled,
            correct=correct,
            explanation=explanation,
            chunk_ids=[view.id],
            source=view.source,
            title=view.title,
            domain=int(objective.split(".")[0]),
            objective=objective,
            format="multi" if len(answers) > 1 else "single",
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
            if len(sentence.split()) < 4:
                continue
            if names_in(sentence, [entry.entity, *others]):
                continue
            out.append(quote(sentence))
        return out


__all__ = [
    "GENERIC_TOKENS",
    "MAX_EXPLANATION_CHARS",
    "MAX_QUOTE_CHARS",
    "Builder",
    "explain",
    "leaks",
    "names_in",
    "plural",
    "quote",
    "related",
    "restyle",
    "stem_label",
    "term_set",
]
