"""Domain/objective tagging accuracy of `ingest.tag.DomainTagger`, and a weight grid search.

Data: tests/data/tagging_labels.jsonl ({id, text, title, objective, domain}). Each passage is
tagged the way the pipeline tags a chunk without an objective heading: `tagger.tag(text,
vector, title)` where `vector` embeds "title\\ntext" (as `DomainTagger.tag_text` does). Texts and
titles are embedded once; every setting reuses those vectors.

Reports objective accuracy and domain accuracy for:
* the current module constants (EMBED_WEIGHT, KEYWORD_WEIGHT, TITLE_WEIGHT, TEMPERATURE);
* keywords only (EMBED 0, KEYWORD 1, TITLE 0; passages without any keyword fall back to the
  first objective, as the code does) and embedding only (EMBED 1, KEYWORD 0, TITLE 0);
* a grid search over the four constants (monkeypatched on the module), best setting first
  (objective accuracy, then domain accuracy, then the smallest change from the current
  constants), plus a 5-fold cross-validated estimate of grid-picked accuracy (the labels are
  few, so the in-sample best is optimistic).

Note: scores are normalised, so only KEYWORD_WEIGHT / EMBED_WEIGHT matters, not their scale.

Run:
    .venv/bin/python bench/tagging.py [--labels tests/data/tagging_labels.jsonl]

Writes bench/results/tagging.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    TAGGING_LABELS,
    default_settings,
    print_table,
    write_results,
)

CONSTANTS = ("EMBED_WEIGHT", "KEYWORD_WEIGHT", "TITLE_WEIGHT", "TEMPERATURE")
GRID = {
    "EMBED_WEIGHT": [0.5, 1.0, 2.0],
    "KEYWORD_WEIGHT": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.5, 2.0],
    "TITLE_WEIGHT": [0.0, 0.25, 0.5, 0.75, 1.0, 1.5],
    "TEMPERATURE": [0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2],
}
FOLDS = 5


class _Precomputed:
    """Embeddings stand-in that serves vectors computed once up front."""

    def __init__(self, inner, texts: list[str]) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        vecs = inner.embed_documents(texts)
        self.cache = dict(zip(texts, vecs, strict=True))

    def embed_query(self, text: str):
        if text not in self.cache:
            self.cache[text] = self.inner.embed_query(text)
        return self.cache[text]

    def embed_documents(self, texts):
        return [self.embed_query(t) for t in texts]


def load_labels(path: Path) -> list[dict]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            d["objective"] = str(d["objective"]).split()[0]
            d["domain"] = int(d["domain"])
            items.append(d)
    return items


class Bench:
    def __init__(self, labels: list[dict], dtype: str) -> None:
        import numpy as np

        import ingest.tag as tagmod
        from knowledge.blueprint import load_blueprint
        from knowledge.embeddings import LocalEmbeddings

        self.np = np
        self.tagmod = tagmod
        self.labels = labels
        self.current = {c: getattr(tagmod, c) for c in CONSTANTS}
        blueprint = load_blueprint(default_settings().blueprint)
        texts = [f"{d['title']}\n{d['text']}" for d in labels]
        titles = sorted({d["title"] for d in labels if d["title"].strip()})
        t0 = time.perf_counter()
        self.embeddings = _Precomputed(LocalEmbeddings(dtype=dtype), texts + titles)
        self.tagger = tagmod.DomainTagger(blueprint, self.embeddings)
        _ = self.tagger.objective_vectors
        self.embed_seconds = time.perf_counter() - t0
        self.vectors = [np.asarray(self.embeddings.embed_query(t), "float32") for t in texts]
        # Keyword scores do not depend on the constants: memoise them on the instance.
        original = self.tagger.keyword_scores
        memo: dict[str, object] = {}

        def keyword_scores(text: str):
            if text not in memo:
                memo[text] = original(text)
            return memo[text]

        self.tagger.keyword_scores = keyword_scores
        self.keyword_coverage = sum(bool(original(d["text"]).sum()) for d in labels) / max(
            1, len(labels)
        )

    def predict(self, setting: dict[str, float]) -> list[str]:
        """Objective id per label under `setting` (module constants patched, then restored)."""
        for name, value in setting.items():
            setattr(self.tagmod, name, value)
        self.tagger._title_cache.clear()  # title priors depend on the constants
        try:
            with self.np.errstate(invalid="ignore", divide="ignore"):
                return [
                    self.tagger.tag(d["text"], vec, d["title"]).objective
                    for d, vec in zip(self.labels, self.vectors, strict=True)
                ]
        finally:
            for name, value in self.current.items():
                setattr(self.tagmod, name, value)
            self.tagger._title_cache.clear()

    def score(self, predicted: list[str], idx: list[int] | None = None) -> tuple[float, float]:
        idx = list(range(len(self.labels))) if idx is None else idx
        if not idx:
            return float("nan"), float("nan")
        obj = sum(predicted[i] == self.labels[i]["objective"] for i in idx) / len(idx)
        dom = sum(int(predicted[i].split(".")[0]) == self.labels[i]["domain"] for i in idx)
        return obj, dom / len(idx)


def _distance(setting: dict[str, float], current: dict[str, float]) -> float:
    """How far a setting is from the current constants (log-ratio for >0 values)."""
    total = 0.0
    for name, value in setting.items():
        cur = current[name]
        if value > 0 and cur > 0:
            total += abs(math.log(value / cur))
        else:
            total += 0.0 if value == cur else 3.0
    return total


def _rank_key(obj: float, dom: float, setting: dict, current: dict) -> tuple:
    return (-obj, -dom, _distance(setting, current))


SHORT_NAMES = {
    "EMBED_WEIGHT": "E",
    "KEYWORD_WEIGHT": "K",
    "TITLE_WEIGHT": "T",
    "TEMPERATURE": "temp",
}


def fmt(setting: dict) -> str:
    return " ".join(f"{SHORT_NAMES[n]}={setting[n]:g}" for n in CONSTANTS)


def baselines(current: dict[str, float]) -> dict[str, dict[str, float]]:
    """The current constants, keywords only, embedding only, and no title prior."""
    return {
        "current constants": dict(current),
        "keywords only": {
            **current,
            "EMBED_WEIGHT": 0.0,
            "KEYWORD_WEIGHT": 1.0,
            "TITLE_WEIGHT": 0.0,
        },
        "embedding only": {
            **current,
            "EMBED_WEIGHT": 1.0,
            "KEYWORD_WEIGHT": 0.0,
            "TITLE_WEIGHT": 0.0,
        },
        "embedding + keywords (no title)": {**current, "TITLE_WEIGHT": 0.0},
    }


def score_baselines(bench: Bench) -> tuple[dict[str, tuple], list[str]]:
    """{variant: (setting, objective acc, domain acc)} and the current constants' predictions."""
    base_rows = {}
    predictions_current: list[str] = []
    for name, setting in baselines(bench.current).items():
        pred = bench.predict(setting)
        if name == "current constants":
            predictions_current = pred
            # Sanity: the patched path reproduces the unpatched tagger exactly.
            plain = [
                bench.tagger.tag(d["text"], v, d["title"]).objective
                for d, v in zip(bench.labels, bench.vectors, strict=True)
            ]
            assert plain == pred, "monkeypatched constants do not reproduce the current tagger"
        base_rows[name] = (setting, *bench.score(pred))
    return base_rows, predictions_current


