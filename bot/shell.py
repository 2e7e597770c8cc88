"""The terminal front end: `studybot shell` and `studybot ask`, thin over StudyService."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel

from bot.service import EmptyQuestion, StudyService
from knowledge.types import Answer

HELP = """Type a question and press Enter. Follow-up questions keep the conversation's context.
Commands: /new (start a new conversation), /help, /quit"""

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
        if line == "/new":
            thread = f"shell-{uuid.uuid4().hex[:12]}"
            console.print("[dim]New conversation.[/dim]")
            continue
        if line.startswith("/"):
            console.print(f"Unknown command {line.split()[0]}. {HELP}")
            continue
        try:
            answer = service.ask(line, user, "terminal", thread)
        except EmptyQuestion as exc:
            console.print(str(exc))
            continue
        except Exception as exc:  # noqa: BLE001 - the shell reports and carries on
            console.print(f"[red]{_one_line(exc)}[/red]")
            continue
        render_answer(console, answer)
        try:
            service.record_ask(line, answer, user, "terminal", thread)
        except Exception as exc:  # noqa: BLE001 - follow-ups degrade, the answer stands
            console.print(f"[yellow]Not saved to study records: {_one_line(exc)}[/yellow]")


def _one_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
