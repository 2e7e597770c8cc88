"""The ingest job: sources -> parse -> chunk -> embed -> tag -> store; idempotent, incremental."""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from langchain_core.embeddings import Embeddings

from ingest.chunk import RawChunk, chunk_document, chunk_id, content_hash
from ingest.exams import document_exam, hint_blueprints, objective_heading
from ingest.manifest import MANIFEST_FILE, Manifest, SourceEntry
from ingest.parse import ParseError, parse_bytes
from ingest.sources import SourceError, SourceResolver, crawl_prefix, expand_locations, followable
from ingest.sources import is_url as _is_url
from ingest.tag import BlueprintTaggers
from knowledge.blueprint import Blueprint, installed_blueprints
from knowledge.embeddings import count_tokens as local_count
from knowledge.embeddings import model_id_of
from knowledge.lexical import LexicalIndex
from knowledge.settings import CRAWL_MAX_DEPTH, CRAWL_MAX_PAGES, Settings
from knowledge.store import KnowledgeStore
from knowledge.tags import read_tag, tagged_for
from knowledge.types import Chunk

CHUNKER_VERSION = "1"


@dataclass
class IngestOptions:
    """Link following and pruning for one run; the crawl limits default to the settings'."""

    follow_links: bool = False
    prune: bool = False
    max_depth: int = CRAWL_MAX_DEPTH
    max_pages: int = CRAWL_MAX_PAGES


@dataclass
class IngestSummary:
    """What a run did; the CLI prints it as a table."""

    sources: int = 0
    pages: int = 0
    chunks_new: int = 0
    chunks_changed: int = 0
    chunks_unchanged: int = 0
    chunks_removed: int = 0
    embedded: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    embed_seconds: float = 0.0
    capped: int = 0  # locations left unread because the page cap was reached
    precision: str | None = None  # the local model's precision, when it ran (fp32/bf16)

    @property
    def chunks_per_second(self) -> float:
        return self.embedded / self.seconds if self.seconds else 0.0

    def exit_code(self, strict: bool = False) -> int:
        """1 when nothing at all was ingested, or on any failure with --strict."""
        if self.pages == 0 or (strict and self.failures):
            return 1
        return 0


@dataclass
class _Pending:
    """A source whose new chunks are waiting in the embedding buffer."""

    entry: SourceEntry
    remaining: int
    stale: list[str]


@dataclass
class _Queued:
    chunk: Chunk
    embed_text: str
    hint: str | None
    hint_for: set[str]  # the blueprints the heading's objective number tags exactly


Progress = Callable[[str, str], None]  # (event, detail): "planned"/"done"/"failed"


