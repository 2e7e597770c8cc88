"""Run the quick benchmarks in sequence (what `make bench` calls).

Runs, each as its own process on its own fresh data dir:
  tagging.py, embedding_dtype.py, ingest.py (300 pages), retrieval_quality.py (default chunk
  size), retrieval.py (10k and 100k chunks).
Not included (slow; run them by hand, in the background): `ingest.py --full`,
`retrieval_quality.py --chunk-tokens 128,200,256`, and `answers.py` / `coverage_calibration.py`
/ `quiz_formats.py` (their full store, bench/answer_stores.py, takes ~15-20 min to build
once). The first run of retrieval_quality.py or retrieval.py builds the cached evaluation
store /tmp/studybot-bench-200 (~15-25 min on 2 cores); later runs reuse it.

Run:
    .venv/bin/python bench/run_all.py [--only tagging,retrieval] [--skip ingest]

Each benchmark writes bench/results/<name>.json; this script writes bench/results/run_all.json
with the exit code and wall time of each.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO, print_table, write_results  # noqa: E402

BENCHMARKS: dict[str, list[str]] = {
    "tagging": ["bench/tagging.py"],
    "embedding_dtype": ["bench/embedding_dtype.py"],
    "ingest": ["bench/ingest.py"],
    "retrieval_quality": ["bench/retrieval_quality.py"],
    "retrieval": ["bench/retrieval.py"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated names")
    parser.add_argument("--skip", default="", help="comma-separated names")
    args = parser.parse_args()
    only = {x for x in args.only.split(",") if x}
    skip = {x for x in args.skip.split(",") if x}
    unknown = (only | skip) - set(BENCHMARKS)
    if unknown:
        sys.exit(
            f"unknown benchmark(s): {', '.join(sorted(unknown))}; known: {', '.join(BENCHMARKS)}"
        )

    rows = []
    for name, script in BENCHMARKS.items():
        if (only and name not in only) or name in skip:
            continue
        env = dict(os.environ)
        env["STUDYBOT_DATA_DIR"] = tempfile.mkdtemp(prefix=f"studybot-bench-{name}-")
        cmd = [sys.executable, *script]
        print(f"\n=== {name}: {' '.join(script)}", flush=True)
        t0 = time.perf_counter()
        code = subprocess.call(cmd, cwd=REPO, env=env)
        rows.append(
            {"name": name, "exit_code": code, "seconds": round(time.perf_counter() - t0, 1)}
        )

    print_table(
        "Benchmarks",
        ["benchmark", "exit", "seconds"],
        [(r["name"], r["exit_code"], r["seconds"]) for r in rows],
    )
    write_results("run_all", {"runs": rows})
    sys.exit(1 if any(r["exit_code"] for r in rows) else 0)


if __name__ == "__main__":
    main()
