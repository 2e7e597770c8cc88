"""The `studybot` command line (typer): ingest, search, eval, and the front ends."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from knowledge.settings import Settings, get_settings

app = typer.Typer(
    help="studybot: a study assistant for certification study groups.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err = Console(stderr=True)

NOTES_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "notes"


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def _settings() -> Settings:
    try:
        return get_settings()
    except Exception as exc:  # pydantic ValidationError
        _fail(f"invalid configuration: {exc}")
        raise


def default_corpus() -> list[str]:
    """The starter notes shipped with the package (one file per exam objective)."""
    from importlib import resources

    return [str(resources.files("knowledge") / "notes")]


@app.command()
def ingest(
    sources: Annotated[list[str] | None, typer.Argument(help="Files, folders or URLs.")] = None,
    follow_links: Annotated[bool, typer.Option(help="Follow links; crawl doc pages.")] = False,
    mirror: Annotated[list[str] | None, typer.Option(help="URL_PREFIX=DIR local copy.")] = None,
    prune: Annotated[bool, typer.Option(help="Remove sources no longer given.")] = False,
    strict: Annotated[bool, typer.Option(help="Exit 1 on any failure.")] = False,
    rebuild: Annotated[bool, typer.Option(help="Drop the store and ingest from scratch.")] = False,
    max_pages: Annotated[int | None, typer.Option(help="Cap on pages in this run.")] = None,
    max_depth: Annotated[int | None, typer.Option(help="Crawl depth below a linked page.")] = None,
) -> None:
    """Chunk, embed and tag SOURCES into the store (default: the bundled study notes)."""
    from ingest.job import build_pipeline
    from ingest.pipeline import IngestOptions
    from ingest.sources import Mirror
    from knowledge.embeddings import EmbeddingError
    from knowledge.store import StoreError

    settings = _settings()
    try:
        mirrors = [Mirror.parse(m) for m in mirror or []]
    except ValueError as exc:
        _fail(str(exc))
    options = IngestOptions(
        follow_links=follow_links,
        prune=prune,
        max_depth=max_depth if max_depth is not None else settings.crawl_max_depth,
        max_pages=max_pages if max_pages is not None else settings.crawl_max_pages,
    )
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    task = progress.add_task("", total=0)

    def on_event(event: str, detail: str) -> None:
        if event == "planned":
            progress.update(task, total=(progress.tasks[0].total or 0) + 1)
        elif event in {"done", "failed"}:
            progress.update(task, advance=1, description=detail[-60:])

    try:
        pipeline = build_pipeline(settings, mirrors, on_event, rebuild=rebuild)
        with progress:
            summary = pipeline.run(sources or default_corpus(), options)
    except (StoreError, EmbeddingError) as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted: what was written is kept, and the next run completes the store.", 130)
    table = Table(title="Ingest summary", show_header=False)
    for label, value in [
        ("sources given", summary.sources),
        ("pages read", summary.pages),
        ("chunks new", summary.chunks_new),
        ("chunks changed", summary.chunks_changed),
        ("chunks unchanged", summary.chunks_unchanged),
        ("chunks removed", summary.chunks_removed),
        ("failures", len(summary.failures)),
        ("left unread (page cap)", summary.capped),
        ("seconds", f"{summary.seconds:.1f}"),
        ("chunks/s", f"{summary.chunks_per_second:.1f}"),
    ]:
        table.add_row(label, str(value))
    console.print(table)
    if summary.failures:
        failures = Table(title="Failures", show_lines=False)
        failures.add_column("source", overflow="fold")
        failures.add_column("reason")
        for location, reason in summary.failures[:200]:
            failures.add_row(location, reason)
        if len(summary.failures) > 200:
            failures.add_row("…", f"{len(summary.failures) - 200} more")
        console.print(failures)
    code = summary.exit_code(strict)
    if summary.pages == 0:
        err.print("[red]nothing was ingested[/red]")
    raise typer.Exit(code)


def _retriever():
    from knowledge.retrieve import Retriever

    return Retriever.from_settings(_settings())


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="What to look for.")],
    domain: Annotated[int | None, typer.Option(help="Only this exam domain (1-4).")] = None,
    k: Annotated[int, typer.Option("-k", help="How many hits.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show what a question retrieves from the store."""
    from knowledge.store import StoreError

    try:
        retriever = _retriever()
        if not retriever.store.exists():
            _fail("the store is empty: run `studybot ingest` first.")
        hits = retriever.search(text, k=k, domain=domain)
    except StoreError as exc:
        _fail(str(exc))
    if as_json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False))
        return
    if not hits:
        console.print("No passages found.")
    for n, hit in enumerate(hits, start=1):
        console.print(
            f"[bold]{n}. {hit.title_path or hit.title}[/bold]  "
            f"[dim]D{hit.domain} · {hit.objective} · score {hit.score:.4f}"
            f" · cos {hit.dense_score if hit.dense_score is not None else float('nan'):.3f}[/dim]"
        )
        console.print(f"   [cyan]{hit.source}[/cyan]")
        snippet = " ".join(hit.text.split())
        console.print(f"   {snippet[:300]}{'…' if len(snippet) > 300 else ''}")


