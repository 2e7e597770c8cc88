"""Ordering and matching items from the offline generator: how many, from which material.

Two runs of `knowledge.quiz.generate` (offline, MLA-C01 blueprint), each over chunks made by the
real parser, chunker and keyword tagger (`bench.quiz_generation.load_chunks`; no embeddings, so
no store is built): the bundled MLA-C01 starter notes alone, and the full material (the notes,
the study guide and every page of the four AWS developer guides in ../shared/corpus/awsdocs).
Counts per format and generator, the rejections of the arranged formats, and every ordering and
matching item of each run go to bench/results/quiz_arranged.json (a seeded sample of 10 of each
as readable text to bench/results/quiz_arranged_sample.md).

Run:
    .venv/bin/python bench/quiz_arranged.py [--seed 7] [--sample 10]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    CORPUS,
    REPO,
    RESULTS,
    STUDY_GUIDE,
    now_iso,
    print_table,
    require_corpus,
    write_results,
)
from bench.quiz_generation import load_chunks  # noqa: E402

NOTES = REPO / "knowledge" / "notes-mla-c01"
ARRANGED = ("ordering", "matching")


def notes_paths() -> list[Path]:
    """The bundled MLA-C01 notes (their folder moves under knowledge/notes/ later)."""
    folder = NOTES if NOTES.is_dir() else REPO / "knowledge" / "notes" / "mla-c01"
    return sorted(folder.glob("*.md"))


def run(paths: list[Path], seed: int) -> dict:
    from knowledge.blueprint import load_blueprint
    from knowledge.quiz import generate

    blueprint = load_blueprint("mla-c01")
    started = time.perf_counter()
    chunks = load_chunks(paths, "mla-c01")
    read = time.perf_counter() - started
    questions, stats = generate(chunks, blueprint, rng=random.Random(seed))
    arranged = [q for q in questions if q.format in ARRANGED]
    rejected = {k: v for k, v in stats.rejected.items() if k in _ARRANGED_REASONS}
    return {
        "pages": len(paths),
        "chunks": len(chunks),
        "questions": len(questions),
        "per_format": dict(Counter(q.format for q in questions)),
        "per_generator": dict(stats.per_generator),
        "arranged_per_objective": dict(sorted(Counter(q.objective for q in arranged).items())),
        "arranged_rejections": rejected,
        "seconds_read": round(read, 1),
        "seconds_generate": round(stats.seconds, 1),
        "items": [_item(q) for q in arranged],
    }


_ARRANGED_REASONS = {
    "item_count",
    "unshuffled",
    "position_giveaway",
    "long_step",
    "term_in_description",
    "pair_unsupported",
    "order_unsupported",
    "answer_unsupported",
    "offline_few_items",
    "irrelevant",
    "trivia",
    "duplicate",
    "page_cap",
}


def _item(q) -> dict:
    from knowledge.arranged import answer_lines

    return {
        "format": q.format,
        "stem": q.stem,
        "answer": answer_lines(q.format, q.options, q.correct, q.choose),
        "objective": q.objective,
        "source": _short(q.source),
        "fingerprint": q.fingerprint,
    }


def _short(source: str) -> str:
    """A source path relative to the repository or to the shared folder."""
    for base in (REPO, CORPUS.parent):
        if Path(source).is_relative_to(base):
            return str(Path(source).relative_to(base))
    return source


def sample_markdown(results: dict, seed: int, size: int) -> str:
    lines = ["# Ordering and matching items: a seeded sample", ""]
    lines.append(f"`bench/quiz_arranged.py --seed {seed} --sample {size}`; the full material run.")
    rng = random.Random(seed)
    for fmt in ARRANGED:
        items = [i for i in results["full"]["items"] if i["format"] == fmt]
        picked = rng.sample(items, min(size, len(items)))
        lines += ["", f"## {fmt} ({len(picked)} of {len(items)})", ""]
        for n, item in enumerate(picked, 1):
            lines.append(f"{n}. **{item['stem']}** ({item['objective']}, `{item['source']}`)")
            lines += [f"   - {a}" for a in item["answer"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sample", type=int, default=10)
    args = parser.parse_args()
    require_corpus()
    notes = notes_paths()
    docs = sorted((CORPUS / "awsdocs").rglob("*.md"))
    results = {
        "when": now_iso(),
        "seed": args.seed,
        "notes": run(notes, args.seed),
        "full": run([*notes, STUDY_GUIDE, *docs], args.seed),
    }
    rows = []
    for name in ("notes", "full"):
        r = results[name]
        per = r["per_format"]
        rows.append(
            (name, r["pages"], r["chunks"], r["questions"], per.get("ordering", 0),
             per.get("matching", 0), r["seconds_generate"])
        )  # fmt: skip
    print_table(
        "Arranged items (offline, MLA-C01)",
        ["material", "pages", "chunks", "questions", "ordering", "matching", "gen s"],
        rows,
    )
    write_results("quiz_arranged", results)
    (RESULTS / "quiz_arranged_sample.md").write_text(
        sample_markdown(results, args.seed, args.sample), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
