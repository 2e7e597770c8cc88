"""One settings object for the whole product, read from the environment and `.env`."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: Link-following limits of an ingest run (`ingest.pipeline.IngestOptions` defaults to them).
CRAWL_MAX_DEPTH = 10
CRAWL_MAX_PAGES = 2000

# Lists read from the environment as JSON (`["a","b"]`) or comma-separated (`a,b`).
StrList = Annotated[list[str], NoDecode]


def _alias(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    """Configuration. Third-party names keep their conventions; ours start with STUDYBOT_."""

    model_config = SettingsConfigDict(
        env_prefix="STUDYBOT_", env_file=".env", extra="ignore", populate_by_name=True
    )

    # Where the embedded default keeps everything (Chroma, BM25 index, SQLite, fetch cache).
    data_dir: Path = Path("./data")
    blueprint: str = "mls-c01"
    collection: str = "studybot"
    chroma_url: str | None = None

    # Embeddings: "local" = the bundled all-MiniLM-L6-v2; "openai" = OpenAI embeddings.
    embedding_backend: str = "local"
    # Precision of the local model: "auto" = bf16 only where the CPU multiplies bf16 natively
    # (AMX / AVX512-BF16) and a short probe at model load finds it >= 1.05x faster at min cosine
    # 0.999, else fp32 (knowledge/precision.py). bf16 was 2x faster on an Intel CPU with AMX
    # but ~6x slower than fp32 on an AVX2-only AMD EPYC (bench/embedding_dtype.py).
    embedding_dtype: str = "auto"
    openai_embedding_model: str = "text-embedding-3-small"
    chunk_tokens: int = 200
    chunk_overlap_tokens: int = 40

    # Generation (LLM mode when an OpenAI key is set).
    chat_model: str = "gpt-4o-mini"
    llm_timeout: float = 30.0
    # Coverage score at which the material counts as answering (knowledge/coverage.py);
    # calibrated, cross-validated, by bench/coverage_calibration.py.
    not_covered_threshold: float = 0.375

    # Ingest / fetch.
    # Default: the documentation hosts the MLS-C01 study guide links to.
    allowed_hosts: StrList = Field(
        default_factory=lambda: [
            "docs.aws.amazon.com",
            "aws.amazon.com",
            "d1.awsstatic.com",
            "sagemaker.readthedocs.io",
        ]
    )
    allow_private_hosts: StrList = Field(default_factory=list)
    fetch_max_bytes: int = 10_000_000
    fetch_timeout: float = 15.0
    fetch_rate_per_host: float = 2.0
    crawl_max_depth: int = CRAWL_MAX_DEPTH
    crawl_max_pages: int = CRAWL_MAX_PAGES

    # Slack.
    port: int = 3000
    # HTTP mode (`studybot serve` without SLACK_APP_TOKEN), served by uvicorn.
    http_max_connections: int = 1000  # open connections + requests; beyond it new ones get 503
    http_header_timeout: float = 10.0  # seconds a client has to send a request's headers
    http_body_timeout: float = 10.0  # ... and its body; then 408 and the connection is closed
    http_keepalive_timeout: int = 5  # an idle keep-alive connection is closed after this
    http_dispatch_threads: int = 16  # threads that hand verified requests to Bolt
    # On SIGTERM: requests in flight, then answers already acknowledged, get this long.
    shutdown_timeout: float = 30.0
    log_format: Literal["text", "json"] = "text"
    # Records (asks, bot threads, unanswered quiz posts) and fetch-cache files older than this
    # are removed by the daily retention job (one replica runs it); quiz answers are kept.
    retention_days: int = Field(default=180, ge=1)
    lead_user_ids: StrList = Field(default_factory=list)
    # Where `/study stats` uploads its chart: unset = the lead's DM; a channel id = a thread there.
    stats_channel: str | None = None

    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=_alias("OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(default=None, validation_alias=_alias("OPENAI_BASE_URL"))
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=_alias("SLACK_BOT_TOKEN")
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=_alias("SLACK_APP_TOKEN")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias=_alias("SLACK_SIGNING_SECRET")
    )
    slack_api_url: str | None = Field(default=None, validation_alias=_alias("SLACK_API_URL"))
    database_url_env: str | None = Field(default=None, validation_alias=_alias("DATABASE_URL"))

    @field_validator("allowed_hosts", "allow_private_hosts", "lead_user_ids", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("embedding_dtype", mode="before")
    @classmethod
    def _check_dtype(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            if value not in ("auto", "fp32", "bf16"):
                raise ValueError("must be auto, fp32 or bf16")
        return value

    @property
    def database_url(self) -> str:
        """DATABASE_URL, or SQLite under the data directory."""
        return self.database_url_env or f"sqlite:///{(self.data_dir / 'studybot.db').resolve()}"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def lexical_dir(self) -> Path:
        return self.data_dir / "bm25"

    @property
    def fetch_cache_dir(self) -> Path:
        return self.data_dir / "fetch-cache"

    @property
    def llm_enabled(self) -> bool:
        return self.openai_api_key is not None and bool(self.openai_api_key.get_secret_value())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own `Settings(...)` instead)."""
    return Settings()