def search_grid(bench: Bench) -> tuple[list[tuple], float]:
    """Every GRID setting as (setting, predictions, objective acc, domain acc), best first."""
    t0 = time.perf_counter()
    names = list(GRID)
    grid = []
    for values in itertools.product(*(GRID[n] for n in names)):
        setting = dict(zip(names, values, strict=True))
        pred = bench.predict(setting)
        grid.append((setting, pred, *bench.score(pred)))
    seconds = time.perf_counter() - t0
    grid.sort(key=lambda g: _rank_key(g[2], g[3], g[0], bench.current))
    return grid, seconds


def cross_validate(bench: Bench, grid: list[tuple], predictions_current: list[str]) -> dict:
    """Pick the best setting on 4/5 of the labels, score the held-out 1/5; mean accuracies of
    that pick and of the current constants."""
    rng = random.Random(13)
    order = list(range(len(bench.labels)))
    rng.shuffle(order)
    folds = [order[i::FOLDS] for i in range(FOLDS)]
    cv_obj, cv_dom, cur_obj, cur_dom = [], [], [], []
    for k in range(FOLDS):
        test = folds[k]
        train = [i for j, f in enumerate(folds) if j != k for i in f]
        scored = [(s, p, *bench.score(p, train)) for s, p, _, _ in grid]
        scored.sort(key=lambda g: _rank_key(g[2], g[3], g[0], bench.current))
        o, d = bench.score(scored[0][1], test)
        cv_obj.append(o)
        cv_dom.append(d)
        o, d = bench.score(predictions_current, test)
        cur_obj.append(o)
        cur_dom.append(d)
    return {
        "folds": FOLDS,
        "current_objective_accuracy": sum(cur_obj) / FOLDS,
        "current_domain_accuracy": sum(cur_dom) / FOLDS,
        "grid_picked_objective_accuracy": sum(cv_obj) / FOLDS,
        "grid_picked_domain_accuracy": sum(cv_dom) / FOLDS,
    }


