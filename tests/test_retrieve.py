"""Hybrid retrieval over a small store built from the bundled study notes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from ingest.job import build_pipeline
from knowledge.embeddings import LocalEmbeddings
from knowledge.lexical import tokenize
from knowledge.retrieve import (
    GUIDE_MIN_SHARE,
    Retriever,
    cap_per_source,
    distinct_texts,
    document_of,
    fuse,
    guide_words,
    holds_share,
    keep_a_guide_passage,
    keep_first_choices,
    put_first,
    word_weights,
)
from knowledge.settings import Settings
from knowledge.store import StoredChunk
from knowledge.tags import read_tag
from tests.conftest import DATA


@pytest.fixture(scope="module")
def retriever(notes_settings) -> Retriever:
    return Retriever(notes_settings, LocalEmbeddings())


def test_fusion_rewards_agreement_between_rankings():
    fused = fuse([["a", "b", "c"], ["b", "d"]])
    assert max(fused, key=fused.get) == "b"
    assert set(fused) == {"a", "b", "c", "d"}


def test_cap_per_source_keeps_order():
    ids = ["a1", "a2", "a3", "b1", "a4"]
    assert cap_per_source(ids, {i: i[0] for i in ids}, 2) == ["a1", "a2", "b1"]


def test_tokenizer_keeps_service_names_and_drops_stopwords():
    assert tokenize("What is the Seq2Seq algorithm?") == ["seq2seq", "algorithm"]
    assert "k-means" in tokenize("k-means clustering") and "means" in tokenize("k-means")


def test_search_finds_the_right_objective_with_scores(retriever):
    hits = retriever.search("Which service converts text into lifelike speech?", k=5)
    assert hits and "Polly" in hits[0].text
    assert hits[0].objective == "4.2" and hits[0].domain == 4
    assert all(h.score > 0 and h.dense_score is not None for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_domain_filter_and_per_source_cap(retriever):
    hits = retriever.search("encryption of training data with keys", k=8, domain=4)
    assert hits and all(h.domain == 4 for h in hits)
    parts = [document_of(h.metadata) for h in hits]  # a source's section counts as one
    assert all(parts.count(p) <= 2 for p in parts)


def test_the_cap_counts_sections_of_one_long_source_apart():
    guide = {"source": "guide.md", "title_path": "Exam Material > AWS ML Stack > AI Services"}
    other = {**guide, "title_path": "Exam Material > AWS ML Stack > ML Services"}
    page = {"source": "neo.html", "title_path": "Neo > What is Neo? > Edge"}
    assert document_of(guide) != document_of(other)
    assert document_of(page) == document_of({**page, "title_path": "Neo > What is Neo? > Edge"})
    ids = ["a", "b", "c", "d"]
    source_of = {"a": "x", "b": "x", "c": "x", "d": "y"}
    assert cap_per_source(ids, source_of, 2) == ["a", "b", "d"]


def test_each_retrievers_first_choice_stays_in_the_top_k():
    fused = {"a": 0.03, "b": 0.029, "c": 0.028, "lex": 0.016}
    assert keep_first_choices(["a", "b", "c"], ["a", "lex"], 3, fused) == ["a", "b", "lex"]
    assert keep_first_choices(["a", "b"], ["lex"], 3, fused) == ["a", "b", "lex"]
    assert keep_first_choices(["a", "b", "c"], ["a", "b"], 3, fused) == ["a", "b", "c"]


def test_a_guide_passage_takes_the_last_slot_but_never_a_retrievers_first_choice():
    """Thousands of doc pages repeat a question's words; the study guide's list entry that
    answers it still reaches the answer, in the last of the top k."""
    top = ["d1", "d2", "d3", "d4", "d5"]
    assert keep_a_guide_passage(top, "g1", 5, ["d1"]) == ["d1", "d2", "d3", "d4", "g1"]
    assert keep_a_guide_passage(top, "g1", 5, ["d1", "d5"]) == ["d1", "d2", "d3", "d5", "g1"]
    assert keep_a_guide_passage(top[:3], "g1", 5, []) == ["d1", "d2", "d3", "g1"]
    assert keep_a_guide_passage(top, None, 5, []) == top


class _Frequencies:
    size = 18_000

    def document_frequencies(self, terms):
        df = {"sagemaker": 1666, "amazon": 1407, "autopilot": 216, "long": 900}
        return {t: df.get(t, 0) for t in terms}


def test_a_guide_passage_must_hold_most_of_the_questions_rare_words():
    weights = word_weights("What does SageMaker Autopilot do?", _Frequencies())
    assert holds_share(weights, {"autopilot", "trains", "tunes"}) >= GUIDE_MIN_SHARE
    assert holds_share(weights, {"sagemaker", "studio"}) < GUIDE_MIN_SHARE
    egg = word_weights("How long should I boil an egg?", _Frequencies())
    assert holds_share(egg, {"long", "training", "jobs"}) < GUIDE_MIN_SHARE


def test_empty_query_returns_nothing(retriever):
    assert retriever.search("   ") == []


def test_lexical_index_is_rebuilt_when_the_store_moved_on(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)
    build_pipeline(settings).run(["tests/data/docs"])
    retriever = Retriever(settings, LocalEmbeddings())
    assert all("Zymurgy" not in h.text for h in retriever.search("zymurgy fermentation", k=3))
    extra = tmp_path / "extra.md"
    extra.write_text("# Zymurgy notes\n\nZymurgy is the study of fermentation in brewing.\n")
    build_pipeline(settings).run([str(extra)])
    hits = retriever.search("zymurgy fermentation", k=3)
    assert hits and hits[0].source == str(extra.resolve())
    assert hits[0].lexical_score is not None


def test_cli_search_and_eval_json(notes_settings, tmp_path, monkeypatch):
    from bot.cli import app
    from knowledge.settings import get_settings

    monkeypatch.setenv("STUDYBOT_DATA_DIR", str(notes_settings.data_dir))
    get_settings.cache_clear()
    runner = CliRunner()
    out = runner.invoke(app, ["search", "hyperparameter tuning strategies", "--json", "-k", "3"])
    assert out.exit_code == 0, out.output
    hits = json.loads(out.stdout)
    assert len(hits) == 3 and hits[0]["objective"] == "3.4"
    questions = tmp_path / "eval.jsonl"
    questions.write_text(
        json.dumps(
            {
                "id": "1",
                "q": "What does Bayesian search do when tuning?",
                "domains": [3],
                "hits": ["3.4-"],
            }
        )
        + "\n"
        + json.dumps(
            {
                "id": "2",
                "q": "Which service builds chatbots?",
                "domains": [4],
                "hits": ["no-such-file"],
            }
        )
        + "\n"
    )
    out = runner.invoke(app, ["eval", str(questions), "--json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert set(result) == {"hit_at_1", "hit_at_5", "mrr", "domain_accuracy", "n"}
    assert result["n"] == 2 and result["hit_at_5"] == 0.5 and result["domain_accuracy"] == 1.0
    get_settings.cache_clear()


def test_cli_search_on_empty_store_says_to_ingest(tmp_path, monkeypatch):
    from bot.cli import app
    from knowledge.settings import get_settings

    monkeypatch.setenv("STUDYBOT_DATA_DIR", str(tmp_path / "empty"))
    get_settings.cache_clear()
    out = CliRunner().invoke(app, ["search", "anything"])
    assert out.exit_code == 1 and "studybot ingest" in out.output
    get_settings.cache_clear()


def test_the_same_passage_text_from_several_sources_takes_one_slot():

    by_id = {
        "a": StoredChunk("a", "See the AWS glossary.", {"content_hash": "h1"}),
        "b": StoredChunk("b", "See the AWS glossary.", {"content_hash": "h1"}),
        "c": StoredChunk("c", "Neo compiles models.", {"content_hash": "h2"}),
    }
    assert distinct_texts(["a", "b", "c"], by_id) == ["a", "c"]


def test_a_store_of_documentation_pages_alone_searches_as_before(settings):
    """No guide in the store (or a store ingested before source roles): nothing to add."""
    build_pipeline(settings).run([str(DATA / "docs")])
    hits = Retriever(settings, LocalEmbeddings()).search("early stopping in tuning jobs", k=3)
    assert hits and hits[0].title_path.endswith("Early stopping")
    assert {h.metadata["source_role"] for h in hits} == {"reference"}


def test_the_guide_candidate_is_filtered_by_the_domain_of_the_exam_in_use(retriever):
    """An imbalanced-classification metric is MLA-C01 domain 2 (2.3) but MLS-C01 domain 3 (3.5):
    a domain-2 search for MLA-C01 must still find the guide's passage on it."""
    query = "Which metric should I use for an imbalanced classification problem?"
    retriever.refresh_lexical()
    vector = np.asarray(retriever.embeddings.embed_query(query), "float32")
    passage = retriever._guide_passage(query, vector, 2, "mla-c01")
    assert passage is not None
    assert read_tag(passage.metadata, "mla-c01").domain == 2
    assert read_tag(passage.metadata, "mls-c01").domain == 3


def test_a_guide_label_counts_more_than_a_word_said_in_passing():
    """ "**Natural Language Processing**" names the list below it; an entry that says "natural
    language" once in passing does not name a list."""
    listing = StoredChunk(
        "l", "**Natural Language Processing**\nBlazingText\nObject2Vec", {"title_path": "3.2"}
    )
    passing = StoredChunk(
        "p", "- a natural language processing service for text", {"title_path": "AI Services"}
    )
    assert guide_words(listing)["natural"] > guide_words(passing)["natural"]
    assert guide_words(listing)["blazingtext"] == 1


def test_the_passage_about_x_leads_without_displacing_what_must_stay():
    assert put_first(["a", "b", "c"], "b", 3, []) == ["b", "a", "c"]
    assert put_first(["a", "b", "c"], "x", 3, ["c"]) == ["x", "a", "c"]  # "b" makes room
    assert put_first(["a", "b"], "x", 3, []) == ["x", "a", "b"]
    assert put_first(["a", "b"], "x", 2, ["a", "b"]) == ["a", "b"]  # nothing may go
