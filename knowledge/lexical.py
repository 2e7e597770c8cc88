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


@dataclass(frozen=True, eq=False)
class LexicalSnapshot:
    """One built BM25 index: the retriever and, by position, each chunk's id and domain.

    Never changed once made; a rebuild makes a new one, so a search that holds a snapshot
    maps positions onto ids of the same generation however many rebuilds happen meanwhile.
    """

    generation: int = -1
    ids: tuple[str, ...] = ()
    domains: np.ndarray = field(default_factory=lambda: np.zeros(0, "int16"))
    retriever: bm25s.BM25 | None = None

    def search(self, query: str, k: int, domain: int | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score), optionally only chunks of one domain."""
        tokens = tokenize(query)
        if self.retriever is None or not tokens or not self.ids:
            return []
        mask = None
        if domain is not None:
            mask = (self.domains == domain).astype("float32")
            if not mask.any():
                return []
        k = min(k, len(self.ids))
        docs, scores = self.retriever.retrieve(
            [tokens], k=k, show_progress=False, weight_mask=mask, n_threads=1
        )
        return [
            (self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0
        ]


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
        retriever = bm25s.BM25.load(str(self.directory / "bm25")) if ids else None
        self.snapshot = LexicalSnapshot(
            int(meta["generation"]), ids, np.asarray(meta["domains"], "int16"), retriever
        )
        return True

    def rebuild(self, store: KnowledgeStore, generation: int) -> None:
        """Index every chunk of the store and persist it atomically (tmp dir + rename)."""
        ids: list[str] = []
        domains: list[int] = []
        corpus: list[list[str]] = []
        for batch in store.iter_all():
            for item in batch:
                ids.append(item.id)
                domains.append(int(item.metadata.get("domain", 0)))
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
        (tmp / "studybot-meta.json").write_text(
            json.dumps({"ids": ids, "domains": domains, "generation": generation})
        )
        old = self.directory.with_name(self.directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.directory.exists():
            self.directory.rename(old)
        tmp.rename(self.directory)
        shutil.rmtree(old, ignore_errors=True)
        self.snapshot = LexicalSnapshot(
            generation, tuple(ids), np.asarray(domains, "int16"), retriever
        )

    def search(self, query: str, k: int, domain: int | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score) from the current snapshot, optionally in one domain."""
        return self.snapshot.search(query, k, domain)

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
