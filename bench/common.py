"""Shared helpers for the benchmarks: paths, fresh settings, timing, percentiles, RSS, output.

Every benchmark imports this module after putting the repository root on `sys.path`:

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.common import ...  # noqa: E402

Nothing here writes outside `bench/results/` and temporary directories; the real corpus under
`../shared/corpus` (override with STUDYBOT_CORPUS) is only read.
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# Offline and quiet, whatever the caller's environment says (same as the Makefile).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# A developer's keys or data dir must never leak into a benchmark run.
for _name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "STUDYBOT_CHROMA_URL", "DATABASE_URL"):
    os.environ.pop(_name, None)

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
CORPUS = Path(os.environ.get("STUDYBOT_CORPUS", REPO.parent / "shared" / "corpus"))
STUDY_GUIDE = CORPUS / "study-guide.md"
SAGEMAKER_DOCS = CORPUS / "awsdocs" / "sagemaker-developer-guide" / "doc_source"
FIREHOSE_DOCS = CORPUS / "awsdocs" / "kinesis-data-firehose-developer-guide" / "doc_source"
TESTS_DATA = REPO / "tests" / "data"
TAGGING_LABELS = TESTS_DATA / "tagging_labels.jsonl"
RETRIEVAL_EVAL = TESTS_DATA / "retrieval_eval.jsonl"
STUDYBOT_BIN = REPO / ".venv" / "bin" / "studybot"

# Cached stores of study guide + SageMaker guide + Firehose guide, one per chunk size.
CACHE_PREFIX = "/tmp/studybot-bench-"
CACHE_MARKER = "bench-complete.json"


def require_corpus() -> None:
    """Exit with a clear message when the shared corpus is not next to the repository."""
    if not SAGEMAKER_DOCS.is_dir() or not STUDY_GUIDE.is_file():
        sys.exit(f"the shared corpus is missing ({CORPUS}); set STUDYBOT_CORPUS to its folder")


# ------------------------------------------------------------------------------------------
# Settings and data directories


def fresh_data_dir(tag: str = "run") -> Path:
    """A new empty temp dir, exported as STUDYBOT_DATA_DIR (never ./data)."""
    path = Path(tempfile.mkdtemp(prefix=f"studybot-bench-{tag}-"))
    os.environ["STUDYBOT_DATA_DIR"] = str(path)
    return path


def make_settings(data_dir: Path | None = None, **overrides):
    """Settings isolated from `.env`, on `data_dir` (a fresh temp dir when None)."""
    from knowledge.settings import Settings

    data_dir = data_dir or fresh_data_dir()
    os.environ["STUDYBOT_DATA_DIR"] = str(data_dir)
    return Settings(data_dir=data_dir, _env_file=None, **overrides)


def default_settings():
    """The product defaults (no `.env`, no environment data dir); creates no directory."""
    from knowledge.settings import Settings

    return Settings(_env_file=None)


def sorted_pages(folder: Path, limit: int | None = None) -> list[Path]:
    """Markdown pages of a guide, sorted by path (first `limit`)."""
    pages = sorted(p for p in folder.glob("*.md") if p.is_file())
    return pages[:limit] if limit else pages


# ------------------------------------------------------------------------------------------
# Chunking exactly like the pipeline does (without embedding)


@dataclass
class PreparedChunk:
    chunk: object  # knowledge.types.Chunk (id, text, source, title, title_path ...)
    embed_text: str
    hint: str | None


def prepare_chunks(
    files: Iterable[Path], settings, limit: int | None = None
) -> list[PreparedChunk]:
    """Load, parse and chunk files with the pipeline's own code; `limit` caps the chunk count."""
    from ingest.chunk import chunk_document
    from ingest.parse import ParseError, parse_bytes
    from ingest.pipeline import IngestPipeline
    from ingest.sources import SourceError, SourceResolver
    from knowledge.blueprint import load_blueprint
    from knowledge.embeddings import count_tokens

    resolver = SourceResolver(None)
    # `_identify` gives the chunk ids and embedding texts the pipeline uses; borrow it unbound.
    shim = type("Shim", (), {"blueprint": load_blueprint(settings.blueprint)})()
    out: list[PreparedChunk] = []
    for path in files:
        try:
            loaded = resolver.load(str(path))
            doc = parse_bytes(loaded.data, loaded.source, loaded.content_type)
        except (SourceError, ParseError):
            continue
        raw = chunk_document(
            doc,
            max_tokens=settings.chunk_tokens,
            overlap_tokens=settings.chunk_overlap_tokens,
            count_tokens=count_tokens,
        )
        for q in IngestPipeline._identify(shim, raw, loaded.source, doc.title):
            out.append(PreparedChunk(q.chunk, q.embed_text, q.hint))
            if limit and len(out) >= limit:
                return out
    return out


