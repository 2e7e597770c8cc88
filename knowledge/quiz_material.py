"""Everything question generation reads from the chunks once per run: `Material`.

`Material.read` parses the chunks (`knowledge.quiz_extract.Corpus`: terms, kinds, groups), finds
the study guide among them (`knowledge.quiz_relevance.guide_sources`), and builds the exam
vocabulary and the case book. Generators build questions from it; the checks in
`knowledge.quiz.generate` look options up in it (`entity_named`, `description_of`, `kind_of`)
to test key safety and relevance, for model-written questions too.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from knowledge.question import ChunkLike, GenerationStats, normalize_option
from knowledge.quiz_extract import (
    ChunkView,
    Corpus,
    Entity,
    chunk_view,
    is_service,
    name_shape,
    new_entity,
    split_sentences,
)
from knowledge.quiz_grammar import CaseBook
from knowledge.quiz_relevance import ExamVocabulary, guide_sources, identifier_shaped

if TYPE_CHECKING:
    from knowledge.blueprint import Blueprint

_SMALL = {"for", "of", "and", "the", "on", "to", "in"}
MIN_PRODUCT_MENTIONS = 5
_VENDOR_NAMES = ("Amazon", "AWS", "SageMaker")
_VENDOR_WORDS = {"amazon", "aws", "sagemaker"}
#: Kind nouns that name the same family of options: an AWS service, a SageMaker feature or a
#: tool are all "something AWS offers"; an algorithm is not a service.
AWS_KINDS = frozenset({"service", "feature", "tool", "library", "framework", "capability"})


@dataclass
class Material:
    """The parsed chunks with the exam vocabulary: what every generator and check reads."""

    blueprint: Blueprint
    views: list[ChunkView]
    corpus: Corpus
    vocab: ExamVocabulary
    names: CaseBook
    guide: set[str] = field(default_factory=set)  # sources that are study-guide material
    pooled: list[Entity] = field(default_factory=list, repr=False)  # named entities, once each
    catalogue: dict[str, list[Entity]] = field(default_factory=dict, repr=False)  # by category
    by_id: dict[str, ChunkView] = field(default_factory=dict, repr=False)

    @classmethod
    def read(
        cls,
        chunks: Sequence[ChunkLike],
        blueprint: Blueprint,
        stats: GenerationStats | None = None,
    ) -> Material:
        """Parse ``chunks``; chunks without a domain and objective of ``blueprint`` are
        skipped (counted in ``stats`` as ``offline_untagged_chunk``)."""
        views: list[ChunkView] = []
        for chunk in chunks:
            view = chunk_view(chunk, blueprint)
            if view is None:
                if stats is not None:
                    stats.rejected["offline_untagged_chunk"] += 1
                continue
            views.append(view)
        # notes written for another exam (their folder or front matter says so) are not its guide
        own = [v for v in views if _metadata(v).get("exam", blueprint.id) in ("", blueprint.id)]
        guide = guide_sources(((v.source, v.path) for v in own), blueprint)
        guide_text = "\n".join(v.passage for v in views if v.source in guide)
        texts = [v.chunk.text for v in views]
        material = cls(
            blueprint=blueprint,
            views=views,
            corpus=Corpus(views),
            vocab=ExamVocabulary(blueprint, guide_text, texts),
            names=CaseBook(texts),
            guide=guide,
        )
        material.add_products(product_names(blueprint, texts))
        return material

    def add_products(self, products: Sequence[tuple[str, str]]) -> None:
        """Register AWS product names the keywords point to (see `product_names`) as entities,
        unless the material already knows them."""
        for name, objective in products:
            if self.entity_named(name) is not None:
                continue
            shape = name_shape(name)
            noun, label = (
                ("feature", "SageMaker feature")
                if shape == "sagemaker"
                else ("service", "AWS service")
            )
            entity = new_entity(name, noun, label, "keyword:aws", "keyword:aws", objective)
            self.corpus.pools.setdefault("keyword:aws", []).append(entity)
            for key in entity.keys:
                self.corpus.by_key.setdefault(key, entity)
                self.corpus.blankable.setdefault(key, entity)
        self.pooled = []
        self.catalogue = {}

    # -- looking options up ---------------------------------------------------------------------
    def entity_named(self, name: str) -> Entity | None:
        """The entity an option names: by its keys ("KNN" / "k-NN"), its acronym ("DMS"), or
        as the one pooled entity whose name holds all the option's words ("Firehose")."""
        key = normalize_option(name).replace(" ", "")
        if key in self.corpus.by_key:
            return self.corpus.by_key[key]
        words = set(normalize_option(name).split()) - _VENDOR_WORDS
        if not words:
            return None
        acronym = name.strip() if re.fullmatch(r"[A-Z][A-Z0-9]{1,5}", name.strip()) else ""
        found: dict[int, Entity] = {}
        for entity in self.pooled_entities():
            tokens = entity.tokens - _VENDOR_WORDS
            if (
                acronym
                and _initials(entity.name) == acronym
                or not acronym
                and words <= tokens
                and len(tokens) - len(words) <= 2
            ):
                found[id(entity)] = entity
        return next(iter(found.values())) if len(found) == 1 else None

    def pooled_entities(self) -> list[Entity]:
        """Every entity of a pool or a page title, once."""
        if not self.pooled:
            seen: dict[str, Entity] = {}
            for members in (*self.corpus.pools.values(), *self.corpus.page_entities.values()):
                for entity in members:
                    seen.setdefault(entity.key, entity)
            self.pooled = list(seen.values())
        return self.pooled

    def view(self, chunk_id: str) -> ChunkView | None:
        """The view of a chunk by its id (None when the run did not read it)."""
        if not self.by_id:
            self.by_id = {v.id: v for v in self.views}
        return self.by_id.get(chunk_id)

    def category(self, entity: Entity) -> str | None:
        """ "aws" for AWS services and SageMaker features, "algorithm" for algorithms: the two
        kinds whose members may stand beside each other across the whole material."""
        if entity.noun == "algorithm" or entity.pool and entity.pool.startswith("page:algorithm"):
            return "algorithm"
        if (
            entity.noun == "service"
            or is_service(entity.name)
            or name_shape(entity.name) != "other"
        ):
            return "aws"
        return None

    def by_category(self, category: str) -> list[Entity]:
        """Every named entity of a category (see `category`), once each, in material order."""
        if not self.catalogue:
            seen: dict[str, Entity] = {}
            for entity in [*self.pooled_entities(), *self.corpus.by_key.values()]:
                if self.category(entity) is not None and entity.name[:1].isupper():
                    seen.setdefault(entity.key, entity)
            for entity in seen.values():
                kind = self.category(entity) or ""
                self.catalogue.setdefault(kind, []).append(entity)
        return self.catalogue.get(category, [])

    def description_of(self, name: str) -> str:
        """The opening sentence of what the material says an option is ("" when unknown)."""
        entity = self.entity_named(name)
        if entity is None or not entity.description:
            return ""
        sentences = split_sentences(entity.description)
        return sentences[0] if sentences else entity.description

    def kind_of(self, name: str) -> str:
        """A coarse kind for an option: a known entity's kind noun ("aws" for a service or
        feature), else by its shape: "identifier", "aws", "name" or "phrase"."""
        entity = self.entity_named(name)
        noun = entity.noun if entity is not None else None
        if noun in AWS_KINDS or is_service(name) or name_shape(name) != "other":
            return "aws"
        if noun:
            return noun
        if identifier_shaped(name) and not self.vocab.names(name):
            return "identifier"
        return "name" if name[:1].isupper() or any(c.isupper() for c in name[1:]) else "phrase"

    def siblings(self, names: Sequence[str]) -> bool:
        """Whether every option is a known entity of one group (listed together by the
        material: one kind by its own account)."""
        groups, shapes = set(), set()
        for name in names:
            entity = self.entity_named(name)
            if entity is None:
                return False
            groups.add(entity.group)
            shapes.add(name_shape(name) == "other")
        return len(groups) == 1 and len(shapes) == 1  # and all AWS-named, or none

    def relevant(self, name: str) -> bool:
        """An exam concept (the guide or a keyword names it) that is not reference trivia."""
        entity = self.entity_named(name)
        noun = entity.noun if entity is not None else None
        from_table = entity is not None and entity.group.endswith("\x00table")
        heading = entity.heading if entity is not None else ""
        if self.vocab.is_trivia(name, noun, from_table, heading):
            return False
        return self.vocab.names(name) or (
            entity is not None and entity.name != name and self.vocab.names(entity.name)
        )


