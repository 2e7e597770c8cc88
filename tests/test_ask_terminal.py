"""`studybot ask` and `studybot shell` over the real service, offline (extractive)."""

from __future__ import annotations

import json

import pytest
from rich.console import Console
from typer.testing import CliRunner

from bot.cli import app
from bot.service import EmptyQuestion, StudyService
from bot.shell import run_shell
from knowledge.settings import get_settings


@pytest.fixture
def cli_env(notes_settings, monkeypatch):
    monkeypatch.setenv("STUDYBOT_DATA_DIR", str(notes_settings.data_dir))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_ask_json_has_the_documented_shape(cli_env):
    out = cli_env.invoke(app, ["ask", "Which service turns text into lifelike speech?", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert set(data) == {"answer", "mode", "domains", "sources"}
    assert data["mode"] == "extractive"
    assert "Polly" in data["answer"] and "[1]" in data["answer"]
    assert "xtracted" in data["answer"]  # offline answers say that they are extractive
    assert data["domains"][0] == {
        "id": 4,
        "name": "Machine Learning Implementation and Operations",
        "objective": data["domains"][0]["objective"],
    }
    assert data["domains"][0]["objective"].startswith("4.2")
    assert data["sources"] and {"title", "source", "score"} == set(data["sources"][0])


def test_ask_off_topic_is_not_covered_with_closest_topics(cli_env):
    out = cli_env.invoke(app, ["ask", "What is the best recipe for sourdough bread?", "--json"])
    data = json.loads(out.stdout)
    assert data["mode"] == "not_covered"
    assert "does not cover" in data["answer"] and data["sources"] == []


def test_ask_empty_question_is_a_clear_error(cli_env):
    out = cli_env.invoke(app, ["ask", "   "])
    assert out.exit_code == 1 and "Ask a question" in out.output


def test_service_handles_huge_emoji_and_code_questions(notes_settings):
    service = StudyService(notes_settings)
    huge = service.ask("How do I tune hyperparameters? " * 3000, "u", "c")
    assert "first 2,000 characters" in (huge.note or "")
    assert huge.mode in {"extractive", "not_covered"}
    emoji = service.ask("🤔 Wie funktioniert Kinesis Data Firehose? 日本語", "u", "c")
    assert emoji.mode in {"extractive", "not_covered"}
    code = service.ask("What does ```estimator.fit(inputs)``` do in training?", "u", "c")
    assert code.text
    with pytest.raises(EmptyQuestion):
        service.ask("\n\t ", "u", "c")


def test_shell_keeps_thread_context_for_follow_ups(notes_settings):
    service = StudyService(notes_settings)
    lines = iter(
        [
            "Which service converts speech to text?",
            "and how is it priced?",
            "/help",
            "/bogus",
            "/quit",
        ]
    )
    console = Console(record=True, width=120)
    seen_threads = []
    original = service.ask

    def spy(question, who, where, thread=None, *, on_draft=None):
        seen_threads.append(thread)
        return original(question, who, where, thread, on_draft=on_draft)

    service.ask = spy
    run_shell(service, console, read=lambda prompt: next(lines))
    text = console.export_text()
    assert "Transcribe" in text
    assert "Unknown command /bogus" in text
    assert len(seen_threads) == 2 and seen_threads[0] == seen_threads[1]
    history = service.records.thread_history("terminal", seen_threads[0])
    assert [q for q, _ in history] == [
        "Which service converts speech to text?",
        "and how is it priced?",
    ]
