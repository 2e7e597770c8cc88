"""Offline ordering and matching items, built from the material's own structure.

- ``offline:ordering``: a numbered procedure of 3-5 short steps that the chunk introduces as a
  sequence ("To create a model, do the following:", a heading that names steps, a pipeline or a
  workflow), shown shuffled. Console click-paths ("Choose X, then choose Y"), lists of options
  or examples, steps that say where they go ("Then …", "Finally …"), steps that lead into code
  ("run the following command:") and lists whose steps all start with the same verb (their
  order is arbitrary) are skipped. A list the chunk cuts off is skipped too.
- ``offline:matching``, from two structures: (a) 3-5 sibling terms of one group in one chunk
  ("**AWS CodeBuild**: Runs build and test commands …"), each with the opening sentence of its
  description, when no description names another term and no two descriptions read alike;
  (b) 3-5 "need → choice" lines of one decision list, each choice a different known entity:
  "match each requirement to the solution that meets it".

Only exam-relevant items are built (every term of a matching item is worth asking about; the
procedure's words name an exam keyword, checked in `knowledge.quiz_checks`). Every item cites
the one chunk it comes from; `knowledge.question.validate_question` checks that each step, term
and description is in it, each pair on one line (or a term line and its bullets) and the steps
in the chunk's order.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from knowledge.question import (
    MAX_ITEMS,
    MAX_STEP_WORDS,
    MIN_ITEMS,
    Question,
    appears_in,
    term_core,
)
from knowledge.quiz_build import (
    MAX_EXPLANATION_CHARS,
    SIMILAR_DESCRIPTIONS,
    VAGUE_NOUNS,
    Builder,
    leaks,
    names_in,
    plural,
    quote,
    related,
    stem_label,
)
from knowledge.quiz_extract import ChunkView, Entry, split_sentences
from knowledge.quiz_material import Material
from knowledge.quiz_scenario import Decision, decisions
from knowledge.text import BULLET, clean_inline

_NUMBERED = re.compile(r"^(?P<indent>\s*)\d{1,3}[.)]\s+(?P<step>\S.*)$")
#: An introduction or heading that announces steps in order.
SEQUENCE_CUE = re.compile(
    r"\b(?:steps?|in (?:the following|this) order|do the following|procedure|workflow|process|"
    r"pipeline|lifecycle|stages?|sequence|order|set(?:ting)? up)\b|^to [a-z]|"
    r"^(?:how to|getting started)\b|^[A-Z]\w+ing\b[^.]*:$",
    re.IGNORECASE,
)
#: An introduction of alternatives, not a sequence.
ALTERNATIVES_CUE = re.compile(
    r"\b(?:options?|examples?|one of the following|any of the following|ways?|reasons?|"
    r"benefits?|types?|kinds?|categories|considerations|best practices|includes?)\b",
    re.IGNORECASE,
)
#: Console trivia: where to click, not what the workflow is.
UI_WORDS = re.compile(
    r"\b(?:console|navigation pane|pane|tab|dialog(?: box)?|drop-?down|check ?box|button|page|"
    r"menu|wizard)\b",
    re.IGNORECASE,
)
UI_START = re.compile(
    r"^(?:click|navigate|press|go to|sign in|log in|in the|on the|under(?: the)?|from the)\b"
    r"|^for [^,]{2,40}, (?:enter|choose|select|type)\b",
    re.IGNORECASE,
)
#: Reading guides ("How it works – This section introduces …", "Read through the … section").
NAVIGATION = re.compile(
    r"\b(?:sections?|chapters?|this (?:page|guide|topic)|read through|notebook example)\b", re.I
)
_CLICK = re.compile(r"^(?:choose|select|open|enter|type)\s+(?P<next>\S+)", re.IGNORECASE)
STRONG_ORDER = re.compile(
    r"\b(?:in (?:this|the following) order|steps|pipeline|workflow|lifecycle)\b", re.IGNORECASE
)
_INTO_CODE = re.compile(r"(?:following|below)\b[^.]*$|:\s*$|^\(optional\)|^\[|`[^`]{25,}`", re.I)
_ARTICLE_AFTER = re.compile(
    r"^[A-Za-z]+\s+(?:the|a|an|your|its|their|it|them|each|all|new|one|data|model|results?)\b"
)
_LABEL_STEP = re.compile(r"^[A-Z][\w/ -]{1,40} (?:step|stage|phase):\s")
_DOING = re.compile(r"^(?P<task>[A-Z][a-z]+ing\b(?:(?! is | are )[^.:;]){4,80}):$")
_TO_TASK = re.compile(r"^To (?P<task>[a-z][^,:]{6,100})[,:]")  # "To create a model, …"
MIN_STEP_WORDS = 4  # "Import the data", "Edit the step": no step worth ordering
MAX_CLICK_STEPS = 1  # steps opening with "Choose"/"Select"/"Open": more make a click-path
MAX_DESCRIPTION_WORDS = 30  # a description a learner reads beside four others


@dataclass
class Procedure:
    """A numbered list of steps in one chunk, with what introduces it."""

    view: ChunkView
    intro: str  # the sentence before the list ("" when the heading introduces it)
    heading: str
    steps: list[str]  # as quoted in the item (first sentence, no trailing period)


# --------------------------------------------------------------------------------------------
# Ordering
# --------------------------------------------------------------------------------------------


def console_step(raw: str) -> bool:
    """A console click ("Choose **Create**", "In the navigation pane, choose Endpoints"), not
    a step of the workflow ("Choose the hyperparameters to tune")."""
    text = clean_inline(raw).strip()
    if UI_WORDS.search(text) or UI_START.match(text):
        return True
    click = _CLICK.match(text)
    return bool(click and ("**" in raw or click.group("next")[:1].isupper()))


def _step_text(raw: str) -> str | None:
    """A numbered line as a step (its first sentence), or None when it is no readable step."""
    text = clean_inline(raw).strip()
    if not text or _INTO_CODE.search(text) or console_step(raw) or NAVIGATION.search(text):
        return None
    sentences = split_sentences(text)
    step = (sentences[0] if sentences else text).strip().rstrip(".").strip()
    words = step.split()
    if not MIN_STEP_WORDS <= len(words) <= MAX_STEP_WORDS:
        return None
    if not (_ARTICLE_AFTER.match(step) or _LABEL_STEP.match(step) or words[0][:1].isupper()):
        return None
    return step


def _runs(lines: list[str]) -> Iterator[tuple[int, int]]:
    """(first, end) line ranges of numbered lists: numbered lines at one indent, with blank and
    more-indented lines between them."""
    i = 0
    while i < len(lines):
        m = _NUMBERED.match(lines[i])
        if m is None:
            i += 1
            continue
        indent = len(m.group("indent"))
        j = i + 1
        while j < len(lines):
            line = lines[j]
            nm = _NUMBERED.match(line)
            same_level = nm is not None and len(nm.group("indent")) == indent
            inside = not line.strip() or len(line) - len(line.lstrip()) > indent
            if not (same_level or inside):
                break
            j += 1
        yield i, j
        i = j


def procedures(material: Material) -> list[Procedure]:
    """Every numbered procedure of 3-5 readable steps, introduced as a sequence, whole."""
    out: list[Procedure] = []
    at = {(v.source, v.position): v for v in material.views}
    for view in material.views:
        lines = view.chunk.text.splitlines()
        for first, end in _runs(lines):
            proc = _procedure(at.get((view.source, view.position + 1)), view, lines, first, end)
            if proc is not None:
                out.append(proc)
    return out


def _procedure(
    nxt: ChunkView | None, view: ChunkView, lines: list[str], first: int, end: int
) -> Procedure | None:
    """The numbered list ``lines[first:end]`` as a procedure, or None (see the module doc);
    ``nxt``: the source's next chunk."""
    numbered = [m for m in (_NUMBERED.match(line) for line in lines[first:end]) if m]
    indent = min(len(m.group("indent")) for m in numbered)
    top = [m for m in numbered if len(m.group("indent")) == indent]
    if not MIN_ITEMS <= len(top) <= MAX_ITEMS:
        return None
    numbers = [int(m.group(0).split(".")[0].split(")")[0]) for m in top]
    counted = numbers == list(range(1, len(top) + 1))
    if not counted and (numbers != [1] * len(top) or first == 0):
        return None  # starts mid-list, or an auto-numbered list without its introduction
    if end >= len(lines) and _continues(view, nxt):
        return None  # the next chunk goes on with the list
    steps = [_step_text(m.group("step")) for m in top]
    intro = next((ln.strip() for ln in reversed(lines[max(0, first - 3) : first]) if ln), "")
    intro = "" if intro.startswith("#") else clean_inline(BULLET.sub("", intro))
    heading = view.path[-1] if view.path else view.title
    if any(s is None for s in steps) or not _sequence(intro, heading) or NAVIGATION.search(intro):
        return None
    if sum(1 for m in top if _CLICK.match(clean_inline(m.group("step")))) > MAX_CLICK_STEPS:
        return None  # "Choose a step …", "Choose the data …": the console, step by step
    firsts = {s.split()[0].lower() for s in steps if s}
    if len(firsts) < len(steps) - 1 and not STRONG_ORDER.search(f"{intro} {heading}"):
        return None  # "Create …, Create …, Create …": prerequisites in no real order
    return Procedure(view, intro, heading, [s for s in steps if s])