# ------------------------------------------------------------------------------------------
# Timing and statistics


class Stopwatch:
    """`with Stopwatch() as sw: ...; sw.seconds`."""

    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.started


def timed(fn: Callable, *args, **kwargs) -> tuple[float, object]:
    """(seconds, result) of one call."""
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - t0, result


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile (p in 0..100), like numpy's default."""
    if not values:
        return float("nan")
    xs = sorted(values)
    rank = (len(xs) - 1) * p / 100.0
    lo, hi = math.floor(rank), math.ceil(rank)
    return xs[lo] + (xs[hi] - xs[lo]) * (rank - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/mean/max in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan"),
        "max_ms": round(max(ms), 2) if ms else float("nan"),
    }


# ------------------------------------------------------------------------------------------
# Memory


def peak_rss_mb() -> dict[str, float]:
    """Peak RSS (MB) of this process and of its largest waited-for child (Linux: KB units)."""
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"self_mb": round(self_kb / 1024, 1), "children_mb": round(child_kb / 1024, 1)}


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def tree_rss_bytes(pid: int) -> int:
    """Current RSS of a process and all its descendants, from /proc (no psutil)."""
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            continue
        stack.extend(_children(p))
    return total


@dataclass
class ProcessRun:
    returncode: int
    seconds: float
    peak_tree_rss_mb: float
    maxrss_mb: float | None  # from /usr/bin/time -v (largest single process)
    stdout: str
    stderr: str


def run_measured(cmd: list[str], env: dict[str, str], poll: float = 0.2) -> ProcessRun:
    """Run `cmd`, polling the process tree's RSS; wrapped in /usr/bin/time -v when present."""
    gnu_time = Path("/usr/bin/time")
    full = [str(gnu_time), "-v", *cmd] if gnu_time.exists() else cmd
    with tempfile.TemporaryFile(mode="w+") as out_f, tempfile.TemporaryFile(mode="w+") as err_f:
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, env=env, stdout=out_f, stderr=err_f, cwd=str(REPO))
        peak = 0
        while proc.poll() is None:
            peak = max(peak, tree_rss_bytes(proc.pid))
            time.sleep(poll)
        seconds = time.perf_counter() - t0
        out_f.seek(0)
        err_f.seek(0)
        stdout, stderr = out_f.read(), err_f.read()
    maxrss = None
    for line in stderr.splitlines():
        if "Maximum resident set size" in line:
            maxrss = round(int(line.rsplit(":", 1)[1]) / 1024, 1)
    return ProcessRun(proc.returncode, seconds, round(peak / 2**20, 1), maxrss, stdout, stderr)


def child_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a `studybot` subprocess on its own data dir."""
    env = dict(os.environ)
    env["STUDYBOT_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


# ------------------------------------------------------------------------------------------
# The cached evaluation store (study guide + SageMaker guide + Firehose guide)


def corpus_locations() -> list[str]:
    return [str(STUDY_GUIDE), str(SAGEMAKER_DOCS), str(FIREHOSE_DOCS)]


def cached_store_dir(chunk_tokens: int) -> Path:
    return Path(f"{CACHE_PREFIX}{chunk_tokens}")


def ensure_corpus_store(chunk_tokens: int, dtype: str = "fp32", rebuild: bool = False) -> dict:
    """Build (or reuse) the evaluation store for one chunk size; returns its build record.

    The data dir is /tmp/studybot-bench-<size>; a marker file written after a complete build
    makes later runs reuse it. An incomplete dir (interrupted build) is resumed by the
    pipeline's own incremental ingest.
    """
    from ingest.job import build_pipeline

    data_dir = cached_store_dir(chunk_tokens)
    marker = data_dir / CACHE_MARKER
    if marker.exists() and not rebuild:
        record = json.loads(marker.read_text())
        if record.get("dtype") == dtype and record.get("chunk_tokens") == chunk_tokens:
            record["reused"] = True
            return record
    if rebuild:
        shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = make_settings(data_dir, chunk_tokens=chunk_tokens, embedding_dtype=dtype)
    print(
        f"building the evaluation store for chunk_tokens={chunk_tokens} in {data_dir} "
        "(a few minutes) ...",
        flush=True,
    )
    pipeline = build_pipeline(settings)
    summary = pipeline.run(corpus_locations())
    record = {
        "chunk_tokens": chunk_tokens,
        "overlap_tokens": settings.chunk_overlap_tokens,
        "dtype": dtype,
        "data_dir": str(data_dir),
        "pages": summary.pages,
        "chunks": pipeline.store.count(),
        "embedded": summary.embedded,
        "failures": len(summary.failures),
        "seconds": round(summary.seconds, 1),
        "embed_seconds": round(summary.embed_seconds, 1),
        "built_at": now_iso(),
    }
    marker.write_text(json.dumps(record, indent=2))
    record["reused"] = False
    return record


# ------------------------------------------------------------------------------------------
# Output


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def environment() -> dict:
    """Where the numbers came from."""
    info: dict = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "cpu": _cpu_model(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:  # pragma: no cover
        pass
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        )
        info["git_head"] = rev.stdout.strip() or None
    except OSError:  # pragma: no cover
        info["git_head"] = None
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def write_results(name: str, data: dict) -> Path:
    """bench/results/<name>.json with the command line and environment attached."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "finished_at": now_iso(),
        "command": " ".join([".venv/bin/python", *_rel_argv()]),
        "environment": environment(),
        **data,
    }
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=_json_default) + "\n")
    os.replace(tmp, path)
    print(f"\nresults: {path.relative_to(REPO)}")
    return path


