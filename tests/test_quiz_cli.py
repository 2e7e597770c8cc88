"""`studybot quiz`, the shell's /quiz and /exam, and the demo's quiz step, on the bundled notes.

The store is the session's `notes_settings`; each test gets its own records database (a copy of
one filled once per module), so tests never share quiz state.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from rich.console import Console
from typer.testing import CliRunner

from bot.cli import app
from bot.quiz_bank import get_question
from bot.records import QuizPost, Records
from bot.service import StudyService
from bot.shell import parse_choices, run_shell
from knowledge.blueprint import load_blueprint
from knowledge.settings import get_settings
from tests.conftest import REPO

QUESTION_KEYS = {"id", "stem", "options", "choose", "domain", "objective", "source"}
GRADE_KEYS = {"correct", "answer", "explanation", "source"}


@pytest.fixture(scope="module")
def filled_db(notes_settings, tmp_path_factory) -> Path:
    """A records database whose bank was filled offline from the notes (once per module)."""
    path = tmp_path_factory.mktemp("quizdb") / "bank.db"
    settings = notes_settings.model_copy(update={"database_url_env": f"sqlite:///{path}"})
    service = StudyService(settings)
    stats = service.fill_bank()
    assert stats.inserted > 100 and stats.bank_size == stats.inserted
    assert set(stats.per_objective) == {o.id for o in service.blueprint.objectives}
    service.records.close()
    return path


@pytest.fixture
def db_path(filled_db, tmp_path) -> Path:
    path = tmp_path / "records.db"
    shutil.copy(filled_db, path)
    return path


@pytest.fixture
def runner(notes_settings, db_path, monkeypatch):
    monkeypatch.setenv("STUDYBOT_DATA_DIR", str(notes_settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db_path}")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def correct_of(db_path: Path, token: str) -> list[int]:
    records = Records.from_url(f"sqlite:///{db_path}")
    try:
        with records.engine.connect() as conn:
            qid = conn.execute(
                sa.select(QuizPost.question_id).where(QuizPost.token == token)
            ).scalar_one()
        return sorted(get_question(records, qid).correct)
    finally:
        records.close()


def invoke_json(runner: CliRunner, args: list[str]) -> dict:
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_quiz_json_question_then_answer_json(runner, db_path):
    q = invoke_json(runner, ["quiz", "--json"])
    assert set(q) == QUESTION_KEYS
    assert isinstance(q["id"], str) and len(q["id"]) == 16
    assert q["choose"] in (1, 2) and len(q["options"]) == (4 if q["choose"] == 1 else 5)
    assert all(isinstance(o, str) and o for o in q["options"])
    assert q["domain"] in (1, 2, 3, 4) and q["objective"].startswith(f"{q['domain']}.")
    assert q["source"].endswith(".md") and "?" in q["stem"]
    right = correct_of(db_path, q["id"])
    g = invoke_json(runner, ["quiz", "--answer", q["id"], ",".join(map(str, right)), "--json"])
    assert set(g) == GRADE_KEYS
    assert g == {**g, "correct": True, "answer": right, "source": q["source"]}
    assert g["explanation"]
    # answering again gives the first verdict, whatever the second choice
    wrong = [i for i in range(len(q["options"])) if i not in right][: q["choose"]]
    again = invoke_json(runner, ["quiz", "--answer", q["id"], ",".join(map(str, wrong)), "--json"])
    assert again["correct"] is True


def test_quiz_wrong_answer_and_domain_filter(runner, db_path):
    q = invoke_json(runner, ["quiz", "--domain", "3", "--json"])
    assert q["domain"] == 3
    right = correct_of(db_path, q["id"])
    wrong = [i for i in range(len(q["options"])) if i not in right][: q["choose"]]
    g = invoke_json(runner, ["quiz", "--answer", q["id"], ",".join(map(str, wrong)), "--json"])
    assert g["correct"] is False and g["answer"] == right
    assert invoke_json(runner, ["quiz", "--domain", "data engineering", "--json"])["domain"] == 1


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["quiz", "--answer", "NoSuchToken12345", "0"], "can't find that question"),
        (["quiz", "--answer", "bad token!", "0"], "can't find that question"),
        (["quiz", "--answer", "NoSuchToken12345", "a"], "comma-separated 0-based"),
        (["quiz", "--domain", "astrology"], "no domain 'astrology'"),
        (["quiz", "--count", "3"], "--count goes with --generate"),
    ],
)
def test_quiz_errors_are_one_clear_line(runner, args, needle):
    out = runner.invoke(app, args)
    assert out.exit_code == 1
    lines = [line for line in out.output.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], out.output


def test_quiz_invalid_choices_for_a_real_question(runner):
    q = invoke_json(runner, ["quiz", "--json"])
    for bad in ["9", "0,0", "0,1,2"]:
        out = runner.invoke(app, ["quiz", "--answer", q["id"], bad, "--json"])
        assert out.exit_code == 1 and "Pick " in out.output and out.stdout == ""


def test_quiz_with_an_empty_store_says_to_ingest(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDYBOT_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        for args in (["quiz", "--json"], ["quiz", "--generate"]):
            out = CliRunner().invoke(app, args)
            assert out.exit_code == 1 and "studybot ingest" in out.output
            assert len(out.output.strip().splitlines()) == 1
    finally:
        get_settings.cache_clear()


def test_quiz_rendered_for_humans_with_the_answer_hint(runner, db_path):
    out = runner.invoke(app, ["quiz"], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "0. " in out.output and "3. " in out.output
    assert "studybot quiz --answer " in out.output
    token = out.output.split("studybot quiz --answer ")[1].split()[0]
    right = correct_of(db_path, token)
    graded = runner.invoke(
        app, ["quiz", "--answer", token, ",".join(map(str, right))], env={"COLUMNS": "200"}
    )
    assert graded.exit_code == 0 and "Correct" in graded.output and "Source:" in graded.output


def test_quiz_generate_prints_the_stats(runner):
    out = runner.invoke(app, ["quiz", "--generate", "--domain", "2", "--count", "5"])
    assert out.exit_code == 0, out.output
    assert "Question bank fill" in out.output and "bank size" in out.output
    stats = invoke_json(runner, ["quiz", "--generate", "--count", "5", "--json"])
    assert stats["valid"] <= 5 and stats["bank_size"] >= 100
    assert {"attempted", "inserted", "in_bank", "rejected", "per_objective"} <= set(stats)


def test_parse_choices():
    assert parse_choices("1", one_based=True) == [0]
    assert parse_choices(" 1, 3 ", one_based=True) == [0, 2]
    assert parse_choices("0,2", one_based=False) == [0, 2]
    for bad in ["", "a", "0", "-1", "1.5"]:
        with pytest.raises(ValueError):
            parse_choices(bad, one_based=True)


# --------------------------------------------------------------------------- shell


class Answering:
    """Shell input: scripted lines, and the right (or a wrong) answer whenever it is asked."""

    def __init__(self, service: StudyService, lines: list[str], wrong_every: int = 0) -> None:
        self.service = service
        self.lines = iter(lines)
        self.answers = 0
        self.wrong_every = wrong_every

    def __call__(self, prompt: str) -> str:
        if not prompt.startswith("answer"):
            return next(self.lines)
        with self.service.records.engine.connect() as conn:
            token = conn.execute(
                sa.select(QuizPost.token).order_by(QuizPost.id.desc()).limit(1)
            ).scalar_one()
        shown = self.service.quiz.shown(token).question
        right = sorted(get_question(self.service.records, shown.question_id).correct)
        self.answers += 1
        if self.wrong_every and self.answers % self.wrong_every == 0:
            picks = [i for i in range(len(shown.options)) if i not in right][: shown.choose]
        else:
            picks = right
        return ",".join(str(i + 1) for i in picks)


def test_shell_quiz_and_exam(notes_settings, db_path):
    settings = notes_settings.model_copy(update={"database_url_env": f"sqlite:///{db_path}"})
    service = StudyService(settings)
    read = Answering(service, ["/quiz modeling", "/exam 4", "/quiz astrology", "/quit"], 4)
    console = Console(record=True, width=160)
    run_shell(service, console, read=read)
    text = console.export_text()
    assert "Domain 3 · Modeling" in text and "✔ Correct" in text
    assert "Mock exam · question 4 of 4" in text
    assert "Mock exam: 3/4 right, scaled score 775 (passing 750): PASS" in text
    assert "Per domain" in text and "no domain 'astrology'" in text
    assert read.answers == 5


def test_shell_quiz_skips_on_enter_and_rereads_bad_input(notes_settings, db_path):
    settings = notes_settings.model_copy(update={"database_url_env": f"sqlite:///{db_path}"})
    service = StudyService(settings)
    lines = iter(["/quiz", "", "/quiz", "x", "9", "ANSWER", "/quit"])

    def read(prompt: str) -> str:
        line = next(lines, "/quit")
        if line == "ANSWER":  # a valid pick: one option, or two when it says "choose 2"
            return "1,2" if "choose 2" in prompt else "1"
        return line

    console = Console(record=True, width=160)
    run_shell(service, console, read=read)
    text = console.export_text()
    assert "Type the number of your answer" in text and "Pick " in text
    assert text.count("Question") >= 2 and (("Correct" in text) or ("Not quite" in text))


# --------------------------------------------------------------------------- demo


def test_demo_ends_with_a_graded_quiz_question(notes_settings, tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(notes_settings.data_dir, data, ignore=shutil.ignore_patterns("studybot.db*"))
    monkeypatch.setenv("STUDYBOT_DATA_DIR", str(data))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(app, ["demo"], env={"COLUMNS": "160"})
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    tail = out.output.split("4. A quiz question")[1]
    assert "questions in the bank" in tail and "answer:" in tail and "✔ Correct" in tail


def test_an_empty_bank_is_filled_on_demand_from_the_store(notes_settings, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    service = StudyService(notes_settings.model_copy(update={"database_url_env": url}))
    shown = service.next_question("U1", "C1", domain=4)
    assert shown.question.domain.id == 4 and shown.question.source.endswith(".md")
    assert service.fill_bank().inserted < service.fill_bank().bank_size  # already filled
    grade = service.answer_question(shown.token, "U1", list(range(shown.question.choose)))
    assert grade.domain.id == 4 and grade.explanation
    service.records.close()


def test_demo_for_mla_c01_tags_answers_and_the_quiz_with_mla_domains(tmp_path, monkeypatch):
    import bot.cli

    mla_notes = str(REPO / "knowledge" / "notes" / "mla-c01")
    monkeypatch.setattr(bot.cli, "default_corpus", lambda: [mla_notes])  # the short tour
    monkeypatch.setenv("STUDYBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STUDYBOT_BLUEPRINT", "mla-c01")
    monkeypatch.setenv("STUDYBOT_EMBEDDING_DTYPE", "fp32")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(app, ["demo"], env={"COLUMNS": "200"})
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    assert "Machine Learning Engineer - Associate (MLA-C01)" in out.output
    answers, quiz = out.output.split("3. Answers")[1].split("4. A quiz question")
    mla = [d.name for d in load_blueprint("mla-c01").domains]
    mls = [d.name for d in load_blueprint("mls-c01").domains]
    assert any(name in answers for name in mla)
    assert not any(f"· {name} ·" in answers + quiz for name in mls)
    assert any(name in quiz for name in mla) and "✔ Correct" in quiz
