"""Answer quality, offline: does the learner get an answer when the material has one, a plain
"not covered" when it has none, a citation that holds the answer, the right domain, and fast?

Questions: tests/data/answer_questions.jsonl, written by hand as learners ask them: ``q``,
``covered``, ``sources`` (``guide#<section heading>``, ``notes#<file>`` or a doc page's URL
suffix such as ``sagemaker/latest/dg/neo.html``, or ``blueprint#mls-c01`` for the facts the
exam blueprint holds), ``facts`` (key terms the answer must contain;
``a|b`` = either), ``domain`` and ``objective`` (a value or a list of acceptable ones; null when
no domain fits), ``kind``, ``origin`` and ``split`` (``dev`` for calibration, ``heldout`` never
tuned on). Each question is asked, through hybrid retrieval and the extractive answer
generator (the product's offline path, as `StudyService.ask` runs it), on three stores built
by bench/answer_stores.py and reused:

* ``full``  - the study guide, its linked docs and the four AWS doc sets (the headline figures);
* ``guide`` - the study guide alone;
* ``notes`` - the bundled notes alone.

A question counts on a store when one of its sources lives there (``guide#`` sections: guide
and full; ``notes#`` files: notes; doc pages: full; the blueprint: all). Unanswerable
questions count on every store.

Figures, per store and per split (``dev``, ``heldout``, ``all``):

* answered-when-covered: covered questions that got an answer (not "not covered");
* refused-when-not-covered: unanswerable questions answered "not covered";
* cited-page-holds-the-answer: covered questions with a citation from one of their sources
  (a guide section matches by the cited chunk's heading path), and the same for the first one;
  ``answer_in_top5``: how often retrieval brought such a passage at all. Each miss is listed in
  the detail with the pages expected and the top 5 retrieved (``*`` = holds the answer, with
  each passage's source role: ``guide`` or ``reference``);
* key facts: share of covered questions whose answer contains every key fact (and the mean share);
* domain / objective: the answer's first domain tag against the label (labelled questions);
  exam-fact questions with no domain should carry no tag;
* answer time p50 / p95: retrieval + answer, per question (the median of ``--repeat`` runs).

    .venv/bin/python bench/answers.py                      # -> bench/results/answers.json
    .venv/bin/python bench/answers.py --out answers_baseline --stores full,guide,notes
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.answer_stores import STORES, ensure_store  # noqa: E402
from bench.common import TESTS_DATA, latency_summary, make_settings, write_results  # noqa: E402

QUESTIONS = TESTS_DATA / "answer_questions.jsonl"
SPLITS = ("dev", "heldout", "all")
GUIDE_FILE = "study-guide.md"


def load_questions(path: Path = QUESTIONS) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def store_of(source: str) -> set[str]:
    """Which stores hold a source identifier."""
    if source.startswith("guide#"):
        return {"guide", "full"}
    if source.startswith("notes#"):
        return {"notes"}
    if source.startswith("blueprint#"):
        return set(STORES)  # bundled with the product: every store answers from it
    return {"full"}


def applies(item: dict, store: str) -> bool:
    """Unanswerable questions count everywhere; covered ones where a source of theirs lives."""
    return not item["covered"] or any(store in store_of(s) for s in item["sources"])


def source_matches(source: str, hit_source: str, title_path: str) -> bool:
    """Whether a cited chunk (its source and heading path) is the labelled source."""
    if source.startswith("guide#"):
        section = source.removeprefix("guide#").casefold()
        return hit_source.endswith(GUIDE_FILE) and section in title_path.casefold()
    if source.startswith("notes#"):
        return hit_source.endswith("/" + source.removeprefix("notes#"))
    if source.startswith("blueprint#"):
        return hit_source == "blueprint:" + source.removeprefix("blueprint#")
    page = source.removesuffix(".html")
    return hit_source.endswith("/" + source) or hit_source.endswith("/" + page)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[-‐–—_/]+", " ", text.casefold()).split())


def fact_present(fact: str, text: str) -> bool:
    """A key fact ("a|b" = either) appears in the text, as whole words, case-insensitive."""
    body = _norm(text)
    for option in fact.split("|"):
        pattern = r"(?<![a-z0-9])" + re.escape(_norm(option)) + r"(?![a-z0-9])"
        if re.search(pattern, body):
            return True
    return False


def _as_set(value) -> set:
    if value is None:
        return set()
    return {str(v) for v in value} if isinstance(value, list) else {str(value)}


@dataclass
class Outcome:
    """One question asked on one store."""

    item: dict
    mode: str
    seconds: float
    cited: list[tuple[str, str]] = field(default_factory=list)  # (source, title_path)
    domain: int | None = None
    objective: str = ""
    text: str = ""
    confidence: float = 0.0
    top: list[tuple[str, str, str]] = field(default_factory=list)  # retrieved (source, path, role)

    @property
    def answered(self) -> bool:
        return self.mode != "not_covered"

    def cited_ok(self, first_only: bool = False) -> bool:
        cited = self.cited[:1] if first_only else self.cited
        return any(
            source_matches(s, src, path) for s in self.item["sources"] for src, path in cited
        )

    def retrieved_ok(self) -> bool:
        """Whether a retrieved passage (top 5) is from one of the question's sources (the
        blueprint, bundled with the product, is always at hand)."""
        if any(s.startswith("blueprint#") for s in self.item["sources"]):
            return True
        return any(
            source_matches(s, src, path) for s in self.item["sources"] for src, path, _ in self.top
        )

    def facts_share(self) -> float:
        facts = self.item["facts"]
        if not facts:
            return 1.0
        return sum(fact_present(f, self.text) for f in facts) / len(facts)

    def domain_ok(self) -> bool | None:
        wanted = _as_set(self.item["domain"])
        if not wanted:
            return None
        return self.domain is not None and str(self.domain) in wanted

    def objective_ok(self) -> bool | None:
        wanted = _as_set(self.item["objective"])
        if not wanted:
            return None
        return bool(self.objective) and self.objective.split(" ", 1)[0] in wanted


def ask_all(store: str, items: list[dict], repeat: int = 1) -> list[Outcome]:
    """Every applicable question through retrieval + the offline answer generator."""
    from bot.service import TOP_K
    from knowledge.answer import AnswerGenerator
    from knowledge.blueprint import load_blueprint
    from knowledge.retrieve import Retriever

    record = ensure_store(store)
    settings = make_settings(Path(record["data_dir"]))
    retriever = Retriever.from_settings(settings)
    generator = AnswerGenerator(settings, load_blueprint(settings.blueprint), None)
    for warm in ("warm up", "What is SageMaker?"):
        generator.answer(warm, retriever.search(warm, k=TOP_K), stats=retriever.lexical)
    outcomes = []
    for item in (i for i in items if applies(i, store)):
        times = []
        for _ in range(repeat):  # the median of a few runs: the machine is shared
            t0 = time.perf_counter()
            hits = retriever.search(item["q"], k=TOP_K)
            answer = generator.answer(item["q"], hits, stats=retriever.lexical)
            times.append(time.perf_counter() - t0)
        seconds = statistics.median(times)
        by_chunk = {h.id: h for h in hits}
        cited = [
            (by_chunk[c.chunk_id].source, by_chunk[c.chunk_id].title_path)
            if c.chunk_id in by_chunk
            else (c.source, c.title)  # the exam blueprint
            for c in answer.citations
        ]
        tag = answer.domains[0] if answer.domains else None
        outcomes.append(
            Outcome(
                item=item,
                mode=answer.mode,
                seconds=seconds,
                cited=cited,
                domain=tag.id if tag else None,
                objective=tag.objective if tag else "",
                text=answer.text,
                confidence=answer.confidence,
                top=[(h.source, h.title_path, h.metadata.get("source_role", "")) for h in hits],
            )
        )
    return outcomes


def _rate(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def summarize(outcomes: list[Outcome]) -> dict:
    """The figures for one store and split."""
    covered = [o for o in outcomes if o.item["covered"]]
    uncovered = [o for o in outcomes if not o.item["covered"]]
    domain = [d for d in (o.domain_ok() for o in covered) if d is not None]
    objective = [d for d in (o.objective_ok() for o in covered) if d is not None]
    untagged_exam = [
        o.domain is None for o in covered if o.item["kind"] == "exam-fact" and not o.item["domain"]
    ]
    false_refusals = [o.item["id"] for o in covered if not o.answered]
    false_answers = [o.item["id"] for o in uncovered if o.answered]
    return {
        "questions": len(outcomes),
        "covered": len(covered),
        "not_covered": len(uncovered),
        "answered_when_covered": _rate([o.answered for o in covered]),
        "refused_when_not_covered": _rate([not o.answered for o in uncovered]),
        "cited_page_holds_answer": _rate([o.cited_ok() for o in covered]),
        "first_citation_holds_answer": _rate([o.cited_ok(first_only=True) for o in covered]),
        "answer_in_top5": _rate([o.retrieved_ok() for o in covered]),
        "all_key_facts": _rate([o.facts_share() == 1.0 for o in covered]),
        "key_fact_share": round(sum(o.facts_share() for o in covered) / len(covered), 4)
        if covered
        else None,
        "domain_accuracy": _rate(domain),
        "domain_labelled": len(domain),
        "objective_accuracy": _rate(objective),
        "objective_labelled": len(objective),
        "exam_facts_untagged": _rate(untagged_exam),
        "answer_ms": latency_summary([o.seconds for o in outcomes]),
        "false_refusals": false_refusals,
        "false_answers": false_answers,
    }


def _page(source: str, path: str) -> str:
    return f"{source.rsplit('/', 1)[-1]} > {path}"


def miss(o: Outcome) -> dict:
    """Why a covered question's answer cites no page that holds it: what it cited, what it
    should have, and which of the retrieved passages would have done (``*``)."""
    return {
        "expected": o.item["sources"],
        "top5": [
            ("* " if any(source_matches(s, src, path) for s in o.item["sources"]) else "  ")
            + f"[{role or '?'}] {_page(src, path)}"
            for src, path, role in o.top
        ],
    }


def detail(o: Outcome) -> dict:
    missed = o.item["covered"] and not o.cited_ok()
    return {
        "id": o.item["id"],
        "q": o.item["q"],
        "split": o.item["split"],
        "covered": o.item["covered"],
        "mode": o.mode,
        "confidence": round(o.confidence, 4),
        "cited_ok": o.cited_ok(),
        "facts": round(o.facts_share(), 3),
        "domain": o.domain,
        "domain_ok": o.domain_ok(),
        "objective": o.objective.split(" ", 1)[0],
        "cited": [_page(src, path) for src, path in o.cited],
        "ms": round(o.seconds * 1000, 1),
        "text": o.text,
        **(miss(o) if missed else {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", default=",".join(STORES))
    parser.add_argument("--out", default="answers", help="results name (bench/results/NAME.json)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per question (median time)")
    args = parser.parse_args()
    items = load_questions()
    report: dict = {"questions_file": str(QUESTIONS.relative_to(QUESTIONS.parents[2]))}
    stores: dict = {}
    details: dict = {}
    for store in args.stores.split(","):
        outcomes = ask_all(store, items, args.repeat)
        stores[store] = {
            split: summarize([o for o in outcomes if split == "all" or o.item["split"] == split])
            for split in SPLITS
        }
        details[store] = [detail(o) for o in outcomes]
        headline = {k: v for k, v in stores[store]["all"].items() if not isinstance(v, list)}
        print(f"\n== {store}\n{json.dumps(headline, indent=1)}", flush=True)
    report["stores"] = stores
    report["detail"] = details
    write_results(args.out, report)


if __name__ == "__main__":
    main()
