"""bf16 vs fp32 for the bundled all-MiniLM-L6-v2 on this CPU.

Measures, on N real SageMaker-guide chunks (default 1,000; chunked by the pipeline's own
chunker with the default Settings, embedded with the pipeline's embedding texts):

* throughput (chunks/s) of `LocalEmbeddings(dtype).embed_documents` for fp32 and bf16, median of
  `--repeats` timed runs each (dtypes interleaved, order alternating, after a warm-up);
* agreement: cosine between the bf16 and fp32 vector of every chunk (mean, p1, min).

Decision rule (Settings.embedding_dtype): use bf16 only if it is faster AND min cosine >= 0.999.

Run:
    .venv/bin/python bench/embedding_dtype.py [--chunks 1000] [--repeats 3]

Writes bench/results/embedding_dtype.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    SAGEMAKER_DOCS,
    default_settings,
    median,
    peak_rss_mb,
    percentile,
    prepare_chunks,
    print_table,
    require_corpus,
    sorted_pages,
    write_results,
)

MIN_COSINE = 0.999


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64, help="model batch (LocalEmbeddings)")
    args = parser.parse_args()
    require_corpus()

    import numpy as np

    from knowledge.embeddings import LocalEmbeddings, count_tokens

    settings = default_settings()
    prepared = prepare_chunks(sorted_pages(SAGEMAKER_DOCS), settings, limit=args.chunks)
    texts = [p.embed_text for p in prepared]
    tokens = [count_tokens(t) for t in texts]
    print(
        f"{len(texts)} chunks from the SageMaker guide, mean {np.mean(tokens):.0f} word pieces "
        f"(chunk_tokens={settings.chunk_tokens})",
        flush=True,
    )

    models = {d: LocalEmbeddings(dtype=d, batch_size=args.batch_size) for d in ("fp32", "bf16")}
    for emb in models.values():  # load + warm up (first calls pay for kernel selection)
        emb.embed_documents(texts[:64])

    runs: dict[str, list[float]] = {"fp32": [], "bf16": []}
    vectors: dict[str, np.ndarray] = {}
    for r in range(args.repeats):
        order = ("fp32", "bf16") if r % 2 == 0 else ("bf16", "fp32")
        for dtype in order:
            t0 = time.perf_counter()
            out = models[dtype].embed_documents(texts)
            seconds = time.perf_counter() - t0
            runs[dtype].append(len(texts) / seconds)
            vectors.setdefault(dtype, np.asarray(out, "float32"))
            print(
                f"  run {r + 1}/{args.repeats} {dtype}: {len(texts) / seconds:.1f} chunks/s",
                flush=True,
            )

    a, b = vectors["fp32"], vectors["bf16"]
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    cos = (a * b).sum(axis=1)
    fp_rate, bf_rate = median(runs["fp32"]), median(runs["bf16"])
    # Same-repeat ratios are less exposed to load from other processes than the medians.
    paired = [b / f for f, b in zip(runs["fp32"], runs["bf16"], strict=True)]
    faster = bf_rate > fp_rate and median(paired) > 1.0
    cos_ok = float(cos.min()) >= MIN_COSINE
    use = "bf16" if faster and cos_ok else "fp32"

    print_table(
        "Embedding dtype (median chunks/s)",
        ["dtype", "chunks/s", "runs"],
        [(d, median(v), ", ".join(f"{x:.1f}" for x in v)) for d, v in runs.items()],
    )
    print_table(
        "bf16 vs fp32 agreement",
        ["metric", "value"],
        [
            ("bf16 speed-up (medians)", f"{bf_rate / fp_rate:.2f}x"),
            ("bf16 speed-up (paired runs)", ", ".join(f"{x:.2f}x" for x in paired)),
            ("cosine mean", f"{cos.mean():.6f}"),
            ("cosine p1", f"{percentile(cos.tolist(), 1):.6f}"),
            ("cosine min", f"{cos.min():.6f}"),
            (f"min cosine >= {MIN_COSINE}", cos_ok),
            ("bf16 faster", faster),
            ("use", use),
        ],
    )
    write_results(
        "embedding_dtype",
        {
            "chunks": len(texts),
            "chunk_tokens": settings.chunk_tokens,
            "mean_word_pieces": round(float(np.mean(tokens)), 1),
            "batch_size": args.batch_size,
            "repeats": args.repeats,
            "chunks_per_second": {d: round(median(v), 2) for d, v in runs.items()},
            "runs_chunks_per_second": {d: [round(x, 2) for x in v] for d, v in runs.items()},
            "bf16_speedup": round(bf_rate / fp_rate, 3),
            "bf16_speedup_paired": [round(x, 3) for x in paired],
            "cosine": {
                "mean": round(float(cos.mean()), 6),
                "p1": round(percentile(cos.tolist(), 1), 6),
                "min": round(float(cos.min()), 6),
                "below_threshold": int((cos < MIN_COSINE).sum()),
            },
            "rule": f"bf16 only if faster AND min cosine >= {MIN_COSINE}",
            "bf16_faster": faster,
            "min_cosine_ok": cos_ok,
            "recommendation": use,
            "peak_rss": peak_rss_mb(),
        },
    )


if __name__ == "__main__":
    main()
