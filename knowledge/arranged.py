"""Ordering and matching items: how their options split, how an answer is read and scored.

An *ordering* item shows 3-5 steps shuffled; its ``correct`` lists the option indices in the
right order, and an answer is the learner's sequence (the step put first, second, …). A
*matching* item has ``n`` terms followed by ``n`` descriptions in ``options``; ``correct[i]`` is
the description (0-based among the descriptions) term ``i`` matches, and an answer gives one
description per term. Both are scored all-or-nothing, as the exam scores them: the whole
sequence right, or wrong. Pure functions over plain lists: the question model, grading and
every front end share them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

ORDERING = "ordering"
MATCHING = "matching"
ARRANGED = (ORDERING, MATCHING)
ORDINALS = ("1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th")

#: Words that tell where a step goes, whatever the order it is shown in.
POSITION_WORDS = re.compile(
    r"^\s*(?:\d{1,2}[.)]|step\s+\d|first(?:ly)?\b|second(?:ly)?\b|third\b|then\b|next\b|"
    r"after(?:wards?)?\b|finally\b|lastly\b|last\b|before\b|now\b|once\b|when\s+(?:that|this)\b)"
    r"|\b(?:previous|preceding|above|earlier|prior)\s+step\b|\bthe\s+(?:first|last|final)\s+step\b",
    re.IGNORECASE,
)


def is_arranged(fmt: str) -> bool:
    """Whether a format is answered with a sequence (ordering, matching)."""
    return fmt in ARRANGED


def split_options(fmt: str, options: Sequence[str], n: int) -> tuple[list[str], list[str]]:
    """(items, targets): the steps and the positions' choices (the same steps) for ordering;
    the terms and the descriptions for matching."""
    if fmt == MATCHING:
        return list(options[:n]), list(options[n:])
    return list(options), list(options)


def is_right(fmt: str, correct: Sequence[int], chosen: Sequence[int]) -> bool:
    """All-or-nothing for arranged items (the same sequence), the same set otherwise."""
    if is_arranged(fmt):
        return list(chosen) == list(correct)
    return sorted(chosen) == sorted(correct)


def sequence_problem(fmt: str, choices: Sequence[int], n: int) -> str | None:
    """Why a sequence is no complete answer to an arranged item of ``n`` items (None: it is)."""
    what = "step a different position" if fmt == ORDERING else "term a different description"
    if len(choices) != n or any(not 0 <= c < n for c in choices):
        return f"Give each {what}: all {n} are needed."
    if len(set(choices)) != n:
        return f"Give each {what}: one was picked twice."
    return None


def answer_lines(fmt: str, options: Sequence[str], correct: Sequence[int], n: int) -> list[str]:
    """The right answer as lines: "1. step" per position, or "term → description" per term."""
    items, targets = split_options(fmt, options, n)
    if fmt == ORDERING:
        return [f"{k + 1}. {items[i]}" for k, i in enumerate(correct) if 0 <= i < len(items)]
    return [
        f"{items[k]} → {targets[i]}"
        for k, i in enumerate(correct)
        if k < len(items) and 0 <= i < len(targets)
    ]


def answer_text(fmt: str, options: Sequence[str], correct: Sequence[int], n: int) -> str:
    """The right answer on one line (recaps): steps joined by "→", pairs by ";"."""
    if fmt == ORDERING:
        return " → ".join(options[i] for i in correct if 0 <= i < len(options))
    return "; ".join(answer_lines(fmt, options, correct, n))


def gives_position(step: str) -> bool:
    """A step that says where it goes ("Then …", "Finally …", "after the previous step")."""
    return bool(POSITION_WORDS.search(step))


__all__ = [
    "ARRANGED",
    "MATCHING",
    "ORDERING",
    "ORDINALS",
    "answer_lines",
    "answer_text",
    "gives_position",
    "is_arranged",
    "is_right",
    "sequence_problem",
    "split_options",
]
