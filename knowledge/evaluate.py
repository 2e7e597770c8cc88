"""Retrieval evaluation: hit@1, hit@5, MRR and domain accuracy over a JSONL question set."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from knowledge.types import Hit


@dataclass
class EvalItem:
    id: str
    q: str
    domains: list[int]
    hits: list[str]


@dataclass
class EvalResult:
    hit_at_1: float
    hit_at_5: float
    mrr: float
    domain_accuracy: float
    n: int

    def to_dict(self) -> dict[str, float | int]:
        return {
            "hit_at_1": round(self.hit_at_1, 4),
            "hit_at_5": round(self.hit_at_5, 4),
            "mrr": round(self.mrr, 4),
            "domain_accuracy": round(self.domain_accuracy, 4),
            "n": self.n,
        }


def load_eval(path: Path) -> list[EvalItem]:
    """Read `{"id", "q", "domains", "hits"}` lines; a bad line names its number."""
    items = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            items.append(EvalItem(str(d["id"]), d["q"], [int(x) for x in d["domains"]], d["hits"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not an eval line ({exc})") from exc
    return items


def first_hit_rank(hits: list[Hit], wanted: list[str]) -> int | None:
    """1-based rank of the first hit whose source contains any wanted substring."""
    for rank, hit in enumerate(hits, start=1):
        if any(w in hit.source for w in wanted):
            return rank
    return None


def evaluate(
    items: list[EvalItem],
    search: Callable[[str], list[Hit]],
    primary_domain: Callable[[str, list[Hit]], int | None],
) -> EvalResult:
    """Score `search` (returning at least 5 hits) and the domain an answer would be tagged with."""
    h1 = h5 = rr = dom = 0.0
    for item in items:
        hits = search(item.q)
        rank = first_hit_rank(hits[:5], item.hits)
        if rank is not None:
            h5 += 1
            h1 += rank == 1
            rr += 1 / rank
        dom += primary_domain(item.q, hits) in item.domains
    n = len(items) or 1
    return EvalResult(h1 / n, h5 / n, rr / n, dom / n, len(items))
