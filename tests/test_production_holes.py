"""Holes closed for production (issue 12): an invalid DATABASE_URL and control characters in
questions."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.records import (
    InvalidDatabaseURL,
    Records,
    normalize_url,
)
from bot.service import StudyService
from knowledge.settings import get_settings
from knowledge.types import Answer, Hit

REPO = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------- DATABASE_URL

BAD_URLS = [
    ("nonsense", "is not a database URL I can read"),
    ("mysql://u@h/db", "must be a sqlite:/// or postgresql:// URL"),
    ("postgresql://u:hunter2@127.0.0.1:notaport/db", "is not a database URL I can read"),
    ("postgresql+nodriver://u:hunter2@h/db", "cannot be used"),
]


@pytest.fixture
def cli_env(monkeypatch, tmp_path):
    monkeypatch.setenv("STUDYBOT_DATA_DIR", str(tmp_path / "data"))

    def use(url: str) -> CliRunner:
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        return CliRunner()

    yield use
    get_settings.cache_clear()


@pytest.mark.parametrize(("url", "says"), BAD_URLS)
@pytest.mark.parametrize("command", [["stats", "--channel", "C1"], ["quiz"], ["me"]])
def test_an_invalid_database_url_is_one_clear_line(cli_env, url, says, command):
    out = cli_env(url).invoke(cli, command)
    assert out.exit_code == 1
    lines = [line for line in out.output.splitlines() if line.strip()]
    assert len(lines) == 1 and says in lines[0], out.output
    assert lines[0].startswith("error: DATABASE_URL") and "hunter2" not in out.output


def test_studybot_serve_with_an_invalid_database_url_says_so_in_one_line(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql://u:hunter2@127.0.0.1:notaport/db",
        "STUDYBOT_DATA_DIR": str(tmp_path),
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
    }
    done = subprocess.run(
        [str(REPO / ".venv" / "bin" / "studybot"), "serve"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 1
    assert lines == [lines[0]] and lines[0].startswith("error: DATABASE_URL"), done.stderr
    assert "Traceback" not in done.stderr and "hunter2" not in done.stderr


def test_invalid_database_urls_are_records_errors_and_value_errors():
    with pytest.raises(InvalidDatabaseURL) as info:
        normalize_url("not a url")
    assert isinstance(info.value, ValueError)


# --------------------------------------------------------------------------- questions


class RecordingRetriever:
    """TEST DOUBLE for `Retriever.search`: records the query, returns no passages."""

    lexical = None  # the BM25 statistics `ask` hands the generator

    def __init__(self) -> None:
        self.queries: list[str] = []

    def search(self, query: str, k: int = 5, domain: int | None = None) -> list[Hit]:
        self.queries.append(query)
        return []


class EchoGenerator:
    """TEST DOUBLE for `AnswerGenerator`: the question it was given, as the answer."""

    chat_model = None

    def answer(self, question: str, hits: list[Hit], history=None, stats=None) -> Answer:
        return Answer(question, [], [], "not_covered", 0.0)

    def condense(self, question: str, history) -> str:
        return question


@pytest.mark.parametrize(
    ("typed", "seen"),
    [
        ("\x1b[31mWhat is\x1b[0m SageMaker?", "What is SageMaker?"),
        ("What\x00is\x07AMT?\x7f", "What is AMT?"),
        ("\x1b]0;pwned\x07\x1b]8;;http://evil\x1b\\Explain\x1b]8;;\x1b\\ BM25", "Explain BM25"),
        ("Spot\u202e training\u200b?", "Spot training?"),
        ("emoji 👩\u200d💻 and 日本語", "emoji 👩\u200d💻 and 日本語"),
    ],
)
def test_control_characters_and_ansi_escapes_never_reach_retrieval(settings, typed, seen):
    retriever = RecordingRetriever()
    service = StudyService(
        settings,
        retriever=retriever,
        generator=EchoGenerator(),
        records=Records.from_url("sqlite://"),
    )
    answer = service.ask(typed, "U1", "C1")
    assert retriever.queries == [seen] and answer.text == seen


def test_a_question_of_only_escapes_is_an_empty_question(settings):
    from bot.service import EmptyQuestion

    service = StudyService(settings, retriever=RecordingRetriever(), generator=EchoGenerator())
    with pytest.raises(EmptyQuestion):
        service.ask("\x1b[2J\x1b[H\x00", "U1", "C1")