def _continues(view: ChunkView, nxt: ChunkView | None) -> bool:
    """Whether the source's next chunk, under the same heading, opens with a numbered line."""
    if nxt is None or nxt.path != view.path:
        return False
    opening = next((ln for ln in nxt.chunk.text.splitlines() if ln.strip()), "")
    return bool(_NUMBERED.match(opening))


def _sequence(intro: str, heading: str) -> bool:
    """Whether the list is introduced as steps in order (not as options or examples)."""
    lead = intro or heading
    if ALTERNATIVES_CUE.search(lead) and not re.search(r"\bsteps?\b", lead, re.I):
        return False
    return bool(SEQUENCE_CUE.search(intro) or SEQUENCE_CUE.search(heading))


def _ordering_stem(proc: Procedure) -> str:
    task = _TO_TASK.match(proc.intro)
    if task:
        return f"Put these steps to {task.group('task').rstrip('.')} in the right order."
    doing = _DOING.match(proc.intro)
    if doing:  # "Setting up a tuning job:"
        task = re.sub(r",? in (?:this|the following) order$", "", doing.group("task"))
        return f"Put these steps for {task[:1].lower()}{task[1:]} in the right order."
    return f"Put these steps of “{quote(proc.heading, 120)}” in the right order."


def ordering_question(builder: Builder, proc: Procedure) -> Question:
    """The procedure as an ordering item: steps shuffled, the key the material's order."""
    n = len(proc.steps)
    order = _shuffled(builder.rng, n)
    shown = [proc.steps[k] for k in order]
    correct = [order.index(k) for k in range(n)]
    lines = "; ".join(f"{k + 1}. {s}" for k, s in enumerate(proc.steps))
    explanation = quote(f"The material's order: {lines}.", MAX_EXPLANATION_CHARS * 2)
    return _question(proc.view, _ordering_stem(proc), shown, correct, explanation, "ordering", n)