def print_report(
    bench: Bench,
    base_rows: dict[str, tuple],
    predictions_current: list[str],
    grid: list[tuple],
    grid_seconds: float,
    cv: dict,
    top: int,
) -> None:
    best_setting, best_pred, best_obj, best_dom = grid[0]
    ties = sum(1 for g in grid if g[2] == best_obj and g[3] == best_dom)
    print_table(
        "Tagging accuracy",
        ["variant", "objective acc", "domain acc", "setting"],
        [(name, o, d, fmt(s)) for name, (s, o, d) in base_rows.items()]
        + [("grid best (in-sample)", best_obj, best_dom, fmt(best_setting))],
    )
    print(
        f"keyword coverage: {bench.keyword_coverage:.0%} of passages match >= 1 keyword; "
        f"grid: {len(grid)} settings in {grid_seconds:.1f} s, {ties} tie for best"
    )
    print_table(
        f"Grid search, top {top}",
        ["rank", "objective acc", "domain acc", "setting"],
        [(n + 1, g[2], g[3], fmt(g[0])) for n, g in enumerate(grid[:top])],
    )
    print(
        "\n(If the current constants were themselves picked on these labels, their row is "
        "in-sample; the grid-picked row is the honest estimate of a tuned setting.)"
    )
    print_table(
        f"{FOLDS}-fold cross-validation (held-out accuracy)",
        ["variant", "objective acc", "domain acc"],
        [
            (
                "current constants (fixed)",
                cv["current_objective_accuracy"],
                cv["current_domain_accuracy"],
            ),
            (
                "grid-picked on the other folds",
                cv["grid_picked_objective_accuracy"],
                cv["grid_picked_domain_accuracy"],
            ),
        ],
    )
    per_domain = defaultdict(lambda: [0, 0, 0])
    for d, pc, pb in zip(bench.labels, predictions_current, best_pred, strict=True):
        row = per_domain[d["domain"]]
        row[0] += 1
        row[1] += pc == d["objective"]
        row[2] += pb == d["objective"]
    print_table(
        "Objective accuracy by labelled domain",
        ["domain", "n", "current", "grid best"],
        [(k, v[0], v[1] / v[0], v[2] / v[0]) for k, v in sorted(per_domain.items())],
    )


def results(
    bench: Bench,
    dtype: str,
    base_rows: dict[str, tuple],
    predictions_current: list[str],
    grid: list[tuple],
    cv: dict,
    top: int,
) -> dict:
    """What bench/results/tagging.json holds."""
    best_setting, _, best_obj, best_dom = grid[0]

    def accuracies(obj: float, dom: float) -> dict:
        return {"objective_accuracy": round(obj, 4), "domain_accuracy": round(dom, 4)}

    return {
        "labels": len(bench.labels),
        "dtype": dtype,
        "keyword_coverage": round(bench.keyword_coverage, 4),
        "variants": {
            name: {"setting": s, **accuracies(o, d)} for name, (s, o, d) in base_rows.items()
        },
        "grid": {n: GRID[n] for n in GRID},
        "grid_size": len(grid),
        "best": {
            "setting": best_setting,
            **accuracies(best_obj, best_dom),
            "ties": sum(1 for g in grid if g[2] == best_obj and g[3] == best_dom),
        },
        "top": [{"setting": g[0], **accuracies(g[2], g[3])} for g in grid[:top]],
        "cross_validation": {k: v if k == "folds" else round(v, 4) for k, v in cv.items()},
        "all_settings": [
            [g[0][n] for n in CONSTANTS] + [round(g[2], 4), round(g[3], 4)] for g in grid
        ],
        "all_settings_columns": [*CONSTANTS, "objective_accuracy", "domain_accuracy"],
        "misses_current": [
            {"id": d["id"], "label": d["objective"], "predicted": p}
            for d, p in zip(bench.labels, predictions_current, strict=True)
            if p != d["objective"]
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", type=Path, default=TAGGING_LABELS)
    parser.add_argument("--dtype", choices=["fp32", "bf16"], default=None)
    parser.add_argument("--top", type=int, default=10, help="grid rows to print")
    args = parser.parse_args()
    if not args.labels.exists():
        sys.exit(f"{args.labels} does not exist yet")
    labels = load_labels(args.labels)
    dtype = args.dtype or default_settings().embedding_dtype
    bench = Bench(labels, dtype)
    print(f"{len(labels)} labelled passages; embedded in {bench.embed_seconds:.1f} s ({dtype})")
    base_rows, predictions_current = score_baselines(bench)
    grid, grid_seconds = search_grid(bench)
    cv = cross_validate(bench, grid, predictions_current)
    print_report(bench, base_rows, predictions_current, grid, grid_seconds, cv, args.top)
    write_results(
        "tagging", results(bench, dtype, base_rows, predictions_current, grid, cv, args.top)
    )


if __name__ == "__main__":
    main()
