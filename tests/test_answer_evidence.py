"""Coverage from the evidence as a whole, sentence choice by question shape, exam facts from
the blueprint, the domain of the passage cited first. Hand-written passages; no model loads.
"""

from __future__ import annotations

import pytest

from knowledge.answer import EXAM_LABEL, AnswerGenerator, answer_domains
from knowledge.blueprint import load_blueprint
from knowledge.coverage import question_names, question_weights
from knowledge.exam import exam_lines, exam_question
from knowledge.keywords import KeywordIndex
from knowledge.settings import Settings
from knowledge.types import Hit

SERVICES = (
    "Amazon Fooly\n"
    "- reads written text aloud in dozens of lifelike voices\n\n"
    "Amazon Barscribe\n"
    "- turns recorded speech into text with timestamps\n\n"
    "Amazon Quizlex\n"
    "- builds chat bots that understand voice and text\n\n"
    "Amazon Lensly\n"
    "- finds objects, faces and unsafe content in images\n"
)


@pytest.fixture(scope="module")
def blueprint():
    return load_blueprint("mls-c01")


@pytest.fixture
def generator(blueprint, tmp_path) -> AnswerGenerator:
    """The product's calibrated threshold (Settings default), offline."""
    return AnswerGenerator(Settings(_env_file=None, data_dir=tmp_path), blueprint)


def hit(
    n: int,
    text: str,
    title_path: str = "Guide > AI Services",
    dense: float | None = 0.3,
    source: str | None = None,
    objective: str = "4.2",
    confidence: float = 1.0,
    role: str = "",
) -> Hit:
    return Hit(
        id=f"chunk-{n}",
        text=text,
        source=source or f"guide/part{n}.md",
        title="Guide",
        title_path=title_path,
        domain=int(objective.split(".")[0]),
        objective=objective,
        score=round(1 / (60 + n), 6),
        dense_score=dense,
        metadata={"tag_confidence": confidence, **({"source_role": role} if role else {})},
    )


class Stats:
    """Document frequencies of a pretend store of 1,000 chunks."""

    size = 1000

    def __init__(self, df: dict[str, int]) -> None:
        self.df = df

    def document_frequencies(self, terms):
        return {t: self.df.get(t, 0) for t in terms}


# -- coverage ---------------------------------------------------------------------------------


def test_a_list_entry_answers_despite_the_low_cosine_of_the_whole_list(generator):
    answer = generator.answer("What does Amazon Fooly do?", [hit(1, SERVICES, dense=0.25)])
    assert answer.mode == "extractive"
    assert answer.text.splitlines()[1] == (
        "Amazon Fooly: reads written text aloud in dozens of lifelike voices [1]"
    )


def test_a_name_no_passage_mentions_refuses_however_close_the_passages(generator):
    endpoints = hit(
        1, "SageMaker endpoints serve models over HTTPS and scale with traffic.", dense=0.7
    )
    evidence = generator.evidence("How do I scale Azure endpoints with traffic?", [endpoints])
    assert evidence.missing_names == ["Azure"] and not evidence.covered
    answer = generator.answer("How do I scale Azure endpoints with traffic?", [endpoints])
    assert answer.mode == "not_covered"


def test_words_met_by_chance_do_not_make_an_off_topic_question_covered(generator):
    pools = hit(1, "Warm pools keep training instances alive after a job ends.", dense=0.2)
    question = "How do I keep a sourdough starter alive on holiday?"
    # the store never mentions sourdough, starters or holidays; keep and alive are common
    stats = Stats({"keep": 120, "alive": 40})
    assert generator.answer(question, [pools], stats=stats).mode == "not_covered"
    on_topic = "How long do warm pools keep instances alive?"
    stats = Stats({"keep": 120, "alive": 40, "warm": 3, "pools": 2, "instances": 300})
    assert generator.answer(on_topic, [pools], stats=stats).mode == "extractive"


def test_sentence_openers_are_not_names_but_names_and_versions_are():
    assert question_names("I need labels. Which feature helps?") == []
    assert question_names("Is SageMaker Neo like Azure AI-102 or Cortex?") == [
        "SageMaker",
        "Neo",
        "Azure",
        "AI-102",
        "Cortex",
    ]


def test_rare_terms_weigh_more_framing_words_little_names_double():
    stats = Stats({"xgboost": 5, "accept": 300, "format": 200, "best": 400})
    weights = question_weights("What is the best format XGBoost can accept?", stats)
    assert weights["xgboost"] > 2 * weights["format"] > 0
    assert weights["best"] < 0.3 * weights["accept"]


def test_a_follow_up_counts_the_previous_question_at_half_weight(generator):
    hits = [hit(1, "Trees in XGBoost grow to at most max_depth levels.", dense=0.3)]
    history = [("How deep can XGBoost trees grow?", "Up to max_depth [1]")]
    assert generator.answer("and the default?", hits, history).mode == "extractive"
    assert generator.answer("and the default?", hits).mode == "not_covered"


# -- sentence choice --------------------------------------------------------------------------