def product_names(blueprint: Blueprint, texts: Sequence[str]) -> list[tuple[str, str]]:
    """(AWS product name, objective) for each blueprint keyword the material writes as an AWS
    product: capitalised in most of its `MIN_PRODUCT_MENTIONS`+ mentions in prose and led by
    "Amazon", "AWS" or "SageMaker" ("data wrangler" -> "Amazon SageMaker Data Wrangler",
    "firehose" -> "Amazon Kinesis Data Firehose"). The most frequent vendor-led form is the name.
    """
    by_keyword: dict[tuple[str, ...], str] = {}
    for objective in blueprint.objectives:
        for keyword in objective.keywords:
            words = tuple(w.lower() for w in re.split(r"[\s\-]+", keyword.strip()) if w)
            if words and len(keyword) >= 3:
                by_keyword.setdefault(words, objective.id)
    longest = max((len(k) for k in by_keyword), default=0)
    forms: dict[tuple[str, ...], Counter] = {}
    totals: Counter = Counter()
    for text in texts:
        words = _prose_words(text)
        lowered = [w.lower() if w else "" for w in words]
        for i in range(len(words)):
            for size in range(min(longest, len(words) - i), 0, -1):
                key = tuple(lowered[i : i + size])
                if key not in by_keyword or "" in key:
                    continue
                totals[key] += 1
                written = words[i : i + size]
                follower = words[i + size] if i + size < len(words) else ""
                after = words[i + size + 1] if i + size + 1 < len(words) else ""
                continued = (follower[:1].isupper() and follower[1:2].islower()) or (
                    follower == "for" and after[:1].isupper()  # "Lookout for Vision"
                )
                if all(w[:1].isupper() or w[:1].isdigit() for w in written) and not continued:
                    forms.setdefault(key, Counter())[_vendor_form(words, i, written)] += 1
                break
    names = {
        key: counts
        for key, counts in forms.items()
        if sum(counts.values()) >= max(MIN_PRODUCT_MENTIONS, 0.6 * totals[key])
    }
    out = []
    for key, counts in names.items():
        capitalised = sum(counts.values())
        vendor = [
            (n, f)
            for f, n in counts.items()
            if n >= 3
            and f.split()[0] in ("Amazon", "AWS")
            and not _holds_keyword(f.split()[1 : -len(key)], names)
        ]
        if not vendor:  # "SageMaker X" only: a real share of the mentions, not adjacency
            vendor = [
                (n, f)
                for f, n in counts.items()
                if f.split()[0] == "SageMaker" and n >= max(3, 0.1 * capitalised)
            ]
        if vendor:
            out.append((max(vendor)[1], by_keyword[key]))
    return out


