"""Ingest throughput and footprint.

(a) default: the first 300 SageMaker-guide pages (sorted file names) go through
    `ingest.job.build_pipeline(...).run(...)` into a fresh data dir. In the same process and on
    the same model object, the same embedding texts in the same batches are embedded with
    `LocalEmbeddings.embed_documents` before the ingest (batches predicted from the chunker)
    and after it (batches recorded from `IngestPipeline._flush`), after one untimed warm-up pass
    over the same batches (kernels are built per batch shape on first use); raw time = mean of
    the two timed passes, which cancels slow drift in the load of a shared CPU (the untimed
    warm-up pass only for bf16, see `run_pipeline_vs_raw`). Reports ingest
    chunks/s (`IngestSummary.embedded / IngestSummary.seconds`), raw chunks/s and their ratio
    (target >= 0.90), plus where the non-embedding time went (parse, chunk, tagging, store
    writes, BM25 rebuild) and the embedding time inside the ingest.

    The same run then ingests the first `--matrix-pages` pages (default 8) in subprocesses under
    each instruction-set limit (`bench.common.ISA_LIMITS`: native, and AVX2 via
    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2) with fp32, bf16 and auto, two rounds in
    reversed order: ingest chunks/s of each (best round), the precision auto chose, and the
    check that auto is at most 10 % slower than the faster of the two.

(b) `--full`: the whole SageMaker guide (1,284 pages) as a subprocess `studybot ingest <dir>`
    on a fresh STUDYBOT_DATA_DIR, under /usr/bin/time -v and with /proc RSS polling of the
    process tree: wall time, chunks, peak RSS (target <= 2.5 GB). Then the same command again
    on the unchanged guide: re-ingest wall time / first wall time (target <= 5 %).

Run:
    .venv/bin/python bench/ingest.py [--pages 300] [--repeats 1] [--dtype auto|fp32|bf16]
    .venv/bin/python bench/ingest.py --full [--dtype auto|fp32|bf16]   # ~20 min, in background

Writes bench/results/ingest.json (a) or bench/results/ingest_full.json (b).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    ISA_LIMITS,
    SAGEMAKER_DOCS,
    STUDYBOT_BIN,
    auto_check,
    child_env,
    cpu_report,
    default_settings,
    fresh_data_dir,
    make_settings,
    median,
    peak_rss_mb,
    prepare_chunks,
    print_table,
    require_corpus,
    run_measured,
    run_worker,
    sorted_pages,
    write_results,
)

RATIO_TARGET = 0.90
RSS_TARGET_MB = 2.5 * 1024
REINGEST_TARGET = 0.05


# ------------------------------------------------------------------------------------------
# (a) in-process: pipeline vs raw embedding


def _recording_embeddings(inner, batches: list[list[str]]):
    """The real embeddings, recording each batch `IngestPipeline._flush` asks for."""
    from langchain_core.embeddings import Embeddings

    class Recording(Embeddings):
        model_id = inner.model_id

        def embed_documents(self, texts):
            if sys._getframe(1).f_code.co_name == "_flush":
                batches.append(list(texts))
            return inner.embed_documents(texts)

        def embed_query(self, text):
            return inner.embed_query(text)

    return Recording()


def _instrument(obj, attr: str, bucket: dict[str, float], key: str) -> None:
    """Wrap `obj.attr` so its cumulative wall time lands in bucket[key]."""
    original = getattr(obj, attr)

    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            bucket[key] += time.perf_counter() - t0

    setattr(obj, attr, wrapper)


def expected_batches(pages: list[Path], settings, batch_size: int) -> list[list[str]]:
    """The embedding batches a fresh ingest flushes: pages' chunks, cut once >= batch_size."""
    batches: list[list[str]] = []
    buffer: list[str] = []
    for page in pages:
        buffer.extend(p.embed_text for p in prepare_chunks([page], settings))
        if len(buffer) >= batch_size:
            batches.append(buffer)
            buffer = []
    if buffer:
        batches.append(buffer)
    return batches


