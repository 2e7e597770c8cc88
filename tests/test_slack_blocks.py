"""Block Kit builders: content, and Slack's limits enforced by slack_sdk's model validation."""

from __future__ import annotations

import random
import re

import pytest
from slack_sdk.models.blocks import ActionsBlock, ContextBlock, SectionBlock

from bot.slack.blocks import (
    FEEDBACK_DOWN,
    FEEDBACK_UP,
    MAX_BLOCKS,
    SECTION_LIMIT,
    TRUNCATED,
    answer_blocks,
    answer_fallback,
    blocks_to_dicts,
    error_blocks,
    fit_blocks,
    help_blocks,
    split_text,
)
from knowledge.types import Answer, Citation, DomainTag

DOMAIN = DomainTag(3, "Modeling", "3.4 Perform hyperparameter optimization")


def _answer(text: str = "Use **SageMaker AMT** [1][2].", **kw) -> Answer:
    defaults = dict(
        citations=[
            Citation(
                1,
                "Automatic model tuning",
                "guide.md",
                "https://docs.aws.amazon.com/amt",
                "c1",
                0.9,
            ),
            Citation(
                2,
                "Tuning > Strategies",
                "notes/3.4-hyperparameter-optimization.md",
                None,
                "c2",
                0.6,
            ),
        ],
        domains=[DOMAIN],
        mode="llm",
        confidence=0.8,
    )
    defaults.update(kw)
    return Answer(text=text, **defaults)


def _valid(blocks) -> list[dict]:
    """slack_sdk validates limits in to_dict(); plus the message-level limits."""
    dicts = blocks_to_dicts(blocks)
    assert 1 <= len(dicts) <= MAX_BLOCKS
    for b in dicts:
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= SECTION_LIMIT
        if b["type"] == "context":
            assert 1 <= len(b["elements"]) <= 10
            assert all(len(e["text"]) <= SECTION_LIMIT for e in b["elements"])
    return dicts


def _fences_balanced(text: str) -> bool:
    return len(re.findall(r"^\s*```", text, re.MULTILINE)) % 2 == 0


def test_answer_blocks_have_text_domain_citations_and_feedback_buttons():
    dicts = _valid(answer_blocks(_answer(), ask_id=42))
    assert [b["type"] for b in dicts] == ["section", "context", "context", "actions"]
    assert dicts[0]["text"]["text"] == "Use *SageMaker AMT* [1][2]."
    assert DOMAIN.label in dicts[1]["elements"][0]["text"]
    citations = dicts[2]["elements"][0]["text"]
    assert "<https://docs.aws.amazon.com/amt|[1] Automatic model tuning>" in citations
    assert "[2] Tuning &gt; Strategies — `notes/3.4-hyperparameter-optimization.md`" in citations
    buttons = dicts[3]["elements"]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        (FEEDBACK_UP, "42"),
        (FEEDBACK_DOWN, "42"),
    ]
    assert "👍" in buttons[0]["text"]["text"] and "👎" in buttons[1]["text"]["text"]


def test_note_heading_and_no_buttons_without_an_ask_id():
    answer = _answer(note="The model was unreachable; extracted from the material.")
    dicts = _valid(answer_blocks(answer, None, heading="<@U1> asked:\n>what?"))
    assert dicts[0]["text"]["text"] == "<@U1> asked:\n>what?"
    assert "ℹ️ The model was unreachable" in dicts[-1]["elements"][0]["text"]
    assert all(b["type"] != "actions" for b in dicts)


def test_not_covered_lists_the_closest_topics():
    answer = _answer(
        "That is not covered by the study material.",
        mode="not_covered",
        citations=[],
        domains=[],
        closest_topics=["3.4 Hyperparameter optimization", "Data <ingestion> & ETL"],
    )
    dicts = _valid(answer_blocks(answer, 7))
    topics = dicts[1]["text"]["text"]
    assert topics.startswith("*Closest topics in the material:*")
    assert "• Data &lt;ingestion&gt; &amp; ETL" in topics


