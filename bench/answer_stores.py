"""The three offline stores the answer benchmark reads, each built once and reused.

* ``full``: the study guide with its links followed, read from local mirrors of the four AWS
  developer guides in ``../shared/corpus/awsdocs`` (SageMaker, Firehose, Data Streams,
  Comprehend), plus every page of those guides by its web address, so each chunk cites
  ``https://docs.aws.amazon.com/...`` like a real ingest of the guide does;
* ``guide``: the study guide alone;
* ``notes``: the bundled study notes (knowledge/notes/mls-c01) alone.

Each lives in /tmp/studybot-bench-answers-<name> (or $STUDYBOT_BENCH_ANSWER_STORES<name>); a
marker file written after a complete build makes later runs reuse it (``--rebuild`` in
bench/answers.py starts over), and an interrupted build resumes where it stopped. Building
``full`` takes ~10-20 min on 2 quiet cores with fp32 embeddings, well over an hour when shared.

    .venv/bin/python bench/answer_stores.py [--rebuild] [full guide notes]   # build or reuse
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    CORPUS,
    REPO,
    STUDY_GUIDE,
    make_settings,
    now_iso,
    require_corpus,
)

#: Where the stores live (``<prefix><name>``); STUDYBOT_BENCH_ANSWER_STORES points elsewhere,
#: e.g. at a copy of a store being built.
STORE_PREFIX = os.environ.get("STUDYBOT_BENCH_ANSWER_STORES", "/tmp/studybot-bench-answers-")
MARKER = "bench-complete.json"
NOTES = REPO / "knowledge" / "notes" / "mls-c01"

#: Web prefix -> doc set folder under ../shared/corpus/awsdocs.
DOC_SETS = {
    "https://docs.aws.amazon.com/sagemaker/latest/dg/": "sagemaker-developer-guide",
    "https://docs.aws.amazon.com/firehose/latest/dev/": "kinesis-data-firehose-developer-guide",
    "https://docs.aws.amazon.com/streams/latest/dev/": "kinesis-data-streams-developer-guide",
    "https://docs.aws.amazon.com/comprehend/latest/dg/": "comprehend-developer-guide",
}
STORES = ("full", "guide", "notes")


def store_dir(name: str) -> Path:
    return Path(f"{STORE_PREFIX}{name}")


def mirrors() -> list:
    """One `Mirror` per doc set (web prefix -> local Markdown folder)."""
    from ingest.sources import Mirror

    return [
        Mirror.parse(f"{prefix}={CORPUS / 'awsdocs' / folder / 'doc_source'}")
        for prefix, folder in DOC_SETS.items()
    ]


def doc_set_urls() -> list[str]:
    """The web address of every page of the four doc sets (read from the mirrors)."""
    urls = []
    for prefix, folder in DOC_SETS.items():
        pages = sorted((CORPUS / "awsdocs" / folder / "doc_source").glob("*.md"))
        urls += [f"{prefix}{page.stem}.html" for page in pages]
    return urls


def _plan(name: str) -> tuple[list[str], list, bool]:
    """(locations, mirrors, follow links) for one store."""
    if name == "full":
        return [str(STUDY_GUIDE), *doc_set_urls()], mirrors(), True
    if name == "guide":
        return [str(STUDY_GUIDE)], [], False
    if name == "notes":
        return [str(NOTES)], [], False
    raise ValueError(f"unknown store {name!r}; expected one of {STORES}")


def ensure_store(name: str, rebuild: bool = False) -> dict:
    """Build (or reuse) one store; returns its build record (with ``data_dir``)."""
    if name != "notes":
        require_corpus()
    data_dir = store_dir(name)
    marker = data_dir / MARKER
    if marker.exists() and not rebuild:
        return {**json.loads(marker.read_text()), "reused": True}
    # One builder at a time: a second process waits here, then reuses what the first built
    # (two writers on one embedded Chroma directory corrupt it).
    with open(f"{data_dir}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and not rebuild:
            return {**json.loads(marker.read_text()), "reused": True}
        return _build(name, data_dir, rebuild)


def _build(name: str, data_dir: Path, rebuild: bool) -> dict:
    from ingest.job import build_pipeline
    from ingest.pipeline import IngestOptions

    marker = data_dir / MARKER
    if rebuild:
        shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    # Offline: pages under the mirrored prefixes are read from disk; every other link (the
    # guide's product pages, the docs' API references) is refused, never fetched.
    settings = make_settings(data_dir, allowed_hosts=[])
    locations, mirror_list, follow = _plan(name)
    print(f"building the {name!r} store in {data_dir} ({len(locations)} locations) ...", flush=True)
    pipeline = build_pipeline(settings, mirror_list)
    options = IngestOptions(follow_links=follow, max_depth=settings.crawl_max_depth, max_pages=4000)
    summary = pipeline.run(locations, options)
    record = {
        "store": name,
        "data_dir": str(data_dir),
        "pages": summary.pages,
        "chunks": pipeline.store.count(),
        "failures": len(summary.failures),
        "failure_sample": [f"{loc}: {why}" for loc, why in summary.failures[:5]],
        "seconds": round(summary.seconds, 1),
        "embedding_dtype": settings.embedding_dtype,
        "chunk_tokens": settings.chunk_tokens,
        "built_at": now_iso(),
    }
    marker.write_text(json.dumps(record, indent=2))
    return {**record, "reused": False}


def main() -> None:
    args = sys.argv[1:]
    rebuild = "--rebuild" in args
    names = [a for a in args if a != "--rebuild"] or list(STORES)
    for name in names:
        print(json.dumps(ensure_store(name, rebuild), indent=2), flush=True)


if __name__ == "__main__":
    main()
