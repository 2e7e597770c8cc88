"""The `studybot` command line (typer): ingest, search, eval, and the front ends."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from knowledge.settings import Settings, get_settings

if TYPE_CHECKING:
    from bot.service import StudyService

app = typer.Typer(
    help="studybot: a study assistant for certification study groups.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 1) -> None:
    from rich.markup import escape

    # one line, however long; the message is text, never markup
    err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


ExamOption = Annotated[
    str | None,
    typer.Option(
        "--exam", help="The exam: a blueprint id such as mla-c01 (default: STUDYBOT_BLUEPRINT)."
    ),
]


def _settings(exam: str | None = None) -> Settings:
    """The settings; `exam` (a blueprint id or file) replaces STUDYBOT_BLUEPRINT."""
    try:
        settings = get_settings()
    except Exception as exc:  # pydantic ValidationError
        _fail(f"invalid configuration: {exc}")
        raise
    if exam:
        from knowledge.blueprint import BlueprintError, load_blueprint

        try:
            load_blueprint(exam)
        except BlueprintError as exc:
            _fail(str(exc))
        settings = settings.model_copy(update={"blueprint": exam})
    return settings


def default_corpus() -> list[str]:
    """The starter notes shipped with the package: a folder per exam (`notes/mla-c01/`), one
    file per exam objective; every chunk is tagged for every installed exam."""
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
    progress, on_event = _ingest_progress()
    try:
        pipeline = build_pipeline(settings, mirrors, on_event, rebuild=rebuild)
        with progress:
            summary = pipeline.run(sources or default_corpus(), options)
    except (StoreError, EmbeddingError) as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted: what was written is kept, and the next run completes the store.", 130)
    _print_ingest_summary(summary)
    code = summary.exit_code(strict)
    if summary.pages == 0:
        err.print("[red]nothing was ingested[/red]")
    raise typer.Exit(code)


@app.command()
def retag(
    blueprint: Annotated[
        str | None, typer.Option(help="Only this blueprint (default: every installed one).")
    ] = None,
) -> None:
    """Re-tag the store for the installed exams from stored texts and vectors (no re-embedding)."""
    from ingest.retag import retag as run_retag
    from knowledge.blueprint import BlueprintError, installed_blueprints, load_blueprint
    from knowledge.embeddings import EmbeddingError, make_embeddings, model_id_of
    from knowledge.store import KnowledgeStore, StoreError

    settings = _settings()
    try:
        installed = installed_blueprints(settings.blueprint)
        only = [load_blueprint(blueprint).id] if blueprint else None
        if only and only[0] not in {b.id for b in installed}:
            installed.append(load_blueprint(blueprint))
        embeddings = make_embeddings(settings)
        store = KnowledgeStore(settings, model_id_of(embeddings))
        if not store.exists():
            _fail("the store is empty: run `studybot ingest` first.")
        summary = run_retag(settings, store, embeddings, installed, only)
    except (BlueprintError, StoreError, EmbeddingError) as exc:
        _fail(str(exc))
    table = Table(title=f"Re-tagged {summary.chunks} chunks in {summary.seconds:.1f} s")
    table.add_column("blueprint")
    table.add_column("tags changed", justify="right")
    for bid, changed in summary.changed.items():
        table.add_row(bid, str(changed))
    console.print(table)


def _ingest_progress():
    """A progress bar on stderr (off when it is not a terminal) and the pipeline's event hook."""
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

    return progress, on_event


def _print_ingest_summary(summary) -> None:
    """The ingest summary table, then up to 200 failures."""
    table = Table(title="Ingest summary", show_header=False)
    rows = [
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
    ]
    if summary.precision:
        rows.append(("embedding precision", summary.precision))
    for label, value in rows:
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


