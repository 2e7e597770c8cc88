"""Offline quiz generation on the full corpus: coverage, page share, scenarios, rejections, speed.

The corpus is what a team's bot holds after `make demo` and an ingest of the study guide with
its links followed: the bundled notes, the study guide, and the four AWS developer guides it
leads to, read from the local mirrors in ../shared/corpus/awsdocs (SageMaker, Kinesis Data
Firehose, Kinesis Data Streams, Comprehend; every page by its web address, as a crawl would
reach it). The store is built once with the real pipeline (embeddings and tags included) in
/tmp/studybot-bench-quiz-full and reused (`--rebuild` starts over; ~20 min on 2 cores).

`knowledge.quiz.generate` runs over every chunk of the store, with the local embedding model for
the embedding key-safety check, and the run is reported twice: on everything, and on the guide
and its docs alone (the notes' chunks left out). Figures: questions per objective (and the
smallest), the largest share of the bank from one page, the share of scenario-style questions
(``offline:scenario`` and ``offline:need``), rejections by reason, questions per minute.

A seeded sample of 40 questions goes to bench/results/quiz_sample.md with the cited chunk of
each and the rubric reading recorded for it in bench/results/quiz_rubric.json (by fingerprint;
"not read" when there is none), and the rubric totals.

Run:
    .venv/bin/python bench/quiz_generation.py [--seed 7] [--sample 40] [--rebuild]

Writes bench/results/quiz_generation.json and bench/results/quiz_sample.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    CORPUS,
    REPO,
    RESULTS,
    STUDY_GUIDE,
    make_settings,
    now_iso,
    print_table,
    require_corpus,
    write_results,
)

MAX_WORDS = 150  # ~200 word pieces, the pipeline's chunk size
OVERLAP_WORDS = 30


def _count_words(text: str) -> int:
    return len(text.split())


def load_chunks(paths: Iterable[Path], blueprint_name: str = "mls-c01") -> list:
    """Parse, chunk and keyword-tag files into `StoredChunk`s (no embeddings, no store): a
    quick stand-in for a store, for tests on a sample of pages.

    Metadata has what the pipeline stores: source, title, title_path (" > " joined), position,
    domain, objective (0 / "" when nothing tags the chunk).
    """
    from ingest.chunk import chunk_document, chunk_id, content_hash
    from ingest.parse import ParseError, parse_bytes
    from ingest.tag import DomainTagger
    from knowledge.blueprint import load_blueprint
    from knowledge.store import StoredChunk

    blueprint = load_blueprint(blueprint_name)
    tagger = DomainTagger(blueprint, embeddings=None)  # keyword scores need no model
    ids = tagger.ids
    out: list[StoredChunk] = []
    for path in paths:
        source = str(path)
        try:
            doc = parse_bytes(Path(path).read_bytes(), source)
        except (OSError, ParseError):
            continue
        raw = chunk_document(
            doc, max_tokens=MAX_WORDS, overlap_tokens=OVERLAP_WORDS, count_tokens=_count_words
        )
        title_scores = tagger.keyword_scores(doc.title)
        page: list[tuple[StoredChunk, str | None]] = []
        occurrences: Counter = Counter()
        for rc in raw:
            path_text = " > ".join(rc.title_path)
            digest = content_hash(f"{path_text}\n{rc.text}" if path_text else rc.text)
            cid = chunk_id(source, digest, occurrences[digest])
            occurrences[digest] += 1
            if rc.objective_hint in ids:
                objective = rc.objective_hint
            else:
                scores = tagger.keyword_scores(f"{path_text}\n{rc.text}") + 0.5 * title_scores
                objective = ids[int(scores.argmax())] if scores.sum() > 0 else None
            meta = {
                "source": source,
                "title": doc.title,
                "title_path": path_text,
                "position": rc.position,
                "blueprint": blueprint.id,
            }
            page.append((StoredChunk(cid, rc.text, meta), objective))
        tagged = [o for _, o in page if o]
        majority = Counter(tagged).most_common(1)[0][0] if tagged else None
        for chunk, objective in page:
            objective = objective or majority
            chunk.metadata["objective"] = objective or ""
            chunk.metadata["domain"] = int(objective.split(".")[0]) if objective else 0
            out.append(chunk)
    return out


def load_rubric() -> dict:
    """Fingerprint -> the rubric reading of that question (bench/results/quiz_rubric.json)."""
    import json

    return json.loads(RUBRIC.read_text()) if RUBRIC.exists() else {}


def rubric_totals(sample: list, rubric: dict) -> dict:
    """How many of the sampled questions were read, and each criterion's share of yes."""
    read = [rubric[q.fingerprint] for q in sample if q.fingerprint in rubric]
    totals: dict = {"sampled": len(sample), "read": len(read)}
    for criterion in CRITERIA:
        yes = sum(1 for r in read if r.get(criterion) is True)
        totals[criterion] = round(yes / len(read), 4) if read else None
    totals["wrong_keys"] = sum(1 for r in read if r.get("key") is False)
    return totals