# --------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------


def _description(builder: Builder, entry: Entry, others: Sequence[Entry]) -> str | None:
    """The opening sentence of a term's description, when it names no term of the item."""
    found = builder.descriptions(entry, [o.entity for o in others])
    if not found or len(found[0].split()) > MAX_DESCRIPTION_WORDS:
        return None
    if any(appears_in(term_core(o.entity.name), found[0]) for o in others):
        return None  # "comparable to Parquet" beside "Apache Parquet"
    return found[0].rstrip(".").strip()


def term_matching(builder: Builder, entries: Sequence[Entry]) -> Question | None:
    """3-5 sibling terms of one chunk and group matched to their descriptions; a term whose
    description uses a word of its name that no other term's name has is left out (it would
    match itself)."""
    worth = [e for e in entries if e.entity.noun is not None and builder.worth(e.entity)]
    chosen: list[tuple[Entry, str]] = []
    for entry in worth:
        others = [e for e in worth if e is not entry]
        text = _description(builder, entry, others)
        if text is None or any(_alike(entry, text, c, t) for c, t in chosen):
            continue
        if leaks(text, [entry.entity], [e.entity for e in others]):
            continue
        chosen.append((entry, text))
        if len(chosen) == MAX_ITEMS:
            break
    if len(chosen) < MIN_ITEMS:
        builder.skip("few_items")
        return None
    view = chosen[0][0].chunk
    entity = chosen[0][0].entity
    label = stem_label(entity, False)
    kind = entity.heading if label in VAGUE_NOUNS else plural(label)
    stem = f"Match each of these {kind} to its description."
    terms = [e.entity.name if appears_in(e.entity.name, view.passage) else "" for e, _ in chosen]
    if not all(terms):
        return None
    pairs = "; ".join(f"{t}: {d}" for t, (_, d) in zip(terms, chosen, strict=True))
    explanation = quote(f"The material says: {pairs}.", MAX_EXPLANATION_CHARS * 2)
    return _matching(builder, view, stem, terms, [d for _, d in chosen], explanation)


def _alike(entry: Entry, text: str, other: Entry, other_text: str) -> bool:
    """Two terms a learner could not tell apart by these descriptions."""
    if related(entry.entity, other.entity) or text == other_text:
        return True
    ours, theirs = entry.entity.desc_terms, other.entity.desc_terms
    return bool(ours and theirs and len(ours & theirs) / len(ours | theirs) >= SIMILAR_DESCRIPTIONS)