def _rel_argv() -> list[str]:
    argv = list(sys.argv)
    if argv:
        with suppress(ValueError):
            argv[0] = str(Path(argv[0]).resolve().relative_to(REPO))
    return argv


def _json_default(value):
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A plain fixed-width table (no colours: output goes to logs)."""
    rows = [[_fmt(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@contextmanager
def torch_threads(n: int | None):
    """Temporarily set torch's intra-op thread count (None: leave it)."""
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# ------------------------------------------------------------------------------------------
# Instruction-set limits: the same measurement with and without native bf16 paths

#: Environment of each measured instruction set: this CPU as it is, and limited to AVX2 (how
#: an AMX or AVX512-BF16 machine shows the AVX2-only slow path; on an AVX2 CPU both are alike).
ISA_LIMITS: dict[str, dict[str, str]] = {
    "native": {},
    "avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"},
}
AUTO_SLACK = 0.10  # auto may be at most this much slower than the faster precision


def run_worker(script: Path, args: list[str], limit: str) -> dict:
    """Run `script --worker OUT args` in a subprocess under ISA limit `limit`; its JSON."""
    env = dict(os.environ)
    for name in ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY", "STUDYBOT_EMBEDDING_DTYPE"):
        env.pop(name, None)
    env.update(ISA_LIMITS[limit])
    with tempfile.TemporaryDirectory(prefix="studybot-bench-worker-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, str(script), "--worker", str(out), *args]
        print(
            f"[{limit}] {' '.join(f'{k}={v}' for k, v in ISA_LIMITS[limit].items())} "
            f"{Path(script).name} worker ...",
            flush=True,
        )
        proc = subprocess.run(cmd, env=env, cwd=str(REPO))
        if proc.returncode != 0 or not out.exists():
            sys.exit(f"{limit} worker failed with exit code {proc.returncode}")
        return {"limit": limit, "env": ISA_LIMITS[limit], **json.loads(out.read_text())}


def cpu_report() -> dict:
    """What this process sees: ATen's capability, the native-bf16 decision, the auto choice."""
    from knowledge import precision
    from knowledge.embeddings import choose_precision

    capability = precision.detect_capability()
    choice = choose_precision("auto")
    return {
        "aten_capability": precision.torch_capability(),
        "native_bf16_flags": sorted(set(precision.NATIVE_FLAGS) & precision.cpu_flags()),
        "native_bf16": capability.native_bf16,
        "capability_reason": capability.reason,
        "auto_choice": choice.dtype,
        "auto_reason": choice.reason,
        "auto_decision_seconds": round(choice.seconds, 3),
        "auto_probe": None if choice.probe is None else probe_dict(choice.probe),
    }


def probe_dict(probe) -> dict:
    """A `precision.ProbeResult` as JSON."""
    return {
        "fp32_texts_per_second": round(probe.fp32_rate, 2),
        "bf16_texts_per_second": round(probe.bf16_rate, 2),
        "speedup": round(probe.speedup, 3),
        "min_cosine": round(probe.min_cosine, 6),
        "seconds": round(probe.seconds, 3),
        "rounds": probe.rounds,
        "stopped_early": probe.stopped_early,
    }


def auto_check(rates: dict[str, float]) -> dict:
    """Is auto within AUTO_SLACK of the faster of fp32 and bf16?"""
    best = max(rates["fp32"], rates["bf16"])
    ratio = rates["auto"] / best if best else 0.0
    return {"auto_vs_best": round(ratio, 3), "auto_ok": ratio >= 1 - AUTO_SLACK}