def _holds_keyword(words: Sequence[str], names: dict) -> bool:
    """Whether the words between a vendor and a keyword hold another product name ("Amazon
    EMR Spark": EMR): then the form is two names side by side, not one. A family word that is
    no name alone ("Kinesis" of "Amazon Kinesis Data Firehose") may stand there."""
    low = [w.lower() for w in words if w not in ("SageMaker",)]
    return any(tuple(low[i : j + 1]) in names for i in range(len(low)) for j in range(i, len(low)))


def _prose_words(text: str) -> list[str]:
    """Whitespace words without edge punctuation; "" for code-like tokens (s3://…, a_b)."""
    out = []
    for raw in text.split():
        word = raw.strip(".,;:()[]*`\"'“”!?")
        out.append("" if not word or re.search(r"[/=_:@<>{}|\\]", word) else word)
    return out


def _vendor_form(words: list[str], i: int, written: list[str]) -> str:
    """The name as written with the vendor words before it ("Amazon Kinesis Data Firehose")."""
    before = words[max(0, i - 3) : i]
    lead = next((k for k, w in enumerate(before) if w in _VENDOR_NAMES), None)
    if lead is None or not all(w[:1].isupper() for w in before[lead:]):
        return " ".join(written)
    return " ".join([*before[lead:], *written])


def _initials(name: str) -> str:
    """ "AWS Database Migration Service" -> "DMS"; "Managed Streaming for Kafka" -> "MSK"."""
    words = [w for w in re.split(r"[\s\-]+", name) if w]
    words = [w for w in words if w.lower() not in _VENDOR_WORDS and w.lower() not in _SMALL]
    return "".join(w[0].upper() for w in words)


__all__ = ["AWS_KINDS", "Material"]


def _metadata(view: ChunkView) -> dict:
    return dict(getattr(view.chunk, "metadata", None) or {})
