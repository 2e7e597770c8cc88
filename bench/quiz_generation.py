"""Offline quiz generation on the real material: yield, speed, coverage, and a sample to read.

The study guide and every SageMaker developer-guide page (1,284) are parsed and chunked with the
pipeline's own code (`ingest.parse.parse_bytes` + `ingest.chunk.chunk_document`) but without
embeddings: a whitespace token counter stands in for the model's tokenizer (150 words ~ the
pipeline's 200 word pieces) and chunks are tagged by the blueprint's keywords (a guide heading
that names an objective tags its section exactly; otherwise the objective whose keywords the
chunk and its page title hit most, else the page's majority objective). The pipeline tags with
embeddings too, so the per-objective split here is an approximation of what a real store gives.

Then `knowledge.quiz.generate` runs the offline generator over all chunks and reports:
valid questions per minute (generation only, and including parse+chunk), valid / attempted,
rejections by reason, questions per objective and per generator kind. A seeded sample of 30
questions goes to bench/results/quiz_sample.md for a human to read.

Run:
    .venv/bin/python bench/quiz_generation.py [--seed 7] [--sample 30] [--pages N]

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
    RESULTS,
    SAGEMAKER_DOCS,
    STUDY_GUIDE,
    print_table,
    require_corpus,
    sorted_pages,
    write_results,
)

MAX_WORDS = 150  # ~200 word pieces, the pipeline's chunk size
OVERLAP_WORDS = 30


def _count_words(text: str) -> int:
    return len(text.split())


def load_chunks(paths: Iterable[Path], blueprint_name: str = "mls-c01") -> list:
    """Parse, chunk and keyword-tag files into `StoredChunk`s (no embeddings, no store).

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


def _sample_markdown(questions: list, seed: int) -> str:
    lines = [
        "# Offline quiz questions: a seeded sample to read",
        "",
        f"Seed {seed}. For each: is it answerable from the cited chunk, and are the distractors",
        "plausible (same kind) and wrong? The cited chunk follows each question.",
        "",
    ]
    for n, q in enumerate(questions, start=1):
        lines += [
            f"## {n}. [{q.generator}] {q.format}, objective {q.objective}",
            "",
            q.stem,
            "",
        ]
        for i, option in enumerate(q.options):
            mark = "**(correct)**" if i in q.correct else ""
            lines.append(f"{chr(65 + i)}. {option} {mark}".rstrip())
        source = q.source.split("/corpus/", 1)[-1]
        lines += [
            "",
            f"Explanation: {q.explanation}",
            "",
            f"Source: `{source}` · chunk `{q.chunk_ids[0][:12]}`",
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


def print_breakdown(blueprint, questions: list, guide: list, stats) -> None:
    """Valid questions per objective and per generator, rejections by reason."""
    per_objective = Counter(q.objective for q in questions)
    rows = []
    for objective in blueprint.objectives:
        rows.append(
            (
                objective.id,
                objective.name[:60],
                per_objective.get(objective.id, 0),
                sum(1 for q in guide if q.objective == objective.id),
            )
        )
    print_table("Valid questions per objective", ["objective", "name", "valid", "from guide"], rows)
    per_kind = Counter(q.generator for q in questions)
    print_table("By generator", ["generator", "valid"], sorted(per_kind.items()))
    print_table(
        "Rejected (by reason; offline_* = the generator gave up before building)",
        ["reason", "count"],
        sorted(stats.rejected.items(), key=lambda kv: -kv[1]),
    )


def summarize(
    blueprint,
    files: int,
    chunks: list,
    questions: list,
    guide: list,
    stats,
    prepare_seconds: float,
    generate_seconds: float,
) -> dict:
    """The figures of one run (what bench/results/quiz_generation.json holds)."""
    minutes = generate_seconds / 60
    total_minutes = (generate_seconds + prepare_seconds) / 60
    per_objective = Counter(q.objective for q in questions)
    return {
        "files": files,
        "chunks": len(chunks),
        "untagged_chunks": sum(1 for c in chunks if not c.metadata["objective"]),
        "prepare_seconds": round(prepare_seconds, 2),
        "generate_seconds": round(generate_seconds, 2),
        "attempted": stats.attempted,
        "valid": len(questions),
        "valid_per_attempted": round(len(questions) / stats.attempted, 4)
        if stats.attempted
        else 0.0,
        "valid_per_minute": round(len(questions) / minutes, 1) if minutes else None,
        "valid_per_minute_with_parsing": round(len(questions) / total_minutes, 1),
        "from_study_guide": len(guide),
        "per_format": dict(Counter(q.format for q in questions)),
        "per_generator": dict(sorted(Counter(q.generator for q in questions).items())),
        "per_objective": {o.id: per_objective.get(o.id, 0) for o in blueprint.objectives},
        "rejected": dict(sorted(stats.rejected.items(), key=lambda kv: -kv[1])),
    }


def write_sample(questions: list, seed: int, size: int) -> list[dict]:
    """A seeded sample to read (bench/results/quiz_sample.md), also returned for the JSON."""
    rng = random.Random(seed)
    sample = rng.sample(questions, min(size, len(questions)))
    RESULTS.mkdir(parents=True, exist_ok=True)
    sample_path = RESULTS / "quiz_sample.md"
    sample_path.write_text(_sample_markdown(sample, seed), encoding="utf-8")
    print(f"sample: {sample_path}")
    return [{**q.to_public_dict(), "correct": q.correct, "generator": q.generator} for q in sample]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sample", type=int, default=30)
    parser.add_argument("--pages", type=int, default=None, help="first N SageMaker pages only")
    args = parser.parse_args()
    require_corpus()

    from knowledge.blueprint import load_blueprint
    from knowledge.quiz import generate

    blueprint = load_blueprint("mls-c01")
    pages = sorted_pages(SAGEMAKER_DOCS, args.pages)
    t0 = time.perf_counter()
    chunks = load_chunks([STUDY_GUIDE, *pages])
    prepare_seconds = time.perf_counter() - t0
    print(f"{len(pages) + 1} files -> {len(chunks)} chunks in {prepare_seconds:.1f} s")

    t0 = time.perf_counter()
    questions, stats = generate(chunks, blueprint, rng=random.Random(args.seed))
    generate_seconds = time.perf_counter() - t0

    guide = [q for q in questions if q.source == str(STUDY_GUIDE)]
    print_breakdown(blueprint, questions, guide, stats)
    summary = summarize(
        blueprint,
        len(pages) + 1,
        chunks,
        questions,
        guide,
        stats,
        prepare_seconds,
        generate_seconds,
    )
    print_table(
        "Summary",
        ["figure", "value"],
        [(k, v) for k, v in summary.items() if not isinstance(v, dict)],
    )
    summary["sample"] = write_sample(questions, args.seed, args.sample)
    write_results("quiz_generation", {"seed": args.seed, **summary})


if __name__ == "__main__":
    main()
