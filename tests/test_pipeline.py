"""Ingest pipeline: metadata on every chunk, idempotence, incremental updates, bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest.job import build_pipeline
from ingest.pipeline import IngestOptions
from ingest.tag import BlueprintTaggers
from knowledge.embeddings import LocalEmbeddings
from knowledge.store import EmbeddingModelMismatch, KnowledgeStore, StoreError
from tests.conftest import DATA


def _docs(tmp_path: Path) -> Path:
    target = tmp_path / "docs"
    shutil.copytree(DATA / "docs", target)
    return target


def _all_chunks(pipeline) -> list:
    return [c for batch in pipeline.store.iter_all() for c in batch]


def test_every_chunk_knows_source_title_path_and_domain(settings, tmp_path):
    docs = _docs(tmp_path)
    summary = build_pipeline(settings).run([str(docs)])
    assert summary.pages == 2 and not summary.failures
    chunks = _all_chunks(build_pipeline(settings))
    assert len(chunks) == summary.chunks_new >= 4
    for c in chunks:
        m = c.metadata
        assert Path(m["source"]).parent == docs.resolve()
        assert m["title_path"] and m["content_hash"] and m["blueprint"] == "mls-c01"
        assert m["domain"] in {1, 2, 3, 4} and m["objective"].startswith(f"{m['domain']}.")
        assert 0 < m["tag_confidence"] <= 1
    tuning = [c for c in chunks if "sample-tuning" in c.metadata["source"]]
    assert {c.metadata["domain"] for c in tuning} == {3}
    assert any(c.metadata["title_path"].endswith("Early stopping") for c in tuning)


def test_rerun_over_unchanged_sources_embeds_nothing(settings, tmp_path):
    docs = _docs(tmp_path)
    first = build_pipeline(settings).run([str(docs)])
    again = build_pipeline(settings).run([str(docs)])
    assert again.embedded == 0 and again.chunks_new == 0 and again.chunks_changed == 0
    assert again.chunks_unchanged == first.chunks_new
    assert again.exit_code() == 0


def test_changed_page_reembeds_only_changed_chunks_and_drops_stale(settings, tmp_path):
    docs = _docs(tmp_path)
    build_pipeline(settings).run([str(docs)])
    page = docs / "sample-firehose.md"
    text = page.read_text().replace(
        "Records are delivered when either the buffer size or the buffer interval is reached.",
        "Records leave the buffer once it is full or once its time interval has passed.",
    )
    page.write_text(text)
    summary = build_pipeline(settings).run([str(docs)])
    assert summary.chunks_changed == 1 and summary.chunks_removed == 1
    assert summary.embedded == 1
    texts = " ".join(c.text for c in _all_chunks(build_pipeline(settings)))
    assert "once its time interval has passed" in texts
    assert "buffer interval is reached" not in texts


def test_prune_removes_sources_no_longer_given(settings, tmp_path):
    docs = _docs(tmp_path)
    build_pipeline(settings).run([str(docs)])
    keep = str(docs / "sample-tuning.md")
    summary = build_pipeline(settings).run([keep], IngestOptions(prune=True))
    assert summary.chunks_removed > 0
    sources = set(build_pipeline(settings).store.sources())
    assert sources == {str(Path(keep).resolve())}


class _InterruptingEmbeddings(LocalEmbeddings):
    """Real embeddings that simulate Ctrl-C on the second batch."""

    calls = 0

    def embed_documents(self, texts):
        type(self).calls += 1
        if type(self).calls == 2:
            raise KeyboardInterrupt
        return super().embed_documents(texts)


def test_interrupted_run_is_completed_by_the_next_run(settings, tmp_path):
    docs = _docs(tmp_path)
    pipeline = build_pipeline(settings)
    pipeline.embeddings = _InterruptingEmbeddings()
    pipeline.taggers = BlueprintTaggers(pipeline.blueprints, LocalEmbeddings())
    pipeline.batch_size = 1
    with pytest.raises(KeyboardInterrupt):
        pipeline.run([str(docs)])
    partial = len(_all_chunks(build_pipeline(settings)))
    assert partial >= 1
    summary = build_pipeline(settings).run([str(docs)])
    fresh_dir = tmp_path / "fresh"
    reference = build_pipeline(settings.model_copy(update={"data_dir": fresh_dir})).run([str(docs)])
    assert summary.embedded == reference.embedded - partial
    after = {c.id for c in _all_chunks(build_pipeline(settings))}
    expected = {
        c.id
        for c in _all_chunks(build_pipeline(settings.model_copy(update={"data_dir": fresh_dir})))
    }
    assert after == expected


def test_bad_inputs_are_reasons_in_the_summary_and_the_run_goes_on(settings, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.md").write_text("")
    (bad / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (bad / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (bad / "frontmatter.md").write_text("---\ntitle: [unclosed\n---\n# Hi\n\nSome words here.\n")
    good = DATA / "docs" / "sample-tuning.md"
    summary = build_pipeline(settings).run([str(bad), str(good), str(tmp_path / "missing.md")])
    reasons = dict((Path(loc).name, reason) for loc, reason in summary.failures)
    assert "empty" in reasons["empty.md"]
    assert "binary" in reasons["binary.txt"]
    assert "PDF" in reasons["broken.pdf"]
    assert "front matter" in reasons["frontmatter.md"]
    assert "no such file" in reasons["missing.md"]
    assert summary.pages == 1 and summary.exit_code() == 0 and summary.exit_code(strict=True) == 1


def test_nothing_ingested_exits_1(settings, tmp_path):
    summary = build_pipeline(settings).run([str(tmp_path / "nope.md")])
    assert summary.pages == 0 and summary.exit_code() == 1


def test_store_built_with_another_model_is_refused_with_a_clear_message(settings, tmp_path):
    build_pipeline(settings).run([str(DATA / "docs" / "sample-tuning.md")])
    other = KnowledgeStore(settings, "openai:text-embedding-3-small")
    with pytest.raises(EmbeddingModelMismatch, match="re-ingest"):
        other.count()
        other.add([], [])
        other.collection  # noqa: B018 - opening the collection is the check


def test_unreachable_chroma_server_is_one_sentence(settings):
    down = settings.model_copy(update={"chroma_url": "http://127.0.0.1:9"})
    with pytest.raises(StoreError) as info:
        KnowledgeStore(down, "local:all-MiniLM-L6-v2")
    assert "unavailable" in str(info.value) and "\n" not in str(info.value)


def test_material_organised_by_the_exam_objectives_is_marked_as_the_guide(settings, tmp_path):
    docs = _docs(tmp_path)
    (docs / "my-guide.md").write_text(
        "# Study guide\n\n## Modeling\n\n### 3.4 Perform hyperparameter optimization\n\n"
        "- Automatic model tuning searches ranges of hyperparameters.\n\n"
        "## Links\n\nThe developer guide has the details on tuning jobs.\n"
    )
    build_pipeline(settings).run([str(docs)])
    roles: dict[str, set[str]] = {}
    for c in _all_chunks(build_pipeline(settings)):
        roles.setdefault(Path(c.metadata["source"]).name, set()).add(c.metadata["source_role"])
    # every chunk of the guide, even its "Links" section outside any objective
    assert roles["my-guide.md"] == {"guide"}
    assert roles["sample-tuning.md"] == roles["sample-firehose.md"] == {"reference"}
