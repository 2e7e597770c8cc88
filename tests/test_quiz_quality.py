"""Questions worth a learner's time: scenarios from decision lines, relevance and trivia, key
safety, stems that stand alone, the objective a question tests, the per-page cap.

Built on small hand-written chunks (notes-like Markdown), so each mechanism is seen at work.
"""

from __future__ import annotations

import random
import re

import numpy as np

from knowledge.blueprint import load_blueprint
from knowledge.question import appears_in, validate_question
from knowledge.quiz import generate
from knowledge.quiz_grammar import article, need_of, stem_problems
from knowledge.quiz_offline import generate_offline
from knowledge.quiz_relevance import (
    ExamVocabulary,
    cap_per_source,
    guide_sources,
    identifier_shaped,
)
from knowledge.quiz_safety import embedding_unsafe, lexically_unsafe, mixed_kinds
from knowledge.quiz_scenario import decision_pairs
from knowledge.store import StoredChunk

BLUEPRINT = load_blueprint("mls-c01")


def chunk(cid: str, text: str, source: str, path: str, objective: str, **meta) -> StoredChunk:
    return StoredChunk(
        cid,
        text,
        {
            "source": source,
            "title": path.split(" > ")[0],
            "title_path": path,
            "domain": int(objective.split(".")[0]),
            "objective": objective,
            "position": meta.get("position", 1),
            "tag_confidence": meta.get("tag_confidence", 1.0),
        },
    )


INGESTION = chunk(
    "ingest-services",
    "**Amazon Kinesis Data Streams**: Durable, ordered stream split into shards that your own "
    "consumers read, with sub-second latency and replay of past records.\n\n"
    "**Amazon Kinesis Data Firehose**: Fully managed delivery service that buffers incoming "
    "records and loads them into S3, Redshift or OpenSearch without any consumer code.\n\n"
    "**Amazon Kinesis Data Analytics**: Runs SQL or Apache Flink applications over streaming "
    "data to compute rolling aggregates as records arrive.\n\n"
    "**Amazon MSK**: Managed Apache Kafka service for teams that already rely on Kafka topics "
    "and connectors.\n\n"
    "**AWS Snowball**: Rugged physical appliance shipped to your site for offline transfer of "
    "terabytes to petabytes when the network is too slow.\n\n"
    "**AWS Database Migration Service**: Copies data from relational databases into S3, "
    "including ongoing change data capture.",
    "notes/1.2-data-ingestion.md",
    "1.2 Identify and implement a data-ingestion solution > Ingestion services",
    "1.2",
)
DECISIONS = chunk(
    "ingest-decisions",
    '- "Land clickstream JSON in S3 as Parquet with the least operational effort" → '
    "Firehose with record format conversion.\n"
    '- "Several applications must read the same stream and replay yesterday\'s events" → '
    "Kinesis Data Streams.\n"
    '- "Existing Kafka producers must keep publishing without code changes" → MSK.\n'
    '- "Nightly export of a relational database into the data lake" → Snowball or DMS.\n'
    '- "Fifty terabytes on premises over a thin network link" → Snowball.',
    "notes/1.2-data-ingestion.md",
    "1.2 Identify and implement a data-ingestion solution > Choosing an ingestion pattern",
    "1.2",
)


# --------------------------------------------------------------------------------------------
# Scenario questions from decision lines
# --------------------------------------------------------------------------------------------


def test_decision_lines_are_split_into_needs_and_choices():
    assert decision_pairs('- "Existing Kafka producers" → MSK.') == [
        ("Existing Kafka producers", "MSK")
    ]
    line = "- Structured data, need strong accuracy → XGBoost; need a baseline → Linear Learner."
    assert decision_pairs(line) == [
        ("Structured data, need strong accuracy", "XGBoost"),
        ("Structured data, need a baseline", "Linear Learner"),
    ]
    assert decision_pairs("- Kinesis is a family of services.") == []


