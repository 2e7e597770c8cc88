"""Re-tag a store for its installed blueprints from the stored texts and vectors.

A store ingested before a blueprint was installed has no tags for it; `retag` adds them (or
recomputes them after a blueprint's keywords changed) without embedding a single chunk again:
it reads each chunk's text, metadata and stored vector, and embeds only page titles and the
blueprints' objective descriptions (a few hundred short texts at most).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from langchain_core.embeddings import Embeddings

from ingest.exams import document_exam, hint_blueprints, hint_from_path
from ingest.tag import BlueprintTaggers
from knowledge.blueprint import Blueprint
from knowledge.lexical import LexicalIndex
from knowledge.settings import Settings
from knowledge.store import KnowledgeStore, StoredChunk
from knowledge.tags import CONFIDENCE, DOMAIN, OBJECTIVE, ChunkTag, key, tag_metadata


@dataclass
class RetagSummary:
    """What a re-tag did: chunks read, and per blueprint how many tags changed."""

    chunks: int = 0
    changed: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def retagged_metadata(meta: dict, tags: dict[str, ChunkTag]) -> dict:
    """`meta` with the new per-blueprint tags; the plain keys follow the chunk's `blueprint`."""
    out = {**meta, **tag_metadata(tags)}
    plain = tags.get(str(meta.get("blueprint", "")))
    if plain is not None:
        out[DOMAIN], out[OBJECTIVE] = plain.domain, plain.objective
        out[CONFIDENCE] = round(plain.confidence, 4)
    return out


def _hint(item: StoredChunk, installed: list[Blueprint]) -> tuple[str | None, set[str]]:
    """The chunk's heading objective number and the blueprints it tags exactly (as ingest
    decided them: from the heading path, the source's folder and its recorded exam)."""
    path = [p.strip() for p in str(item.metadata.get("title_path", "")).split(" > ") if p]
    hint, heading = hint_from_path(path)
    ids = [b.id for b in installed]
    recorded = {"exam": str(item.metadata.get("exam", ""))}
    exam = document_exam(str(item.metadata.get("source", "")), recorded, ids)
    return hint, hint_blueprints(hint, heading, exam, installed)


def retag(
    settings: Settings,
    store: KnowledgeStore,
    embeddings: Embeddings,
    installed: list[Blueprint],
    only: list[str] | None = None,
    batch_size: int = 1000,
) -> RetagSummary:
    """Tag every chunk for the `installed` blueprints (the primary first), or `only` these
    ids; writes metadata only, then rebuilds the BM25 index's domain filter."""
    started = time.perf_counter()
    targets = [b for b in installed if only is None or b.id in only]
    taggers = BlueprintTaggers(targets, embeddings)
    summary = RetagSummary(changed={b.id: 0 for b in targets})
    for batch in store.iter_vectors(batch_size):
        taggers.prime_titles([str(item.metadata.get("title", "")) for item, _ in batch])
        ids, metadatas = [], []
        for item, vector in batch:
            hint, hint_for = _hint(item, installed)
            title = str(item.metadata.get("title", ""))
            tags = taggers.tag(item.text, vector, title, hint, hint_for)
            meta = retagged_metadata(item.metadata, tags)
            for bid in tags:
                fields = (key(DOMAIN, bid), key(OBJECTIVE, bid))
                summary.changed[bid] += any(item.metadata.get(f) != meta[f] for f in fields)
            ids.append(item.id)
            metadatas.append(meta)
        store.set_metadata(ids, metadatas)
        summary.chunks += len(ids)
    if summary.chunks:
        generation = store.bump_generation()
        LexicalIndex(settings.lexical_dir).rebuild(store, generation)
    summary.seconds = time.perf_counter() - started
    return summary