def test_a_40000_char_answer_fits_in_valid_sections():
    rng = random.Random(7)
    paragraphs = []
    while sum(map(len, paragraphs)) < 40_000:
        if rng.random() < 0.2:
            code = "\n".join(f"x_{i} = train(model, lr={i})" for i in range(rng.randint(5, 150)))
            paragraphs.append(f"```python\n{code}\n```")
        else:
            words = rng.choices(["SageMaker", "**tuning**", "[1]", "& <b>", "model.", "🤖"], k=300)
            paragraphs.append(" ".join(words))
    text = "\n\n".join(paragraphs)
    assert len(text) >= 40_000
    blocks = answer_blocks(_answer(text), 1)
    dicts = _valid(blocks)
    sections = [b["text"]["text"] for b in dicts if b["type"] == "section"]
    assert len(sections) >= 14
    assert all(_fences_balanced(s) for s in sections)
    assert TRUNCATED not in sections[-1]
    assert dicts[-1]["type"] == "actions"  # the footer survives


def test_an_oversized_answer_is_capped_at_50_blocks_keeping_the_footer():
    blocks = answer_blocks(_answer("word " * 200_000), 1)
    dicts = _valid(blocks)
    assert len(dicts) == MAX_BLOCKS
    assert dicts[-4]["text"]["text"] == TRUNCATED
    assert [b["type"] for b in dicts[-3:]] == ["context", "context", "actions"]


def test_many_citations_stay_within_context_limits():
    citations = [
        Citation(
            i, f"Title {i} " + "x" * 200, f"notes/{i}.md", f"https://x.example/{i}", f"c{i}", 0.1
        )
        for i in range(1, 61)
    ]
    _valid(answer_blocks(_answer(citations=citations), 1))


def test_split_text_prefers_paragraphs_and_never_breaks_links_or_fences():
    link = "<https://docs.aws.amazon.com/sagemaker/latest/dg/x.html|a link with several words>"
    text = "\n\n".join([f"Paragraph {i}. " + " ".join([link] * 12) for i in range(20)])
    text += "\n\n```\n" + "\n".join(f"line {i}" for i in range(800)) + "\n```"
    pieces = split_text(text)
    assert all(len(p) <= SECTION_LIMIT for p in pieces)
    for p in pieces:
        assert p.count("<") == p.count(">")
        assert _fences_balanced(p)
    squash = lambda s: re.sub(r"\s+|```", "", s)  # noqa: E731
    assert squash("".join(pieces)) == squash(text)
    assert split_text("short") == ["short"]
    assert split_text("  \n\n ") == []


def test_split_text_cuts_an_unbroken_string_hard():
    pieces = split_text("a" * 7000, limit=3000)
    assert [len(p) for p in pieces] == [2996, 2996, 1008]


def test_fit_blocks_caps_and_validates_room():
    blocks = fit_blocks(["x"] * 80)
    assert len(blocks) == MAX_BLOCKS and isinstance(blocks[-1], SectionBlock)
    with pytest.raises(ValueError):
        fit_blocks(["x"], footer=[ContextBlock(elements=[])] * MAX_BLOCKS)


def test_help_blocks_list_registered_subcommands():
    dicts = _valid(
        help_blocks(
            [("ask <question>", "Ask a question."), ("help", "Show this help.")], bot_user_id="UBOT"
        )
    )
    body = "\n".join(b["text"]["text"] for b in dicts if b["type"] == "section")
    assert "`/study ask &lt;question&gt;` — Ask a question." in body
    assert "`/study help`" in body
    assert "<@UBOT>" in body
    assert "quiz" not in body  # only what exists


def test_error_blocks_escape_and_fallback_text_is_short():
    dicts = _valid(error_blocks("DB <down> & out"))
    assert dicts[0]["text"]["text"] == "⚠️ DB &lt;down&gt; &amp; out"
    assert len(answer_fallback(_answer("word " * 5000))) <= 310
    assert isinstance(answer_blocks(_answer(), 1)[-1], ActionsBlock)