def test_a_need_choice_line_becomes_a_scenario_question():
    questions = generate_offline(
        [INGESTION, DECISIONS], BLUEPRINT, random.Random(3), kinds=("scenario",)
    )
    by_need = {q.stem: q for q in questions if q.format == "single"}
    firehose = next(q for s, q in by_need.items() if "clickstream JSON" in s)
    assert firehose.stem.startswith("A team has this requirement: “Land clickstream JSON")
    assert firehose.stem.endswith("Which solution meets it?")
    assert firehose.answers == ["Firehose"]  # as the cited line writes it
    assert firehose.generator == "offline:scenario" and firehose.chunk_ids == [DECISIONS.id]
    assert validate_question(firehose, blueprint=BLUEPRINT) == []
    # distractors: siblings of the same kind, none that the line's choice names
    wrong = [o for i, o in enumerate(firehose.options) if i not in firehose.correct]
    assert all("Firehose" not in o for o in wrong) and len(wrong) == 3
    # a choice of two alternatives gives "choose two", and neither appears as a distractor
    multi = next(q for q in questions if q.format == "multi" and "Nightly export" in q.stem)
    assert sorted(multi.answers) == ["DMS", "Snowball"] and "Which TWO" in multi.stem
    others = {o for i, o in enumerate(multi.options) if i not in multi.correct}
    assert not others & {"AWS Snowball", "AWS Database Migration Service"}
    # ... and no single-answer question, which would have to pick one of two right answers
    assert not [s for s in by_need if "Nightly export" in s]


def test_needs_are_phrased_from_descriptions():
    turn = need_of("Turns written text into lifelike speech in many voices.")
    assert (turn.form, turn.text) == (
        "verb",
        "turn written text into lifelike speech in many voices",
    )
    helps = need_of("helps you label images and text with human workers")
    assert helps.text == "label images and text with human workers"
    noun = need_of("Rugged physical appliance shipped to your site for offline transfer of data")
    assert noun.sentence("A team") == (
        "A team needs a rugged physical appliance shipped to their site for offline transfer "
        "of data."
    )
    assert need_of("Data is encrypted to be private and secure") is None  # its own subject
    assert need_of("Harmonic mean of precision and recall", noun_ok=False) is None
    listed = need_of("Packages, deploys and monitors models on fleets of edge devices.")
    assert listed.text == "package, deploy and monitor models on fleets of edge devices"


# --------------------------------------------------------------------------------------------
# Relevance and trivia
# --------------------------------------------------------------------------------------------

XGB_TABLE = chunk(
    "xgb-table",
    "| Parameter Name | Description |\n| --- | --- |\n"
    "| max_depth | Maximum depth of a tree; deeper trees fit more complex patterns. |\n"
    "| subsample | Ratio of the training instances sampled for each tree. |\n"
    "| colsample_bytree | Ratio of columns sampled when constructing each tree. |\n"
    "| min_child_weight | Minimum sum of instance weight needed in a child node. |\n"
    "| eta | Step size shrinkage used in updates to prevent overfitting. |",
    "https://docs.aws.amazon.com/sagemaker/latest/dg/xgboost_hyperparameters.html",
    "XGBoost Hyperparameters",
    "3.4",
    tag_confidence=0.4,
)
ERROR_TABLE = chunk(
    "firehose-errors",
    "| Error Code | Description |\n| --- | --- |\n"
    "| S3.AccessDenied | The delivery stream cannot write to the destination bucket. |\n"
    "| S3.KMS.NotFoundException | The key used to encrypt the bucket does not exist. |\n"
    "| S3.SlowDown | The bucket throttled the rate of PUT requests from the stream. |\n"
    "| S3.InvalidObjectState | The object is archived and cannot be overwritten now. |",
    "https://docs.aws.amazon.com/firehose/latest/dev/troubleshooting.html",
    "Troubleshooting > Amazon S3 errors",
    "1.2",
    tag_confidence=0.4,
)


def guide(text: str) -> StoredChunk:
    return chunk(
        "guide", text, "study-guide.md", "Modeling > 3.4 Perform hyperparameter optimization", "3.4"
    )


def test_reference_tables_give_no_question_unless_the_guide_names_the_term():
    rng = random.Random(1)
    plain = generate_offline([XGB_TABLE, ERROR_TABLE, guide("Tune XGBoost well.")], BLUEPRINT, rng)
    assert not [q for q in plain if q.source != "study-guide.md"]  # table rows are trivia
    named = guide("Know XGBoost's max_depth and eta, and what subsample does.")
    questions = generate_offline([XGB_TABLE, named], BLUEPRINT, random.Random(1))
    answers = {a for q in questions for a in q.answers}
    assert answers and answers <= {"max_depth", "eta", "subsample"}


