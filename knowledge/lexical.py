"""BM25 index (bm25s) persisted beside the vector store and kept in step with it."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import numpy as np

from knowledge.store import KnowledgeStore
from knowledge.tags import read_tag, tagged_for

_TOKEN = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "use",
        "using",
        "used",
    ]
)


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens without stop words; dotted/hyphenated terms also split."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.lower()):
        if tok in STOPWORDS:
            continue
        out.append(tok)
        if "-" in tok or "." in tok or "_" in tok:
            out.extend(p for p in re.split(r"[-_.]", tok) if p and p not in STOPWORDS)
    return out


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k best positive scores, best first (ties: lower position first).

    Partitions only the positive scores: over a whole store of mostly zeros (a rare word),
    NumPy's argpartition is ~10x slower than over the few hundred that matched.
    """
    matched = np.flatnonzero(scores > 0)
    if len(matched) > k:
        matched = matched[np.argpartition(-scores[matched], k - 1)[:k]]
    return matched[np.lexsort((matched, -scores[matched]))]


@dataclass(frozen=True, eq=False)
class LexicalSnapshot:
    """One built BM25 index: the retriever and, by position, each chunk's id and domain.

    Never changed once made; a rebuild makes a new one, so a search that holds a snapshot
    maps positions onto ids of the same generation however many rebuilds happen meanwhile.
    """

    generation: int = -1
    ids: tuple[str, ...] = ()
    #: blueprint id -> each chunk's domain for that blueprint (0 = untagged)
    domains: dict[str, np.ndarray] = field(default_factory=dict)
    retriever: bm25s.BM25 | None = None

    def search(
        self, query: str, k: int, domain: int | None = None, blueprint: str = ""
    ) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score), optionally only chunks of one domain of `blueprint`."""
        tokens = tokenize(query)
        if self.retriever is None or not tokens or not self.ids:
            return []
        mask = None
        if domain is not None:
            domains = self.domains.get(blueprint)
            if domains is None:
                return []
            mask = (domains == domain).astype("float32")
            if not mask.any():
                return []
        token_ids = self.retriever.get_tokens_ids(tokens)
        if not token_ids:
            return []
        scores = self.retriever.get_scores_from_ids(token_ids, weight_mask=mask)
        return [(self.ids[int(d)], float(scores[d])) for d in top_k(scores, k)]


class LexicalIndex:
    """BM25 over every chunk in the store; rebuilt when the store's generation moves on.

    `load` and `rebuild` swap in a whole new `LexicalSnapshot` (one assignment); readers take
    the current snapshot once and use only it.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.snapshot = LexicalSnapshot()

    @property
    def generation(self) -> int:
        return self.snapshot.generation

    @property
    def ids(self) -> tuple[str, ...]:
        return self.snapshot.ids

    @property
    def _meta_path(self) -> Path:
        return self.directory / "studybot-meta.json"

    def load(self) -> bool:
        """Load the persisted index; False when there is none."""
        if not self._meta_path.exists():
            return False
        meta = json.loads(self._meta_path.read_text())
        ids = tuple(meta["ids"])
        by_blueprint = meta.get("domains_by_blueprint")
        domains = {b: np.asarray(d, "int16") for b, d in (by_blueprint or {}).items()}
        retriever = bm25s.BM25.load(str(self.directory / "bm25")) if ids else None
        # an index written before per-blueprint tags is rebuilt on first use
        generation = int(meta["generation"]) if by_blueprint is not None else -1
        self.snapshot = LexicalSnapshot(generation, ids, domains, retriever)
        return True

    def rebuild(self, store: KnowledgeStore, generation: int) -> None:
        """Index every chunk of the store and persist it atomically (tmp dir + rename)."""
        ids: list[str] = []
        tagged: list[dict[str, int]] = []  # per chunk: blueprint id -> domain
        corpus: list[list[str]] = []
        for batch in store.iter_all():
            for item in batch:
                ids.append(item.id)
                tagged.append(
                    {b: read_tag(item.metadata, b).domain for b in tagged_for(item.metadata)}
                )
                corpus.append(
                    tokenize(f"{item.metadata.get('title_path', '')} {item.text}") or [""]
                )
        tmp = self.directory.with_name(self.directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        retriever = None
        if ids:
            retriever = bm25s.BM25()
            retriever.index(corpus, show_progress=False)
            retriever.save(str(tmp / "bm25"), show_progress=False)
        blueprints = sorted({b for t in tagged for b in t})
        domains = {b: [t.get(b, 0) for t in tagged] for b in blueprints}
        (tmp / "studybot-meta.json").write_text(
            json.dumps({"ids": ids, "domains_by_blueprint": domains, "generation": generation})
        )
        old = self.directory.with_name(self.directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.directory.exists():
            self.directory.rename(old)
        tmp.rename(self.directory)
        shutil.rmtree(old, ignore_errors=True)
        self.snapshot = LexicalSnapshot(
            generation,
            tuple(ids),
            {b: np.asarray(d, "int16") for b, d in domains.items()},
            retriever,
        )

    def search(
        self, query: str, k: int, domain: int | None = None, blueprint: str = ""
    ) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score) from the current snapshot, optionally only chunks of
        one domain of `blueprint`."""
        return self.snapshot.search(query, k, domain, blueprint)

    @property
    def size(self) -> int:
        """How many chunks the index holds."""
        return len(self.snapshot.ids)

    def document_frequencies(self, terms: Iterable[str]) -> dict[str, int]:
        """How many chunks contain each term (as `tokenize` writes it); 0 for unseen terms."""
        retriever = self.snapshot.retriever  # one reference: a rebuild may swap it meanwhile
        terms = list(terms)
        if retriever is None:
            return dict.fromkeys(terms, 0)
        vocab = retriever.vocab_dict
        indptr = retriever.scores["indptr"]
        nonzero = len(retriever.scores["data"])
        out: dict[str, int] = {}
        for term in terms:
            index = vocab.get(term)
            if index is None:
                out[term] = 0
                continue
            end = indptr[index + 1] if index + 1 < len(indptr) else nonzero
            out[term] = int(end - indptr[index])
        return out