def _embed_batches(embeddings, batches: list[list[str]]) -> float:
    t0 = time.perf_counter()
    for batch in batches:
        embeddings.embed_documents(batch)
    return time.perf_counter() - t0


@contextmanager
def instrumented(inner, batches: list[list[str]]):
    """The pipeline's steps timed into a {step: seconds} dict (yielded) and its embeddings
    recording each flushed batch; everything restored afterwards."""
    import ingest.job
    import ingest.pipeline
    import knowledge.lexical

    pipeline = ingest.pipeline
    steps = [
        (pipeline, "parse_bytes", "parse"),
        (pipeline, "chunk_document", "chunk"),
        (pipeline.DomainTagger, "tag", "tag"),
        (pipeline.DomainTagger, "prime_titles", "tag_titles"),
        (pipeline.KnowledgeStore, "add", "store_add"),
        (pipeline.KnowledgeStore, "ids_for_source", "store_lookup"),
        (knowledge.lexical.LexicalIndex, "rebuild", "bm25_rebuild"),
        (pipeline.Manifest, "save", "manifest_save"),
    ]
    saved = [(owner, attr, getattr(owner, attr)) for owner, attr, _ in steps]
    saved.append((ingest.job, "make_embeddings", ingest.job.make_embeddings))
    breakdown: dict[str, float] = defaultdict(float)
    ingest.job.make_embeddings = lambda s: _recording_embeddings(inner, batches)
    for owner, attr, key in steps:
        _instrument(owner, attr, breakdown, key)
    try:
        yield breakdown
    finally:
        for owner, attr, original in saved:
            setattr(owner, attr, original)


def run_pipeline_vs_raw(pages: list[Path], dtype: str, repeat: int, batch_size: int) -> dict:
    import ingest.job
    from knowledge.embeddings import LocalEmbeddings

    inner = LocalEmbeddings(dtype=dtype)  # auto: the precision chosen for this CPU
    inner.embed_documents(["warm up the model"] * 64)  # load once, outside every timing

    data_dir = fresh_data_dir(f"ingest{repeat}")
    settings = make_settings(data_dir, embedding_dtype=dtype)

    # Raw embedding runs before AND after the ingest (load on a shared CPU drifts); the
    # batches before are predicted from the chunker, the batches after are the recorded ones.
    # bf16: an untimed pass first, since oneDNN builds bf16 kernels per batch shape on first
    # use, which would otherwise be charged to whichever run sees a shape first. fp32 showed
    # no first-shape cost (64 texts of 5 new lengths, 3 calls each), so it skips that pass.
    predicted = expected_batches(pages, settings, batch_size)
    warm = _embed_batches(inner, predicted) if inner.dtype == "bf16" else None
    raw_before = _embed_batches(inner, predicted)

    batches: list[list[str]] = []
    with instrumented(inner, batches) as breakdown:
        pipeline = ingest.job.build_pipeline(settings)
        pipeline.batch_size = batch_size
        summary = pipeline.run([str(p) for p in pages])
        stored = pipeline.store.count()

    raw_after = _embed_batches(inner, batches)
    raw_texts = sum(len(b) for b in batches)
    raw_seconds = (raw_before + raw_after) / 2

    ingest_rate = summary.embedded / summary.seconds
    raw_rate = raw_texts / raw_seconds
    other = summary.seconds - summary.embed_seconds
    return {
        "data_dir": str(data_dir),
        "dtype": inner.dtype,
        "pages": summary.pages,
        "failures": len(summary.failures),
        "chunks_embedded": summary.embedded,
        "chunks_stored": stored,
        "flush_batches": len(batches),
        "ingest_seconds": round(summary.seconds, 2),
        "ingest_embed_seconds": round(summary.embed_seconds, 2),
        "ingest_other_seconds": round(other, 2),
        "breakdown_seconds": {k: round(v, 2) for k, v in sorted(breakdown.items())},
        "raw_seconds": round(raw_seconds, 2),
        "raw_seconds_warmup_pass": None if warm is None else round(warm, 2),
        "raw_seconds_before": round(raw_before, 2),
        "raw_seconds_after": round(raw_after, 2),
        "predicted_batches_match": predicted == batches,
        "ingest_chunks_per_second": round(ingest_rate, 2),
        "raw_chunks_per_second": round(raw_rate, 2),
        "ratio": round(ingest_rate / raw_rate, 4),
    }