def test_the_vocabulary_names_exam_concepts_and_spots_identifiers():
    vocab = ExamVocabulary(BLUEPRINT, "Amazon Polly turns text into speech. SageMaker Neo.")
    assert vocab.names("Amazon Kinesis Data Firehose")  # keyword "firehose"
    assert vocab.names("Binary classification")  # head noun "classification"
    assert vocab.names("Amazon Polly") and vocab.names("Neo")  # the guide names them
    assert not vocab.names("Amazon SageMaker Studio Lab")
    for trivia in ("max_depth", "DeliveryToS3.Success", "PERSON", "leaseOwner", "LeasesToTake"):
        assert identifier_shaped(trivia), trivia
    for name in ("XGBoost", "DataSync", "Object2Vec", "RMSE", "SMOTE", "Amazon S3"):
        assert not identifier_shaped(name), name
    sources = guide_sources(
        [
            ("guide.md", ["Modeling", "3.2 Select the appropriate model(s)"]),
            ("x.html", ["XGBoost"]),
        ],
        BLUEPRINT,
    )
    assert sources == {"guide.md"}


# --------------------------------------------------------------------------------------------
# The objective a question tests
# --------------------------------------------------------------------------------------------


def test_the_domain_follows_the_answer_not_the_page():
    vocab = ExamVocabulary(BLUEPRINT, "")
    # Ground Truth asked from a security page is a labeling (2.1) question
    assert vocab.objective_of(["Amazon SageMaker Ground Truth"], "…", "4.3") == "2.1"
    assert vocab.objective_of(["Amazon Comprehend"], "entity types", "2.2") == "4.2"
    assert vocab.objective_of(["Batch transform"], "…", "1.3") == "4.4"  # not "transform"
    # no keyword in the answer: a chunk tagged by its objective heading keeps its tag ...
    assert (
        vocab.objective_of(["Amazon EBS"], "training file mode", "1.1", chunk_exact=True) == "1.1"
    )
    # ... a chunk tagged by guesswork (a documentation page) yields to the stem's keywords
    stem = "A company needs to train and tune models for classification or regression."
    assert vocab.objective_of(["Autopilot"], stem, "4.3") == "3.1"
    assert vocab.objective_of(["Autopilot"], "A company needs it.", "4.3") == "4.3"
    # a partial keyword ("loss") does not move a question off an exactly tagged chunk
    assert vocab.objective_of(["Log loss"], "metric", "3.5", chunk_exact=True) == "3.5"


# --------------------------------------------------------------------------------------------
# Key safety
# --------------------------------------------------------------------------------------------


def test_lexical_key_safety():
    core = "Splits each batch across GPUs and averages the gradients with AllReduce"
    answer = "Copies the model to every GPU, splits each batch and averages the gradients."
    horovod = "Ring AllReduce framework that splits batches across GPUs and averages gradients."
    polly = "Turns written text into lifelike speech."
    assert lexically_unsafe(core, horovod, answer)  # the distractor fits the stem too
    assert not lexically_unsafe(core, polly, answer)


def test_embedding_key_safety():
    core = np.array([1.0, 0.0])
    answer = np.array([0.8, 0.6])
    assert embedding_unsafe(core, [answer], [np.array([0.81, 0.586])])  # as close as the key
    assert not embedding_unsafe(core, [answer], [np.array([0.0, 1.0])])
    assert embedding_unsafe(core, [], [np.array([0.9, 0.436])])  # too close outright


def test_options_of_different_kinds_are_flagged():
    assert not mixed_kinds(["aws", "aws", "aws", "aws"])
    assert mixed_kinds(["aws", "algorithm", "aws", "aws"])
    assert mixed_kinds(["name", "identifier", "name", "name"])
    assert not mixed_kinds(["metric", "statistic", "metric", "name"])


class ToyEmbeddings:
    """Bag-of-words vectors over a fixed vocabulary: enough to tell texts apart."""

    def __init__(self, vocabulary: list[str]) -> None:
        self.vocabulary = vocabulary

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

    def _vector(self, text: str) -> list[float]:
        words = re.findall(r"[a-z]+", text.lower())
        return [1.0 + words.count(w) for w in self.vocabulary]  # never all zero


def test_generate_rejects_a_question_whose_distractor_fits_the_stem_by_embedding():
    """With an embeddings model, near-synonym descriptions make the key unsafe."""
    embeddings = ToyEmbeddings(["stream", "records", "shards", "kafka", "appliance"])
    questions, stats = generate(
        [INGESTION, DECISIONS], BLUEPRINT, rng=random.Random(4), embeddings=embeddings
    )
    assert stats.rejected["key_unsafe_embedding"] > 0
    assert questions  # the rest survive


