"""Quiz question generation: the model and its validation, the offline generator on the bundled
notes (and, slow, on the study guide and SageMaker pages), and the LLM generator over real HTTP
against a local OpenAI-compatible server."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.blueprint import load_blueprint
from knowledge.question import (
    GenerationStats,
    Question,
    appears_in,
    normalize_option,
    validate_question,
)
from knowledge.quiz import generate
from knowledge.quiz_llm import RESPONSE_FORMAT, generate_llm
from knowledge.quiz_offline import generate_offline
from knowledge.quiz_relevance import ExamVocabulary, identifier_shaped
from knowledge.store import StoredChunk
from tests.conftest import REPO, SAGEMAKER_DOCS
from tests.fakes.openai_server import FakeOpenAI

BLUEPRINT = load_blueprint("mls-c01")
VOCAB = ExamVocabulary(BLUEPRINT, "")
NOTES = REPO / "knowledge" / "notes" / "mls-c01"
NOTE_TERMS = {  # "Amazon SageMaker X" and "SageMaker X" normalise alike
    normalize_option(m.group(1))
    for path in NOTES.glob("*.md")
    for m in re.finditer(r"^\*\*([^*]+)\*\*:", path.read_text(encoding="utf-8"), re.M)
}

NOTES_TEXT = "\n".join(p.read_text(encoding="utf-8") for p in sorted(NOTES.glob("*.md")))

POLLY = StoredChunk(
    "chunk-polly",
    "**Amazon Polly**: Text-to-speech service that turns written text into lifelike speech in "
    "dozens of voices and languages.\n\n"
    "**Amazon Transcribe**: Automatic speech recognition that converts spoken audio into text.",
    {
        "source": "notes/4.2-aws-ml-services.md",
        "title": "4.2 Recommend and implement the appropriate machine learning services",
        "title_path": "4.2 Recommend ML services > Speech and conversation services",
        "domain": 4,
        "objective": "4.2",
        "position": 1,
    },
)


def question(**overrides) -> Question:
    """A valid hand-written question on the Polly chunk."""
    values = {
        "stem": "Which AWS service turns written text into lifelike speech?",
        "options": ["Amazon Polly", "Amazon Transcribe", "Amazon Lex", "Amazon Translate"],
        "correct": [0],
        "explanation": "Amazon Polly is a text-to-speech service that turns text into speech.",
        "chunk_ids": [POLLY.id],
        "source": POLLY.metadata["source"],
        "title": POLLY.metadata["title"],
        "domain": 4,
        "objective": "4.2",
        "format": "single",
        "choose": 1,
        "generator": "offline:term",
        "passage": POLLY.text,
    }
    values.update(overrides)
    return Question(**values)


# --------------------------------------------------------------------------------------------
# The model and its validation
# --------------------------------------------------------------------------------------------


def test_a_valid_question_has_no_errors_and_a_public_view_without_answers():
    q = question()
    assert validate_question(q, blueprint=BLUEPRINT) == []
    public = q.to_public_dict()
    assert "correct" not in public and "explanation" not in public and "passage" not in public
    assert public["options"] == q.options and public["choose"] == 1
    assert public["fingerprint"] == q.fingerprint


def test_fingerprint_maps_near_duplicates_together():
    q = question()
    reworded = question(
        stem="which AWS service turns written text into lifelike SPEECH",
        options=["amazon translate", "Amazon Lex", "Amazon  Polly", "Amazon Transcribe"],
        correct=[2],
    )
    assert reworded.fingerprint == q.fingerprint
    other = question(stem="Which AWS service converts spoken audio into text?")
    assert other.fingerprint != q.fingerprint


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"options": ["Amazon Polly", "Amazon Transcribe", "Amazon Lex"]}, "option_count"),
        (
            {"options": ["Amazon Polly", "amazon polly", "Amazon Lex", "Amazon Translate"]},
            "repeated_options",
        ),
        ({"correct": [4]}, "correct_range"),
        ({"correct": [0, 1]}, "correct_count"),
        ({"stem": "  "}, "empty_stem"),
        ({"explanation": ""}, "empty_explanation"),
        (
            {"explanation": "Kubernetes pods are scheduled onto worker nodes by kubelet."},
            "explanation_unsupported",
        ),
        ({"correct": [2]}, "answer_unsupported"),  # Amazon Lex is not in the chunk
        ({"stem": "Is Amazon Polly the service that turns text into speech?"}, "answer_in_stem"),
        ({"format": "multi", "choose": 2, "correct": [0, 1]}, "option_count"),
        ({"objective": "9.9"}, "objective"),
        ({"passage": ""}, "no_passage"),
    ],
)
def test_validation_names_each_problem(overrides, reason):
    errors = validate_question(question(**overrides), blueprint=BLUEPRINT)
    assert reason in {e.split(":", 1)[0] for e in errors}, errors


def test_a_generator_name_is_checked():
    with pytest.raises(ValueError):
        question(generator="magic")


# --------------------------------------------------------------------------------------------
# Offline generation from the bundled notes (the session's notes store)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def notes_chunks(notes_settings) -> list[StoredChunk]:
    from knowledge.store import KnowledgeStore

    store = KnowledgeStore(notes_settings, "local:all-MiniLM-L6-v2")
    chunks = [c for batch in store.iter_all() for c in batch]
    assert chunks
    return chunks


@pytest.fixture(scope="module")
def notes_questions(notes_chunks) -> list[Question]:
    return generate_offline(notes_chunks, BLUEPRINT, random.Random(11))


def _check_grounded(questions: list[Question], chunks: list[StoredChunk]) -> None:
    by_id = {c.id: c for c in chunks}
    for q in questions:
        assert validate_question(q, blueprint=BLUEPRINT) == [], q.stem
        chunk = by_id[q.chunk_ids[0]]
        assert q.passage.endswith(chunk.text)
        # tagged with what it tests: the chunk's objective, unless an answer names another's
        assert BLUEPRINT.objective(q.objective).domain_id == q.domain
        if q.objective != chunk.metadata["objective"]:
            assert any(q.objective in VOCAB.keyword_hits(a, whole_term=True) for a in q.answers)
        for answer in q.answers:  # the correct option is written in the cited chunk
            assert appears_in(answer, q.passage), (answer, q.stem)
            assert not appears_in(answer, q.stem), q.stem
        normalized = [normalize_option(o) for o in q.options]
        assert len(set(normalized)) == len(q.options), q.options
        assert len(q.options) == (4 if q.format == "single" else 5)
        assert len(q.correct) == q.choose


def test_every_offline_question_from_the_notes_validates(notes_questions, notes_chunks):
    assert len(notes_questions) >= 100
    _check_grounded(notes_questions, notes_chunks)
    kinds = {q.generator for q in notes_questions}
    assert {"offline:term", "offline:multi"} <= kinds
    assert {q.format for q in notes_questions} == {"single", "multi"}
    assert {q.objective for q in notes_questions} == {o.id for o in BLUEPRINT.objectives}


def test_term_and_need_questions_use_sibling_terms_as_distractors(notes_questions):
    terms = [q for q in notes_questions if q.generator in ("offline:term", "offline:need")]
    for q in terms:  # every option is a term the notes define or name: not invented
        for option in q.options:
            assert normalize_option(option) in NOTE_TERMS or appears_in(option, NOTES_TEXT)
    polly = [q for q in terms if q.answers == ["Amazon Polly"]]
    assert polly, "the notes define Amazon Polly under 'Speech and conversation services'"
    for q in polly:
        assert "text" in q.stem.lower() and "Polly" not in q.stem
        assert all(o.startswith(("Amazon ", "AWS ")) for o in q.options), q.options


def test_choose_two_questions_have_two_answers_of_five(notes_questions):
    multi = [q for q in notes_questions if q.format == "multi"]
    assert multi
    for q in multi:
        assert q.choose == 2 and len(q.options) == 5 and len(q.correct) == 2
        assert "Which TWO" in q.stem and q.stem.endswith("?")


def test_generation_is_deterministic_by_seed(notes_chunks, notes_questions):
    again = generate_offline(notes_chunks, BLUEPRINT, random.Random(11))
    assert [q.model_dump() for q in again] == [q.model_dump() for q in notes_questions]
    other = generate_offline(notes_chunks, BLUEPRINT, random.Random(12))
    assert [q.model_dump() for q in other] != [q.model_dump() for q in notes_questions]


def test_generate_validates_drops_duplicates_and_counts(notes_chunks):
    questions, stats = generate(notes_chunks, BLUEPRINT, rng=random.Random(3))
    assert stats.valid == len(questions) > 0
    assert stats.attempted >= stats.valid
    assert len({q.fingerprint for q in questions}) == len(questions)
    assert sum(stats.per_objective.values()) == len(questions)
    assert stats.to_dict()["valid_share"] == round(stats.valid / stats.attempted, 4)

    few, few_stats = generate(notes_chunks, BLUEPRINT, rng=random.Random(3), count=15, domain=2)
    assert len(few) == 15 and all(q.domain == 2 for q in few)
    assert len({q.objective for q in few}) == 3  # spread over the domain's objectives
    assert few_stats.valid == 15


# --------------------------------------------------------------------------------------------
# The real material (slow): the study guide and a sample of 30 SageMaker pages
# --------------------------------------------------------------------------------------------

FIXED_PAGES = [
    "xgboost.md",
    "xgboost_hyperparameters.md",
    "k-means.md",
    "linear-learner.md",
    "deepar.md",
    "blazingtext.md",
    "randomcutforest.md",
    "ntm.md",
    "lda.md",
    "studio.md",
    "canvas.md",
    "model-monitor.md",
]


@pytest.mark.slow
def test_offline_questions_from_the_guide_and_sagemaker_pages_validate(shared_corpus):
    from bench.quiz_generation import load_chunks

    pages = sorted(p.name for p in SAGEMAKER_DOCS.glob("*.md"))
    others = [p for p in pages if p not in FIXED_PAGES]
    sample = FIXED_PAGES + random.Random(5).sample(others, 30 - len(FIXED_PAGES))
    paths = [shared_corpus / "study-guide.md", *(SAGEMAKER_DOCS / n for n in sample)]
    chunks = load_chunks(paths)
    questions = generate_offline(chunks, BLUEPRINT, random.Random(1))
    _check_grounded(questions, chunks)
    assert len(questions) >= 20
    assert {q.generator for q in questions} >= {"offline:need", "offline:title"}
    guide = [q for q in questions if Path(q.source).name == "study-guide.md"]
    assert any(q.answers == ["Amazon Polly"] for q in guide)  # "[Amazon Polly](url)" + bullets
    titles = [q for q in questions if q.generator == "offline:title"]
    assert titles
    for q in titles:  # the answer is the page's subject, named by its title
        assert normalize_option(q.answers[0]) in normalize_option(q.title), (q.answers, q.title)
    for q in questions:  # no hyperparameter-table trivia (xgboost_hyperparameters.md is read)
        assert not any(identifier_shaped(a) for a in q.answers), q.answers


@pytest.mark.slow
def test_every_objective_gets_five_questions_from_the_full_material(shared_corpus):
    """The bundled notes, the study guide and every page of the four AWS guides it leads to
    (parsed and keyword-tagged without embeddings, ~1.5 min): at least 5 questions for every
    objective, no page over 3 % of the bank, and most of it scenario-style."""
    from bench.quiz_generation import SCENARIO_KINDS, load_chunks

    docs = sorted((shared_corpus / "awsdocs").glob("*/doc_source/*.md"))
    paths = [*sorted(NOTES.glob("*.md")), shared_corpus / "study-guide.md", *docs]
    chunks = load_chunks(paths)
    questions, stats = generate(chunks, BLUEPRINT, rng=random.Random(7))
    per_objective = Counter(q.objective for q in questions)
    assert {
        o.id: per_objective[o.id] for o in BLUEPRINT.objectives if per_objective[o.id] < 5
    } == {}
    assert max(Counter(q.source for q in questions).values()) <= 0.03 * len(questions)
    assert sum(q.generator in SCENARIO_KINDS for q in questions) >= 0.4 * len(questions)
    assert stats.rejected["offline_trivia"] > 0  # the tables were read, and left out


# --------------------------------------------------------------------------------------------
# The LLM generator over real HTTP
# --------------------------------------------------------------------------------------------

GOOD = {
    "stem": "A company wants its app to read news articles aloud in a natural voice. "
    "Which AWS service should it use?",
    "options": ["Amazon Polly", "Amazon Transcribe", "Amazon Comprehend", "Amazon Lex"],
    "answers": ["Amazon Polly"],
    "explanation": "Amazon Polly is a text-to-speech service that turns written text into "
    "lifelike speech.",
}
GOOD_MULTI = {
    "stem": "Which TWO services work with speech? (Choose two.)",
    "options": [
        "Amazon Polly",
        "Amazon Transcribe",
        "Amazon Redshift",
        "Amazon EMR",
        "AWS Glue",
    ],
    "answers": ["Amazon Polly", "Amazon Transcribe"],
    "explanation": "Amazon Polly turns text into lifelike speech, and Amazon Transcribe "
    "converts spoken audio into text.",
}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeOpenAI) -> FakeOpenAI:
    server.responder = lambda body: json.dumps(GOOD)
    server.status = 200
    server.delay = 0.0
    server.requests.clear()
    return server


@pytest.fixture
def chat_model(fake, tmp_path):
    from knowledge.llm import make_chat_model
    from knowledge.settings import Settings

    settings = Settings(
        openai_api_key="test-key",
        openai_base_url=fake.base_url,
        llm_timeout=5.0,
        data_dir=tmp_path,
        _env_file=None,
    )
    return make_chat_model(settings)


def test_a_good_model_question_is_accepted(fake, chat_model):
    q = generate_llm(POLLY, BLUEPRINT, chat_model, "single")
    assert q is not None
    assert q.generator == "llm" and q.answers == ["Amazon Polly"] and q.correct == [0]
    assert (q.chunk_ids, q.domain, q.objective) == ([POLLY.id], 4, "4.2")
    assert validate_question(q, blueprint=BLUEPRINT) == []
    body = fake.chat_requests[-1]
    assert body["response_format"]["type"] == "json_schema"
    assert (
        body["response_format"]["json_schema"]["schema"]
        == (RESPONSE_FORMAT["json_schema"]["schema"])
    )
    prompt = "\n".join(m["content"] for m in body["messages"])
    assert "<passage" in prompt and "lifelike speech" in prompt and "4.2" in prompt


def test_a_fenced_choose_two_question_is_accepted(fake, chat_model):
    fake.responder = lambda body: "```json\n" + json.dumps(GOOD_MULTI) + "\n```"
    q = generate_llm(POLLY, BLUEPRINT, chat_model, "multi")
    assert q is not None and q.format == "multi" and q.choose == 2
    assert sorted(q.answers) == ["Amazon Polly", "Amazon Transcribe"]
    prompt = "\n".join(m["content"] for m in fake.chat_requests[-1]["messages"])
    assert "Exactly 5 options" in prompt and "two options are correct" in prompt


@pytest.mark.parametrize(
    ("reply", "fmt", "reason"),
    [
        (
            {**GOOD, "options": ["Amazon Polly", "amazon polly", "Amazon Lex", "Amazon EMR"]},
            "single",
            "llm_repeated_options",
        ),
        ({**GOOD, "answers": ["Amazon Kendra"]}, "single", "llm_answer_not_in_options"),
        ({**GOOD_MULTI, "answers": ["Amazon Polly"]}, "multi", "llm_correct_count"),
        (
            {**GOOD, "explanation": "Redshift stores petabytes of columnar warehouse tables."},
            "single",
            "llm_explanation_unsupported",
        ),
        ("Sure! Amazon Polly is the answer.", "single", "llm_not_json"),
        ({"stem": "Which?", "options": "Polly"}, "single", "llm_schema"),
        ({**GOOD, "options": GOOD["options"][:3]}, "single", "llm_option_count"),
    ],
)
def test_bad_model_questions_are_rejected(fake, chat_model, reply, fmt, reason):
    fake.responder = lambda body: reply if isinstance(reply, str) else json.dumps(reply)
    stats = GenerationStats()
    assert generate_llm(POLLY, BLUEPRINT, chat_model, fmt, stats=stats) is None
    assert dict(stats.rejected) == {reason: 1}


def test_a_model_error_gives_none(fake, chat_model):
    fake.status = 500
    stats = GenerationStats()
    assert generate_llm(POLLY, BLUEPRINT, chat_model, "single", stats=stats) is None
    assert dict(stats.rejected) == {"llm_model_error": 1}


def test_generate_falls_back_to_offline_questions_when_the_model_fails(
    fake, chat_model, notes_chunks
):
    fake.responder = lambda body: "not json at all"
    questions, stats = generate(
        notes_chunks, BLUEPRINT, chat_model=chat_model, rng=random.Random(0), count=3
    )
    assert len(questions) == 3 and all(q.generator.startswith("offline:") for q in questions)
    assert stats.llm_fallbacks == stats.llm_calls == stats.rejected["llm_not_json"] >= 3
    for q in questions:  # the stand-in cites the chunk the model was given
        assert validate_question(q, blueprint=BLUEPRINT) == []

    fake.responder = lambda body: json.dumps(GOOD)
    questions, stats = generate(
        [POLLY], BLUEPRINT, chat_model=chat_model, rng=random.Random(0), multi_share=0.0
    )
    assert [q.generator for q in questions] == ["llm"] and stats.valid == 1


# --------------------------------------------------------------------------------------------
# The model's questions pass the same relevance and key-safety checks
# --------------------------------------------------------------------------------------------

XGB_PARAMS = StoredChunk(
    "chunk-xgb-params",
    "| Parameter Name | Description |\n| --- | --- |\n"
    "| max_depth | Maximum depth of a tree; deeper trees fit more complex patterns. |\n"
    "| subsample | Ratio of the training instances sampled for each tree. |\n"
    "| eta | Step size shrinkage used in updates to prevent overfitting. |\n"
    "| gamma | Minimum loss reduction required to make a further partition on a leaf node. |",
    {
        "source": "https://docs.aws.amazon.com/sagemaker/latest/dg/xgboost_hyperparameters.html",
        "title": "XGBoost Hyperparameters",
        "title_path": "XGBoost Hyperparameters",
        "domain": 3,
        "objective": "3.4",
        "position": 1,
    },
)
TRIVIA = {
    "stem": "Which XGBoost hyperparameter sets the maximum depth of a tree?",
    "options": ["max_depth", "subsample", "eta", "gamma"],
    "answers": ["max_depth"],
    "explanation": "max_depth is the maximum depth of a tree; deeper trees fit more patterns.",
}
WRONG_KEY = {  # Transcribe, a distractor here, is what the stem describes
    **GOOD,
    "stem": "A company must turn spoken audio from support calls into text. Which service?",
}
MIXED = {**GOOD, "options": ["Amazon Polly", "Amazon Transcribe", "k-means", "XGBoost"]}


@pytest.mark.parametrize(
    ("reply", "chunks", "reason"),
    [
        (TRIVIA, [XGB_PARAMS], "llm_trivia"),
        (WRONG_KEY, [POLLY], "llm_key_unsafe_lexical"),
        (MIXED, [POLLY], "llm_mixed_kinds"),
    ],
)
def test_model_questions_get_the_relevance_and_key_safety_checks(
    fake, chat_model, reply, chunks, reason
):
    fake.responder = lambda body: json.dumps(reply)
    questions, stats = generate(
        chunks, BLUEPRINT, chat_model=chat_model, rng=random.Random(0), multi_share=0.0
    )
    assert stats.rejected[reason] == 1, dict(stats.rejected)
    assert all(q.generator != "llm" for q in questions)  # what stands in is offline
