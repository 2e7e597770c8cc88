"""The checks every generated question passes after `validate_question`, whoever wrote it.

- **relevance**: each correct option names an exam concept and is no reference trivia
  (`knowledge.quiz_material.Material.relevant`); an option that is a phrase ("Enable network
  isolation") counts when a blueprint keyword or a guide term is in it;
- **key safety**: no distractor's own description matches the stem, lexically or by embedding
  (`knowledge.quiz_safety`), and the options are of one kind;
- **domain**: the question is tagged with the objective it tests
  (`knowledge.quiz_relevance.ExamVocabulary.objective_of`), not only its chunk's tag.

`knowledge.quiz.generate` runs them on offline and model-written candidates alike; each failure
is a rejection reason in the run's `GenerationStats` (``irrelevant``, ``trivia``,
``mixed_kinds``, ``key_unsafe_lexical``, ``key_unsafe_embedding``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from knowledge.arranged import MATCHING, ORDERING, is_arranged, split_options
from knowledge.question import Question
from knowledge.quiz_material import Material
from knowledge.quiz_relevance import identifier_shaped
from knowledge.quiz_safety import embedding_unsafe, lexically_unsafe, mixed_kinds, stem_core

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

MIN_PHRASE_WORDS = 4  # an option this long is a phrase: a keyword inside it makes it relevant


class QuestionChecks:
    """Relevance, key safety and the domain tag, over one run's `Material`."""

    def __init__(self, material: Material, embeddings: Embeddings | None = None) -> None:
        self.material = material
        self.embeddings = embeddings

    # -- relevance ------------------------------------------------------------------------------
    def answer_problem(self, answer: str) -> str | None:
        """ "trivia" / "irrelevant" for a correct option that is not worth asking, else None."""
        vocab = self.material.vocab
        if identifier_shaped(answer) and not vocab.guide_names(answer):
            return "trivia"
        if self.material.relevant(answer):
            return None
        entity = self.material.entity_named(answer)
        if entity is not None and vocab.is_trivia(
            entity.name, entity.noun, entity.group.endswith("\x00table"), entity.heading
        ):
            return "trivia"
        if len(answer.split()) >= MIN_PHRASE_WORDS and (
            vocab.keyword_hits(answer) or self._guide_term_in(answer)
        ):
            return None
        return "irrelevant"

    def _guide_term_in(self, phrase: str) -> bool:
        """Whether a capitalised name inside a phrase is one the guide mentions."""
        words = phrase.split()
        for size in (3, 2, 1):
            for i in range(len(words) - size + 1):
                part = " ".join(words[i : i + size]).strip(",.;:()")
                if part[:1].isupper() and len(part) > 2 and self.material.vocab.guide_names(part):
                    return True
        return False

    # -- key safety -----------------------------------------------------------------------------
    def problems(self, q: Question) -> list[str]:
        """Relevance, option kinds and the lexical key-safety check, as reason codes."""
        if is_arranged(q.format):
            return self.arranged_problems(q)
        out = [p for p in (self.answer_problem(a) for a in q.answers) if p]
        kinds = [self.material.kind_of(o) for o in q.options]
        if mixed_kinds(kinds) and not self.material.siblings(q.options):
            out.append("mixed_kinds")
        core = stem_core(q.stem)
        answer_text = " ".join(self.material.description_of(a) for a in q.answers)
        for i, option in enumerate(q.options):
            if i in q.correct:
                continue
            if lexically_unsafe(core, self.material.description_of(option), answer_text):
                out.append("key_unsafe_lexical")
                break
        return list(dict.fromkeys(out))

    def arranged_problems(self, q: Question) -> list[str]:
        """Ordering: the procedure names an exam concept (a keyword or a guide term in its
        stem or steps). Matching: one side's options are all known entities, none trivia or
        irrelevant (the terms, or the solutions of a requirement list)."""
        items, targets = split_options(q.format, q.options, q.choose)
        if q.format == ORDERING:
            text = " ".join([q.stem, *items])
            relevant = self.material.vocab.keyword_hits(text) or self._guide_term_in(text)
            return [] if relevant else ["irrelevant"]
        if q.format == MATCHING:
            for side in (items, targets):
                if all(self.material.entity_named(o) is not None for o in side):
                    problems = [p for p in (self.answer_problem(o) for o in side) if p]
                    return list(dict.fromkeys(problems))
        return ["irrelevant"]

    def embedding_rejects(self, questions: Sequence[Question]) -> set[int]:
        """Indices of questions a distractor's description matches by embedding (none without
        an embeddings model). Texts are embedded once per run, in one batch."""
        if self.embeddings is None or not questions:
            return set()
        texts: dict[str, int] = {}
        plans = []
        for q in questions:
            if is_arranged(q.format):  # no distractors: each option is somebody's answer
                plans.append(("", [], []))
                continue
            core = stem_core(q.stem)
            answers = [self.material.description_of(a) for a in q.answers]
            wrong = [
                self.material.description_of(o)
                for i, o in enumerate(q.options)
                if i not in q.correct
            ]
            plans.append((core, [a for a in answers if a], [d for d in wrong if d]))
            for text in (core, *answers, *wrong):
                if text:
                    texts.setdefault(text, len(texts))
        vectors = np.asarray(self.embeddings.embed_documents(list(texts)), dtype="float32")
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-9)
        rejected = set()
        for n, (core, answers, wrong) in enumerate(plans):
            if not wrong:
                continue
            if embedding_unsafe(
                vectors[texts[core]],
                [vectors[texts[a]] for a in answers],
                [vectors[texts[d]] for d in wrong],
            ):
                rejected.add(n)
        return rejected

    # -- the domain -----------------------------------------------------------------------------
    def retagged(self, q: Question) -> Question:
        """The question tagged with the objective it tests (an ordering or matching item
        keeps its chunk's: its many steps or terms would pull the tag every way)."""
        if is_arranged(q.format):
            return q
        view = self.material.view(q.chunk_ids[0]) if q.chunk_ids else None
        exact = view is not None and view.exact
        objective = self.material.vocab.objective_of(q.answers, q.stem, q.objective, exact)
        if objective == q.objective:
            return q
        domain = int(objective.split(".")[0])
        return q.model_copy(update={"objective": objective, "domain": domain})


__all__ = ["QuestionChecks"]