def test_x_vs_y_takes_the_defining_sentence_of_each(generator):
    text = (
        "The feature vault keeps features for training and inference.\n\n"
        "**Offline vault**: Append-only history of every record, kept for training sets.\n\n"
        "**Online vault**: Latest value of each record, read at inference time.\n"
    )
    answer = generator.answer("Online vault vs offline vault?", [hit(1, text)])
    assert answer.text.splitlines()[1:] == [
        "Online vault: Latest value of each record, read at inference time [1]",
        "Offline vault: Append-only history of every record, kept for training sets [1]",
    ]


def test_which_algorithm_answers_with_the_name_first(generator):
    scenarios = hit(
        1,
        "- Spot odd readings in a metrics stream as they arrive → Stream Analyzer\n",
        title_path="Notes > Choosing an ingestion pattern",
    )
    algorithms = hit(
        2,
        "**Cut Forest**: Gives each data point an anomaly score; high scores mark outliers.\n",
        title_path="Notes > Unsupervised algorithms",
    )
    answer = generator.answer(
        "Which algorithm finds anomaly points in streaming data?", [scenarios, algorithms]
    )
    assert answer.text.splitlines()[1].startswith("Cut Forest: gives each data point")
    arrow = generator.answer("Which service spots odd readings in a metrics stream?", [scenarios])
    assert arrow.text.splitlines()[1].startswith("Stream Analyzer: Spot odd readings")


def test_the_definition_comes_first_even_when_it_comes_later_in_the_passage(generator):
    text = (
        "You can tune Rankly with ten settings. "
        "Rankly is a managed algorithm that ranks items for each user. "
        "It trains on click logs."
    )
    answer = generator.answer(
        "What is Rankly?", [hit(1, text, title_path="Algorithms > Rankly Algorithm")]
    )
    assert answer.text.splitlines()[1] == (
        "Rankly is a managed algorithm that ranks items for each user [1]"
    )


DOC_PAGE = "https://docs.example.com/ml/latest/dg/compilo.html"
GUIDE_ENTRY = (
    "**Deploy & Manage**\n"
    "Pipelines\n\n"
    "[Compilo](https://example.com/compilo/)\n"
    "- compiles trained models once so they run anywhere in the cloud and at the edge\n"
    "- optimizes models to run up to twice as fast with no loss in accuracy\n"
)


def _doc_pages() -> list[Hit]:
    """Documentation passages about Compilo, ranked above the guide by retrieval."""
    return [
        hit(
            1,
            "Compilo is a capability of the platform that compiles trained models so they run "
            "on cloud instances and edge devices. Compilo supports six model frameworks.",
            title_path="Compile models with Compilo > What is Compilo?",
            source=DOC_PAGE,
            role="reference",
            objective="4.4",
            confidence=0.4,
        ),
        hit(
            2,
            "Compilo only supports the lite runtime for edge device targets.",
            title_path="Compilo edge devices",
            source=DOC_PAGE.replace("compilo", "compilo-edge"),
            role="reference",
            confidence=0.4,
        ),
    ]


def test_when_the_guide_answers_as_well_as_a_doc_page_the_guide_is_cited(generator):
    guide = hit(3, GUIDE_ENTRY, title_path="Exam Material > ML Services", role="guide")
    answer = generator.answer("What does Compilo do?", [*_doc_pages(), guide])
    assert answer.citations[0].source == guide.source
    assert answer.text.splitlines()[1].startswith("Compilo: compiles trained models once")


def test_a_guide_list_that_only_names_the_thing_loses_to_the_page_that_explains_it(generator):
    names_only = hit(
        3,
        "**Deploy & Manage**\nPipelines\nModel Watch\nCompilo\n",
        title_path="Exam Material > ML Services",
        role="guide",
    )
    answer = generator.answer("What does Compilo do?", [*_doc_pages(), names_only])
    assert answer.citations[0].source == DOC_PAGE
    assert answer.text.splitlines()[1].startswith("Compilo is a capability")


def test_a_question_about_what_the_guide_says_is_answered_from_the_guide(generator):
    doc = hit(
        1,
        "**HPO models**: The probability of the `True` class for binary classification.\n\n"
        "**Ensemble models**: The probability of the predicted label for binary and multiclass "
        "classification.\n",
        title_path="Inference responses per problem type > Responses for classification models",
        source=DOC_PAGE,
        role="reference",
    )
    guide = hit(
        2,
        "**Classification Models**\nKNN\n\n**Regression/Classification Models**\n"
        "Linear Learner, XGBoost\n",
        title_path="Modeling > 3.2 Select the appropriate model(s)",
        role="guide",
    )
    # on documentation pages "guide" is rarer than the words of the question's topic
    stats = Stats({"guide": 2, "list": 40, "classification": 60, "models": 300})
    answer = generator.answer(
        "Which models does the guide list under classification models?", [doc, guide], stats=stats
    )
    assert answer.citations[0].source == guide.source
    assert "KNN" in answer.text.splitlines()[1]