def part_a(args) -> None:
    pages = sorted_pages(SAGEMAKER_DOCS, args.pages)
    cpu = cpu_report()
    print(f"auto -> {cpu['auto_choice']} ({cpu['auto_reason']})", flush=True)
    runs = []
    for r in range(args.repeats):
        print(
            f"run {r + 1}/{args.repeats}: raw embedding, ingest {len(pages)} pages, raw again ...",
            flush=True,
        )
        res = run_pipeline_vs_raw(pages, args.dtype, r, args.batch_size)
        runs.append(res)
        print(
            f"  ingest {res['ingest_chunks_per_second']:.1f} chunks/s, raw "
            f"{res['raw_chunks_per_second']:.1f} chunks/s, ratio {res['ratio']:.3f}",
            flush=True,
        )
    ratio = median([r["ratio"] for r in runs])
    print_ratio(args, pages, runs, ratio)
    passed = ["--matrix-pages", str(args.matrix_pages)]
    matrix = [run_worker(Path(__file__), passed, limit) for limit in ISA_LIMITS]
    print_matrix(matrix)
    write_results(
        "ingest",
        {
            "pages": len(pages),
            "dtype": args.dtype,
            "chosen_precision": runs[-1]["dtype"],
            "cpu": cpu,
            "repeats": len(runs),
            "flush_batch_size": args.batch_size,
            "ingest_chunks_per_second": median([r["ingest_chunks_per_second"] for r in runs]),
            "raw_chunks_per_second": median([r["raw_chunks_per_second"] for r in runs]),
            "ratio": ratio,
            "ratio_target": RATIO_TARGET,
            "ratio_ok": ratio >= RATIO_TARGET,
            "runs": runs,
            "matrix_pages": args.matrix_pages,
            "matrix": matrix,
            "auto_never_10pct_slower": all(m["auto_ok"] for m in matrix),
            "peak_rss": peak_rss_mb(),
        },
    )


def print_ratio(args, pages: list[Path], runs: list[dict], ratio: float) -> None:
    last = runs[-1]
    print_table(
        f"Ingest vs raw embedding ({len(pages)} SageMaker pages, {args.dtype} -> "
        f"{last['dtype']}, flush batch {args.batch_size}, median of {len(runs)})",
        ["metric", "value"],
        [
            ("pages", last["pages"]),
            ("chunks embedded", last["chunks_embedded"]),
            ("ingest seconds", median([r["ingest_seconds"] for r in runs])),
            ("  of which embedding", median([r["ingest_embed_seconds"] for r in runs])),
            ("raw embedding seconds (mean)", median([r["raw_seconds"] for r in runs])),
            ("  raw before / after", f"{last['raw_seconds_before']} / {last['raw_seconds_after']}"),
            ("predicted batches = recorded", last["predicted_batches_match"]),
            ("ingest chunks/s", median([r["ingest_chunks_per_second"] for r in runs])),
            ("raw chunks/s", median([r["raw_chunks_per_second"] for r in runs])),
            ("ratio ingest/raw", ratio),
            (f"ratio >= {RATIO_TARGET}", ratio >= RATIO_TARGET),
        ],
    )
    print_table(
        "Non-embedding time inside the ingest (last run, seconds)",
        ["step", "seconds"],
        sorted(last["breakdown_seconds"].items(), key=lambda kv: -kv[1]),
    )


# ------------------------------------------------------------------------------------------
# the precision matrix: small ingests per instruction-set limit and dtype, in subprocesses


