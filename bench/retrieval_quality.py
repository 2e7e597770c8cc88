"""Retrieval quality: dense only vs BM25 only vs hybrid, and the chunk size that serves best.

Store: the study guide + the SageMaker developer guide (folder) + the Firehose developer guide
(folder), ingested with `build_pipeline` into /tmp/studybot-bench-<chunk_tokens> (built once per
chunk size and reused while its marker file exists; `--rebuild` forces a new build).

Questions: tests/data/retrieval_eval.jsonl ({id, q, domains, hits}); scored with
`knowledge.evaluate.evaluate`: hit@1, hit@5, MRR (first hit whose source contains a wanted
substring, in the top 5) and domain accuracy (primary domain of the answer:
`knowledge.answer.domain_tags(hits, blueprint)[0].id`, or the majority domain of the top-5
hits when knowledge/answer.py is absent).

Variants, all k=5 with the production cap of 2 chunks per source and a pool of 20:
* dense  - `retriever.store.query(embed_query(q), 20)`, ranked by cosine;
* bm25   - `retriever.lexical.search(q, 20)`, ranked by BM25;
* hybrid - `Retriever.search(q, k=5)` (reciprocal-rank fusion, the product path).

Run:
    .venv/bin/python bench/retrieval_quality.py                          # default chunk size
    .venv/bin/python bench/retrieval_quality.py --chunk-tokens 128,200,256   # pick a size

Each missing store takes ~10-20 min to build on 2 cores (run in the background).
Writes bench/results/retrieval_quality.json (one size) or
bench/results/retrieval_quality_chunk_sizes.json (several sizes).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    RETRIEVAL_EVAL,
    default_settings,
    ensure_corpus_store,
    make_settings,
    print_table,
    require_corpus,
    write_results,
)

K = 5
POOL = max(4 * K, 20)  # what Retriever.search uses for each side
PER_SOURCE = 2


def _hit(item, score: float, dense: float | None = None, lexical: float | None = None):
    from knowledge.retrieve import as_hit

    hit = as_hit(item, "mls-c01")
    hit.score, hit.dense_score, hit.lexical_score = score, dense, lexical
    return hit


def _capped(hits):
    from knowledge.retrieve import cap_per_source

    by_id = {h.id: h for h in hits}
    ids = cap_per_source([h.id for h in hits], {h.id: h.source for h in hits}, PER_SOURCE)
    return [by_id[i] for i in ids[:K]]


def make_searches(retriever):
    """name -> search(q) returning the top-5 hits."""

    def dense(q: str):
        vec = retriever.embeddings.embed_query(q)
        items = retriever.store.query(vec, POOL)
        return _capped([_hit(d, 1.0 - d.distance, dense=1.0 - d.distance) for d in items])

    def bm25(q: str):
        ranked = retriever.lexical.search(q, POOL)
        got = retriever.store.get([cid for cid, _ in ranked])
        return _capped([_hit(got[c], s, lexical=s) for c, s in ranked if c in got])

    def hybrid(q: str):
        return retriever.search(q, k=K, per_source=PER_SOURCE)

    return {"dense": dense, "bm25": bm25, "hybrid": hybrid}


def primary_domain_fn(blueprint):
    """How an answer's primary domain is chosen (the product's function when it exists)."""
    try:
        from knowledge.answer import domain_tags
    except ImportError:
        domain_tags = None

    def primary(question: str, hits) -> int | None:
        if domain_tags is not None:
            tags = domain_tags(hits, blueprint)
            return tags[0].id if tags else None
        votes = Counter(h.domain for h in hits[:K] if h.domain)
        return votes.most_common(1)[0][0] if votes else None

    method = "knowledge.answer.domain_tags" if domain_tags else "majority of top-5"
    return primary, method


def evaluate_size(chunk_tokens: int, dtype: str, rebuild: bool, items) -> dict:
    from knowledge.blueprint import load_blueprint
    from knowledge.embeddings import make_embeddings
    from knowledge.evaluate import evaluate, first_hit_rank
    from knowledge.retrieve import Retriever

    build = ensure_corpus_store(chunk_tokens, dtype, rebuild)
    settings = make_settings(
        Path(build["data_dir"]), chunk_tokens=chunk_tokens, embedding_dtype=dtype
    )
    retriever = Retriever(settings, make_embeddings(settings))
    retriever.refresh_lexical()
    blueprint = load_blueprint(settings.blueprint)
    primary, method = primary_domain_fn(blueprint)
    results = {}
    misses = {}
    for name, search in make_searches(retriever).items():
        results[name] = evaluate(items, search, primary).to_dict()
        misses[name] = [it.id for it in items if first_hit_rank(search(it.q)[:K], it.hits) is None]
    return {
        "chunk_tokens": chunk_tokens,
        "store": build,
        "chunks": retriever.store.count(),
        "domain_method": method,
        "metrics": results,
        "missed_at_5": misses,
    }


def print_size(res: dict) -> None:
    """One chunk size: hit@1, hit@5, MRR and domain accuracy per variant."""
    print_table(
        f"chunk_tokens={res['chunk_tokens']}: {res['chunks']} chunks, "
        f"{res['store']['pages']} pages (domain via {res['domain_method']})",
        ["variant", "hit@1", "hit@5", "MRR", "domain acc", "n"],
        [
            (name, m["hit_at_1"], m["hit_at_5"], m["mrr"], m["domain_accuracy"], m["n"])
            for name, m in res["metrics"].items()
        ],
    )


def print_hybrid_by_size(per_size: list[dict]) -> None:
    print_table(
        "Hybrid by chunk size",
        ["chunk_tokens", "chunks", "hit@1", "hit@5", "MRR", "domain acc", "build s (shared CPU)"],
        [
            (
                r["chunk_tokens"],
                r["chunks"],
                r["metrics"]["hybrid"]["hit_at_1"],
                r["metrics"]["hybrid"]["hit_at_5"],
                r["metrics"]["hybrid"]["mrr"],
                r["metrics"]["hybrid"]["domain_accuracy"],
                r["store"]["seconds"],
            )
            for r in per_size
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--chunk-tokens", default=None, help="comma-separated sizes (default: the Settings default)"
    )
    parser.add_argument("--dtype", choices=["fp32", "bf16"], default=None)
    parser.add_argument("--eval", type=Path, default=RETRIEVAL_EVAL)
    parser.add_argument("--rebuild", action="store_true", help="rebuild cached stores")
    args = parser.parse_args()
    require_corpus()

    from knowledge.evaluate import load_eval

    defaults = default_settings()
    sizes = (
        [int(x) for x in args.chunk_tokens.split(",")]
        if args.chunk_tokens
        else [defaults.chunk_tokens]
    )
    dtype = args.dtype or defaults.embedding_dtype
    if not args.eval.exists():
        sys.exit(f"{args.eval} does not exist yet")
    items = load_eval(args.eval)
    print(f"{len(items)} questions from {args.eval.name}; chunk sizes {sizes}; {dtype}", flush=True)

    per_size = []
    for size in sizes:
        per_size.append(evaluate_size(size, dtype, args.rebuild, items))
        print_size(per_size[-1])
    if len(per_size) > 1:
        print_hybrid_by_size(per_size)
    best = max(
        per_size, key=lambda r: (r["metrics"]["hybrid"]["hit_at_5"], r["metrics"]["hybrid"]["mrr"])
    )
    write_results(
        "retrieval_quality" if len(per_size) == 1 else "retrieval_quality_chunk_sizes",
        {
            "questions": len(items),
            "dtype": dtype,
            "k": K,
            "pool": POOL,
            "per_source": PER_SOURCE,
            "sizes": per_size,
            "hybrid_hit_at_5_by_size": {
                r["chunk_tokens"]: r["metrics"]["hybrid"]["hit_at_5"] for r in per_size
            },
            "best_chunk_tokens": best["chunk_tokens"] if len(per_size) > 1 else None,
        },
    )


if __name__ == "__main__":
    main()
