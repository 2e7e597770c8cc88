"""The Chroma collection that holds every chunk: embedded on disk, or a Chroma server."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlparse

from knowledge.settings import Settings
from knowledge.types import Chunk

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


class StoreError(RuntimeError):
    """The store cannot be used; the message is one sentence a user can act on."""


class EmbeddingModelMismatch(StoreError):
    """The collection was built with another embedding model."""


@dataclass
class StoredChunk:
    id: str
    text: str
    metadata: dict
    distance: float | None = None


class KnowledgeStore:
    """One Chroma collection; embeddings are always passed in (`embedding_function=None`)."""

    def __init__(self, settings: Settings, model_id: str, dimension: int | None = None) -> None:
        # heavy import (~1.7 s): only when a store is opened, not for every CLI command
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.settings = settings
        self.model_id = model_id
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            if settings.chroma_url:
                url = urlparse(settings.chroma_url)
                self.client = chromadb.HttpClient(
                    host=url.hostname or "localhost",
                    port=url.port or (443 if url.scheme == "https" else 8000),
                    ssl=url.scheme == "https",
                    settings=chroma_settings,
                )
                self.where = settings.chroma_url
            else:
                settings.chroma_dir.mkdir(parents=True, exist_ok=True)
                self.client = chromadb.PersistentClient(
                    path=str(settings.chroma_dir), settings=chroma_settings
                )
                self.where = str(settings.chroma_dir)
        except StoreError:
            raise
        except Exception as exc:  # chromadb raises ValueError/ConnectionError/etc.
            raise StoreError(
                f"The vector store at {_where(settings)} is unavailable: {exc}"
            ) from exc
        self._collection = None
        self._dimension = dimension

    # -- collection --------------------------------------------------------------------------
    def _get_collection(self, create: bool):
        if self._collection is not None:
            return self._collection
        name = self.settings.collection
        try:
            if create:
                col = self.client.get_or_create_collection(
                    name,
                    metadata={
                        "embedding_model": self.model_id,
                        "blueprint": self.settings.blueprint,
                    },
                    configuration={"hnsw": {"space": "cosine"}},
                    embedding_function=None,
                )
            else:
                col = self.client.get_collection(name, embedding_function=None)
        except Exception as exc:
            if not create and _is_missing(exc):
                return None
            raise StoreError(f"The vector store at {self.where} is unavailable: {exc}") from exc
        recorded = (col.metadata or {}).get("embedding_model")
        if recorded and recorded != self.model_id:
            raise EmbeddingModelMismatch(
                f"The store at {self.where} was built with the embedding model {recorded}, "
                f"but this run uses {self.model_id}; re-ingest with `studybot ingest --rebuild …` "
                "or switch back to the model that built it."
            )
        self._collection = col
        return col

    @property
    def collection(self):
        """The collection, created on first use for writing."""
        return self._get_collection(create=True)

    def exists(self) -> bool:
        """True when the collection exists (something was ingested)."""
        return self._get_collection(create=False) is not None

    def count(self) -> int:
        col = self._get_collection(create=False)
        return 0 if col is None else int(self._call(col.count))

    def generation(self) -> int:
        """A counter bumped by each ingest that changes the store (keeps BM25 in step)."""
        if self._get_collection(create=False) is None:
            return 0
        # Re-read: another process (an ingest job) may have moved the store on.
        fresh = self._call(self.client.get_collection, self.settings.collection)
        return int((fresh.metadata or {}).get("generation", 0))

    def bump_generation(self) -> int:
        """Record that the store changed; returns the new generation."""
        col = self.collection
        meta = dict(col.metadata or {})
        meta["generation"] = int(meta.get("generation", 0)) + 1
        meta["embedding_model"] = self.model_id
        self._call(col.modify, metadata=meta)
        return meta["generation"]

    def reset(self) -> None:
        """Drop the collection (used by `ingest --rebuild`)."""
        with contextlib.suppress(Exception):  # an absent collection is fine
            self.client.delete_collection(self.settings.collection)
        self._collection = None

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"The vector store at {self.where} failed: {exc}") from exc

    # -- writes ------------------------------------------------------------------------------
    def add(self, chunks: list[Chunk], vectors: list[list[float]]) -> None:
        """Add (or overwrite) chunks with their vectors."""
        if not chunks:
            return
        self._call(
            self.collection.upsert,
            ids=[c.id for c in chunks],
            embeddings=vectors,
            documents=[c.text for c in chunks],
            metadatas=[c.metadata() for c in chunks],
        )

    def update_metadata(self, chunks: list[Chunk]) -> None:
        """Refresh metadata (position, tags) of chunks whose text did not change."""
        if chunks:
            self._call(
                self.collection.update,
                ids=[c.id for c in chunks],
                metadatas=[c.metadata() for c in chunks],
            )

    def set_metadata(self, ids: list[str], metadatas: list[dict]) -> None:
        """Replace the metadata of stored chunks (their text and vectors stay)."""
        if ids:
            self._call(self.collection.update, ids=ids, metadatas=metadatas)

    def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), 5000):
            self._call(self.collection.delete, ids=ids[start : start + 5000])

    # -- reads -------------------------------------------------------------------------------
    def ids_for_source(self, source: str) -> dict[str, dict]:
        """Chunk id -> metadata for one source."""
        col = self._get_collection(create=False)
        if col is None:
            return {}
        got = self._call(col.get, where={"source": source}, include=["metadatas"])
        return dict(zip(got["ids"], got["metadatas"], strict=True))

    def sources(self) -> dict[str, int]:
        """Every source in the store with its chunk count."""
        counts: dict[str, int] = {}
        for batch in self.iter_all(include_documents=False):
            for item in batch:
                src = item.metadata.get("source", "")
                counts[src] = counts.get(src, 0) + 1
        return counts

    def iter_all(
        self, batch_size: int = 5000, include_documents: bool = True
    ) -> Iterator[list[StoredChunk]]:
        """Every chunk, in batches (for the lexical index and `sources`)."""
        col = self._get_collection(create=False)
        if col is None:
            return
        include = ["metadatas", "documents"] if include_documents else ["metadatas"]
        offset = 0
        while True:
            got = self._call(col.get, include=include, limit=batch_size, offset=offset)
            ids = got["ids"]
            if not ids:
                return
            docs = got.get("documents") or [""] * len(ids)
            yield [
                StoredChunk(i, d or "", m or {})
                for i, d, m in zip(ids, docs, got["metadatas"], strict=True)
            ]
            offset += len(ids)

    def iter_vectors(self, batch_size: int = 1000) -> Iterator[list[tuple[StoredChunk, list]]]:
        """Every chunk with its stored vector, in batches (re-tagging without re-embedding)."""
        col = self._get_collection(create=False)
        if col is None:
            return
        include = ["metadatas", "documents", "embeddings"]
        offset = 0
        while True:
            got = self._call(col.get, include=include, limit=batch_size, offset=offset)
            ids = got["ids"]
            if not len(ids):
                return
            yield [
                (StoredChunk(i, d or "", m or {}), v)
                for i, d, m, v in zip(
                    ids, got["documents"], got["metadatas"], got["embeddings"], strict=True
                )
            ]
            offset += len(ids)

    def query(self, vector: list[float], k: int, where: dict | None = None) -> list[StoredChunk]:
        """Nearest chunks by cosine distance (smaller is closer)."""
        col = self._get_collection(create=False)
        if col is None:
            return []
        got = self._call(
            col.query,
            query_embeddings=[vector],
            n_results=max(1, k),  # Chroma returns fewer when the store is smaller
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        return [
            StoredChunk(i, d, m, dist)
            for i, d, m, dist in zip(
                got["ids"][0],
                got["documents"][0],
                got["metadatas"][0],
                got["distances"][0],
                strict=True,
            )
        ]

    def matching(self, where: dict) -> list[tuple[StoredChunk, list[float]]]:
        """Every chunk whose metadata matches ``where``, with its vector."""
        col = self._get_collection(create=False)
        if col is None:
            return []
        got = self._call(col.get, where=where, include=["documents", "metadatas", "embeddings"])
        return [
            (StoredChunk(i, d or "", m or {}), v)
            for i, d, m, v in zip(
                got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True
            )
        ]

    def get(self, ids: list[str], with_vectors: bool = False) -> dict[str, StoredChunk | tuple]:
        """Chunks by id; with vectors, values are (StoredChunk, vector)."""
        col = self._get_collection(create=False)
        if col is None or not ids:
            return {}
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        got = self._call(col.get, ids=ids, include=include)
        out: dict = {}
        for n, cid in enumerate(got["ids"]):
            item = StoredChunk(cid, got["documents"][n], got["metadatas"][n])
            out[cid] = (item, got["embeddings"][n]) if with_vectors else item
        return out


def _where(settings: Settings) -> str:
    return settings.chroma_url or str(settings.chroma_dir)


def _is_missing(exc: Exception) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return "notfound" in text or "does not exist" in text or "not found" in text
