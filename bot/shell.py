"""The terminal front end: `studybot shell`, `studybot ask` and `studybot quiz`, thin over
StudyService."""

from __future__ import annotations

import re
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


_PAIR = re.compile(r"^([A-Za-z])(\d{1,2})$")


def parse_sequence(text: str, fmt: str, n: int) -> list[int]:
    """An ordering answer "3 1 4 2" (the step numbers, first to last) or a matching answer
    "A2 B1 C3" / "2 1 3" (a description number per term) -> 0-based sequence. Gaps and repeats
    are left for the service to refuse (it says what is missing)."""
    parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
    if len(parts) == 1 and parts[0].isdigit() and len(parts[0]) == n:
        parts = list(parts[0])  # "3142"
    if parts and all(p.isdigit() for p in parts):
        return [int(p) - 1 for p in parts]
    pairs = [_PAIR.match(p) for p in parts]
    if fmt == "matching" and parts and all(pairs):
        by_term: dict[int, int] = {}
        for m in pairs:
            if m is not None:
                by_term[ord(m.group(1).upper()) - ord("A")] = int(m.group(2)) - 1
        return [by_term.get(k, -1) for k in range(max(n, max(by_term) + 1))]
    if fmt == "ordering":
        raise ValueError(f"Type the step numbers in order, e.g. {' '.join(_example(n))}.")
    raise ValueError(
        f"Type a description number for each term, e.g. {_pairs_example(n)} or "
        f"{' '.join(_example(n))}."
    )


def _example(n: int) -> list[str]:
    return [str(k) for k in [*range(2, n + 1), 1]]


def _pairs_example(n: int) -> str:
    return " ".join(f"{chr(ord('A') + k)}{d}" for k, d in enumerate(_example(n)))


def answer_shaped(text: str) -> bool:
    """Whether a typed answer has the shape of one ("0,2", "3 1 4 2", "A2 B1 C3")."""
    parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
    return bool(parts) and all(p.isdigit() or _PAIR.match(p) for p in parts)


def answer_example(shown: ShownQuestion, *, one_based: bool) -> str:
    """How to type an answer to this question (for hints)."""
    q = shown.question
    if q.format == "ordering":
        return " ".join(_example(q.choose))
    if q.format == "matching":
        return _pairs_example(q.choose)
    first = 1 if one_based else 0
    return ",".join(str(i + first) for i in range(q.choose))


def read_answer(shown: ShownQuestion, text: str, *, one_based: bool) -> list[int]:
    """A typed answer to ``shown`` as the service takes it (ValueError with a hint)."""
    q = shown.question
    if q.arranged:
        return parse_sequence(text, q.format, q.choose)
    return parse_choices(text, one_based=one_based)


def typed_answer(service: StudyService, token: str, raw: str) -> list[int]:
    """`studybot quiz --answer ID CHOICES`: CHOICES for question ``token`` (0-based option
    numbers, or an ordering/matching sequence as typed in the shell). A malformed CHOICES is
    said (ValueError) before the question is looked up (QuizError when it is unknown)."""
    if not answer_shaped(raw):
        parse_choices(raw, one_based=False)
    return read_answer(service.shown_question(token), raw, one_based=False)


def question_json(shown: ShownQuestion) -> dict:
    """The `studybot quiz --json` shape (ordering/matching: with its items and targets)."""
    q = shown.question
    out = {
        "id": shown.token,
        "stem": q.stem,
        "options": list(q.options),
        "choose": q.choose,
        "domain": q.domain.id,
        "objective": q.domain.objective,
        "source": q.source,
    }
    if q.arranged:
        out["format"] = q.format
        out["items"] = q.items
        out["targets"] = q.targets
        out["answer_example"] = answer_example(shown, one_based=True)
    return out


def grade_json(grade: Grade) -> dict:
    """The `studybot quiz --answer ID CHOICES --json` shape."""
    out = {
        "correct": grade.correct,
        "answer": list(grade.answer),
        "explanation": grade.explanation,
        "source": grade.source,
    }
    if grade.answer_lines:
        out["format"] = grade.format
        out["chosen"] = list(grade.chosen)
        out["answer_lines"] = list(grade.answer_lines)
    return out


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
    if q.arranged:
        _arranged_body(body, shown)
    else:
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


def _arranged_body(body: Text, shown: ShownQuestion) -> None:
    """Ordering: the steps numbered from 1. Matching: terms lettered, descriptions numbered."""
    q = shown.question
    if q.format == "ordering":
        body.append("  (put the steps in order)\n", style="bold")
        for i, step in enumerate(q.items):
            body.append(f"\n{i + 1}. ", style="bold cyan")
            body.append(step)
        return
    body.append("  (match each term to a description)\n", style="bold")
    for k, term in enumerate(q.items):
        body.append(f"\n{chr(ord('A') + k)}. ", style="bold cyan")
        body.append(term)
    body.append("\n")
    for i, target in enumerate(q.targets):
        body.append(f"\n{i + 1}. ", style="bold cyan")
        body.append(target)


def render_grade(
    console: Console, grade: Grade, shown: ShownQuestion | None = None, *, base: int = 1
) -> None:
    """Right or wrong, the answer, the explanation, the source, domain and streak."""
    verdict = Text("✔ Correct" if grade.correct else "✘ Not quite", style="bold")
    verdict.stylize("green" if grade.correct else "red")
    if grade.already_answered:
        verdict.append("  (you had answered this already; this is your first answer)", "dim")
    console.print(verdict)
    if grade.answer_lines:
        console.print(Text("Answer: " + _typed(grade.format, grade.answer)))
        for line in grade.answer_lines:
            console.print(Text(f"  {line}"))
    else:
        _answer_line(console, grade, shown, base)
    console.print(Text(grade.explanation))
    console.print(Text(f"Source: {grade.title}  {grade.source}", style="blue"))
    tail = Text(grade.domain.label, style="magenta")
    if grade.streak:
        tail.append(f"   streak {grade.streak}", style="bold yellow")
    console.print(tail)
    if grade.exam_result is not None:
        render_exam_result(console, grade.exam_result)


def _typed(fmt: str, sequence: list[int]) -> str:
    """A sequence as it is typed: "3 1 2" (ordering), "A3 B1 C2" (matching)."""
    if fmt == "ordering":
        return " ".join(str(i + 1) for i in sequence)
    return " ".join(f"{chr(ord('A') + k)}{i + 1}" for k, i in enumerate(sequence))


def _answer_line(console: Console, grade: Grade, shown: ShownQuestion | None, base: int) -> None:
    numbers = ", ".join(str(i + base) for i in grade.answer)
    answer = Text(f"Answer: {numbers}")
    if shown is not None:
        texts = [shown.question.options[i] for i in grade.answer if i < len(shown.question.options)]
        answer.append(f"  {' · '.join(texts)}")
    console.print(answer)


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
    if shown.question.arranged:
        prompt = f"answer, e.g. {answer_example(shown, one_based=True)}"
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
            return service.answer_question(
                shown.token, user, read_answer(shown, line, one_based=True)
            )
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
