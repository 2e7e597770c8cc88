"""hit@1, hit@5, MRR and domain accuracy for dense only, BM25 only and hybrid retrieval.

Runs tests/data/retrieval_eval.jsonl against the store in STUDYBOT_DATA_DIR (built from the
study guide and the AWS guides), each mode with the same per-source cap (2) and the same
domain tagging as answers (`knowledge.answer.domain_tags`):

    STUDYBOT_DATA_DIR=/tmp/sb-cov .venv/bin/python bench/retrieval_modes.py

Writes bench/results/retrieval_quality_sb_cov.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from knowledge.answer import domain_tags  # noqa: E402
from knowledge.blueprint import load_blueprint  # noqa: E402
from knowledge.evaluate import evaluate, load_eval  # noqa: E402
from knowledge.retrieve import Retriever, cap_per_source  # noqa: E402
from knowledge.settings import Settings  # noqa: E402
from knowledge.types import Hit  # noqa: E402


def main() -> None:
    retriever = Retriever.from_settings(Settings())
    blueprint = load_blueprint()
    retriever.refresh_lexical()
    items = load_eval(REPO / "tests/data/retrieval_eval.jsonl")

    def as_hits(ids: list[str]) -> list[Hit]:
        got = retriever.store.get(ids)
        sources = {i: got[i].metadata["source"] for i in ids if i in got}
        hits = []
        for cid in cap_per_source([i for i in ids if i in got], sources, 2)[:5]:
            m = got[cid].metadata
            hits.append(
                Hit(
                    cid,
                    got[cid].text,
                    m["source"],
                    m.get("title", ""),
                    m.get("title_path", ""),
                    int(m["domain"]),
                    m["objective"],
                    1.0,
                )
            )
        return hits

    def dense(q: str) -> list[Hit]:
        return as_hits(
            [x.id for x in retriever.store.query(retriever.embeddings.embed_query(q), 20)]
        )

    def lexical(q: str) -> list[Hit]:
        return as_hits([cid for cid, _ in retriever.lexical.search(q, 40)])

    def hybrid(q: str) -> list[Hit]:
        return retriever.search(q, k=5)

    def primary(q: str, hits: list[Hit]) -> int | None:
        tags = domain_tags(hits, blueprint)
        return tags[0].id if tags else None

    out = {}
    for name, fn in [("dense", dense), ("bm25", lexical), ("hybrid", hybrid)]:
        out[name] = evaluate(items, fn, primary).to_dict()
        print(name, out[name], flush=True)
    (REPO / "bench/results/retrieval_quality_sb_cov.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