def decision_matching(builder: Builder, members: Sequence[Decision]) -> Question | None:
    """3-5 decisions of one list and chunk: each requirement matched to its solution."""
    chosen: list[Decision] = []
    for d in members:
        if len(d.answers) != 1 or not appears_in(d.need, d.view.passage):
            continue
        if not builder.worth(d.answers[0]) or any(
            related(d.answers[0], c.answers[0]) or d.surfaces[0] == c.surfaces[0] for c in chosen
        ):
            continue
        chosen.append(d)
        if len(chosen) == MAX_ITEMS:
            break
    answers = [d.answers[0] for d in chosen]
    chosen = [
        d
        for d in chosen
        if not names_in(d.need, answers)
        and not leaks(d.need, d.answers, [a for a in answers if a is not d.answers[0]])
    ]
    if len(chosen) < MIN_ITEMS:
        builder.skip("few_items")
        return None
    needs = [d.need.rstrip(".") for d in chosen]
    solutions = [d.surfaces[0] for d in chosen]
    stem = "Match each requirement to the solution the material recommends for it."
    lines = "; ".join(f"{n} → {s}" for n, s in zip(needs, solutions, strict=True))
    explanation = quote(f"The material says: {lines}.", MAX_EXPLANATION_CHARS * 2)
    return _matching(builder, chosen[0].view, stem, needs, solutions, explanation)


def _matching(
    builder: Builder,
    view: ChunkView,
    stem: str,
    terms: Sequence[str],
    targets: Sequence[str],
    explanation: str,
) -> Question:
    n = len(terms)
    order = _shuffled(builder.rng, n)  # targets shown in this order
    correct = [order.index(k) for k in range(n)]
    options = [*terms, *(targets[k] for k in order)]
    return _question(view, stem, options, correct, explanation, "matching", n)


# --------------------------------------------------------------------------------------------
# Shared
# --------------------------------------------------------------------------------------------


def _shuffled(rng: random.Random, n: int) -> list[int]:
    """A random order of ``n`` items that is not the identity."""
    order = list(range(n))
    while order == sorted(order):
        rng.shuffle(order)
    return order


def _question(
    view: ChunkView,
    stem: str,
    options: list[str],
    correct: list[int],
    explanation: str,
    fmt: str,
    n: int,
) -> Question:
    return Question(
        stem=stem,
        options=options,
        correct=correct,
        explanation=explanation,
        chunk_ids=[view.id],
        source=view.source,
        title=view.title,
        domain=view.domain,
        objective=view.objective,
        format=fmt,
        choose=n,
        generator=f"offline:{fmt}",
        passage=view.passage,
    )


def ordering_questions(material: Material, builder: Builder) -> list[Question]:
    """One ordering item per distinct procedure (a list repeated by chunk overlap once)."""
    out: list[Question] = []
    seen: set[frozenset[str]] = set()
    for proc in procedures(material):
        key = frozenset(s.lower() for s in proc.steps)
        if key in seen:
            continue
        seen.add(key)
        out.append(ordering_question(builder, proc))
    return out


def matching_questions(material: Material, builder: Builder) -> list[Question]:
    """Matching items: per chunk and term group, and per chunk and decision list."""
    out: list[Question] = []
    seen: set[frozenset[str]] = set()
    by_chunk: dict[tuple[str, str], list[Entry]] = {}
    for entry in material.corpus.entries:
        by_chunk.setdefault((entry.chunk.id, entry.entity.group), []).append(entry)
    for entries in by_chunk.values():
        distinct = list({e.entity.key: e for e in entries}.values())
        if len(distinct) >= MIN_ITEMS:
            _add_new(out, seen, term_matching(builder, distinct))
    by_list: dict[tuple[str, str], list[Decision]] = {}
    for decision in decisions(material):
        by_list.setdefault((decision.view.id, decision.group), []).append(decision)
    for members in by_list.values():
        if len(members) >= MIN_ITEMS:
            _add_new(out, seen, decision_matching(builder, members))
    return out


def _add_new(out: list[Question], seen: set[frozenset[str]], q: Question | None) -> None:
    """Keep ``q`` unless an item with the same terms was built (chunk overlap)."""
    if q is None:
        return
    key = frozenset(o.lower() for o in q.options[: q.choose])
    if key not in seen:
        seen.add(key)
        out.append(q)


__all__ = [
    "Procedure",
    "decision_matching",
    "matching_questions",
    "ordering_question",
    "ordering_questions",
    "procedures",
    "term_matching",
]
