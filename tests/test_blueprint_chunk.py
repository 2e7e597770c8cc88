"""Blueprint validation and chunking rules."""

from __future__ import annotations

import pytest

from ingest.chunk import chunk_document, chunk_id, content_hash, split_text
from ingest.document import Document, Section
from knowledge.blueprint import BlueprintError, load_blueprint, load_blueprint_file


def test_bundled_blueprint_matches_the_exam_guide():
    bp = load_blueprint("mls-c01")
    assert [d.weight for d in bp.domains] == [20, 24, 36, 20]
    assert [len(d.objectives) for d in bp.domains] == [3, 3, 5, 4]
    assert bp.objective("2.2").name == "Perform feature engineering"
    assert bp.exam.questions == 65 and bp.exam.minutes == 190
    assert (bp.exam.scale.min, bp.exam.scale.max, bp.exam.passing_score) == (100, 1000, 750)
    assert all(o.keywords for o in bp.objectives)
    assert bp.find_domain("modeling").id == 3 and bp.find_domain("2").id == 2


def test_invalid_blueprints_are_refused(tmp_path):
    good = tmp_path / "x.yaml"
    text = load_blueprint.__wrapped__("mls-c01").model_dump_json()
    good.write_text(text)
    assert load_blueprint_file(good).id == "mls-c01"
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace('"weight":36.0', '"weight":30.0'))
    with pytest.raises(BlueprintError, match="sum to 94"):
        load_blueprint_file(bad)
    dup = tmp_path / "dup.yaml"
    dup.write_text(text.replace('"id":"2.3"', '"id":"2.2"'))
    with pytest.raises(BlueprintError, match="duplicate objective"):
        load_blueprint_file(dup)
    with pytest.raises(BlueprintError, match="unknown blueprint"):
        load_blueprint("no-such-exam")


def _words(text: str) -> int:
    return len(text.split())


def test_split_text_respects_budget_and_overlaps():
    sentences = [f"Sentence number {i} talks about topic {i}." for i in range(40)]
    windows = split_text(" ".join(sentences), 30, 10, _words)
    assert len(windows) > 5
    assert all(_words(w) <= 30 for w in windows)
    # consecutive windows share their boundary sentence (overlap)
    assert windows[0].split("\n\n")[-1] == windows[1].split("\n\n")[0]


def test_chunks_follow_headings_and_keep_objective_hints():
    doc = Document(
        source="s",
        title="T",
        kind="markdown",
        sections=[
            Section(["T", "A"], "alpha " * 10),
            Section(["T", "3.4 Perform hyperparameter optimization"], "", "3.4"),
            Section(["T", "B"], "tiny"),
        ],
    )
    chunks = chunk_document(doc, max_tokens=50, overlap_tokens=5, count_tokens=_words)
    assert [c.title_path[-1] for c in chunks] == ["A", "3.4 Perform hyperparameter optimization"]
    assert chunks[1].objective_hint == "3.4"


def test_chunk_ids_derive_from_source_and_content():
    h = content_hash("Some  text\nhere")
    assert h == content_hash("Some text here")
    assert chunk_id("a", h) != chunk_id("b", h) != chunk_id("a", h, 1)
