"""Ordering and matching items: the model's checks, all-or-nothing scoring, the offline generator
(on small hand-written chunks and on the bundled MLA-C01 notes) and which blueprints get them."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from knowledge.arranged import answer_lines, is_right, sequence_problem
from knowledge.blueprint import load_blueprint
from knowledge.question import Question, reason_of, validate_question
from knowledge.quiz import generate
from knowledge.quiz_arranged import procedures
from knowledge.quiz_material import Material
from knowledge.store import StoredChunk

MLA = load_blueprint("mla-c01")
MLS = load_blueprint("mls-c01")
KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"
NOTES = next(  # the MLA-C01 notes move under knowledge/notes/ (issue 14)
    p for p in (KNOWLEDGE / "notes-mla-c01", KNOWLEDGE / "notes" / "mla-c01") if p.is_dir()
)

STEPS = [
    "Enable data capture on the endpoint with a sampling percentage",
    "Run a baselining job on the training data",
    "Create a monitoring schedule that compares captured data with the baseline",
    "Read the violations report and alarm on the published metrics",
]
PROCEDURE = "How monitoring is set up, in this order:\n\n" + "\n".join(
    f"{k + 1}. {s}." for k, s in enumerate(STEPS)
)
TERMS = {
    "Data drift": "The distribution of inputs moves away from the training data",
    "Concept drift": "The relationship between inputs and the target changes over time",
    "Label drift": "The share of each class in reality changes, such as a rise in returns",
}
TERM_TEXT = "\n\n".join(f"**{t}**: {d}." for t, d in TERMS.items())


def chunk(text: str, *, heading: str = "Monitoring", objective: str = "4.1", n: int = 0):
    meta = {
        "source": f"notes/{objective}-{n}.md",
        "title": f"{objective} Monitor model inference",
        "title_path": f"{objective} Monitor model inference > {heading}",
        "position": 0,
        "domain": int(objective.split(".")[0]),
        "objective": objective,
    }
    return StoredChunk(f"c-{objective}-{n}", text, meta)


def ordering(order: list[int], steps: list[str] = STEPS, passage: str = PROCEDURE) -> Question:
    """An ordering item showing ``steps`` at ``order`` (shown[j] = steps[order[j]])."""
    shown = [steps[k] for k in order]
    return Question(
        stem="Put these steps of “How monitoring is set up” in the right order.",
        options=shown,
        correct=[order.index(k) for k in range(len(steps))],
        explanation="The material's order: " + "; ".join(steps),
        chunk_ids=["c1"],
        source="notes/4.1.md",
        title="4.1 Monitor model inference",
        domain=4,
        objective="4.1",
        format="ordering",
        choose=len(steps),
        generator="offline:ordering",
        passage=passage,
    )


def matching(order: list[int], descriptions: list[str] | None = None) -> Question:
    terms = list(TERMS)
    descs = descriptions or list(TERMS.values())
    return Question(
        stem="Match each of these drift types to its description.",
        options=[*terms, *(descs[k] for k in order)],
        correct=[order.index(k) for k in range(len(terms))],
        explanation="The material says: " + "; ".join(f"{t}: {d}" for t, d in TERMS.items()),
        chunk_ids=["c2"],
        source="notes/4.1.md",
        title="4.1 Monitor model inference",
        domain=4,
        objective="4.1",
        format="matching",
        choose=len(terms),
        generator="offline:matching",
        passage=TERM_TEXT,
    )


def reasons(q: Question) -> set[str]:
    return {reason_of(e) for e in validate_question(q, blueprint=MLA)}


# --------------------------------------------------------------------------- the model


def test_a_shuffled_grounded_ordering_item_is_valid_and_its_key_is_the_material_order():
    q = ordering([2, 0, 3, 1])
    assert reasons(q) == set()
    assert q.answers == STEPS  # the key read back is the passage's order
    assert answer_lines("ordering", q.options, q.correct, 4)[0] == f"1. {STEPS[0]}"


@pytest.mark.parametrize(
    ("q", "reason"),
    [
        (ordering([0, 1, 2, 3]), "unshuffled"),
        (ordering([1, 0], STEPS[:2]), "item_count"),
        (ordering([1, 0, 2], [STEPS[0], STEPS[0], STEPS[1]]), "repeated_options"),
        (
            ordering([1, 0, 2], [STEPS[0], "Then " + STEPS[1].lower(), STEPS[2]]),
            "position_giveaway",
        ),
        (ordering([1, 0, 2], [STEPS[1], STEPS[0], STEPS[2]]), "order_unsupported"),
        (
            ordering([1, 0, 2], [STEPS[0], "Train the model on GPUs", STEPS[2]]),
            "answer_unsupported",
        ),
    ],
)
def test_ordering_items_that_are_no_fair_test_are_rejected(q, reason):
    assert reason in reasons(q)


def test_a_matching_item_is_valid_when_each_pair_sits_together_in_the_passage():
    assert reasons(matching([1, 2, 0])) == set()
    swapped = matching(
        [1, 2, 0], [TERMS["Concept drift"], TERMS["Data drift"], TERMS["Label drift"]]
    )
    assert "pair_unsupported" in reasons(swapped)  # the key pairs a term with another's text


def test_a_matching_description_that_names_a_term_is_rejected():
    descs = list(TERMS.values())
    descs[0] = "Data drift moves the inputs away from the training data"
    q = matching([1, 2, 0], descs)
    q = q.model_copy(update={"passage": q.passage + "\n" + descs[0]})
    assert "term_in_description" in reasons(q)


def test_scoring_is_all_or_nothing():
    assert is_right("ordering", [2, 0, 3, 1], [2, 0, 3, 1])
    assert not is_right("ordering", [2, 0, 3, 1], [2, 0, 1, 3])  # one swap: wrong
    assert not is_right("matching", [1, 2, 0], [1, 0, 2])
    assert is_right("multi", [3, 1], [1, 3])  # sets for the other formats
    assert sequence_problem("ordering", [0, 0, 1, 2], 4) == (
        "Give each step a different position: one was picked twice."
    )
    assert "all 3 are needed" in sequence_problem("matching", [0, -1, 2], 3)


# --------------------------------------------------------------------------- the generator


def arranged(chunks, blueprint=MLA, seed: int = 3):
    questions, _ = generate(chunks, blueprint, rng=random.Random(seed))
    return [q for q in questions if q.format in ("ordering", "matching")]


def test_a_numbered_procedure_becomes_an_ordering_item_keyed_in_the_material_order():
    (q,) = [q for q in arranged([chunk(PROCEDURE, heading="How monitoring is set up")])]
    assert q.format == "ordering" and q.choose == 4
    assert q.answers == STEPS and q.options != STEPS
    assert all(step in q.explanation for step in STEPS)
    assert not validate_question(q, blueprint=MLA)


@pytest.mark.parametrize(
    "text",
    [
        # console click-path trivia
        "To view the metrics, do the following:\n\n1. Open the CloudWatch console.\n"
        "2. In the navigation pane, choose **Metrics**.\n3. Choose **SageMaker**.\n"
        "4. Choose the endpoint row.",
        # alternatives, not a sequence
        "There are three main options for filtering shared models:\n\n"
        "1. Models that you shared to JumpStart.\n2. Models shared with you by others.\n"
        "3. Models shared by your organization.",
        # a list that starts mid-way (the chunk cut it)
        "3. Create a monitoring schedule that compares captured data with the baseline.\n"
        "4. Read the violations report and alarm on the published metrics.\n"
        "5. Retrain the model when the violations persist.",
        # form filling in the console, without the word "console"
        "To onboard, follow these steps:\n\n1. For Domain Name, enter a unique name.\n"
        "2. For Authentication, choose AWS IAM for the domain.\n"
        "3. Under Permission, choose an option from the role selector.",
        # a reading guide to the documentation
        "If you are a first-time user, read these steps in order:\n\n"
        "1. How it works – This section introduces the concepts.\n"
        "2. Setting up – In this section, you create an account.\n"
        "3. Getting started – In this section, you run an analysis job.",
        # steps that lead into code
        "To compile the model, follow these steps:\n\n1. Write the configuration file.\n"
        "2. Run the following command:\n3. Describe the compilation job.",
    ],
)
def test_lists_that_are_no_workflow_give_no_ordering_item(text):
    material = Material.read([chunk(text, heading="Setting up monitoring steps")], MLA)
    assert procedures(material) == []


def test_sibling_terms_become_a_matching_item_with_the_right_pairs():
    (q,) = arranged([chunk(TERM_TEXT, heading="Drift types")])
    assert q.format == "matching" and q.choose == 3
    pairs = dict(line.split(" → ") for line in answer_lines(q.format, q.options, q.correct, 3))
    assert pairs == TERMS
    assert q.options[3:] != list(TERMS.values())  # descriptions are shuffled


def test_a_blueprint_without_ordering_and_matching_items_gets_none():
    def chunks(objective: str) -> list:
        return [
            chunk(PROCEDURE, heading="How monitoring is set up", objective=objective, n=1),
            chunk(TERM_TEXT, heading="Drift types", objective=objective, n=2),
        ]

    assert MLS.formats == ("single", "multi")
    assert {"ordering", "matching"} <= set(MLA.formats)
    assert len(arranged(chunks("4.1"), MLA)) == 2
    assert arranged(chunks("4.1"), MLS) == []  # 4.1 is an objective of both exams


def test_the_bundled_mla_notes_yield_several_of_each_all_valid():
    from bench.quiz_generation import load_chunks

    chunks = load_chunks(sorted(NOTES.glob("*.md")), "mla-c01")
    items = arranged(chunks, seed=7)
    by_format = {f: [q for q in items if q.format == f] for f in ("ordering", "matching")}
    assert len(by_format["ordering"]) >= 8 and len(by_format["matching"]) >= 8
    assert len({q.objective.split(".")[0] for q in items}) == 4  # every domain has some
    for q in items:
        assert not validate_question(q, blueprint=MLA), q.stem
        assert 3 <= q.choose <= 5


def test_a_description_naming_a_term_without_its_maker_is_rejected():
    terms = ["Apache Parquet", "Apache ORC", "Apache Avro"]
    descs = [
        "Columnar file format that lets a job read only the columns it needs",
        "Columnar format from the Hive ecosystem, comparable to Parquet",  # names Parquet
        "Row-oriented binary format that stores its schema with the data",
    ]
    passage = "\n\n".join(f"**{t}**: {d}." for t, d in zip(terms, descs, strict=True))
    q = matching([1, 2, 0], descs).model_copy(
        update={"options": [*terms, descs[1], descs[2], descs[0]], "passage": passage}
    )
    assert "term_in_description" in reasons(q)
    fixed = [descs[0], "Columnar format from the Hive ecosystem with built-in indexes", descs[2]]
    passage = "\n\n".join(f"**{t}**: {d}." for t, d in zip(terms, fixed, strict=True))
    said = "The material says: " + "; ".join(f"{t}: {d}" for t, d in zip(terms, fixed, strict=True))
    options = [*terms, fixed[1], fixed[2], fixed[0]]
    ok = q.model_copy(update={"options": options, "passage": passage, "explanation": said})
    assert reasons(ok) == set()
