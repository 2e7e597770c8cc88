"""Shared fixtures: isolated settings, the real shared corpus (skipped when absent), databases."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg import DB_BACKENDS, database_url

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
SAGEMAKER_DOCS = CORPUS / "awsdocs" / "sagemaker-developer-guide" / "doc_source"
FIREHOSE_DOCS = CORPUS / "awsdocs" / "kinesis-data-firehose-developer-guide" / "doc_source"
DATA = Path(__file__).resolve().parent / "data"

# Settings read from a developer's environment or .env must not leak into tests.
for _name in (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_API_URL",
    "DATABASE_URL",
    "STUDYBOT_DATA_DIR",
    "STUDYBOT_CHROMA_URL",
):
    os.environ.pop(_name, None)


@pytest.fixture
def shared_corpus() -> Path:
    """../shared/corpus, or a skip with the reason (a user's clone has no ../shared)."""
    if not (CORPUS / "study-guide.md").exists():
        pytest.skip("../shared/corpus is not present in this clone (CI has it)")
    return CORPUS


@pytest.fixture
def settings(tmp_path):
    """Settings with everything under a fresh data dir and no keys (the offline default)."""
    from knowledge.settings import Settings

    return Settings(data_dir=tmp_path / "data", _env_file=None)


@pytest.fixture(scope="session")
def notes_settings(tmp_path_factory):
    """A store built once per test session from the bundled study notes."""
    from ingest.job import build_pipeline
    from knowledge.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("notes") / "data", _env_file=None)
    summary = build_pipeline(settings).run([str(REPO / "knowledge" / "notes" / "mls-c01")])
    assert summary.pages == 15 and not summary.failures
    return settings


@pytest.fixture(params=DB_BACKENDS)
def db_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file, or a PostgreSQL schema dropped afterwards.

    The PostgreSQL run is marked `postgres` and skipped with the reason when it is unreachable.
    """
    with database_url(request.param, tmp_path, request.module.__name__.rpartition(".")[2]) as url:
        yield url