def matrix_worker(args) -> None:
    """Ingest the first `--matrix-pages` pages with fp32, bf16 and auto (this process runs
    under one limit's environment); chunks/s of each as JSON."""
    import json

    import ingest.job
    from knowledge.embeddings import LocalEmbeddings

    cpu = cpu_report()
    pages = [str(p) for p in sorted_pages(SAGEMAKER_DOCS, args.matrix_pages)]
    dtypes = ("fp32", "bf16", "auto")
    for dtype in dtypes:
        LocalEmbeddings(dtype).embed_documents(["warm up the model"] * 64)  # load, untimed
    runs: dict[str, list[float]] = {d: [] for d in dtypes}
    for order in (dtypes, dtypes[::-1]):  # two rounds, order reversed: best of each
        for dtype in order:
            settings = make_settings(fresh_data_dir(f"matrix-{dtype}"), embedding_dtype=dtype)
            summary = ingest.job.build_pipeline(settings).run(pages)
            runs[dtype].append(round(summary.embedded / summary.seconds, 2))
            print(f"  {dtype}: {summary.embedded} chunks, {runs[dtype][-1]} chunks/s", flush=True)
    rates = {d: max(v) for d, v in runs.items()}
    result = {
        "chunks": summary.embedded,
        "chunks_per_second": rates,
        "runs_chunks_per_second": runs,
        **auto_check(rates),
    }
    Path(args.worker).write_text(json.dumps({**cpu, **result}))


def print_matrix(matrix: list[dict]) -> None:
    print_table(
        f"Ingest chunks/s per instruction set ({matrix[0]['chunks']} chunks each)",
        ["limit", "ATen", "native bf16", "auto", "fp32", "bf16", "auto /s", "auto/best", "ok"],
        [
            (
                m["limit"],
                m["aten_capability"],
                m["native_bf16"],
                m["auto_choice"],
                m["chunks_per_second"]["fp32"],
                m["chunks_per_second"]["bf16"],
                m["chunks_per_second"]["auto"],
                m["auto_vs_best"],
                m["auto_ok"],
            )
            for m in matrix
        ],
    )


# ------------------------------------------------------------------------------------------
# (b) the whole guide through the CLI


_ROW = re.compile(r"^[\s│|┃]*(?P<label>[a-z/ ]+?)\s*[│|┃]\s*(?P<value>[\d.]+)\s*[│|┃]?\s*$")


def parse_summary(stdout: str) -> dict[str, float]:
    """The CLI's 'Ingest summary' table as {label: number}."""
    out: dict[str, float] = {}
    for line in stdout.splitlines():
        m = _ROW.match(line)
        if m:
            value = float(m.group("value"))
            out[m.group("label").strip()] = int(value) if value.is_integer() else value
    return out


