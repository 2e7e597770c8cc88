"""The blueprint's objective keywords, matched in one pass over a text.

Shared by ingest tagging (`ingest.tag.DomainTagger`) and answers (the domain of an answer whose
passage carries a weak tag is read from the question and the quoted sentences).
"""

from __future__ import annotations

import re

import numpy as np

from knowledge.blueprint import Blueprint


def normalise_keyword(keyword: str) -> str:
    """Lower case, hyphens and runs of spaces as one space."""
    return " ".join(re.split(r"[\s\-]+", keyword.lower().strip()))


def _keywords_pattern(keywords: dict[str, list[int]]) -> re.Pattern[str]:
    """One pass over the text for every keyword (longest first, whole words only)."""
    alternatives = sorted(keywords, key=len, reverse=True)
    body = "|".join(re.escape(k).replace(r"\ ", r"[\s\-]+") for k in alternatives)
    return re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])")


class KeywordIndex:
    """Which objectives a text's words point to, by the blueprint's keyword lists."""

    def __init__(self, blueprint: Blueprint) -> None:
        self.ids = [o.id for o in blueprint.objectives]
        self._objectives: dict[str, list[int]] = {}
        for n, objective in enumerate(blueprint.objectives):
            for keyword in objective.keywords:
                self._objectives.setdefault(normalise_keyword(keyword), []).append(n)
        self._pattern = _keywords_pattern(self._objectives)

    def scores(self, text: str) -> np.ndarray:
        """Share of keyword hits per objective, blueprint order (all zeros when none match)."""
        hits = np.zeros(len(self.ids), "float32")
        for keyword in {normalise_keyword(m) for m in self._pattern.findall(text.lower())}:
            for n in self._objectives.get(keyword, ()):
                hits[n] += 1
        total = hits.sum()
        return hits / total if total else hits