@app.command("eval")
def eval_(
    file: Annotated[Path, typer.Argument(help="JSONL: id, q, domains, hits.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Retrieval quality on a question set: hit@1, hit@5, MRR, domain accuracy."""
    from knowledge.answer import domain_tags
    from knowledge.blueprint import load_blueprint
    from knowledge.evaluate import evaluate, load_eval
    from knowledge.store import StoreError

    try:
        items = load_eval(file)
    except (OSError, ValueError) as exc:
        _fail(str(exc))
    settings = _settings()
    blueprint = load_blueprint(settings.blueprint)

    def primary(question: str, hits) -> int | None:
        tags = domain_tags(hits, blueprint)
        return tags[0].id if tags else None

    try:
        retriever = _retriever()
        result = evaluate(items, lambda q: retriever.search(q, k=5), primary)
    except StoreError as exc:
        _fail(str(exc))
    if as_json:
        print(json.dumps(result.to_dict()))
        return
    table = Table(title=f"Retrieval eval ({result.n} questions)", show_header=False)
    for key, value in result.to_dict().items():
        table.add_row(key, str(value))
    console.print(table)


def _service():
    from bot.service import StudyService

    return StudyService(_settings())


def _ensure_store(service) -> None:
    if not service.retriever.store.exists():
        _fail("the store is empty: run `studybot ingest` first (or `make demo`).")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Answer one question from the study material."""
    from bot.records import RecordsUnavailable
    from bot.service import EmptyQuestion
    from bot.shell import answer_json, render_answer
    from knowledge.store import StoreError

    service = _service()
    try:
        _ensure_store(service)
        answer = service.ask(question, "cli", "cli")
    except (EmptyQuestion, StoreError, RecordsUnavailable) as exc:
        _fail(str(exc))
    if as_json:
        print(json.dumps(answer_json(answer), ensure_ascii=False))
    else:
        render_answer(console, answer)


@app.command()
def shell() -> None:
    """An interactive study conversation in the terminal."""
    from bot.shell import run_shell
    from knowledge.store import StoreError

    service = _service()
    try:
        _ensure_store(service)
    except StoreError as exc:
        _fail(str(exc))
    run_shell(service, console)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="HTTP mode: address to listen on.")] = "0.0.0.0",
) -> None:
    """Run the Slack app: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on STUDYBOT_PORT."""
    import logging

    from bot.records import Records, RecordsUnavailable
    from bot.service import StudyService
    from bot.slack.app import ConfigError
    from bot.slack.runner import serve as run
    from knowledge.store import StoreError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = _settings()
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        records = Records.from_url(settings.database_url)
        service = StudyService(settings, records=records)
        if not service.retriever.store.exists():
            err.print("[yellow]warning:[/yellow] the store is empty; run `studybot ingest`.")
        run(settings, service, records, host=host)
    except (ConfigError, RecordsUnavailable, StoreError, ValueError) as exc:
        _fail(str(exc))


DEMO_SEARCHES = [
    "How does Kinesis Data Firehose deliver streaming data to S3?",
    "Which metric should I use for an imbalanced classification problem?",
]
DEMO_QUESTIONS = [
    "Which service turns text into lifelike speech?",
    "How does automatic model tuning choose the next hyperparameters?",
    "What is the best recipe for sourdough bread?",
]


@app.command()
def demo() -> None:
    """Offline tour: ingest the starter notes, then search, answer and quiz."""
    from bot.shell import render_answer

    settings = _settings()
    console.rule("[bold]1. Ingest the bundled study notes")
    try:
        ingest(
            sources=None,
            follow_links=False,
            mirror=None,
            prune=False,
            strict=True,
            rebuild=False,
            max_pages=None,
            max_depth=None,
        )
    except typer.Exit as done:
        if done.exit_code:
            raise
    retriever = _retriever()
    console.rule("[bold]2. Search")
    for text in DEMO_SEARCHES:
        console.print(f"[bold]search:[/bold] {text}")
        for n, hit in enumerate(retriever.search(text, k=3), start=1):
            console.print(
                f"  {n}. {hit.title_path}  [dim]D{hit.domain} · {hit.objective}"
                f" · {hit.score:.4f}[/dim]"
            )
    console.rule("[bold]3. Answers (offline, extractive)")
    from bot.service import StudyService

    service = StudyService(settings, retriever=retriever)
    for text in DEMO_QUESTIONS:
        console.print(f"[bold]ask:[/bold] {text}")
        render_answer(console, service.ask(text, "demo", "demo"))


def main() -> None:  # pragma: no cover - console entry
    app(sys.argv[1:])