# --------------------------------------------------------------------------------------------
# Stems that stand alone
# --------------------------------------------------------------------------------------------


def test_grammar_check():
    assert article("S3 bucket") == "an" and article("URL") == "a" and article("hour") == "an"
    assert article("F1 score") == "an" and article("unique key") == "a"
    assert stem_problems("Which AWS service turns text into speech?") == []
    assert stem_problems("Which a AWS service fits?")
    assert stem_problems("Which TWO services matches this?")
    assert stem_problems("Which service fits the the need?")
    assert stem_problems("Which service fits “this need?")
    assert stem_problems("Which service fits")


def test_notes_stems_stand_alone(notes_settings):
    """No stem quotes a section heading ("Which term from “Other Common Errors” …")."""
    from knowledge.store import KnowledgeStore

    store = KnowledgeStore(notes_settings, "local:all-MiniLM-L6-v2")
    chunks = [c for batch in store.iter_all() for c in batch]
    headings = {h.strip() for c in chunks for h in c.metadata["title_path"].split(" > ")}
    questions, _ = generate(chunks, BLUEPRINT, rng=random.Random(2))
    assert len(questions) >= 100
    for q in questions:
        assert "term from" not in q.stem
        quoted = set(re.findall(r"“([^”]+)”", q.stem))
        assert not quoted & headings, q.stem
        assert stem_problems(q.stem) == [], q.stem
        for answer in q.answers:
            assert appears_in(answer, q.passage)


# --------------------------------------------------------------------------------------------
# One page may not supply much of a run
# --------------------------------------------------------------------------------------------


def test_page_cap_keeps_every_source_under_its_share():
    items = [(f"big{i}", "big.html", "3.3") for i in range(60)]
    items += [(f"s{n}-{i}", f"page{n}.html", "1.1") for n in range(100) for i in range(2)]
    kept, dropped = cap_per_source(items, lambda x: x[1], lambda x: x[2], share=0.03)
    per_source = {}
    for item in kept:
        per_source[item[1]] = per_source.get(item[1], 0) + 1
    assert max(per_source.values()) <= 0.03 * len(kept)
    assert dropped == len(items) - len(kept) > 0
    # a few sources only (the notes): each may supply an equal part, not nothing
    few = [(f"q{n}-{i}", f"note{n}.md", "2.2") for n in range(5) for i in range(10)]
    kept, dropped = cap_per_source(few, lambda x: x[1], lambda x: x[2], share=0.03)
    assert len(kept) == 50 and dropped == 0


def test_a_pages_choose_two_question_is_not_crowded_out_by_its_single_answers():
    """A page's single-answer questions come first; under the cap its "choose two" still
    gets a turn (the full material gave 1 "choose two" in 137 questions before)."""
    page = [(f"single{i}", "busy.md", "2.1", "single") for i in range(8)]
    page += [(f"multi{i}", "busy.md", "2.1", "multi") for i in range(2)]
    others = [(f"q{n}", f"page{n}.md", "1.1", "single") for n in range(60)]
    kept, _ = cap_per_source(
        page + others, lambda x: x[1], lambda x: x[2], share=0.05, kind=lambda x: x[3]
    )
    from_page = [x[0] for x in kept if x[1] == "busy.md"]
    assert len(from_page) < len(page) and "multi0" in from_page and "single0" in from_page
    assert "multi1" not in from_page or "single1" in from_page  # turns, in order within a kind


def test_generate_applies_the_page_cap(notes_settings):
    from knowledge.store import KnowledgeStore

    store = KnowledgeStore(notes_settings, "local:all-MiniLM-L6-v2")
    chunks = [c for batch in store.iter_all() for c in batch]
    questions, stats = generate(chunks, BLUEPRINT, rng=random.Random(2))
    per_source: dict[str, int] = {}
    for q in questions:
        per_source[q.source] = per_source.get(q.source, 0) + 1
    before = len(questions) + stats.rejected["page_cap"]
    # 15 notes pages, fewer than 1 / 3 %: each supplies at most an equal part of the run
    assert stats.rejected["page_cap"] > 0
    assert max(per_source.values()) <= -(-before // len(per_source))
