"""Calibrate the coverage decision (knowledge/coverage.py), cross-validated.

For every question of tests/data/answer_questions.jsonl on every store it applies to (see
bench/answers.py), retrieval runs once and the evidence is recorded: the weighted share of the
question's terms in the best passage item(s), the best dense cosine, and the names the
material never mentions. Then, on the ``dev`` split only, a grid over the dense weight and the
threshold is scored by 5-fold cross-validation (chosen on four folds, counted on the fifth);
the ``heldout`` split is scored once with the values chosen on all of ``dev``. Both error
kinds are reported: covered questions refused, and unanswerable questions answered.

    .venv/bin/python bench/coverage_calibration.py [full,guide,notes]

writes bench/results/coverage_calibration.json.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.answer_stores import STORES, ensure_store  # noqa: E402
from bench.answers import applies, load_questions  # noqa: E402
from bench.common import make_settings, write_results  # noqa: E402

DENSE_WEIGHTS = [round(0.05 * n, 2) for n in range(0, 11)]
FOLDS = 5


@dataclass
class Row:
    store: str
    id: str
    split: str
    covered: bool
    share: float
    dense: float
    vetoed: bool
    exam: bool  # answered from the blueprint whatever the score (unless vetoed)

    def score(self, dense_weight: float) -> float:
        return (1 - dense_weight) * self.share + dense_weight * self.dense

    def answered(self, dense_weight: float, threshold: float) -> bool:
        if self.vetoed:
            return False
        return self.exam or self.score(dense_weight) >= threshold


def collect(store: str, items: list[dict]) -> list[Row]:
    from bot.service import TOP_K
    from knowledge.answer import AnswerGenerator
    from knowledge.blueprint import load_blueprint
    from knowledge.exam import exam_question
    from knowledge.retrieve import Retriever

    settings = make_settings(Path(ensure_store(store)["data_dir"]))
    retriever = Retriever.from_settings(settings)
    generator = AnswerGenerator(settings, load_blueprint(settings.blueprint), None)
    rows = []
    for item in (i for i in items if applies(i, store)):
        hits = retriever.search(item["q"], k=TOP_K)
        evidence = generator.evidence(item["q"], hits, retriever.lexical)
        rows.append(
            Row(
                store,
                item["id"],
                item["split"],
                bool(item["covered"]),
                evidence.share,
                evidence.dense or 0.0,
                bool(evidence.missing_names),
                exam_question(item["q"], generator.blueprint) is not None,
            )
        )
    return rows


def errors(rows: list[Row], weight: float, threshold: float) -> tuple[int, int]:
    """(covered questions refused, unanswerable questions answered)."""
    refused = sum(1 for r in rows if r.covered and not r.answered(weight, threshold))
    answered = sum(1 for r in rows if not r.covered and r.answered(weight, threshold))
    return refused, answered


def choose(rows: list[Row]) -> tuple[float, float]:
    """The (dense weight, threshold) with the fewest errors; a covered question refused counts
    double (a false "not covered" costs the learner more than an extra answer). Ties go to
    the weight nearest 0.3 and the threshold nearest 0.5."""
    best_key: tuple[float, float, float] | None = None
    best = (0.3, 0.5)
    for weight in DENSE_WEIGHTS:
        scores = sorted({round(r.score(weight), 4) for r in rows})
        cuts = [(a + b) / 2 for a, b in zip(scores, scores[1:], strict=False)] or [0.5]
        for threshold in cuts:
            refused, answered = errors(rows, weight, threshold)
            key = (2 * refused + answered, abs(weight - 0.3), abs(threshold - 0.5))
            if best_key is None or key < best_key:
                best_key, best = key, (weight, threshold)
    return best


def rates(rows: list[Row], weight: float, threshold: float) -> dict:
    covered = sum(r.covered for r in rows)
    uncovered = len(rows) - covered
    refused, answered = errors(rows, weight, threshold)
    return {
        "pairs": len(rows),
        "answered_when_covered": round(1 - refused / covered, 4) if covered else None,
        "refused_when_not_covered": round(1 - answered / uncovered, 4) if uncovered else None,
        "covered_refused": refused,
        "unanswerable_answered": answered,
    }


def cross_validate(dev: list[Row]) -> dict:
    """5-fold CV over questions (all stores of one question stay in one fold)."""
    ids = sorted({r.id for r in dev})
    random.Random(7).shuffle(ids)
    fold_of = {qid: n % FOLDS for n, qid in enumerate(ids)}
    refused = answered = 0
    chosen = []
    for fold in range(FOLDS):
        train = [r for r in dev if fold_of[r.id] != fold]
        test = [r for r in dev if fold_of[r.id] == fold]
        weight, threshold = choose(train)
        chosen.append({"dense_weight": weight, "threshold": round(threshold, 4)})
        r, a = errors(test, weight, threshold)
        refused, answered = refused + r, answered + a
    covered = sum(r.covered for r in dev)
    uncovered = len(dev) - covered
    return {
        "answered_when_covered": round(1 - refused / covered, 4),
        "refused_when_not_covered": round(1 - answered / uncovered, 4),
        "covered_refused": refused,
        "unanswerable_answered": answered,
        "per_fold_choice": chosen,
    }


def main() -> None:
    stores = sys.argv[1].split(",") if len(sys.argv) > 1 else list(STORES)
    items = load_questions()
    rows = [row for store in stores for row in collect(store, items)]
    dev = [r for r in rows if r.split == "dev"]
    heldout = [r for r in rows if r.split == "heldout"]
    weight, threshold = choose(dev)
    from knowledge.answer import LLM_THRESHOLD_FACTOR

    covered_scores = [r.score(weight) for r in rows if r.covered and not r.vetoed and not r.exam]
    llm_bar = LLM_THRESHOLD_FACTOR * threshold
    result = {
        "chosen_on_dev": {"dense_weight": weight, "threshold": round(threshold, 4)},
        "llm_mode": {
            "asks_the_model_from": round(llm_bar, 4),
            "lowest_covered_score": round(min(covered_scores), 4),
            "covered_below_the_llm_bar": sum(s < llm_bar for s in covered_scores),
        },
        "dev_cross_validated": cross_validate(dev),
        "dev_at_chosen": rates(dev, weight, threshold),
        "heldout_at_chosen": rates(heldout, weight, threshold),
        "per_store_heldout": {
            s: rates([r for r in heldout if r.store == s], weight, threshold) for s in stores
        },
        "misjudged": [
            {
                "store": r.store,
                "id": r.id,
                "split": r.split,
                "covered": r.covered,
                "score": round(r.score(weight), 4),
                "share": round(r.share, 4),
                "dense": round(r.dense, 4),
                "vetoed": r.vetoed,
            }
            for r in rows
            if r.covered != r.answered(weight, threshold)
        ],
    }
    result["score_table"] = [
        {"store": r.store, "id": r.id, "covered": r.covered, "score": round(r.score(weight), 4)}
        for r in sorted(rows, key=lambda r: r.score(weight))
    ]
    write_results("coverage_calibration", result)
    shown = {k: v for k, v in result.items() if k not in ("misjudged", "score_table")}
    print(json.dumps(shown, indent=1))


if __name__ == "__main__":
    main()
