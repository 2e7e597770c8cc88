"""Quiz formats on the full material: how many "choose two" questions the offline bank holds.

Material: the answer benchmark's ``full`` store (the study guide with its links and the four
AWS doc sets) plus its ``notes`` store (the bundled notes), built by bench/answer_stores.py and
reused; together they hold what bench/quiz_generation.py's store holds. The offline generator
runs once (seed 7) without the embedding key check (lexical checks only), so this measures the
mix of formats, not the rubric.

    .venv/bin/python bench/quiz_formats.py          # -> bench/results/quiz_formats.json
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.answer_stores import ensure_store  # noqa: E402
from bench.common import make_settings, write_results  # noqa: E402


def main() -> None:
    from knowledge.blueprint import load_blueprint
    from knowledge.embeddings import make_embeddings, model_id_of
    from knowledge.quiz import generate
    from knowledge.store import KnowledgeStore

    chunks = []
    for name in ("full", "notes"):
        settings = make_settings(Path(ensure_store(name)["data_dir"]))
        store = KnowledgeStore(settings, model_id_of(make_embeddings(settings)))
        chunks += [c for batch in store.iter_all() for c in batch]
    started = time.perf_counter()
    questions, stats = generate(chunks, load_blueprint("mls-c01"), rng=random.Random(7))
    formats = Counter(q.format for q in questions)
    figures = {
        "chunks": len(chunks),
        "questions": len(questions),
        "per_format": dict(formats),
        "choose_two_share": round(formats.get("multi", 0) / max(len(questions), 1), 3),
        "per_generator": dict(Counter(q.generator for q in questions)),
        "per_objective": dict(sorted(Counter(q.objective for q in questions).items())),
        "rejected": dict(stats.rejected),
        "seconds": round(time.perf_counter() - started, 1),
        "choose_two_sample": [
            {"stem": q.stem, "options": q.options, "correct": q.correct, "source": q.source}
            for q in questions
            if q.format == "multi"
        ][:10],
    }
    print({k: v for k, v in figures.items() if k != "choose_two_sample"})
    write_results("quiz_formats", figures)


if __name__ == "__main__":
    main()
