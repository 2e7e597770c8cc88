"""Retrieval latency at 10k and 100k chunks (target: p95 <= 40 ms).

Measures `Retriever.search(q, k=5)` end to end (query embedding, Chroma query, BM25, fusion,
fetching lexical-only hits) over 200 varied queries after 10 warm-ups, `--passes` times
(median of the per-pass p50/p95), plus each component alone: `embed_query`, `store.query`
(pool 20), `lexical.search` (pool 20), the `store.get(..., with_vectors=True)` of hits only
BM25 found, and `store.count()` (which `KnowledgeStore.query` called per query before f2dbd9b:
~14 ms at 100k chunks).

Stand-in stores, built directly (the embedding model never runs over the store):
* 10k: real SageMaker-guide chunks with their real vectors and tags, copied from the cached
  evaluation store /tmp/studybot-bench-200 (built by bench/retrieval_quality.py on first use);
* 100k: all real SageMaker chunks plus replicas: text with ~10 % of words dropped and a few
  neighbours swapped, vector = real vector + Gaussian noise (sigma 0.0125, cosine ~0.97 to the
  original), re-normalised; each replica set gets its own source ("...#copyN") so the
  per-source cap behaves as with more pages.
Chunks go in through `KnowledgeStore.add` in batches of 5,000, then the generation is bumped
and `LexicalIndex.rebuild` runs, as after an ingest. Each store lives in a fresh temp dir.

Queries (seeded): the retrieval-eval questions, heading paths, 6-14 word spans and 1-3 keyword
queries drawn from random chunks (no corpus text is written to the results).

Run:
    .venv/bin/python bench/retrieval.py [--sizes 10000,100000] [--passes 3] [--dtype fp32|bf16]

Writes bench/results/retrieval.json.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    RETRIEVAL_EVAL,
    default_settings,
    ensure_corpus_store,
    fresh_data_dir,
    latency_summary,
    make_settings,
    median,
    peak_rss_mb,
    print_table,
    require_corpus,
    write_results,
)

P95_TARGET_MS = 40.0
BATCH = 5000
NOISE_SIGMA = 0.0125
SOURCE_CHUNK_TOKENS = 200


def load_real_chunks(chunk_tokens: int, dtype: str) -> list[dict]:
    """Every SageMaker chunk of the cached evaluation store, with its vector."""
    import numpy as np

    from knowledge.embeddings import make_embeddings, model_id_of
    from knowledge.store import KnowledgeStore

    build = ensure_corpus_store(chunk_tokens, dtype)
    settings = make_settings(Path(build["data_dir"]), chunk_tokens=chunk_tokens)
    store = KnowledgeStore(settings, model_id_of(make_embeddings(settings)))
    col = store._get_collection(create=False)
    out: list[dict] = []
    offset = 0
    while True:
        got = col.get(include=["documents", "metadatas", "embeddings"], limit=BATCH, offset=offset)
        if not got["ids"]:
            break
        for cid, doc, meta, vec in zip(
            got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True
        ):
            if "sagemaker-developer-guide" in str(meta.get("source", "")):
                out.append(
                    {"id": cid, "text": doc, "meta": meta, "vec": np.asarray(vec, "float32")}
                )
        offset += len(got["ids"])
    out.sort(key=lambda c: (c["meta"]["source"], c["meta"]["position"]))
    return out


def _chunk(cid: str, text: str, meta: dict, source: str):
    from knowledge.types import Chunk

    path = [p for p in str(meta.get("title_path", "")).split(" > ") if p]
    return Chunk(
        id=cid,
        text=text,
        source=source,
        title=str(meta.get("title", "")),
        title_path=path,
        position=int(meta.get("position", 0)),
        content_hash=str(meta.get("content_hash", "")),
        blueprint=str(meta.get("blueprint", "")),
        domain=int(meta.get("domain", 0)),
        objective=str(meta.get("objective", "")),
        tag_confidence=float(meta.get("tag_confidence", 0.0)),
    )


def _perturb_text(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    kept = [w for w in words if rng.random() > 0.10] or words
    for _ in range(max(1, len(kept) // 50)):
        i = rng.randrange(len(kept))
        j = min(len(kept) - 1, i + 1)
        kept[i], kept[j] = kept[j], kept[i]
    return " ".join(kept)


def synthetic_chunks(real: list[dict], n: int, seed: int = 7):
    """Yield (Chunk, vector) pairs: all real chunks first, then perturbed replicas up to n."""
    import numpy as np

    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    made = 0
    copy = 0
    while made < n:
        for c in real:
            if made >= n:
                return
            meta = c["meta"]
            if copy == 0:
                yield _chunk(c["id"], c["text"], meta, meta["source"]), c["vec"]
            else:
                vec = c["vec"] + nrng.normal(0.0, NOISE_SIGMA, c["vec"].shape).astype("float32")
                vec /= np.linalg.norm(vec)
                text = _perturb_text(c["text"], rng)
                src = f"{meta['source']}#copy{copy}"
                yield _chunk(f"{c['id'][:24]}c{copy:07d}", text, meta, src), vec
            made += 1
        copy += 1


def build_store(real: list[dict], n: int, dtype: str):
    """A fresh data dir holding n chunks (real first, then replicas) and its BM25 index."""
    from knowledge.embeddings import make_embeddings, model_id_of
    from knowledge.lexical import LexicalIndex
    from knowledge.store import KnowledgeStore

    data_dir = fresh_data_dir(f"retrieval{n}")
    settings = make_settings(data_dir, chunk_tokens=SOURCE_CHUNK_TOKENS, embedding_dtype=dtype)
    embeddings = make_embeddings(settings)
    store = KnowledgeStore(settings, model_id_of(embeddings))
    t0 = time.perf_counter()
    chunks, vectors = [], []
    source = real if n >= len(real) else random.Random(n).sample(real, n)
    for chunk, vec in synthetic_chunks(source, n):
        chunks.append(chunk)
        vectors.append(vec.tolist())
        if len(chunks) == BATCH:
            store.add(chunks, vectors)
            chunks, vectors = [], []
    store.add(chunks, vectors)
    add_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    generation = store.bump_generation()
    LexicalIndex(settings.lexical_dir).rebuild(store, generation)
    bm25_seconds = time.perf_counter() - t0
    return (
        settings,
        embeddings,
        store,
        {
            "data_dir": str(data_dir),
            "chunks": store.count(),
            "real_chunks": min(n, len(real)),
            "add_seconds": round(add_seconds, 1),
            "bm25_rebuild_seconds": round(bm25_seconds, 1),
        },
    )


def make_queries(real: list[dict], n: int, seed: int = 11) -> list[str]:
    """Varied queries: eval questions, heading paths, text spans and keyword queries."""
    from knowledge.lexical import tokenize

    rng = random.Random(seed)
    queries: list[str] = []
    if RETRIEVAL_EVAL.exists():
        for line in RETRIEVAL_EVAL.read_text(encoding="utf-8").splitlines():
            if line.strip():
                queries.append(json.loads(line)["q"])
    rng.shuffle(queries)
    queries = queries[: n * 2 // 5]
    kinds = ["heading", "span", "keywords"]
    while len(queries) < n:
        c = rng.choice(real)
        kind = kinds[len(queries) % 3]
        words = c["text"].split()
        if kind == "heading" and c["meta"].get("title_path"):
            queries.append(str(c["meta"]["title_path"]).split(" > ")[-1])
        elif kind == "span" and len(words) > 16:
            size = rng.randint(6, 14)
            start = rng.randrange(len(words) - size)
            queries.append(" ".join(words[start : start + size]))
        else:
            toks = [t for t in tokenize(c["text"]) if len(t) > 3]
            if toks:
                queries.append(" ".join(rng.sample(toks, min(len(toks), rng.randint(1, 3)))))
    rng.shuffle(queries)
    return queries[:n]


def measure(settings, embeddings, store, queries, warmup: list[str], passes: int) -> dict:
    import numpy as np

    from knowledge.retrieve import Retriever

    retriever = Retriever(settings, embeddings, store)
    for q in warmup:
        retriever.search(q, k=5)
    end_to_end = []
    for _ in range(passes):
        seconds = []
        for q in queries:
            t0 = time.perf_counter()
            retriever.search(q, k=5)
            seconds.append(time.perf_counter() - t0)
        end_to_end.append(latency_summary(seconds))
    comp: dict[str, list[float]] = {
        "embed_query": [],
        "chroma_query": [],  # KnowledgeStore.query
        # Not on the query path since f2dbd9b; kept to show what a per-query count() costs.
        "store.count()": [],
        "bm25_search": [],
        "get_lexical_only": [],  # store.get(ids only BM25 found, with vectors)
    }
    for q in queries:
        t0 = time.perf_counter()
        vec = np.asarray(embeddings.embed_query(q), "float32").tolist()
        t1 = time.perf_counter()
        dense = store.query(vec, 20)
        t2 = time.perf_counter()
        lexical = retriever.lexical.search(q, 20)
        t3 = time.perf_counter()
        dense_ids = {d.id for d in dense}
        missing = [cid for cid, _ in lexical if cid not in dense_ids]
        store.get(missing, with_vectors=True)
        t4 = time.perf_counter()
        store.count()
        t5 = time.perf_counter()
        comp["embed_query"].append(t1 - t0)
        comp["chroma_query"].append(t2 - t1)
        comp["bm25_search"].append(t3 - t2)
        comp["get_lexical_only"].append(t4 - t3)
        comp["store.count()"].append(t5 - t4)
    return {
        "passes": end_to_end,
        "p50_ms": round(median([p["p50_ms"] for p in end_to_end]), 2),
        "p95_ms": round(median([p["p95_ms"] for p in end_to_end]), 2),
        "components": {k: latency_summary(v) for k, v in comp.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--dtype", choices=["fp32", "bf16"], default=None)
    parser.add_argument("--keep", action="store_true", help="keep the stand-in stores")
    args = parser.parse_args()
    require_corpus()
    dtype = args.dtype or default_settings().embedding_dtype
    sizes = [int(s) for s in args.sizes.split(",")]

    # The cached evaluation store is built with the default dtype (as retrieval_quality.py does).
    real = load_real_chunks(SOURCE_CHUNK_TOKENS, default_settings().embedding_dtype)
    print(f"{len(real)} real SageMaker chunks with vectors; query embedding {dtype}", flush=True)
    queries = make_queries(real, args.queries + args.warmup)
    warmup, queries = queries[: args.warmup], queries[args.warmup :]

    results = {}
    for n in sizes:
        print(f"building a {n:,}-chunk store ...", flush=True)
        settings, embeddings, store, build = build_store(real, n, dtype)
        print(f"  {build}", flush=True)
        res = measure(settings, embeddings, store, queries, warmup, args.passes)
        res["store"] = build
        results[n] = res
        print(f"  end to end p50 {res['p50_ms']:.1f} ms, p95 {res['p95_ms']:.1f} ms", flush=True)
        del store, embeddings
        if not args.keep:
            shutil.rmtree(settings.data_dir, ignore_errors=True)

    print_table(
        f"Retriever.search end to end ({len(queries)} queries x {args.passes} passes, k=5, "
        f"{dtype} query embedding; median of per-pass values)",
        ["chunks", "p50 ms", "p95 ms", "per-pass p95 ms", f"p95 <= {P95_TARGET_MS:g}"],
        [
            (
                f"{r['store']['chunks']:,}",
                r["p50_ms"],
                r["p95_ms"],
                ", ".join(f"{p['p95_ms']:.1f}" for p in r["passes"]),
                r["p95_ms"] <= P95_TARGET_MS,
            )
            for r in results.values()
        ],
    )
    for r in results.values():
        print_table(
            f"Components at {r['store']['chunks']:,} chunks (one pass, ms)",
            ["component", "p50", "p95", "mean"],
            [(k, v["p50_ms"], v["p95_ms"], v["mean_ms"]) for k, v in r["components"].items()],
        )
    write_results(
        "retrieval",
        {
            "dtype": dtype,
            "queries": len(queries),
            "warmup": len(warmup),
            "passes": args.passes,
            "k": 5,
            "p95_target_ms": P95_TARGET_MS,
            "sizes": {str(n): r for n, r in results.items()},
            "p95_ok": {str(n): r["p95_ms"] <= P95_TARGET_MS for n, r in results.items()},
            "peak_rss": peak_rss_mb(),
        },
    )


if __name__ == "__main__":
    main()
