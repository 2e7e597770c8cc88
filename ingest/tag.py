"""Tag text with the exam domain and objective it serves.

The guide's own objective headings tag their sections exactly. Everything else is classified
by combining (a) the blueprint's keywords, (b) embedding similarity to each objective's
description and (c) the page title, scored the same two ways, as a prior.
"""

from __future__ import annotations

import numpy as np
from langchain_core.embeddings import Embeddings

from knowledge.blueprint import Blueprint
from knowledge.keywords import KeywordIndex
from knowledge.tags import ChunkTag as Tag

# Weights tuned on tests/data/tagging_labels.jsonl (bench/tagging.py reports the grid search).
EMBED_WEIGHT = 1.0
KEYWORD_WEIGHT = 1.0
TITLE_WEIGHT = 0.5
TEMPERATURE = 0.1


def _softmax(x: np.ndarray, temperature: float) -> np.ndarray:
    z = (x - x.max(axis=-1, keepdims=True)) / temperature
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class DomainTagger:
    """Classifies passages to (domain, objective) with a confidence in [0, 1]."""

    def __init__(self, blueprint: Blueprint, embeddings: Embeddings) -> None:
        self.blueprint = blueprint
        self.embeddings = embeddings
        self.objectives = blueprint.objectives
        self.ids = [o.id for o in self.objectives]
        self._objective_vectors: np.ndarray | None = None
        self._keywords = KeywordIndex(blueprint)
        self._title_cache: dict[str, np.ndarray] = {}

    @property
    def objective_vectors(self) -> np.ndarray:
        """Embeddings of each objective's name and description (computed on first use)."""
        if self._objective_vectors is None:
            texts = [f"{o.name}. {o.description}" for o in self.objectives]
            self._objective_vectors = np.asarray(self.embeddings.embed_documents(texts), "float32")
        return self._objective_vectors

    def keyword_scores(self, text: str) -> np.ndarray:
        """Share of keyword hits per objective (sums to 1, or all zeros when none match)."""
        return self._keywords.scores(text)

    def _evidence(self, text: str, vector: np.ndarray) -> np.ndarray:
        sims = self.objective_vectors @ vector
        return EMBED_WEIGHT * _softmax(sims, TEMPERATURE) + KEYWORD_WEIGHT * self.keyword_scores(
            text
        )

    def untitled(self, titles: list[str]) -> list[str]:
        """The titles whose prior is not cached yet (sorted, distinct)."""
        return sorted({t for t in titles if t.strip() and t not in self._title_cache})

    def prime_titles(self, titles: list[str]) -> None:
        """Embed the titles not seen yet in one batch (the ingest pipeline calls this)."""
        todo = self.untitled(titles)
        if todo:
            self.prime_title_vectors(todo, self.embeddings.embed_documents(todo))

    def prime_title_vectors(self, titles: list[str], vectors) -> None:
        """Cache the priors of titles whose vectors are already known."""
        for title, vec in zip(titles, np.asarray(vectors, "float32"), strict=True):
            ev = self._evidence(title, vec)
            self._title_cache[title] = ev / ev.sum()

    def title_prior(self, title: str) -> np.ndarray:
        """The page title's own evidence, normalised (cached per title)."""
        if not title.strip():
            return np.zeros(len(self.ids), "float32")
        if title not in self._title_cache:
            vec = np.asarray(self.embeddings.embed_query(title), "float32")
            ev = self._evidence(title, vec)
            self._title_cache[title] = ev / ev.sum()
        return self._title_cache[title]

    def scores(self, text: str, vector: np.ndarray, title: str = "") -> np.ndarray:
        """Probability-like score per objective, in blueprint order."""
        ev = self._evidence(text, np.asarray(vector, "float32"))
        ev = ev / ev.sum() + TITLE_WEIGHT * self.title_prior(title)
        return ev / ev.sum()

    def tag(self, text: str, vector, title: str = "", objective_hint: str | None = None) -> Tag:
        """Tag one passage; a valid objective hint from the guide's heading wins outright."""
        if objective_hint and objective_hint in self.ids:
            return Tag(int(objective_hint.split(".")[0]), objective_hint, 1.0)
        probs = self.scores(text, vector, title)
        best = int(probs.argmax())
        objective = self.ids[best]
        return Tag(int(objective.split(".")[0]), objective, float(probs[best]))

    def tag_text(self, text: str, title: str = "") -> Tag:
        """Tag a passage that has no vector yet (embeds it)."""
        return self.tag(text, self.embeddings.embed_query(f"{title}\n{text}"), title)


class BlueprintTaggers:
    """One `DomainTagger` per installed blueprint: tags a passage for every exam at once.

    The first blueprint is the primary one (the settings'); titles are embedded once for all.
    """

    def __init__(self, blueprints: list[Blueprint], embeddings: Embeddings) -> None:
        if not blueprints:
            raise ValueError("at least one blueprint is needed")
        self.blueprints = blueprints
        self.taggers = {b.id: DomainTagger(b, embeddings) for b in blueprints}
        self.embeddings = embeddings

    @property
    def ids(self) -> list[str]:
        return [b.id for b in self.blueprints]

    def prime_titles(self, titles: list[str]) -> None:
        """Embed the titles no tagger has seen yet, in one batch."""
        todo = sorted({t for tagger in self.taggers.values() for t in tagger.untitled(titles)})
        if not todo:
            return
        vectors = self.embeddings.embed_documents(todo)
        for tagger in self.taggers.values():
            tagger.prime_title_vectors(todo, vectors)

    def tag(
        self, text: str, vector, title: str, hint: str | None, hint_for: set[str]
    ) -> dict[str, Tag]:
        """Blueprint id -> tag; the heading's objective `hint` counts only for `hint_for`."""
        return {
            bid: tagger.tag(text, vector, title, hint if bid in hint_for else None)
            for bid, tagger in self.taggers.items()
        }
