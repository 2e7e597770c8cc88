"""Ordering and matching items in the terminal: `studybot quiz` (--json, --answer ID ...) and the
shell's /quiz, over an MLA-C01 bank of such items (no store is needed to show or grade them)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from bot import quiz_bank
from bot.cli import app
from bot.records import Records
from bot.service import StudyService
from bot.shell import parse_sequence, run_shell
from knowledge.settings import Settings, get_settings
from tests.test_quiz_slack import correct_of
from tests.test_quiz_slack_arranged import MLA, arranged_questions, make_quiz


@pytest.fixture
def db_path(tmp_path) -> Path:
    path = tmp_path / "records.db"
    records = Records.from_url(f"sqlite:///{path}")
    records.upgrade()
    quiz_bank.insert_questions(records, arranged_questions(), MLA.id, datetime.now(UTC))
    records.close()
    return path


@pytest.fixture
def runner(db_path, tmp_path, monkeypatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("STUDYBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db_path}")
    monkeypatch.setenv("STUDYBOT_BLUEPRINT", "mla-c01")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def typed(fmt: str, key: list[int]) -> str:
    """The right answer as a learner types it."""
    if fmt == "ordering":
        return " ".join(str(i + 1) for i in key)
    return " ".join(f"{'ABCDE'[k]}{i + 1}" for k, i in enumerate(key))


def test_parse_sequence_reads_the_documented_forms():
    assert parse_sequence("3 1 4 2", "ordering", 4) == [2, 0, 3, 1]
    assert parse_sequence("3,1,4,2", "ordering", 4) == [2, 0, 3, 1]
    assert parse_sequence("3142", "ordering", 4) == [2, 0, 3, 1]
    assert parse_sequence("A2 B1 C3", "matching", 3) == [1, 0, 2]
    assert parse_sequence("c3 a2 b1", "matching", 3) == [1, 0, 2]  # any order of pairs
    assert parse_sequence("2 1 3", "matching", 3) == [1, 0, 2]
    assert parse_sequence("A2 C3", "matching", 3) == [1, -1, 2]  # the service names the gap
    with pytest.raises(ValueError, match="step numbers in order"):
        parse_sequence("first second", "ordering", 4)
    with pytest.raises(ValueError, match="A2 B3 C1"):
        parse_sequence("A-2", "matching", 3)


def test_quiz_json_then_answer_an_arranged_item(runner, db_path):
    out = runner.invoke(app, ["quiz", "--json"])
    assert out.exit_code == 0, out.output
    q = json.loads(out.stdout)
    assert q["format"] in ("ordering", "matching")
    assert len(q["items"]) == q["choose"] and len(q["targets"]) == q["choose"]
    key = list(correct_of_db(db_path, q["id"]))
    wrong = [key[1], key[0], *key[2:]]
    bad = runner.invoke(app, ["quiz", "--answer", q["id"], typed(q["format"], key[:-1])])
    assert bad.exit_code != 0 and "all" in bad.output and "needed" in bad.output
    out = runner.invoke(app, ["quiz", "--answer", q["id"], typed(q["format"], wrong), "--json"])
    assert out.exit_code == 0, out.output
    grade = json.loads(out.stdout)
    assert grade["correct"] is False and grade["answer"] == key and grade["chosen"] == wrong
    assert len(grade["answer_lines"]) == q["choose"]


def correct_of_db(db_path: Path, token: str) -> list[int]:
    records = Records.from_url(f"sqlite:///{db_path}")
    try:
        return correct_of(records, token)
    finally:
        records.close()


def test_quiz_shows_steps_and_the_answer_hint(runner):
    out = runner.invoke(app, ["quiz"])
    assert out.exit_code == 0, out.output
    assert "studybot quiz --answer" in out.output
    assert "(put the steps in order)" in out.output or "(match each term" in out.output


def test_shell_quiz_reads_a_sequence_and_grades_it(db_path, tmp_path):
    records = Records.from_url(f"sqlite:///{db_path}")
    quiz = make_quiz(records, tmp_path)
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    service = StudyService(settings, records=records, blueprint=MLA, quiz=quiz)
    console = Console(record=True, width=120)
    lines = iter(["/quiz"])
    answers: list[str] = []

    def read(prompt: str) -> str:
        if prompt.startswith("answer, e.g."):
            token = records_last_token(records)
            shown = service.shown_question(token)
            if not answers:  # first a repeated pick, then the right answer
                answers.append("1 1 2 3" if shown.question.format == "ordering" else "A1 B1 C2")
            else:
                answers.append(typed(shown.question.format, correct_of(records, token)))
            return answers[-1]
        line = next(lines, None)
        if line is None:
            raise EOFError
        return line

    run_shell(service, console, read=read, user="U5")
    text = console.export_text()
    assert "picked twice" in text and "✔ Correct" in text and len(answers) == 2
    assert "Answer: " + answers[-1] in text
    records.close()


def records_last_token(records: Records) -> str:
    import sqlalchemy as sa

    from bot.records import QuizPost

    with records.engine.connect() as conn:
        return conn.execute(sa.select(QuizPost.token).order_by(QuizPost.id.desc())).scalar()
