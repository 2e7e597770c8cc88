"""Which exam a document belongs to, and which blueprints its objective headings tag exactly.

A heading such as ``### 2.2 Perform feature engineering`` tags its section with objective 2.2
exactly, but only for the blueprint the document is written for: MLA-C01's note "2.1 Choose a
modeling approach" must not force MLS-C01's objective 2.1. A document's exam comes from its
front matter (``exam: mla-c01``) or from a folder named after a blueprint
(``notes/mla-c01/2.1-….md``). When neither says, the heading counts for every blueprint whose
objective of that number it names (most of the objective's words), else for the primary one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePath

from knowledge.blueprint import Blueprint

OBJECTIVE_NUMBER = re.compile(r"^\d\.\d{1,2}\b")
NAME_MATCH = 0.6  # share of the objective name's words the heading must contain
_WORD = re.compile(r"[a-z0-9]+")
_SMALL = {"and", "for", "the", "with", "into", "from", "that", "given", "a", "an", "of", "to"}


def document_exam(source: str, metadata: dict[str, str], ids: Sequence[str]) -> str:
    """The blueprint id a document is written for ("" when it does not say)."""
    for field in ("exam", "blueprint"):
        value = str(metadata.get(field, "")).strip().lower()
        if value in ids:
            return value
    if "://" not in source:
        for part in reversed(PurePath(source).parts[:-1]):
            if part.lower() in ids:
                return part.lower()
    return ""


def hint_from_path(title_path: Sequence[str]) -> tuple[str | None, str]:
    """(objective number, the heading that names it) from a chunk's heading path: the
    deepest heading starting with an objective number, which its sub-sections inherit."""
    for heading in reversed(list(title_path)):
        match = OBJECTIVE_NUMBER.match(heading.strip())
        if match:
            return match.group(0), heading
    return None, ""


def objective_heading(title_path: Sequence[str], hint: str | None) -> str:
    """The heading of a path that starts with the objective number `hint` ("" if none)."""
    if not hint:
        return ""
    return next((h for h in reversed(list(title_path)) if h.strip().startswith(hint)), "")


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _SMALL and len(w) > 1}


def names_objective(heading: str, blueprint: Blueprint, objective_id: str) -> bool:
    """Whether `heading` names `blueprint`'s objective `objective_id` (most of its words)."""
    try:
        name = _words(blueprint.objective(objective_id).name)
    except KeyError:
        return False
    return bool(name) and len(name & _words(heading)) / len(name) >= NAME_MATCH


def hint_blueprints(
    hint: str | None, heading: str, exam: str, blueprints: Sequence[Blueprint]
) -> set[str]:
    """The ids of the blueprints a heading's objective number tags exactly (the first of
    `blueprints` is the primary one)."""
    if not hint or not blueprints:
        return set()
    if exam:
        return {exam}
    named = {b.id for b in blueprints if names_objective(heading, b, hint)}
    return named or {blueprints[0].id}