def _verdicts(reading: dict | None) -> str:
    if reading is None:
        return "**Rubric:** not read yet."
    marks = " · ".join(f"{c} {'yes' if reading.get(c) else 'NO'}" for c in CRITERIA)
    note = reading.get("note", "")
    return f"**Rubric:** {marks}" + (f". {note}" if note else "")


def _sample_markdown(questions: list, seed: int, rubric: dict) -> str:
    totals = rubric_totals(questions, rubric)
    lines = [
        "# Quiz questions from the full corpus: a seeded sample, read against a rubric",
        "",
        f"Seed {seed}; {len(questions)} questions drawn at random from the bank that",
        "`bench/quiz_generation.py` builds on the full corpus (bundled notes + study guide + the",
        "four AWS developer guides it leads to). Each was read as an exam coach would, against:",
        "",
        "- **key**: the marked answer is right and no other option is;",
        "- **answerable**: the cited chunk (below each question) settles it;",
        "- **distractors**: the wrong options are plausible (same kind) and wrong;",
        "- **relevant**: the question tests something the exam asks about;",
        "- **domain**: the domain/objective tag fits what the question tests;",
        "- **readable**: the stem stands alone and reads right.",
        "",
        f"Read: {totals['read']} of {totals['sampled']}. Wrong keys: {totals['wrong_keys']}.",
        "",
        "| criterion | share yes |",
        "| --- | --- |",
    ]
    for criterion in CRITERIA:
        share = totals[criterion]
        lines.append(f"| {criterion} | {'-' if share is None else f'{share:.0%}'} |")
    lines.append("")
    for n, q in enumerate(questions, start=1):
        source = q.source.split("/corpus/", 1)[-1].split("/knowledge/", 1)[-1]
        lines += [
            f"## {n}. [{q.generator}] {q.format}, objective {q.objective} (domain {q.domain})",
            "",
            q.stem,
            "",
        ]
        for i, option in enumerate(q.options):
            mark = "**(correct)**" if i in q.correct else ""
            lines.append(f"{chr(65 + i)}. {option} {mark}".rstrip())
        lines += [
            "",
            f"Explanation: {q.explanation}",
            "",
            f"Source: `{source}` · fingerprint `{q.fingerprint}`",
            "",
            _verdicts(rubric.get(q.fingerprint)),
            "",
            "<details><summary>Cited chunk</summary>",
            "",
            "```text",
            q.passage.strip()[:1800],
            "```",
            "",
            "</details>",
            "",
        ]
    return "\n".join(lines)


def write_sample(questions: list, seed: int, size: int) -> dict:
    """A seeded sample to read (bench/results/quiz_sample.md); its rubric totals returned."""
    rng = random.Random(seed)
    sample = rng.sample(questions, min(size, len(questions)))
    rubric = load_rubric()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "quiz_sample.md"
    path.write_text(_sample_markdown(sample, seed, rubric), encoding="utf-8")
    print(f"sample: {path}")
    return {
        "rubric": rubric_totals(sample, rubric),
        "fingerprints": [q.fingerprint for q in sample],
    }


STORE_DIR = Path("/tmp/studybot-bench-quiz-full")
MARKER = "bench-complete.json"
NOTES = REPO / "knowledge" / "notes" / "mls-c01"
SCENARIO_KINDS = ("offline:scenario", "offline:need")
#: Web prefix -> doc set folder under ../shared/corpus/awsdocs.
DOC_SETS = {
    "https://docs.aws.amazon.com/sagemaker/latest/dg/": "sagemaker-developer-guide",
    "https://docs.aws.amazon.com/firehose/latest/dev/": "kinesis-data-firehose-developer-guide",
    "https://docs.aws.amazon.com/streams/latest/dev/": "kinesis-data-streams-developer-guide",
    "https://docs.aws.amazon.com/comprehend/latest/dg/": "comprehend-developer-guide",
}
RUBRIC = RESULTS / "quiz_rubric.json"
CRITERIA = ("key", "answerable", "distractors", "relevant", "domain", "readable")


def ensure_store(rebuild: bool = False) -> dict:
    """Build (or reuse) the full store; returns its build record (with ``data_dir``)."""
    import fcntl
    import json
    import shutil

    from ingest.job import build_pipeline
    from ingest.pipeline import IngestOptions
    from ingest.sources import Mirror

    marker = STORE_DIR / MARKER
    with open(f"{STORE_DIR}.lock", "w") as lock:  # one builder at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and not rebuild:  # the notes and the guide may have changed
            settings = make_settings(STORE_DIR, allowed_hosts=[])
            refresh = build_pipeline(settings).run([str(NOTES), str(STUDY_GUIDE)])
            record = json.loads(marker.read_text())
            return {**record, "reused": True, "refreshed_chunks": refresh.chunks_changed}
        if rebuild:
            shutil.rmtree(STORE_DIR, ignore_errors=True)
        STORE_DIR.mkdir(parents=True, exist_ok=True)
        settings = make_settings(STORE_DIR, allowed_hosts=[])  # offline: mirrors only
        mirrors = [
            Mirror.parse(f"{prefix}={CORPUS / 'awsdocs' / folder / 'doc_source'}")
            for prefix, folder in DOC_SETS.items()
        ]
        pages = [
            f"{prefix}{page.stem}.html"
            for prefix, folder in DOC_SETS.items()
            for page in sorted((CORPUS / "awsdocs" / folder / "doc_source").glob("*.md"))
        ]
        print(f"building the quiz store in {STORE_DIR} (~20 min) ...", flush=True)
        pipeline = build_pipeline(settings, mirrors)
        options = IngestOptions(follow_links=True, max_pages=4000)
        summary = pipeline.run([str(NOTES), str(STUDY_GUIDE), *pages], options)
        record = {
            "data_dir": str(STORE_DIR),
            "pages": summary.pages,
            "chunks": pipeline.store.count(),
            "seconds": round(summary.seconds, 1),
            "embedding_dtype": settings.embedding_dtype,
            "built_at": now_iso(),
        }
        marker.write_text(json.dumps(record, indent=2))
        return {**record, "reused": False}