def part_b(args) -> None:
    if not STUDYBOT_BIN.exists():
        sys.exit(f"{STUDYBOT_BIN} is missing: run `make install` first")
    data_dir = fresh_data_dir("full")
    env = child_env(data_dir, COLUMNS="120", STUDYBOT_EMBEDDING_DTYPE=args.dtype)
    cmd = [str(STUDYBOT_BIN), "ingest", str(args.dir)]
    runs = {}
    for label in ("first", "reingest"):
        print(f"{label}: {' '.join(cmd)}  (STUDYBOT_DATA_DIR={data_dir}) ...", flush=True)
        run = run_measured(cmd, env)
        summary = parse_summary(run.stdout)
        if run.returncode != 0:
            print(run.stdout[-2000:], run.stderr[-2000:], sep="\n")
            sys.exit(f"{label} ingest failed with exit code {run.returncode}")
        runs[label] = {
            "wall_seconds": round(run.seconds, 1),
            "summary_seconds": summary.get("seconds"),
            "pages": summary.get("pages read"),
            "chunks_new": summary.get("chunks new"),
            "chunks_unchanged": summary.get("chunks unchanged"),
            "failures": summary.get("failures"),
            "peak_tree_rss_mb": run.peak_tree_rss_mb,
            "maxrss_mb_time_v": run.maxrss_mb,
        }
        print(f"  {runs[label]}", flush=True)
    first, again = runs["first"], runs["reingest"]
    peak = max(first["peak_tree_rss_mb"], first["maxrss_mb_time_v"] or 0)
    ratio_wall = again["wall_seconds"] / first["wall_seconds"]
    ratio_inner = (
        again["summary_seconds"] / first["summary_seconds"]
        if first["summary_seconds"] and again["summary_seconds"] is not None
        else None
    )
    chunks = first["chunks_new"] or 0
    print_table(
        f"Full ingest of {args.dir} ({args.dtype})",
        ["metric", "first", "re-ingest"],
        [
            ("wall seconds", first["wall_seconds"], again["wall_seconds"]),
            ("pipeline seconds (CLI)", first["summary_seconds"], again["summary_seconds"]),
            ("pages", first["pages"], again["pages"]),
            ("chunks new", first["chunks_new"], again["chunks_new"]),
            ("chunks unchanged", first["chunks_unchanged"], again["chunks_unchanged"]),
            ("failures", first["failures"], again["failures"]),
            ("peak RSS MB (/proc tree)", first["peak_tree_rss_mb"], again["peak_tree_rss_mb"]),
            ("max RSS MB (time -v)", first["maxrss_mb_time_v"], again["maxrss_mb_time_v"]),
        ],
    )
    print_table(
        "Targets",
        ["check", "value", "ok"],
        [
            ("chunks/s (wall)", round(chunks / first["wall_seconds"], 1), "-"),
            ("peak RSS <= 2.5 GB", f"{peak:.0f} MB", peak <= RSS_TARGET_MB),
            ("re-ingest/first (wall) <= 5 %", f"{ratio_wall:.1%}", ratio_wall <= REINGEST_TARGET),
            ("re-ingest/first (pipeline)", f"{ratio_inner:.1%}" if ratio_inner else "-", "-"),
        ],
    )
    write_results(
        "ingest_full",
        {
            "studybot_command": "STUDYBOT_DATA_DIR=<fresh tmp> "
            f"STUDYBOT_EMBEDDING_DTYPE={args.dtype} studybot ingest {args.dir}  (twice)",
            "dtype": args.dtype,
            "chosen_precision": cpu_report()["auto_choice"] if args.dtype == "auto" else args.dtype,
            "data_dir": str(data_dir),
            "first": first,
            "reingest": again,
            "chunks_per_second_wall": round(chunks / first["wall_seconds"], 2),
            "peak_rss_mb": peak,
            "rss_target_mb": RSS_TARGET_MB,
            "rss_ok": peak <= RSS_TARGET_MB,
            "reingest_ratio_wall": round(ratio_wall, 4),
            "reingest_ratio_pipeline": round(ratio_inner, 4) if ratio_inner else None,
            "reingest_target": REINGEST_TARGET,
            "reingest_ok": ratio_wall <= REINGEST_TARGET,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="whole guide via `studybot ingest`")
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument(
        "--batch-size", type=int, default=None, help="flush size (default: IngestPipeline's)"
    )
    parser.add_argument("--dir", type=Path, default=SAGEMAKER_DOCS, help="folder for --full")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--dtype",
        choices=["auto", "fp32", "bf16"],
        default=None,
        help="embedding dtype (default: Settings default)",
    )
    parser.add_argument("--matrix-pages", type=int, default=8, help="pages per matrix ingest")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # internal: JSON output path
    args = parser.parse_args()
    require_corpus()
    if args.dtype is None:
        args.dtype = default_settings().embedding_dtype
    if args.batch_size is None:
        import inspect

        from ingest.pipeline import IngestPipeline

        params = inspect.signature(IngestPipeline.__init__).parameters
        args.batch_size = int(params["batch_size"].default)
    if args.worker:
        matrix_worker(args)
    elif args.full:
        part_b(args)
    else:
        part_a(args)


if __name__ == "__main__":
    main()
