"""The terminal front end: `studybot shell`, `studybot ask` and `studybot quiz`, thin over
StudyService."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.quiz_service import ExamResult, Grade, QuizError, ShownQuestion
from bot.service import EmptyQuestion, StudyService
from knowledge.types import Answer

if TYPE_CHECKING:
    from bot.quiz_bank import FillStats

HELP = """Type a question and press Enter. Follow-up questions keep the conversation's context.
Commands: /quiz [domain] (a practice question), /exam [N] (a mock exam of N questions),
/new (start a new conversation), /help, /quit"""

TERMINAL = "terminal"  # the user and channel the terminal acts as
ANSWER_HINT_CLI = "studybot quiz --answer {token} {example}"

MODE_LABEL = {"llm": "answer", "extractive": "extracted", "not_covered": "not covered"}


def answer_json(answer: Answer) -> dict:
    """The `studybot ask --json` shape."""
    return {
        "answer": answer.text,
        "mode": answer.mode,
        "domains": [{"id": d.id, "name": d.name, "objective": d.objective} for d in answer.domains],
        "sources": [
            {"title": c.title, "source": c.source, "score": round(c.score, 6)}
            for c in answer.citations
        ],
    }


def render_answer(console: Console, answer: Answer) -> None:
    """An answer as a panel, then its domain tag, citations and any note."""
    console.print(
        Panel(
            Markdown(answer.text),
            title=MODE_LABEL.get(answer.mode, answer.mode),
            title_align="left",
            border_style="cyan" if answer.mode != "not_covered" else "yellow",
        )
    )
    if answer.domains:
        console.print(f"[bold magenta]{answer.domains[0].label}[/bold magenta]")
    for c in answer.citations:
        console.print(f"  [dim][{c.number}][/dim] {c.title}  [blue]{c.url or c.source}[/blue]")
    if answer.note:
        console.print(f"[yellow]{answer.note}[/yellow]")


def run_shell(
    service: StudyService,
    console: Console,
    read: Callable[[str], str] = input,
    user: str = "terminal",
) -> None:
    """The read-answer loop; ends on /quit, EOF or Ctrl-C."""
    console.print(Panel(HELP, title="studybot shell", title_align="left"))
    thread = f"shell-{uuid.uuid4().hex[:12]}"
    while True:
        try:
            line = read("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not line:
            continue
        if line in {"/quit", "/exit", "/q"}:
            return
        if line in {"/help", "/?"}:
            console.print(HELP)
            continue
        command, _, arg = line.partition(" ")
        if command == "/quiz":
            shell_quiz(service, console, read, user, arg.strip())
            continue
        if command == "/exam":
            shell_exam(service, console, read, user, arg.strip())
            continue
        if line == "/new":
            thread = f"shell-{uuid.uuid4().hex[:12]}"
            console.print("[dim]New conversation.[/dim]")
            continue
        if line.startswith("/"):
            console.print(f"Unknown command {line.split()[0]}. {HELP}")
            continue
        try:
            asked = service.ask_and_record(line, user, TERMINAL, thread)
        except EmptyQuestion as exc:
            console.print(str(exc))
            continue
        except Exception as exc:  # noqa: BLE001 - the shell reports and carries on
            console.print(f"[red]{_one_line(exc)}[/red]")
            continue
        render_answer(console, asked.answer)
        if asked.not_recorded:  # follow-ups degrade, the answer stands
            console.print(f"[yellow]Not saved to study records: {asked.not_recorded}[/yellow]")


def _one_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# --------------------------------------------------------------------------- quiz


def parse_choices(text: str, *, one_based: bool) -> list[int]:
    """Option numbers typed as "1" or "1,3" (1-based) or "0,2" (0-based) -> 0-based indices."""
    parts = [p for p in text.replace(" ", ",").split(",") if p]
    if not parts or not all(p.isdigit() for p in parts) or (one_based and "0" in parts):
        if one_based:
            raise ValueError("Type the number of your answer, e.g. 2, or 1,3 when it asks for two.")
        raise ValueError("CHOICES must be comma-separated 0-based option numbers, e.g. 0 or 0,2.")
    return [int(p) - (1 if one_based else 0) for p in parts]


def question_json(shown: ShownQuestion) -> dict:
    """The `studybot quiz --json` shape."""
    q = shown.question
    return {
        "id": shown.token,
        "stem": q.stem,
        "options": list(q.options),
        "choose": q.choose,
        "domain": q.domain.id,
        "objective": q.domain.objective,
        "source": q.source,
    }


def grade_json(grade: Grade) -> dict:
    """The `studybot quiz --answer ID CHOICES --json` shape."""
    return {
        "correct": grade.correct,
        "answer": list(grade.answer),
        "explanation": grade.explanation,
        "source": grade.source,
    }


def render_question(
    console: Console, shown: ShownQuestion, *, base: int = 1, hint: str | None = None
) -> None:
    """A question as a panel: stem, numbered options (from ``base``), domain; then ``hint``."""
    q = shown.question
    if shown.exam:
        title = f"Mock exam · question {shown.exam.position} of {shown.exam.total}"
    else:
        title = "Review" if shown.review else "Question"
    body = Text(q.stem)
    if q.choose > 1:
        body.append(f"  (choose {q.choose})", style="bold")
    body.append("\n")
    for i, option in enumerate(q.options):
        body.append(f"\n{i + base}. ", style="bold cyan")
        body.append(option)
    console.print(Panel(body, title=title, title_align="left", border_style="cyan"))
    console.print(Text(q.domain.label, style="magenta"))
    if hint:
        console.print(Text(hint, style="dim"))


def render_grade(
    console: Console, grade: Grade, shown: ShownQuestion | None = None, *, base: int = 1
) -> None:
    """Right or wrong, the answer, the explanation, the source, domain and streak."""
    verdict = Text("✔ Correct" if grade.correct else "✘ Not quite", style="bold")
    verdict.stylize("green" if grade.correct else "red")
    if grade.already_answered:
        verdict.append("  (you had answered this already; this is your first answer)", "dim")
    console.print(verdict)
    numbers = ", ".join(str(i + base) for i in grade.answer)
    answer = Text(f"Answer: {numbers}")
    if shown is not None:
        texts = [shown.question.options[i] for i in grade.answer if i < len(shown.question.options)]
        answer.append(f"  {' · '.join(texts)}")
    console.print(answer)
    console.print(Text(grade.explanation))
    console.print(Text(f"Source: {grade.title}  {grade.source}", style="blue"))
    tail = Text(grade.domain.label, style="magenta")
    if grade.streak:
        tail.append(f"   streak {grade.streak}", style="bold yellow")
    console.print(tail)
    if grade.exam_result is not None:
        render_exam_result(console, grade.exam_result)


def render_exam_result(console: Console, result: ExamResult) -> None:
    """The scaled score, the passing line, and accuracy per domain."""
    verdict = "PASS" if result.passed else "below the passing line"
    console.print(
        Text(
            f"Mock exam: {result.correct}/{result.answered} right, scaled score "
            f"{result.scaled_score} (passing {result.passing_score}): {verdict}",
            style="bold green" if result.passed else "bold red",
        )
    )
    table = Table(title="Per domain")
    table.add_column("domain", justify="right")
    table.add_column("right", justify="right")
    table.add_column("of", justify="right")
    table.add_column("%", justify="right")
    for domain, (right, total) in result.per_domain.items():
        table.add_row(str(domain), str(right), str(total), f"{right / total:.0%}" if total else "-")
    console.print(table)


def render_fill_stats(console: Console, stats: FillStats) -> None:
    """`studybot quiz --generate`: what was generated, kept, stored and rejected."""
    data = stats.to_dict()
    table = Table(title="Question bank fill", show_header=False)
    for label, key in [
        ("candidates tried", "attempted"),
        ("valid", "valid"),
        ("valid share", "valid_share"),
        ("new in the bank", "inserted"),
        ("already in the bank", "in_bank"),
        ("bank size", "bank_size"),
        ("model calls", "llm_calls"),
        ("seconds", "seconds"),
    ]:
        table.add_row(label, str(data.get(key, "")))
    console.print(table)
    for title, key in [("Rejected", "rejected"), ("Per objective", "per_objective")]:
        if data.get(key):
            sub = Table(title=title, show_header=False)
            for name, n in data[key].items():
                sub.add_row(str(name), str(n))
            console.print(sub)


def _answer_loop(
    service: StudyService,
    console: Console,
    read: Callable[[str], str],
    user: str,
    shown: ShownQuestion,
    *,
    allow_skip: bool,
) -> Grade | None:
    """Read an answer ("1" or "1,3") until the service grades it; None when skipped or ended."""
    n = len(shown.question.options)
    prompt = f"answer 1-{n}" + (
        f", choose {shown.question.choose}" if shown.question.choose > 1 else ""
    )
    prompt += " (Enter to skip)> " if allow_skip else " (/stop ends the exam)> "
    while True:
        try:
            line = read(prompt).strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return None
        if line in {"/stop", "/quit", "/q", "/skip"} or (allow_skip and not line):
            return None
        if not line:
            continue
        try:
            return service.answer_question(shown.token, user, parse_choices(line, one_based=True))
        except ValueError as exc:
            console.print(str(exc))
        except QuizError as exc:
            console.print(Text(str(exc), style="yellow"))
            if exc.code != "invalid_choice":
                return None


def shell_quiz(
    service: StudyService, console: Console, read: Callable[[str], str], user: str, arg: str
) -> None:
    """`/quiz [domain]`: one question, its answer read from the terminal, then the grade."""
    try:
        shown = service.next_question(user, TERMINAL, arg or None)
    except QuizError as exc:
        console.print(Text(str(exc), style="yellow"))
        return
    except Exception as exc:  # noqa: BLE001 - the shell reports and carries on
        console.print(Text(_one_line(exc), style="red"))
        return
    render_question(console, shown)
    grade = _answer_loop(service, console, read, user, shown, allow_skip=True)
    if grade is not None:
        render_grade(console, grade, shown)


def shell_exam(
    service: StudyService, console: Console, read: Callable[[str], str], user: str, arg: str
) -> None:
    """`/exam [N]`: a mock exam, one question at a time, then the scaled score."""
    if arg and not arg.isdigit():
        console.print("Usage: /exam [N] (a mock exam of N questions, default 15)")
        return
    try:
        shown: ShownQuestion | None = service.start_exam(user, TERMINAL, int(arg) if arg else 15)
    except QuizError as exc:
        console.print(Text(str(exc), style="yellow"))
        return
    except Exception as exc:  # noqa: BLE001 - the shell reports and carries on
        console.print(Text(_one_line(exc), style="red"))
        return
    while shown is not None:
        render_question(console, shown)
        grade = _answer_loop(service, console, read, user, shown, allow_skip=False)
        if grade is None:
            console.print("[dim]Exam stopped.[/dim]")
            return
        render_grade(console, grade, shown)
        shown = grade.next
