"""What a "what is X?" question asks about, and which passage is about X (knowledge.subject)."""

from __future__ import annotations

import pytest

from knowledge.subject import about_score, asked_subject, definition_strength, key_subject
from knowledge.types import Hit


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("What does SageMaker Clarify do?", "SageMaker Clarify"),
        ("What is the Object2Vec algorithm?", "Object2Vec algorithm"),
        ("What is targeted sentiment in Amazon Comprehend?", "targeted sentiment"),
        ("How does topic modeling work?", "topic modeling"),
        ("What is Amazon Forecast used for?", "Amazon Forecast"),
        ("What does SageMaker Data Capture record?", "SageMaker Data Capture"),
        ("Explain batch transform", "batch transform"),
        ("Which metric should I use for imbalanced data?", ""),
        ("What is the difference between PCA and t-SNE?", ""),
        ("What does the guide say about Neo?", ""),
        ("How many questions are on the exam?", ""),
    ],
)
def test_the_subject_of_a_definition_question(question, subject):
    assert asked_subject(question) == subject


def test_common_words_of_a_subject_only_qualify_it():
    rarity = {"sagemaker": 0.5, "feature": 3.0, "store": 2.5}
    subject = key_subject("SageMaker Feature Store", lambda word: rarity.get(word, 4.0))
    assert subject is not None and subject.keys == {"featur", "stor"}
    assert key_subject("Amazon AWS") is None  # vendor words name nothing


@pytest.mark.parametrize(
    ("subject", "sentence", "strength"),
    [
        ("Object2Vec", "The Amazon SageMaker Object2Vec algorithm is a general-purpose ...", 1.0),
        ("Feature Store", "Amazon SageMaker Feature Store makes it easy to share features.", 0.75),
        ("Augmented AI", "Amazon Augmented AI (Amazon A2I) enables you to build reviews.", 0.75),
        ("Ground Truth", "Amazon SageMaker Ground Truth Plus is a turnkey labeling service.", 0.0),
        ("multi-model endpoint", "Models and data in a multi-model endpoint are co-located.", 0),
        ("Object2Vec", "The Object2Vec algorithm reports accuracy and cross-entropy.", 0.0),
        ("Debugger", "Amazon SageMaker Debugger is available for any deep learning model.", 0.5),
        ("Asynchronous inference", "Asynchronous inference: queues requests in S3.", 1.0),
        ("Debugger", "The Debugger report provides insights into training jobs.", 0.0),
    ],
)
def test_a_definition_is_a_sentence_whose_own_subject_is_the_name(subject, sentence, strength):
    assert definition_strength(sentence, key_subject(subject)) == strength


def _hit(title: str, text: str, source: str = "", position: int = 0, path: str = "") -> Hit:
    return Hit(
        id=title,
        text=text,
        source=source,
        title=title,
        title_path=path or title,
        domain=3,
        objective="3.2",
        score=0.0,
        metadata={"position": position},
    )


def test_the_page_that_introduces_a_thing_is_more_about_it_than_pages_that_use_it():
    subject = key_subject("Object2Vec algorithm", {"object2vec": 5.0, "algorithm": 1.0}.get)
    overview = _hit(
        "Object2Vec Algorithm",
        "The Amazon SageMaker Object2Vec algorithm is a general-purpose neural embedding "
        "algorithm that is highly customizable.",
    )
    tuning = _hit(
        "Tune an Object2Vec Model",
        "The Object2Vec algorithm reports accuracy and cross-entropy classification metrics.",
        path="Tune an Object2Vec Model > Metrics Computed by the Object2Vec Algorithm",
        position=3,
    )
    elsewhere = _hit(
        "Bring your own model to SageMaker Canvas",
        "Object2Vec is a feature you can share with Canvas users.",
        path="Bring your own model to SageMaker Canvas > Object2Vec",
        position=7,
    )
    unrelated = _hit("K-Means Algorithm", "K-means is an unsupervised learning algorithm.")
    scores = [about_score(h, subject) for h in (overview, tuning, elsewhere, unrelated)]
    assert scores[0] > scores[2] > scores[1] == 0 and scores[3] == 0


def test_a_page_address_can_name_the_product_its_title_leaves_out():
    subject = key_subject("Amazon Comprehend topic modeling")
    page = _hit(
        "Topic modeling",
        "You can use Amazon Comprehend to examine the content of a collection of documents.",
        source="https://docs.aws.amazon.com/comprehend/latest/dg/topic-modeling.html",
    )
    assert about_score(page, subject) >= 2.0  # opens the page titled for it


def test_a_study_guide_label_above_its_bullets_defines_the_entry():
    subject = key_subject("SageMaker Neo", {"sagemaker": 0.2, "neo": 5.0}.get)
    entry = _hit(
        "AWS ML Specialty",
        "[**Neo**](https://aws.amazon.com/sagemaker/neo/)\n"
        "- enables developers to train machine learning models once and run them anywhere",
        path="Exam Material > AWS ML Stack > ML Services",
        position=9,
    )
    assert about_score(entry, subject) == 2.0  # under its own label: as squarely as a page


def test_a_name_in_emphasis_still_opens_a_definition():
    rarity = {"sagemaker": 0.2, "data": 0.5}
    subject = key_subject("SageMaker Data Capture", lambda word: rarity.get(word, 4.0))
    page = _hit(
        "Capture data",
        "You can enable a feature called *Data Capture*. *Data Capture* is commonly used to "
        "record information for training, debugging, and monitoring.",
        position=1,
        path="Capture data > Overview",
    )
    assert about_score(page, subject) == 1.0  # a definition, on a page half titled for it
