"""A passage as answers read it: list structure gives each sentence its subject; noise drops.

The passages are short hand-written texts shaped like the study guide, the notes and the AWS
developer guides (not copied from them).
"""

from __future__ import annotations

from knowledge.passages import is_reference, split_passage
from knowledge.types import Hit


def hit(text: str, title_path: str = "Guide > Services", title: str = "Guide") -> Hit:
    return Hit("c1", text, "guide.md", title, title_path, 4, "4.2", 0.03)


def shown(text: str, **kwargs) -> list[str]:
    return [u.display() for u in split_passage(hit(text, **kwargs), 0)]


def test_bullets_under_a_name_line_are_about_that_name():
    text = (
        "Amazon Fooly\n"
        "- reads text aloud in many voices\n\n"
        "Amazon Barscribe\n\n"
        "- writes down what people say\n"
    )
    assert shown(text) == [
        "Amazon Fooly: reads text aloud in many voices",
        "Amazon Barscribe: writes down what people say",
    ]


def test_bare_names_under_a_label_become_one_list_entry():
    text = (
        "**Deploy & Manage**\n"
        "Pipelines\n"
        "Model Watch\n"
        "**Quickrun**\n"
        "- compiles a model once so it runs anywhere\n"
    )
    lines = shown(text)
    assert "Deploy & Manage: Pipelines, Model Watch, Quickrun" in lines
    assert "Quickrun: compiles a model once so it runs anywhere" in lines


def test_bold_term_definitions_and_short_table_like_bullets():
    text = (
        "**Shard**: Unit of stream capacity that takes up to one megabyte per second.\n\n"
        "- **T:** most basic\n"
        "- **M:** more memory\n"
    )
    assert shown(text) == [
        "Shard: Unit of stream capacity that takes up to one megabyte per second",
        "T: most basic",
        "M: more memory",
    ]


def test_a_term_line_followed_by_prose_is_defined_by_it():
    units = split_passage(hit("Scaler Service\nIt adjusts capacity to hold a target load.\n"), 0)
    assert [(u.subject, u.described) for u in units] == [("Scaler Service", True)]
    assert units[0].display() == "Scaler Service: it adjusts capacity to hold a target load"


def test_prose_after_a_terms_bullets_returns_to_the_section():
    text = "Quickrun\n- compiles a model once\n\nThe most asked services are listed above.\n"
    units = split_passage(hit(text, title_path="Guide > ML Services"), 0)
    assert [u.subject for u in units] == ["Quickrun", "ML Services"]


def test_navigation_references_history_code_and_cut_sentences_are_dropped():
    text = (
        "cut off at the start of the chunk, not a sentence. Batch jobs score whole datasets.\n\n"
        "For more information, see Running batch jobs.\n"
        "To filter records first, see Filtering records.\n\n"
        "**Topics**\n+ Running batch jobs\n+ Filtering records\n\n"
        "| Change | Description | Date |\n| --- | --- | --- |\n"
        "| New region | Added two regions. | June 13, 2018 |\n\n"
        "```\naws batch run --all\n```\n"
        "Batch jobs need no endpoint that stays up. The last sentence is cut off by the"
    )
    assert shown(text) == [
        "Batch jobs score whole datasets",
        "Batch jobs need no endpoint that stays up",
    ]


def test_a_document_history_page_gives_nothing():
    text = "Added support for dynamic partitioning of the delivery stream."
    assert (
        split_passage(hit(text, title_path="Document History", title="Document History"), 0) == []
    )


def test_reference_and_boilerplate_sentences():
    assert is_reference("For more information about limits, see Quotas.")
    assert is_reference("To learn how, read the tutorial.")
    assert is_reference("All other trademarks not owned by us are the property of their owners.")
    assert not is_reference("Use batch jobs when you need no persistent endpoint.")