def _retriever(exam: str | None = None):
    from knowledge.retrieve import Retriever

    return Retriever.from_settings(_settings(exam))


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="What to look for.")],
    domain: Annotated[int | None, typer.Option(help="Only this exam domain (1-4).")] = None,
    k: Annotated[int, typer.Option("-k", help="How many hits.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    exam: ExamOption = None,
) -> None:
    """Show what a question retrieves from the store (domains of the exam)."""
    from knowledge.store import StoreError

    try:
        retriever = _retriever(exam)
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


def _service(exam: str | None = None):
    from bot.service import StudyService

    return StudyService(_settings(exam))


def _ensure_store(service) -> None:
    if not service.retriever.store.exists():
        _fail("the store is empty: run `studybot ingest` first (or `make demo`).")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    exam: ExamOption = None,
) -> None:
    """Answer one question from the study material."""
    from bot.records import RecordsUnavailable
    from bot.service import EmptyQuestion
    from bot.shell import answer_json, render_answer
    from knowledge.store import StoreError

    service = _service(exam)
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
def quiz(
    domain: Annotated[
        str | None, typer.Option(help="Only this exam domain: 1-4 or a name, e.g. modeling.")
    ] = None,
    answer: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--answer",
            metavar="ID CHOICES",
            help="Grade question ID; CHOICES are 0-based option numbers, e.g. 2 or 0,3; "
            "ordering: the step numbers in order, e.g. '3 1 4 2'; matching: a description "
            "number per term, e.g. 'A2 B1 C3' or '2 1 3'.",
        ),
    ] = None,
    generate: Annotated[
        bool, typer.Option("--generate", help="Fill the question bank from the ingested material.")
    ] = False,
    count: Annotated[
        int | None, typer.Option(help="With --generate: at most this many questions.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    exam: ExamOption = None,
) -> None:
    """An exam-style question (acting as user "terminal"), its grading, or filling the bank."""
    from bot.quiz_service import QuizError
    from bot.records import RecordsUnavailable
    from bot.shell import (
        ANSWER_HINT_CLI,
        TERMINAL,
        answer_example,
        grade_json,
        question_json,
        render_fill_stats,
        render_grade,
        render_question,
        typed_answer,
    )
    from knowledge.store import StoreError

    if answer is not None and (generate or domain is not None):
        _fail("--answer grades a question; it does not go with --generate or --domain.")
    if count is not None and not generate:
        _fail("--count goes with --generate.")
    if count is not None and count < 1:
        _fail("--count must be at least 1.")
    service = _service(exam)
    try:
        if answer is not None:
            token, raw = answer
            try:
                choices = typed_answer(service, token, raw)
            except ValueError as exc:
                _fail(str(exc))
            grade = service.answer_question(token, TERMINAL, choices)
            if as_json:
                print(json.dumps(grade_json(grade), ensure_ascii=False))
            else:
                render_grade(console, grade, service.shown_question(token), base=0)
            return
        if generate:
            stats = service.fill_bank(domain, count)
            if as_json:
                print(json.dumps(stats.to_dict(), ensure_ascii=False))
            else:
                render_fill_stats(console, stats)
            return
        shown = service.next_question(TERMINAL, TERMINAL, domain)
    except (QuizError, StoreError, RecordsUnavailable) as exc:
        _fail(str(exc))
    if as_json:
        print(json.dumps(question_json(shown), ensure_ascii=False))
        return
    example = answer_example(shown, one_based=False)
    if shown.question.arranged:
        example = f"'{example}'"
    hint = "Answer with: " + ANSWER_HINT_CLI.format(token=shown.token, example=example)
    render_question(console, shown, base=0, hint=hint)


@app.command()
def shell(exam: ExamOption = None) -> None:
    """An interactive study conversation in the terminal."""
    from bot.shell import run_shell
    from knowledge.store import StoreError

    service = _service(exam)
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
    from bot.logs import configure_logging
    from bot.records import Records, RecordsUnavailable
    from bot.service import StudyService
    from bot.slack.app import ConfigError
    from bot.slack.runner import serve as run
    from knowledge.store import StoreError

    settings = _settings()
    configure_logging(settings.log_format)
    log = logging.getLogger("studybot")
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        records = Records.from_url(settings.database_url)
        service = StudyService(settings, records=records)
        if service.retriever.store.exists():
            service.warm_up()
        else:
            log.warning("The store is empty: run `studybot ingest`.")
        run(settings, service, records, host=host)
    except (ConfigError, RecordsUnavailable, StoreError, ValueError, OSError) as exc:
        if settings.log_format == "json":  # every line on stderr is a JSON object
            log.error("%s", exc)
            raise typer.Exit(1) from None
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
    from knowledge.blueprint import load_blueprint

    settings = _settings()
    exam = load_blueprint(settings.blueprint)
    console.print(f"[bold]Exam:[/bold] {exam.name} ({exam.id.upper()}), from STUDYBOT_BLUEPRINT")
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
    console.rule("[bold]4. A quiz question (offline, from the notes)")
    _demo_quiz(service)


def _demo_quiz(service) -> None:
    """Fill the bank from the ingested notes, show a question, answer it correctly, grade it."""
    from bot.quiz_bank import get_question
    from bot.quiz_service import QuizError
    from bot.shell import render_grade, render_question

    try:
        stats = service.fill_bank()
        shown = service.next_question("demo", "demo")
    except QuizError as exc:
        _fail(str(exc))
    console.print(
        f"[dim]{stats.bank_size} questions in the bank ({stats.inserted} new from this run)[/dim]"
    )
    render_question(console, shown)
    right = list(get_question(service.records, shown.question.question_id).correct)
    if not shown.question.arranged:
        right = sorted(right)
    console.print(f"[bold]answer:[/bold] {','.join(str(i + 1) for i in right)}")
    render_grade(console, service.answer_question(shown.token, "demo", right), shown)


# --------------------------------------------------------------------------- stats


@contextmanager
def _service_over_records(
    *errors: type[Exception], exam: str | None = None
) -> Iterator[StudyService]:
    """The service over the configured records (schema brought up to date), closed afterwards.

    RecordsUnavailable and `errors` end the command with the message.
    """
    from bot.records import Records, RecordsUnavailable
    from bot.service import StudyService

    try:
        settings = _settings(exam)
        if not settings.database_url_env:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        records = Records.from_url(settings.database_url)
        try:
            records.upgrade()
            yield StudyService(settings, records=records)
        finally:
            records.close()
    except (RecordsUnavailable, *errors) as exc:
        _fail(str(exc))


def _as_of(text: str | None):
    if not text:
        return None
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        _fail(f"--as-of must be an ISO date or time, e.g. 2026-11-25T12:00:00Z (not {text!r}).")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


@app.command()
def stats(
    channel: Annotated[str, typer.Option(help="Slack channel id, e.g. C0123456789.")],
    period: Annotated[str, typer.Option(help="7d, 30d or all.")] = "30d",
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    chart: Annotated[Path | None, typer.Option(help="Also write the chart PNG here.")] = None,
    csv: Annotated[Path | None, typer.Option(help="Also write the per-learner CSV here.")] = None,
    as_of: Annotated[str | None, typer.Option(help="Compute as of this UTC time.")] = None,
    exam: Annotated[
        str | None, typer.Option("--exam", help="This exam (default: the channel's).")
    ] = None,
) -> None:
    """A channel's study stats (what `/study stats` shows a team lead)."""
    from bot.stats import UnknownPeriod

    now = _as_of(as_of)
    with _service_over_records(UnknownPeriod, exam=exam) as service:
        blueprint = service.blueprint if exam else service.exam_of(channel)
        counted = service.stats_for(blueprint)
        figures = counted.channel_stats(channel, period, now=now)
        if csv is not None:
            csv.write_text(counted.export_csv(channel, period, now=now), encoding="utf-8")
    if chart is not None:
        from bot.stats_chart import render_stats_chart

        chart.write_bytes(render_stats_chart(figures))
    if as_json:
        print(json.dumps(figures.to_dict(), ensure_ascii=False))
        return
    code = blueprint.id.upper()
    title = f"{code} study stats for {channel} ({figures.period_label})"
    table = Table(title=title, show_header=False)
    for label, value in [
        ("Active learners", figures.active_learners),
        ("Questions asked", figures.questions_asked),
        ("Quiz answers", figures.quiz_answers),
        ("Accuracy", f"{_pct(figures.accuracy)} (target {figures.target:.0%})"),
        (
            "Question of the day",
            f"{figures.daily.posts} posted, {figures.daily.answers} answers, "
            f"{figures.daily.participants} people",
        ),
    ]:
        table.add_row(label, str(value))
    if figures.weakest:
        w = figures.weakest
        focus = f"{w.domain.domain}. {w.domain.name} ({_pct(w.domain.accuracy)})"
        if w.objective:
            focus += f"; focus {w.objective} {w.objective_name or ''}".rstrip()
        table.add_row("Weakest domain", focus)
    console.print(table)
    domains = Table(title="Accuracy by domain")
    for col in ("domain", "answers", "accuracy", f"≥ {figures.target:.0%}"):
        domains.add_column(col)
    for d in figures.domains:
        ok = "–" if d.meets_target is None else ("yes" if d.meets_target else "no")
        domains.add_row(f"{d.domain}. {d.name}", str(d.answers), _pct(d.accuracy), ok)
    console.print(domains)
    weeks = Table(title="Week by week")
    for col in ("week", "answers", "accuracy", "learners", "questions"):
        weeks.add_column(col)
    for w in figures.weeks:
        weeks.add_row(w.week, str(w.answers), _pct(w.accuracy), str(w.learners), str(w.asks))
    console.print(weeks)
    if figures.top_learners:
        top = Table(title="Top learners")
        for col in ("learner", "correct", "answers", "accuracy"):
            top.add_column(col)
        for t in figures.top_learners:
            top.add_row(t.user_id, str(t.correct), str(t.answers), _pct(t.accuracy))
        console.print(top)


@app.command()
def me(
    user: Annotated[str, typer.Option(help="Slack user id (the terminal's own records: cli).")] = (
        "cli"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    as_of: Annotated[str | None, typer.Option(help="Compute as of this UTC time.")] = None,
    exam: ExamOption = None,
) -> None:
    """A learner's progress in one exam (what `/study me` and the App Home show)."""
    now = _as_of(as_of)
    with _service_over_records(exam=exam) as service:
        progress = service.stats_for(service.blueprint).learner_progress(user, now=now)
        code = service.blueprint.id.upper()
    if as_json:
        print(json.dumps(progress.to_dict(), ensure_ascii=False))
        return
    r = progress.readiness
    if r.enough_data:
        ready = (
            f"{r.score} on {r.scale_min}-{r.scale_max} (pass {r.passing_score}; "
            f"{'at or above' if r.passes else 'below'}), from {r.answers} answers"
        )
    else:
        ready = f"not enough data yet: {r.missing}"
    table = Table(title=f"{code} progress of {user}", show_header=False)
    for label, value in [
        ("Quiz answers", f"{progress.answers} ({_pct(progress.accuracy)} correct)"),
        ("Last 7 days", f"{progress.answers_7d} ({_pct(progress.accuracy_7d)})"),
        ("Reviews due", progress.due_reviews),
        ("Streak", f"{progress.streak_days} days"),
        ("Readiness", ready),
    ]:
        table.add_row(label, str(value))
    if progress.focus:
        f = progress.focus
        focus = f"{f.domain.domain}. {f.domain.name}"
        if f.objective:
            focus += f"; {f.objective} {f.objective_name or ''}".rstrip()
        table.add_row("Suggested focus", focus)
    console.print(table)
    domains = Table(title="Accuracy by domain")
    for col in ("domain", "answers", "accuracy", "estimate"):
        domains.add_column(col)
    for d in progress.domains:
        est = r.domain_estimates.get(d.domain)
        domains.add_row(f"{d.domain}. {d.name}", str(d.answers), _pct(d.accuracy), _pct(est))
    console.print(domains)


@app.command()
def prune(
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Remove records past retention now (what `studybot serve` does once a day)."""
    from bot.retention import Retention

    settings = _settings()
    with _service_over_records() as service:
        removed = Retention.from_settings(service.records, settings).prune()
    if as_json:
        print(json.dumps(removed))
        return
    console.print(f"Retention {settings.retention_days} days; removed:")
    for table, count in removed.items():
        console.print(f"  {table}: {count}")


def main() -> None:  # pragma: no cover - console entry
    app(sys.argv[1:])
