"""Tagging accuracy of `ingest.tag.DomainTagger` for a blueprint other than the default one.

Made for the MLA-C01 blueprint: tags tests/data/tagging_labels_mla-c01.jsonl with
STUDYBOT_BLUEPRINT=mla-c01 exactly as bench/tagging.py does for MLS-C01 (its `Bench` class,
same vectors, same module constants) and reports objective and domain accuracy for the current
constants, keywords only and embedding only, accuracy per labelled objective, and every miss.

Two further checks, because one author wrote both the labelled passages and the keywords:
* real AWS pages, labelled by path in tests/data/tagging_labels_<blueprint>_corpus.jsonl
  ({id, path, objective, domain}, path relative to the shared corpus; skipped when it is absent):
  each page is tagged as its first chunk would be (title plus the first ~200 tokens of text);
* each section of the blueprint's starter notes with its heading hint withheld (what the tagger
  would say from the text alone).

Run:
    .venv/bin/python bench/tagging_mla.py [--blueprint mla-c01] [--labels FILE] [--notes DIR]

Writes bench/results/tagging_<blueprint>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    CORPUS,
    REPO,
    TESTS_DATA,
    default_settings,
    print_table,
    write_results,
)
from bench.tagging import Bench, load_labels  # noqa: E402

FIRST_CHUNK_CHARS = 1000  # about the 200 tokens of a default chunk


def first_chunk_text(text: str, limit: int = FIRST_CHUNK_CHARS) -> str:
    """The opening of a page, cut at a word boundary (what its first chunk holds)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0]


def corpus_labels(labels_path: Path, corpus: Path = CORPUS) -> list[dict]:
    """Labels that point to pages of the shared corpus, with each page's title and opening."""
    from ingest.parse import parse_markdown

    items = []
    for d in load_path_labels(labels_path):
        page = corpus / d["path"]
        doc = parse_markdown(page.read_text(encoding="utf-8"), str(page))
        text = first_chunk_text("\n\n".join(s.text for s in doc.sections))
        items.append({**d, "title": doc.title, "text": text})
    return items


def load_path_labels(path: Path) -> list[dict]:
    """{id, path, objective, domain} lines (no text: the page is read from the corpus)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def notes_as_labels(notes_dir: Path) -> list[dict]:
    """Every section of the starter notes as a labelled passage (label = its heading hint)."""
    from ingest.parse import parse_markdown

    items = []
    for path in sorted(notes_dir.glob("*.md")):
        doc = parse_markdown(path.read_text(encoding="utf-8"), str(path))
        for n, section in enumerate(doc.sections):
            if not section.objective_hint or not section.text.strip():
                continue
            items.append(
                {
                    "id": f"{path.stem}#{n}",
                    "text": section.text,
                    # Headings below the H1 only: the H1 names the objective itself.
                    "title": " > ".join(section.title_path[1:]),
                    "objective": section.objective_hint,
                    "domain": int(section.objective_hint.split(".")[0]),
                }
            )
    return items


def variants(current: dict) -> dict[str, dict]:
    """The current constants and the two single-signal baselines."""
    keywords = {"EMBED_WEIGHT": 0.0, "KEYWORD_WEIGHT": 1.0, "TITLE_WEIGHT": 0.0}
    embedding = {"EMBED_WEIGHT": 1.0, "KEYWORD_WEIGHT": 0.0, "TITLE_WEIGHT": 0.0}
    return {
        "current constants": dict(current),
        "keywords only": {**current, **keywords},
        "embedding only": {**current, **embedding},
    }


def evaluate(labels: list[dict], dtype: str) -> dict:
    """Accuracy per variant, per labelled objective, and the misses of the current constants."""
    bench = Bench(labels, dtype)
    rows, predictions = {}, {}
    for name, setting in variants(bench.current).items():
        predictions[name] = bench.predict(setting)
        obj, dom = bench.score(predictions[name])
        rows[name] = {"objective_accuracy": round(obj, 4), "domain_accuracy": round(dom, 4)}
    per_objective = defaultdict(lambda: [0, 0])
    for item, predicted in zip(labels, predictions["current constants"], strict=True):
        per_objective[item["objective"]][0] += 1
        per_objective[item["objective"]][1] += predicted == item["objective"]
    return {
        "items": len(labels),
        "keyword_coverage": round(bench.keyword_coverage, 4),
        "variants": rows,
        "per_objective": {k: {"n": n, "correct": c} for k, (n, c) in sorted(per_objective.items())},
        "misses_current": [
            {"id": d["id"], "title": d["title"], "label": d["objective"], "predicted": p}
            for d, p in zip(labels, predictions["current constants"], strict=True)
            if p != d["objective"]
        ],
    }


def report(title: str, result: dict) -> None:
    print_table(
        f"{title}: {result['items']} passages, keyword coverage {result['keyword_coverage']:.0%}",
        ["variant", "objective acc", "domain acc"],
        [(k, v["objective_accuracy"], v["domain_accuracy"]) for k, v in result["variants"].items()],
    )
    print_table(
        "Objective accuracy by labelled objective (current constants)",
        ["objective", "n", "correct"],
        [(k, v["n"], v["correct"]) for k, v in result["per_objective"].items()],
    )
    print_table(
        "Misses (current constants)",
        ["id", "label", "predicted", "title"],
        [(m["id"], m["label"], m["predicted"], m["title"][:60]) for m in result["misses_current"]],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blueprint", default="mla-c01")
    parser.add_argument("--labels", type=Path, default=None)
    parser.add_argument("--notes", type=Path, default=None)
    parser.add_argument("--dtype", choices=["fp32", "bf16"], default=None)
    args = parser.parse_args()
    os.environ["STUDYBOT_BLUEPRINT"] = args.blueprint  # Bench loads default_settings().blueprint
    labels_path = args.labels or TESTS_DATA / f"tagging_labels_{args.blueprint}.jsonl"
    notes_dir = args.notes or REPO / "knowledge" / "notes" / args.blueprint
    if not labels_path.exists():
        sys.exit(f"{labels_path} does not exist")
    dtype = args.dtype or default_settings().embedding_dtype
    results = {"blueprint": args.blueprint, "dtype": dtype}
    results["labelled_set"] = evaluate(load_labels(labels_path), dtype)
    report(f"Labelled set ({labels_path.name})", results["labelled_set"])
    corpus_path = TESTS_DATA / f"tagging_labels_{args.blueprint}_corpus.jsonl"
    if corpus_path.exists() and CORPUS.is_dir():
        results["corpus_pages"] = evaluate(corpus_labels(corpus_path), dtype)
        report(f"AWS pages, first chunk ({corpus_path.name})", results["corpus_pages"])
    if notes_dir.is_dir():
        results["notes_without_hint"] = evaluate(notes_as_labels(notes_dir), dtype)
        title = f"Starter notes, heading hint withheld ({notes_dir.name})"
        report(title, results["notes_without_hint"])
    write_results(f"tagging_{args.blueprint}", results)


if __name__ == "__main__":
    main()
