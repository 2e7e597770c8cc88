"""The MLA-C01 blueprint, its starter notes and its labelled tagging sets."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bench.tagging_mla import corpus_labels
from ingest.parse import parse_markdown
from ingest.tag import DomainTagger
from knowledge.blueprint import load_blueprint
from knowledge.embeddings import LocalEmbeddings
from tests.conftest import DATA, REPO

NOTES = REPO / "knowledge" / "notes" / "mla-c01"
LABELS = DATA / "tagging_labels_mla-c01.jsonl"
CORPUS_LABELS = DATA / "tagging_labels_mla-c01_corpus.jsonl"


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _accuracy(tagger: DomainTagger, items: list[dict]) -> tuple[float, float]:
    tags = [tagger.tag_text(i["text"], i["title"]) for i in items]
    pairs = list(zip(tags, items, strict=True))
    objective = sum(t.objective == i["objective"] for t, i in pairs) / len(items)
    domain = sum(t.domain == i["domain"] for t, i in pairs) / len(items)
    return objective, domain


@pytest.fixture(scope="module")
def tagger() -> DomainTagger:
    return DomainTagger(load_blueprint("mla-c01"), LocalEmbeddings())


def test_mla_blueprint_matches_the_exam_guide():
    bp = load_blueprint("mla-c01")
    assert bp.name == "AWS Certified Machine Learning Engineer - Associate"
    assert {d.id: d.weight for d in bp.domains} == {1: 28, 2: 26, 3: 22, 4: 24}
    assert sum(d.weight for d in bp.domains) == 100
    assert [o.id for o in bp.objectives] == [f"{d}.{t}" for d in range(1, 5) for t in range(1, 4)]
    assert bp.domain(3).name == "Deployment and Orchestration of ML Workflows"
    assert bp.objective("4.3").name == "Secure AWS resources"
    assert (bp.exam.questions, bp.exam.minutes) == (65, 130)
    assert (bp.exam.scale.min, bp.exam.scale.max, bp.exam.passing_score) == (100, 1000, 720)
    assert {"ordering", "matching", "case study"} <= set(bp.exam.question_types)
    assert bp.find_domain("monitoring").id == 4 and bp.find_domain("data preparation").id == 1


def test_mla_keywords_point_to_their_own_objective(tagger):
    """Each keyword, read alone, scores for its own objective only (none is listed twice)."""
    bp = tagger.blueprint
    assert all(len(o.keywords) >= 20 and len(o.description) > 100 for o in bp.objectives)
    for n, objective in enumerate(bp.objectives):
        for keyword in objective.keywords:
            scores = tagger.keyword_scores(keyword)
            assert scores[n] == 1.0, (objective.id, keyword, scores)


def test_one_starter_note_per_task_statement_tags_exactly():
    bp = load_blueprint("mla-c01")
    files = sorted(NOTES.glob("*.md"))
    assert [f.name.split("-")[0] for f in files] == [o.id for o in bp.objectives]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert 45 <= len(text.splitlines()) <= 90, path.name  # 90: room for a procedure
        doc = parse_markdown(text, str(path))
        objective = bp.objective(path.name.split("-")[0])
        assert doc.title == objective.label  # "1.1 Ingest and store data"
        assert {s.objective_hint for s in doc.sections} == {objective.id}
        assert "→" in text  # "need → choice" lines for scenario questions


def test_mla_labelled_sets_cover_every_objective():
    objectives = {o.id: o.domain_id for o in load_blueprint("mla-c01").objectives}
    for path, minimum in ((LABELS, 48), (CORPUS_LABELS, 48)):
        items = _lines(path)
        assert len(items) >= minimum
        assert len({i["id"] for i in items}) == len(items)
        counts = Counter(i["objective"] for i in items)
        assert set(counts) == set(objectives) and min(counts.values()) >= 4
        assert all(objectives[i["objective"]] == i["domain"] for i in items)


def test_tagger_accuracy_on_the_mla_labelled_set(tagger):
    # Measured 0.98 / 0.98 (bench/tagging_mla.py); the passages and the keywords share an
    # author, so this guards against regressions; the corpus test below is the honest figure.
    objective, domain = _accuracy(tagger, _lines(LABELS))
    assert objective >= 0.90, objective
    assert domain >= 0.90, domain


@pytest.mark.slow
def test_tagger_accuracy_on_real_aws_pages(tagger, shared_corpus):
    """The first chunk of 48 AWS developer-guide pages, labelled by task statement."""
    objective, domain = _accuracy(tagger, corpus_labels(CORPUS_LABELS, shared_corpus))
    # Measured 0.92 / 0.98 when the set was labelled; issue 14 asks for >= 0.85 (objective).
    assert objective >= 0.85, objective
    assert domain >= 0.90, domain
