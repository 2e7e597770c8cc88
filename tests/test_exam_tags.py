"""One store, every installed exam: per-blueprint chunk tags, heading hints per exam, retag."""

from __future__ import annotations

import shutil

import pytest

from ingest.exams import document_exam, hint_blueprints, names_objective
from ingest.job import build_pipeline
from ingest.retag import retag
from knowledge.blueprint import installed_blueprints, load_blueprint
from knowledge.embeddings import LocalEmbeddings
from knowledge.retrieve import Retriever
from knowledge.store import KnowledgeStore
from knowledge.tags import read_tag
from tests.conftest import REPO

NOTES = REPO / "knowledge" / "notes"
# One note per exam, both numbered 2.1 (MLA: "Choose a modeling approach"; MLS: "Sanitize and
# prepare data for modeling"): a heading must tag exactly only for its own exam.
MLA_NOTE = "mla-c01/2.1-modeling-approach.md"
MLS_NOTE = "mls-c01/2.1-data-preparation.md"
MLA, MLS = load_blueprint("mla-c01"), load_blueprint("mls-c01")


class CountingEmbeddings(LocalEmbeddings):
    """Real embeddings that remember every text embedded as a document."""

    def __init__(self) -> None:
        super().__init__()
        self.documents: list[str] = []

    def embed_documents(self, texts):
        self.documents.extend(texts)
        return super().embed_documents(texts)


def _notes(tmp_path):
    for name in (MLA_NOTE, MLS_NOTE):
        target = tmp_path / "notes" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(NOTES / name, target)
    return tmp_path / "notes"


def _chunks(settings) -> list:
    store = KnowledgeStore(settings, LocalEmbeddings().model_id)
    return [c for batch in store.iter_all() for c in batch]


def _of(chunks, note: str) -> list:
    return [c for c in chunks if c.metadata["source"].endswith(note)]


def test_a_document_names_its_exam_by_front_matter_or_folder():
    ids = ["mls-c01", "mla-c01"]
    assert document_exam("/x/notes/mla-c01/2.1.md", {}, ids) == "mla-c01"
    assert document_exam("/x/guide.md", {"exam": "MLA-C01"}, ids) == "mla-c01"
    assert document_exam("/x/guide.md", {"title": "AWS ML Specialty"}, ids) == ""
    assert document_exam("https://docs.aws.amazon.com/mla-c01/x.html", {}, ids) == ""


def test_a_heading_of_unknown_exam_counts_for_the_exam_whose_objective_it_names():
    both = [MLS, MLA]
    assert names_objective("2.2 Perform feature engineering", MLS, "2.2")
    assert not names_objective("2.2 Perform feature engineering", MLA, "2.2")
    assert hint_blueprints("2.2", "2.2 Perform feature engineering", "", both) == {"mls-c01"}
    assert hint_blueprints("2.2", "2.2 Train and refine models", "", both) == {"mla-c01"}
    assert hint_blueprints("2.2", "2.2 Something else", "", both) == {"mls-c01"}  # primary
    assert hint_blueprints("2.2", "2.2 Perform feature engineering", "mla-c01", both) == {"mla-c01"}


def test_chunks_carry_a_tag_per_exam_and_headings_tag_only_their_own_exam(settings, tmp_path):
    summary = build_pipeline(settings).run([str(_notes(tmp_path))])
    assert summary.pages == 2 and not summary.failures
    chunks = _chunks(settings)
    for chunk in _of(chunks, MLA_NOTE):
        mla, mls = read_tag(chunk.metadata, "mla-c01"), read_tag(chunk.metadata, "mls-c01")
        assert (mla.objective, mla.confidence) == ("2.1", 1.0)
        assert mls.objective and mls.confidence < 1.0  # tagged for MLS-C01 by its content
    for chunk in _of(chunks, MLS_NOTE):
        mls, mla = read_tag(chunk.metadata, "mls-c01"), read_tag(chunk.metadata, "mla-c01")
        assert (mls.objective, mls.confidence) == ("2.1", 1.0)
        assert mla.confidence < 1.0
    # the plain keys keep meaning "the settings' blueprint" (MLS-C01)
    assert all(c.metadata["blueprint"] == "mls-c01" for c in chunks)
    retriever = Retriever(settings, LocalEmbeddings())
    hits = retriever.search("choose a modeling approach", k=5, domain=2, blueprint="mla-c01")
    assert hits and all(h.domain == 2 for h in hits)
    assert any(h.source.endswith(MLA_NOTE) and h.objective == "2.1" for h in hits)


def test_retag_adds_a_new_exams_tags_without_embedding_chunks_again(settings, tmp_path):
    pipeline = build_pipeline(settings)
    pipeline.blueprints = [MLS]  # a store ingested before MLA-C01 was installed
    pipeline.taggers = type(pipeline.taggers)([MLS], pipeline.embeddings)
    pipeline.run([str(_notes(tmp_path))])
    before = _chunks(settings)
    assert all(read_tag(c.metadata, "mla-c01").domain == 0 for c in before)
    retriever = Retriever(settings, LocalEmbeddings())
    assert retriever.search("modeling approach", k=5, domain=2, blueprint="mla-c01") == []

    embeddings = CountingEmbeddings()
    store = KnowledgeStore(settings, embeddings.model_id)
    summary = retag(settings, store, embeddings, installed_blueprints("mls-c01"))

    assert summary.chunks == len(before)
    assert summary.changed["mla-c01"] == len(before)
    texts = {c.text for c in before}
    assert embeddings.documents and not texts & set(embeddings.documents)
    after = {c.id: c for c in _chunks(settings)}
    assert set(after) == {c.id for c in before}
    for chunk in _of(after.values(), MLA_NOTE):
        assert read_tag(chunk.metadata, "mla-c01").objective == "2.1"
    for chunk in _of(before, MLS_NOTE):  # MLS-C01's tags come out as ingest made them
        old = read_tag(chunk.metadata, "mls-c01")
        new = read_tag(after[chunk.id].metadata, "mls-c01")
        assert (new.domain, new.objective, new.confidence) == (old.domain, old.objective, 1.0)
    for chunk in _of(after.values(), MLA_NOTE):  # now known as MLA notes: MLS 2.1 not forced
        assert read_tag(chunk.metadata, "mls-c01").confidence < 1.0
    retriever = Retriever(settings, LocalEmbeddings())
    hits = retriever.search("modeling approach", k=5, domain=2, blueprint="mla-c01")
    assert hits and any(h.source.endswith(MLA_NOTE) for h in hits)


@pytest.mark.parametrize("exam", ["mls-c01", "mla-c01"])
def test_installed_blueprints_start_with_the_primary_one(exam):
    ids = [b.id for b in installed_blueprints(exam)]
    assert ids[0] == exam and sorted(ids) == ["mla-c01", "mls-c01"]


def test_retag_command_reports_the_tags_it_changed(settings, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from bot.cli import app
    from knowledge.settings import get_settings

    monkeypatch.setenv("STUDYBOT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("STUDYBOT_EMBEDDING_DTYPE", "fp32")
    get_settings.cache_clear()
    try:
        empty = CliRunner().invoke(app, ["retag"])
        assert empty.exit_code == 1 and "store is empty" in empty.output
        build_pipeline(get_settings()).run([str(_notes(tmp_path))])
        out = CliRunner().invoke(app, ["retag", "--blueprint", "mla-c01"], env={"COLUMNS": "120"})
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    assert "Re-tagged" in out.output and "mla-c01" in out.output and "mls-c01" not in out.output