def store_chunks() -> list:
    """Every chunk of the full store."""
    from knowledge.embeddings import make_embeddings, model_id_of
    from knowledge.store import KnowledgeStore

    settings = make_settings(STORE_DIR)
    store = KnowledgeStore(settings, model_id_of(make_embeddings(settings)))
    return [c for batch in store.iter_all() for c in batch]


def is_notes(source: str) -> bool:
    return str(NOTES) in source or "/knowledge/notes/" in source


def figures(blueprint, questions: list, stats, seconds: float) -> dict:
    """The Done-when figures of one run."""
    per_objective = Counter(q.objective for q in questions)
    per_source = Counter(q.source for q in questions)
    top_source, top_count = per_source.most_common(1)[0] if per_source else ("", 0)
    n = len(questions) or 1
    return {
        "questions": len(questions),
        "attempted": stats.attempted,
        "per_objective": {o.id: per_objective.get(o.id, 0) for o in blueprint.objectives},
        "min_per_objective": min(per_objective.get(o.id, 0) for o in blueprint.objectives),
        "pages": len(per_source),
        "max_page_share": round(top_count / n, 4),
        "max_page": top_source,
        "scenario_share": round(sum(q.generator in SCENARIO_KINDS for q in questions) / n, 4),
        "from_guide": sum(q.source == str(STUDY_GUIDE) for q in questions),
        "from_notes": sum(is_notes(q.source) for q in questions),
        "per_domain": dict(sorted(Counter(q.domain for q in questions).items())),
        "per_format": dict(Counter(q.format for q in questions)),
        "per_generator": dict(sorted(Counter(q.generator for q in questions).items())),
        "rejected": dict(sorted(stats.rejected.items(), key=lambda kv: -kv[1])),
        "seconds": round(seconds, 2),
        "questions_per_minute": round(len(questions) / (seconds / 60), 1) if seconds else None,
    }


def run(chunks: list, blueprint, embeddings, seed: int) -> tuple[list, dict]:
    from knowledge.quiz import generate

    t0 = time.perf_counter()
    questions, stats = generate(chunks, blueprint, embeddings=embeddings, rng=random.Random(seed))
    return questions, figures(blueprint, questions, stats, time.perf_counter() - t0)


def print_figures(title: str, blueprint, result: dict) -> None:
    names = {o.id: o.name[:60] for o in blueprint.objectives}
    rows = [(o, names[o], n) for o, n in result["per_objective"].items()]
    print_table(f"{title}: questions per objective", ["objective", "name", "questions"], rows)
    print_table(f"{title}: rejected", ["reason", "count"], list(result["rejected"].items()))
    print_table(
        f"{title}: summary",
        ["figure", "value"],
        [(k, v) for k, v in result.items() if not isinstance(v, dict)],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sample", type=int, default=40)
    parser.add_argument("--rebuild", action="store_true", help="build the store again")
    args = parser.parse_args()
    require_corpus()

    from knowledge.blueprint import load_blueprint
    from knowledge.embeddings import make_embeddings

    blueprint = load_blueprint("mls-c01")
    store = ensure_store(args.rebuild)
    t0 = time.perf_counter()
    chunks = store_chunks()
    read_seconds = time.perf_counter() - t0
    print(f"{len(chunks)} chunks read in {read_seconds:.1f} s (store: {store['data_dir']})")
    embeddings = make_embeddings(make_settings(STORE_DIR))
    questions, full = run(chunks, blueprint, embeddings, args.seed)
    print_figures("notes + guide + docs", blueprint, full)
    docs_only = [c for c in chunks if not is_notes(str(c.metadata.get("source") or ""))]
    _, guide_docs = run(docs_only, blueprint, embeddings, args.seed)
    print_figures("guide + docs (no notes)", blueprint, guide_docs)
    sample = write_sample(questions, args.seed, args.sample)
    write_results(
        "quiz_generation",
        {
            "seed": args.seed,
            "store": store,
            "chunks": len(chunks),
            "read_seconds": round(read_seconds, 2),
            "full": full,
            "guide_and_docs": guide_docs,
            "sample": sample,
        },
    )


if __name__ == "__main__":
    main()