class IngestPipeline:
    """Runs one ingest over a set of locations."""

    def __init__(
        self,
        settings: Settings,
        blueprint: Blueprint,
        embeddings: Embeddings,
        store: KnowledgeStore,
        resolver: SourceResolver,
        *,
        blueprints: list[Blueprint] | None = None,
        count_tokens: Callable[[str], int] | None = None,
        batch_size: int = 1024,
        progress: Progress | None = None,
    ) -> None:
        self.settings = settings
        self.blueprint = blueprint
        self.embeddings = embeddings
        self.store = store
        self.resolver = resolver
        # Chunks are tagged for every installed blueprint; `blueprint` is the primary one.
        self.blueprints = blueprints or installed_blueprints(blueprint)
        self.taggers = BlueprintTaggers(self.blueprints, embeddings)
        self.count_tokens = count_tokens or local_count
        self.batch_size = batch_size
        self.progress = progress or (lambda event, detail: None)
        signature = "|".join(
            [
                model_id_of(embeddings),
                blueprint.id,
                str(settings.chunk_tokens),
                str(settings.chunk_overlap_tokens),
                CHUNKER_VERSION,
            ]
        )
        self.manifest = Manifest(settings.data_dir / MANIFEST_FILE, signature)
        self._buffer: list[_Queued] = []
        self._pending: dict[str, _Pending] = {}
        self._changed = False
        self._fresh_store = False

    # -- the run -------------------------------------------------------------------------------
    def run(self, locations: Iterable[str], options: IngestOptions | None = None) -> IngestSummary:
        """Ingest `locations` (files, folders, URLs); never stops on one bad source."""
        options = options or IngestOptions()
        started = time.perf_counter()
        summary = IngestSummary()
        given = list(locations)
        summary.sources = len(given)
        expanded, failures = expand_locations(given)
        summary.failures.extend(failures)
        queue: deque[tuple[str, int, str | None]] = deque()
        seen: set[str] = set()

        def enqueue(location: str, depth: int, prefix: str | None) -> None:
            key = self.resolver.canonical(location)
            if key in seen:
                return
            seen.add(key)
            queue.append((location, depth, prefix))
            self.progress("planned", key)

        for loc in expanded:
            enqueue(loc, 0, None)
        self._fresh_store = self.store.count() == 0
        try:
            while queue:
                if summary.pages >= options.max_pages:
                    summary.capped = len(queue)
                    break
                location, depth, prefix = queue.popleft()
                page = self._ingest_one(location, summary)
                if page and options.follow_links:
                    self._follow(page, location, depth, prefix, options, enqueue)
                if len(self._buffer) >= self.batch_size:
                    self._flush(summary)
            self._flush(summary)
            if options.prune and not summary.capped:
                self._prune(seen, summary)
        finally:
            self.manifest.save()
        if self._changed:
            # Bumped again at the end: a replica that rebuilt its BM25 index during the run
            # (after the first bump) saw part of the writes; this tells it to rebuild again.
            generation = self.store.bump_generation()
            LexicalIndex(self.settings.lexical_dir).rebuild(self.store, generation)
        summary.seconds = time.perf_counter() - started
        summary.precision = getattr(self.embeddings, "resolved_dtype", None)
        return summary

    @staticmethod
    def _follow(
        page: tuple[list[str], str],
        location: str,
        depth: int,
        prefix: str | None,
        options: IngestOptions,
        enqueue: Callable[[str, int, str | None], None],
    ) -> None:
        """Queue a page's links: every link of a given page; below it, only links under the
        crawl's prefix (the folder of the depth-1 page where it was found after redirects)."""
        links, found_at = page
        if depth == 1 and _is_url(found_at):
            prefix = crawl_prefix(found_at)
        elif prefix and not found_at.startswith(prefix):
            return  # redirected out of the crawl's folder: its links belong to another crawl
        for link in (x for x in links if followable(x, location)):
            if depth == 0:
                enqueue(link, 1, None)
            elif prefix and depth < options.max_depth and link.startswith(prefix):
                enqueue(link, depth + 1, prefix)

    # -- one source ----------------------------------------------------------------------------
    def _ingest_one(self, location: str, summary: IngestSummary) -> tuple[list[str], str] | None:
        """Ingest one source; (its links, where it was found) or None when it failed."""
        try:
            loaded = self.resolver.load(location)
        except SourceError as exc:
            return self._fail(summary, location, str(exc))
        source = loaded.source
        body_hash = hashlib.sha256(loaded.data).hexdigest()
        entry = self.manifest.unchanged(source, body_hash)
        if entry is not None:
            summary.pages += 1
            summary.chunks_unchanged += entry.chunks
            self.progress("done", source)
            return entry.links, loaded.base
        try:
            doc = parse_bytes(loaded.data, source, loaded.content_type, base=loaded.final_url)
        except ParseError as exc:
            return self._fail(summary, source, str(exc))
        raw = chunk_document(
            doc,
            max_tokens=self.settings.chunk_tokens,
            overlap_tokens=self.settings.chunk_overlap_tokens,
            count_tokens=self.count_tokens,
        )
        if not raw:
            return self._fail(summary, source, "no text to ingest")
        summary.pages += 1
        exam = document_exam(source, doc.metadata, self.taggers.ids)
        chunks = self._identify(raw, source, doc.title, exam)
        # A store that was empty when the run began holds only what this run wrote, and the
        # run reads each source once: nothing to look up (saves a query per page).
        existing = {} if self._fresh_store else self.store.ids_for_source(source)
        new = [q for q in chunks if q.chunk.id not in existing]
        kept = [q.chunk for q in chunks if q.chunk.id in existing]
        ids = {q.chunk.id for q in chunks}
        stale = [cid for cid in existing if cid not in ids]
        seen_before = bool(existing) or source in self.manifest.sources
        if seen_before:
            summary.chunks_changed += len(new)
        else:
            summary.chunks_new += len(new)
        summary.chunks_unchanged += len(kept)
        summary.chunks_removed += len(stale)
        self._refresh_kept(kept, existing)
        entry = SourceEntry(body_hash, len(chunks), doc.title, doc.kind, list(doc.links))
        if new:
            self._buffer.extend(new)
            self._pending[source] = _Pending(entry, len(new), stale)
        else:
            self._complete(source, entry, stale)
        self.progress("done", source)
        return doc.links, loaded.base

    def _identify(self, raw: list[RawChunk], source: str, title: str, exam: str) -> list[_Queued]:
        """Give each chunk its id (source + content), counting repeats of identical text, and
        its source role: "guide" for a document organised by an exam's objectives (a heading
        names one: the study guide's ``### 2.2 Perform feature engineering``, the notes'
        ``# 1.2 ...``), "reference" for any other page. Answers prefer a guide passage."""
        occurrences: dict[str, int] = {}
        out: list[_Queued] = []
        for rc in raw:
            chunk = Chunk(
                id="",
                text=rc.text,
                source=source,
                title=title,
                title_path=rc.title_path,
                position=rc.position,
                content_hash="",
                blueprint=self.blueprint.id,
                domain=0,
                objective="",
                tag_confidence=0.0,
                exam=exam,
            )
            embed_text = chunk.embedding_text()
            digest = content_hash(embed_text)
            n = occurrences.get(digest, 0)
            occurrences[digest] = n + 1
            chunk.content_hash = digest
            chunk.id = chunk_id(source, digest, n)
            heading = objective_heading(rc.title_path, rc.objective_hint)
            hint_for = hint_blueprints(rc.objective_hint, heading, exam, self.blueprints)
            out.append(_Queued(chunk, embed_text, rc.objective_hint, hint_for))
        role = "guide" if any(q.hint_for for q in out) else "reference"
        for queued in out:
            queued.chunk.source_role = role
        return out

    def _refresh_kept(self, kept: list[Chunk], existing: dict[str, dict]) -> None:
        """Unchanged text keeps its vector and tag; only its position may need updating."""
        moved = []
        for chunk in kept:
            meta = existing[chunk.id]
            if meta.get("position") != chunk.position or meta.get("title") != chunk.title:
                has = tagged_for(meta)
                chunk.tags = {b: read_tag(meta, b) for b in self.taggers.ids if b in has}
                self._set_primary(chunk)
                moved.append(chunk)
        if moved:
            self.store.update_metadata(moved)

    def _flush(self, summary: IngestSummary) -> None:
        """Embed and tag the buffered chunks, write them, then complete finished sources."""
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        t0 = time.perf_counter()
        vectors = self.embeddings.embed_documents([q.embed_text for q in batch])
        summary.embed_seconds += time.perf_counter() - t0
        summary.embedded += len(batch)
        self.taggers.prime_titles([q.chunk.title for q in batch])
        for q, vec in zip(batch, vectors, strict=True):
            q.chunk.tags = self.taggers.tag(q.chunk.text, vec, q.chunk.title, q.hint, q.hint_for)
            self._set_primary(q.chunk)
        self._mark_changed()
        self.store.add([q.chunk for q in batch], vectors)
        for q in batch:
            pending = self._pending.get(q.chunk.source)
            if pending is None:
                continue
            pending.remaining -= 1
            if pending.remaining == 0:
                del self._pending[q.chunk.source]
                self._complete(q.chunk.source, pending.entry, pending.stale)
        self.manifest.save()

    def _set_primary(self, chunk: Chunk) -> None:
        """The plain domain/objective keys hold the primary blueprint's tag."""
        tag = chunk.tags.get(self.blueprint.id)
        if tag is not None:
            chunk.domain, chunk.objective, chunk.tag_confidence = (
                tag.domain,
                tag.objective,
                tag.confidence,
            )
        else:  # a chunk kept from a store tagged for other blueprints only: untagged here
            chunk.domain, chunk.objective, chunk.tag_confidence = 0, "", 0.0

    def _complete(self, source: str, entry: SourceEntry, stale: list[str]) -> None:
        if stale:
            self._mark_changed()
            self.store.delete(stale)
        self.manifest.sources[source] = entry

    def _prune(self, seen: set[str], summary: IngestSummary) -> None:
        """Remove every source in the store that this run was not given."""
        for source, count in self.store.sources().items():
            if source in seen:
                continue
            ids = list(self.store.ids_for_source(source))
            self._mark_changed()
            self.store.delete(ids)
            summary.chunks_removed += len(ids)
            self.manifest.sources.pop(source, None)
            self.progress("pruned", f"{source} ({count} chunks)")

    def _mark_changed(self) -> None:
        """Bump the store generation before the first write, so an interrupted run still
        leaves the lexical index marked stale (the retriever then rebuilds it)."""
        if not self._changed:
            self.store.bump_generation()
            self._changed = True

    def _fail(self, summary: IngestSummary, location: str, reason: str) -> None:
        summary.failures.append((location, reason))
        self.progress("failed", f"{location}: {reason}")
        return None
