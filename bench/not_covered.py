"""Calibrate the "not covered" threshold and report the decision's precision / recall.

Runs every question of tests/data/coverage_questions.jsonl (answerable and unanswerable,
off-topic and near-topic) through hybrid retrieval on a real store, scores it with
`AnswerGenerator.evidence` (knowledge/coverage.py; a name the store lacks scores 0), sweeps the
threshold and reports, for the decision "not covered": precision, recall and F1 at the best
threshold, plus a 5-fold cross-validated estimate (the threshold chosen on 4 folds, scored on
the fifth) so the figure is not fitted to its own data. (bench/coverage_calibration.py
calibrates the product's decision on the larger tests/data/answer_questions.jsonl.)

    STUDYBOT_DATA_DIR=/tmp/sb-cov .venv/bin/python bench/not_covered.py

The store should hold the study guide and the AWS guides (SageMaker, Firehose, Streams,
Comprehend):
    studybot ingest ../shared/corpus/study-guide.md ../shared/corpus/awsdocs/*/doc_source
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from knowledge.answer import AnswerGenerator  # noqa: E402
from knowledge.blueprint import load_blueprint  # noqa: E402
from knowledge.retrieve import Retriever  # noqa: E402
from knowledge.settings import Settings  # noqa: E402


def scores_at(threshold: float, rows: list[tuple[float, bool]]) -> tuple[float, float, float]:
    """Precision, recall, F1 of predicting "not covered" when coverage < threshold."""
    tp = sum(1 for s, ans in rows if s < threshold and not ans)
    fp = sum(1 for s, ans in rows if s < threshold and ans)
    fn = sum(1 for s, ans in rows if s >= threshold and not ans)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def best_threshold(rows: list[tuple[float, bool]]) -> float:
    candidates = sorted({round(s, 3) for s, _ in rows})
    grid = [c + 0.0005 for c in candidates]
    return max(grid, key=lambda t: (scores_at(t, rows)[2], -abs(t - 0.4)))


def main() -> None:
    settings = Settings()
    retriever = Retriever.from_settings(settings)
    generator = AnswerGenerator(settings, load_blueprint(settings.blueprint), None)
    items = [json.loads(x) for x in (REPO / "tests/data/coverage_questions.jsonl").open()]
    rows: list[tuple[float, bool]] = []
    detail = []
    for item in items:
        hits = retriever.search(item["q"], k=5)
        evidence = generator.evidence(item["q"], hits, retriever.lexical)
        score = 0.0 if evidence.missing_names else evidence.score
        rows.append((score, bool(item["answerable"])))
        detail.append(
            {
                "id": item["id"],
                "q": item["q"],
                "answerable": item["answerable"],
                "coverage": round(score, 4),
                "top": hits[0].source if hits else None,
            }
        )
    t = best_threshold(rows)
    p, r, f = scores_at(t, rows)
    current = settings.not_covered_threshold
    cp, cr, cf = scores_at(current, rows)
    rng = random.Random(7)
    order = list(range(len(rows)))
    rng.shuffle(order)
    folds = [order[i::5] for i in range(5)]
    predicted: list[tuple[bool, bool]] = []
    for fold in folds:
        train = [rows[i] for i in order if i not in fold]
        th = best_threshold(train)
        predicted += [(rows[i][0] < th, not rows[i][1]) for i in fold]
    tp = sum(1 for pr, neg in predicted if pr and neg)
    fp = sum(1 for pr, neg in predicted if pr and not neg)
    fn = sum(1 for pr, neg in predicted if not pr and neg)
    cv_p, cv_r = tp / max(1, tp + fp), tp / max(1, tp + fn)
    result = {
        "questions": len(rows),
        "answerable": sum(1 for _, a in rows if a),
        "best_threshold": round(t, 4),
        "at_best": {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3)},
        "configured_threshold": current,
        "at_configured": {"precision": round(cp, 3), "recall": round(cr, 3), "f1": round(cf, 3)},
        "cross_validated_5fold": {"precision": round(cv_p, 3), "recall": round(cv_r, 3)},
        "detail": detail,
    }
    out = REPO / "bench/results/not_covered.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "detail"}, indent=2))
    wrong = [d for d in detail if (d["coverage"] < t) == d["answerable"]]
    for d in wrong:
        print(f"  misjudged: cov={d['coverage']:.3f} answerable={d['answerable']} {d['q']}")


if __name__ == "__main__":
    main()
