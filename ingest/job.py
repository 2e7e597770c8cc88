"""Assemble an ingest pipeline from settings (what the CLI and the benchmarks run)."""

from __future__ import annotations

from collections.abc import Iterable

from ingest.fetch import Fetcher, FetchPolicy
from ingest.manifest import MANIFEST_FILE
from ingest.pipeline import IngestPipeline, Progress
from ingest.sources import Mirror, SourceResolver
from knowledge.blueprint import load_blueprint
from knowledge.embeddings import make_embeddings, model_id_of
from knowledge.settings import Settings
from knowledge.store import KnowledgeStore


def fetch_policy(settings: Settings) -> FetchPolicy:
    """The fetcher's rules from settings: allowed hosts, private hosts, caps and timeouts."""
    return FetchPolicy(
        allowed_hosts={h.lower() for h in settings.allowed_hosts},
        allow_private_hosts={h.lower() for h in settings.allow_private_hosts},
        max_bytes=settings.fetch_max_bytes,
        timeout=settings.fetch_timeout,
        rate_per_host=settings.fetch_rate_per_host,
    )


def build_pipeline(
    settings: Settings,
    mirrors: Iterable[Mirror] = (),
    progress: Progress | None = None,
    rebuild: bool = False,
) -> IngestPipeline:
    """A ready pipeline: embeddings, store (reset first with `rebuild`), fetcher, mirrors."""
    blueprint = load_blueprint(settings.blueprint)
    embeddings = make_embeddings(settings)
    store = KnowledgeStore(settings, model_id_of(embeddings))
    if rebuild:
        store.reset()
        (settings.data_dir / MANIFEST_FILE).unlink(missing_ok=True)
    fetcher = Fetcher(fetch_policy(settings), settings.fetch_cache_dir)
    resolver = SourceResolver(fetcher, mirrors, max_bytes=settings.fetch_max_bytes)
    return IngestPipeline(settings, blueprint, embeddings, store, resolver, progress=progress)