def test_an_answer_stays_within_about_120_words(generator):
    text = (
        "Batch scoring reads every record of the input dataset from object storage in parallel "
        "workers and writes one score per record back to storage when the batch job ends. "
        "Batch scoring splits large record files into mini batches so that workers never read "
        "more records than fit in memory during a single scoring request of the batch job. "
        "Batch scoring joins each written score with its input record so analysts can read the "
        "record and its score side by side in the storage bucket after the batch job. "
        "Batch scoring retries records that fail to read from storage three times before it "
        "writes them to an error file next to the scores of the batch job in storage. "
    )
    answer = generator.answer("How does batch scoring read and write records?", [hit(1, text)])
    body = [line.rsplit(" [", 1)[0] for line in answer.text.splitlines()[1:]]
    assert len(body) >= 2 and sum(len(line.split()) for line in body) <= 120


# -- exam facts -------------------------------------------------------------------------------


def test_exam_questions_are_read_from_the_blueprint(blueprint):
    asked = exam_question(
        "How many questions and what passing score does the exam have?", blueprint
    )
    lines = exam_lines(asked, blueprint)
    assert any("65 questions" in line and "190 minutes" in line for line in lines)
    assert any("750" in line for line in lines)
    weights = exam_lines(
        exam_question("Which exam domain has the most weight?", blueprint), blueprint
    )
    assert weights[0] == "Domain 3 · Modeling: 36% of the exam"
    topic = exam_question("Under which exam domain does data ingestion fall?", blueprint)
    assert topic.objective.id == "1.2"


def test_other_exams_and_other_tests_are_not_this_exams_facts(blueprint):
    assert (
        exam_question("How many questions are on the Solutions Architect exam?", blueprint) is None
    )
    assert exam_question("Which metric should I use on the test set?", blueprint) is None
    assert exam_question("What is the objective metric of a tuning job?", blueprint) is None


def test_exam_answer_cites_the_passage_that_states_the_facts(generator):
    outline = hit(
        1,
        "The exam has 65 questions to answer within 190 minutes; 750 passes.",
        title_path="Exam Information > Exam Outline",
        objective="3.5",
        confidence=0.2,
    )
    answer = generator.answer("How many questions are on the exam?", [outline])
    assert answer.text.startswith(EXAM_LABEL)
    assert "65 questions" in answer.text and answer.citations[0].chunk_id == "chunk-1"
    assert answer.domains == []  # the exam itself belongs to no domain
    no_passage = generator.answer("What is the passing score of the exam?", [])
    assert "750" in no_passage.text and no_passage.citations[0].source == "blueprint:mls-c01"
    named = generator.answer("What percentage of the exam is data engineering?", [])
    assert "20%" in named.text and named.domains[0].id == 1


# -- domain -----------------------------------------------------------------------------------


def test_domain_follows_a_confident_cited_tag_else_keywords_else_nothing(blueprint):
    keywords = KeywordIndex(blueprint)
    confident = hit(1, "x", objective="2.1", confidence=1.0)
    weak = hit(2, "x", objective="3.5", confidence=0.2)
    tags = answer_domains(
        "What is Rankly?", "Rankly ranks.", confident, [confident], blueprint, keywords
    )
    assert tags[0].objective.startswith("2.1")
    by_words = answer_domains(
        "How do I encrypt data with KMS?", "Use KMS keys.", weak, [weak], blueprint, keywords
    )
    assert by_words[0].objective.startswith("4.3")
    assert (
        answer_domains("Can I sit it from home?", "Remotely.", weak, [weak], blueprint, keywords)
        == []
    )


def test_keywords_spread_over_one_domain_outvote_a_lone_keyword_of_another(blueprint):
    """The answer's words name 3.3, 3.4 and 3.5 once each and 2.2 once: Modeling, not the
    objective that happens to sort first."""
    keywords = KeywordIndex(blueprint)
    weak = hit(1, "x", objective="3.2", confidence=0.18)
    answer = (
        "Autopilot is a feature-set that explores your data and prepares it for training and "
        "tuning, with cross-validation of every candidate."
    )
    tags = answer_domains(
        "What does SageMaker Autopilot do?", answer, weak, [weak], blueprint, keywords
    )
    assert tags[0].id == 3


def test_how_much_opens_with_the_sentence_that_states_the_amount(generator):
    savings = hit(
        1,
        "Managed spot training can save on training costs for your jobs. Managed spot "
        "training can save up to 90% of training costs.",
        title_path="Docs > Spot training",
        objective="3.3",
    )
    answer = generator.answer("How much can managed spot training save?", [savings])
    assert "90%" in answer.text.splitlines()[1]


def test_what_is_x_in_a_product_is_answered_about_x_not_the_product(generator):
    guide = hit(
        1, "Amazon Fooly\n- reads written text aloud and finds sentiment in reviews\n", role="guide"
    )
    page = hit(
        2,
        "Targeted sentiment is a Fooly feature that finds the sentiment of each entity "
        "named in a document.",
        title_path="Docs > Targeted sentiment",
        source="https://docs.example.com/fooly/targeted-sentiment.html",
    )
    answer = generator.answer("What is targeted sentiment in Amazon Fooly?", [guide, page])
    assert answer.text.splitlines()[1].startswith("Targeted sentiment is a Fooly feature")
