"""fp32, bf16 and auto for the bundled all-MiniLM-L6-v2, under each instruction-set limit.

One run measures, for each limit in `bench.common.ISA_LIMITS` (this CPU as it is, and limited
to AVX2 with ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2), in a fresh subprocess:

* what the CPU offers (ATen capability, native bf16 flags) and the precision `auto` chooses,
  with the reason and how long the decision took (`knowledge.precision`);
* the probe itself, forced even where `auto` skips it (no native bf16): its duration, both
  speeds and the branch it would take (models loaded before, so load time is not counted);
* throughput (chunks/s) of `LocalEmbeddings(dtype).embed_documents` for fp32, bf16 and auto on
  N real SageMaker-guide chunks (pipeline chunker, default Settings), median of `--repeats`
  interleaved runs after a warm-up; cosine between the bf16 and fp32 vectors (mean, p1, min);
* the check: auto at most 10 % slower than the faster of fp32 and bf16.

Run:
    .venv/bin/python bench/embedding_dtype.py [--chunks 200] [--repeats 3]

Writes bench/results/embedding_dtype.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    ISA_LIMITS,
    SAGEMAKER_DOCS,
    auto_check,
    cpu_report,
    default_settings,
    median,
    peak_rss_mb,
    percentile,
    prepare_chunks,
    print_table,
    probe_dict,
    require_corpus,
    run_worker,
    sorted_pages,
    write_results,
)

DTYPES = ("fp32", "bf16", "auto")


def forced_probe() -> dict:
    """The probe run whatever the CPU flags say, on loaded and warmed models."""
    from knowledge import embeddings, precision

    for dtype in ("fp32", "bf16"):
        embeddings._probe_encode(dtype, precision.PROBE_TEXTS)  # load + warm, untimed
    result = precision.probe(embeddings._probe_encode)
    dtype, reason = precision.decide(result)
    return {**probe_dict(result), "would_choose": dtype, "reason": reason}


def throughput(texts: list[str], repeats: int, batch_size: int) -> tuple[dict, dict]:
    """Per-dtype chunks/s of every run (interleaved, rotating order) and the vectors."""
    import numpy as np

    from knowledge.embeddings import LocalEmbeddings

    models = {d: LocalEmbeddings(dtype=d, batch_size=batch_size) for d in DTYPES}
    for emb in models.values():  # load + warm up (first calls pay for kernel selection)
        emb.embed_documents(texts[:64])
    runs: dict[str, list[float]] = {d: [] for d in DTYPES}
    vectors: dict[str, np.ndarray] = {}
    for r in range(repeats):
        order = DTYPES[r % 3 :] + DTYPES[: r % 3]
        for dtype in order:
            t0 = time.perf_counter()
            out = models[dtype].embed_documents(texts)
            rate = len(texts) / (time.perf_counter() - t0)
            runs[dtype].append(rate)
            vectors.setdefault(dtype, np.asarray(out, "float32"))
            print(f"  run {r + 1}/{repeats} {dtype}: {rate:.1f} chunks/s", flush=True)
    return runs, vectors


def worker(args) -> None:
    """One limit's measurements (this process runs under the limit's environment)."""
    import numpy as np

    from knowledge.embeddings import count_tokens

    report = cpu_report()  # first: `auto` decides before anything else loads a model
    print(f"  auto -> {report['auto_choice']} ({report['auto_reason']})", flush=True)
    settings = default_settings()
    prepared = prepare_chunks(sorted_pages(SAGEMAKER_DOCS), settings, limit=args.chunks)
    texts = [p.embed_text for p in prepared]
    probe = forced_probe()
    print(f"  forced probe: {probe}", flush=True)
    runs, vectors = throughput(texts, args.repeats, args.batch_size)
    a, b = vectors["fp32"], vectors["bf16"]
    cos = (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    rates = {d: round(median(v), 2) for d, v in runs.items()}
    result = {
        **report,
        "forced_probe": probe,
        "chunks": len(texts),
        "mean_word_pieces": round(float(np.mean([count_tokens(t) for t in texts])), 1),
        "chunks_per_second": rates,
        "runs_chunks_per_second": {d: [round(x, 2) for x in v] for d, v in runs.items()},
        "bf16_speedup": round(rates["bf16"] / rates["fp32"], 3),
        "cosine": {
            "mean": round(float(cos.mean()), 6),
            "p1": round(percentile(cos.tolist(), 1), 6),
            "min": round(float(cos.min()), 6),
        },
        **auto_check(rates),
        "peak_rss": peak_rss_mb(),
    }
    Path(args.worker).write_text(json.dumps(result))


def report(args, results: list[dict]) -> None:
    print_table(
        f"Embedding precision ({results[0]['chunks']} SageMaker chunks, median chunks/s of "
        f"{args.repeats})",
        ["limit", "ATen", "native bf16", "auto", "fp32", "bf16", "auto /s", "auto/best"],
        [
            (
                r["limit"],
                r["aten_capability"],
                r["native_bf16"],
                r["auto_choice"],
                r["chunks_per_second"]["fp32"],
                r["chunks_per_second"]["bf16"],
                r["chunks_per_second"]["auto"],
                r["auto_vs_best"],
            )
            for r in results
        ],
    )
    print_table(
        "Probe (forced; models loaded) and agreement",
        ["limit", "probe s", "rounds", "fp32/s", "bf16/s", "would choose", "cos min"],
        [
            (
                r["limit"],
                r["forced_probe"]["seconds"],
                r["forced_probe"]["rounds"],
                r["forced_probe"]["fp32_texts_per_second"],
                r["forced_probe"]["bf16_texts_per_second"],
                r["forced_probe"]["would_choose"],
                r["cosine"]["min"],
            )
            for r in results
        ],
    )
    ok = all(r["auto_ok"] for r in results)
    print(f"\nauto never more than 10 % slower than the faster precision: {'yes' if ok else 'NO'}")
    write_results(
        "embedding_dtype",
        {
            "chunks": results[0]["chunks"],
            "batch_size": args.batch_size,
            "repeats": args.repeats,
            "rule": "auto: fp32 without native bf16; else bf16 only if the probe finds it "
            ">= 1.05x faster at min cosine >= 0.999",
            "chosen_precision": {r["limit"]: r["auto_choice"] for r in results},
            "auto_never_10pct_slower": ok,
            "limits": results,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64, help="model batch (LocalEmbeddings)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # internal: JSON output path
    args = parser.parse_args()
    require_corpus()
    if args.worker:
        worker(args)
        return
    passed = ["--chunks", str(args.chunks), "--repeats", str(args.repeats)]
    passed += ["--batch-size", str(args.batch_size)]
    results = [run_worker(Path(__file__), passed, limit) for limit in ISA_LIMITS]
    report(args, results)


if __name__ == "__main__":
    main()
