"""Extractive answers: the sentences of the passage that answers, the deciding one first.

The question's shape decides what to look for:

* ``compare`` ("X vs Y", "difference between X and Y"): the defining sentence of each side;
* ``which`` ("Which service/algorithm ... for ...?"): the sentence that names the answer, shown
  so that its first words are the name;
* ``define`` ("What is X?", "What does X do?"): the sentence that says what X is, then what X
  is for;
* ``other`` (how, when, why ...): the sentences that match the question best.

A sentence scores the weighted share of the question's terms it holds (rare terms weigh more,
see `coverage.term_weights`), with a bonus for defining or deciding language ("X is a ...",
"use X to ...", a bullet right under the term it describes) and for lying in the passage item
that coverage found addresses the question. Lead-ins ("... the following:"), caveats under
"Note" labels and very long sentences weigh less. The answer takes the best sentence, then the
sentences of the same passage item that also match, in reading order, within ~120 words.
Lower-ranked passages count a little less (the study guide's rank among themselves), and the
study guide is the learner's primary source: its sentence that names what the question asks
about opens the answer when it scores nearly as well as the best documentation sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from knowledge.coverage import has_term, term_keys
from knowledge.passages import Sentence
from knowledge.text import wordset
from knowledge.types import Hit

MAX_WORDS = 120  # words shown, citations aside
#: Each retrieval rank below the first costs a sentence this share of its score; the study
#: guide's passages (``source_role: guide``) rank among themselves only.
RANK_DECAY = 0.12
#: The study guide is the learner's primary source: its best sentence that names what the
#: question asks about opens the answer when it scores at least this share of the best
#: documentation sentence (a guide entry seldom repeats the product family, "SageMaker", nor
#: sits first on its page as a doc page's definition does).
GUIDE_MARGIN = 0.7
#: A focus term weighing less than this share of the rarest one qualifies rather than names.
KEY_FOCUS_SHARE = 0.5
MAX_LINES = 4
MIN_LINES = 2

_VERSUS = re.compile(r"\s+(?:vs\.?|versus)\s+", re.I)
_SIDES = [
    re.compile(r"\bdifferen\w*\s+between\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)(?:[?,]|$)", re.I),
    re.compile(r"\bcompare\s+(?P<a>.+?)\s+(?:and|with|to)\s+(?P<b>.+?)(?:[?,]|$)", re.I),
    re.compile(r"\b(?P<a>\S+(?:\s+\S+){0,3}?)\s+differ\w*\s+from\s+(?P<b>.+?)(?:[?,]|$)", re.I),
    re.compile(
        r"\b(?:use|choose|pick|prefer)\s+(?P<a>.+?)\s+or\s+(?P<b>.+?)(?:\s+for\b|\s+when\b|[?,]|$)",
        re.I,
    ),
]
_WHICH = re.compile(
    r"^\s*(?:which|what)\b(?:\s+(?!is\b|are\b|was\b|does\b|do\b|the\b|an?\b)[\w-]+){0,3}?"
    r"\s+(?P<type>service|algorithm|tool|feature|"
    r"instance|metric|chart|storage class|format|mode|option|sdk|family|hyperparameter|strategy|"
    r"class|capability|approach|technique|model)s?\b"
    r"|\bwhich\b.*\b(?:should i|do i|can i|would you|to use|to pick|to choose)\b",
    re.I,
)
_DEFINE = re.compile(
    r"^\s*(?:what(?:'s|\s+is|\s+are)\b|what\s+does\b.*\bdo\b|what\s+do\b.*\bdo\b|explain\b|"
    r"describe\b|define\b|tell me about\b|what\s+is\s+.+\s+(?:for|used for)\b)",
    re.I,
)
_DEFINING = re.compile(
    r"\b(?:is|are)\s+(?:a|an|the)\b|\b(?:is|are)\s+(?:a\s+)?(?:fully\s+)?(?:managed|purpose-built"
    r"|general-purpose|unsupervised|supervised)\b|\b(?:provides?|enables?|lets|allows|helps)\b"
    r"|\bis\s+(?:ideal|designed|used|useful|optimized)\s+for\b",
    re.I,
)
_DECIDING = re.compile(
    r"\buse\b|\bideal\b|\bbest\b|\bsuit|\bchoose\b|\bprefer|\brecommend|→|->|\binstead\b"
    r"|\bwhen\b|\brather than\b",
    re.I,
)
_INSTRUCTION = re.compile(
    r"^(?:you can|you must|you should|to\s|choose|open|run|select|navigate|enter|if you|"
    r"in the|on the|for example|the following)\b",
    re.I,
)
_COMMON_OPENINGS = wordset(
    """while when if the this that these those there it its you your we in on for to a an as
    with by from after before although because since unlike however also each every all most
    some many use using"""
)
_NOT_NAMES = wordset("api apis sdk cli console ui the a an and or in on for to of with is are")
_ARROW = re.compile(r"\s*(?:→|->|=>)\s*")


@dataclass
class Shape:
    """What kind of answer a question wants."""

    kind: str  # "compare" | "which" | "define" | "other"
    sides: list[str] = field(default_factory=list)  # compare: the things compared
    answer_type: str = ""  # which: "algorithm", "service", "metric" ...
    guide: bool = False  # the question asks what the study guide says ("... does the guide list")
    quantity: bool = False  # the question asks how much / many / long: a number answers it


_ASKS_QUANTITY = re.compile(
    r"^\s*(?:how\s+(?:much|many|long|fast|large|big|often|far)\b|what\s+(?:percentage|"
    r"percent|size|limit)\b|what\s+is\s+the\s+(?:maximum|minimum|max|min|limit)\b)",
    re.I,
)
#: A sentence that states a quantity: a number, in digits or words.
_QUANTITY = re.compile(
    r"\d|\b(?:twice|double|half|once|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"hundreds?|thousands?|millions?|percent)\b",
    re.I,
)
QUANTITY_BONUS = 0.1
_ASKS_GUIDE = re.compile(r"\b(?:the|my|our|study)\s+guide(?:'s)?\b", re.I)
_GUIDE_TERMS = frozenset(term_keys("guide guide's"))


def asks_guide(question: str) -> bool:
    """Whether the question asks what the study guide says ("... does the guide list")."""
    return bool(_ASKS_GUIDE.search(question))


def question_shape(question: str) -> Shape:
    """Compare (with the things compared), which, define or other; whether the question
    asks what the study guide says, and whether it asks for a quantity."""
    shape = _shape(question)
    shape.guide = asks_guide(question)
    shape.quantity = bool(_ASKS_QUANTITY.search(question))
    return shape


def _shape(question: str) -> Shape:
    head = re.split(r"[?:]", question.strip())[0]
    parts = [p.strip(" ?.,") for p in _VERSUS.split(head)]
    if len(parts) >= 2 and all(term_keys(p) for p in parts):
        return Shape("compare", parts)
    for pattern in _SIDES:
        found = pattern.search(question.strip())
        if found:
            sides = [found.group("a").strip(" ?.,"), found.group("b").strip(" ?.,")]
            if all(term_keys(s) for s in sides):
                return Shape("compare", sides)
    found = _WHICH.search(question)
    if found:
        return Shape("which", answer_type=found.group("type") or "")
    if _DEFINE.search(question):
        return Shape("define")
    return Shape("other")


def _found(weights: dict[str, float], own: set[str], subject: set[str], heading: set[str]) -> float:
    """Weighted question terms a sentence holds: its own words fully, its subject and its
    passage's headings in part."""
    total = 0.0
    for term, weight in weights.items():
        if has_term(term, own):
            total += weight
        elif has_term(term, subject):
            total += 0.7 * weight
        elif has_term(term, heading):
            total += 0.35 * weight
    return total


def _names_focus(unit: Sentence, focus: set[str]) -> bool:
    """A described entry whose subject is what the question names, or a sentence that names
    it in its first words."""
    about = unit.subject if unit.described else " ".join(unit.text.split()[:8])
    return bool(focus) and all(has_term(t, set(term_keys(about))) for t in focus)


def _cues(unit: Sentence, shape: Shape, names_it: bool) -> float:
    """Bonus for defining / deciding language about what the question names (``names_it``)."""
    bonus = 0.0
    if unit.described or _DEFINING.search(unit.text[:160]):
        bonus += 0.15 if shape.kind in ("define", "compare") else 0.08
        if names_it and shape.kind in ("define", "compare", "which"):
            bonus += 0.15  # "Object2Vec is a general-purpose ... algorithm"
    if shape.kind in ("which", "other") and _DECIDING.search(unit.text):
        bonus += 0.05
    return bonus


def _names_another(text: str, names: Sequence[str], pattern: re.Pattern[str]) -> bool:
    """The sentence names the question's thing only as part of a longer name: the question
    asks about "Ground Truth", every mention here is "Ground Truth Plus"."""
    mentions = list(pattern.finditer(text))
    asked = {n.lower() for n in names} | _NOT_NAMES
    return bool(mentions) and all(
        m.group(1) and m.group(1).strip().lower() not in asked for m in mentions
    )


def _key_focus(focus: set[str], weights: dict[str, float]) -> set[str]:
    """The focus terms that name the thing itself, not the product family it belongs to: in
    "SageMaker Neo" on a store of SageMaker pages, "neo" (rare) but not "sagemaker" (common),
    so the guide's "Neo" entry names what the question asks about."""
    top = max((weights.get(t, 0.0) for t in focus), default=0.0)
    return {t for t in focus if weights.get(t, 0.0) >= KEY_FOCUS_SHARE * top} or focus


def score_units(
    units: Sequence[Sentence],
    hits: Sequence[Hit],
    weights: dict[str, float],
    shape: Shape,
    best_item: tuple[int, int] | None,
    focus: set[str] | None = None,
    names: Sequence[str] = (),
) -> None:
    """Set each unit's score (see the module docstring); ``focus`` holds the terms of what
    the question names (its names, else its rarest term), ``names`` the names as written."""
    wanted = set(term_keys(shape.answer_type))
    if shape.guide:  # "the guide" says where to look, not what about
        weights = {t: w for t, w in weights.items() if t not in _GUIDE_TERMS}
    total = sum(weights.values()) or 1.0
    extended = re.compile(rf"\b{re.escape(names[-1])}\b(\s+[A-Z][\w-]*)?") if names else None
    focus = _key_focus(
        focus or ({max(weights, key=weights.__getitem__)} if weights else set()), weights
    )
    headings = {i: set(term_keys(f"{h.title} {h.title_path}")) for i, h in enumerate(hits)}
    rank_factors = _rank_factors(hits)
    for unit in units:
        own = set(unit.terms)
        subject = set(unit.subject_terms)
        if unit.described:  # a bullet under its term is about that term: the term is its own
            own |= subject
        heading = headings.get(unit.passage, set())
        score = _found(weights, own, subject, heading) / total
        unit.guide = hits[unit.passage].metadata.get("source_role") == "guide"
        names_it = _names_focus(unit, focus)
        # what it is about for "what is X?", what it holds for "which ... for X?" and others
        unit.on_focus = (
            names_it
            if shape.kind in ("define", "compare")
            else bool(focus) and all(has_term(t, own | subject) for t in focus)
        )
        if any(has_term(t, own | subject) for t in weights):
            score += _cues(unit, shape, names_it)
            if wanted and any(has_term(t, subject | heading) for t in wanted):
                score += 0.2  # "which algorithm ...?": a sentence under an algorithms heading
            if (
                shape.kind in ("define", "which")
                and hits[unit.passage].metadata.get("position") == 0
            ):
                score += 0.05  # a page's opening passage introduces its subject
            if shape.quantity and _QUANTITY.search(unit.text):
                score += QUANTITY_BONUS  # "how much ...?": "up to 90%", "1 MB per second"
        if extended is not None and _names_another(unit.text, names, extended):
            score *= 0.6  # "Ground Truth Plus" when the question asks about Ground Truth
        if shape.kind in ("define", "compare") and _INSTRUCTION.match(unit.text):
            score *= 0.7  # "You can tune the following ..." is no definition
        if shape.kind == "define" and names_only(unit.text):
            score *= 0.5  # "Prepare: Data Wrangler, Feature Store, Clarify" defines nothing
        if unit.lead_in:
            score *= 0.4
        if unit.caveat:
            score *= 0.7
        if unit.words > 45:
            score *= 45 / unit.words
        if best_item == (unit.passage, unit.item):
            score *= 1.1
        unit.score = score * rank_factors[unit.passage]


def _rank_factors(hits: Sequence[Hit]) -> list[float]:
    """Per passage, what its retrieval rank and source role make of its sentences' scores."""
    factors = []
    guides = 0
    for rank, hit in enumerate(hits):
        if hit.metadata.get("source_role") == "guide":
            factors.append(1 / (1 + RANK_DECAY * guides))
            guides += 1
        else:
            factors.append(1 / (1 + RANK_DECAY * rank))
    return factors


def _budget(chosen: list[Sentence]) -> list[Sentence]:
    """Keep lines while the answer stays within MAX_WORDS (the first line always)."""
    kept: list[Sentence] = []
    words = 0
    for unit in chosen:
        if kept and words + unit.words > MAX_WORDS:
            continue
        kept.append(unit)
        words += unit.words
    return kept


def _distinct_keys(sides: list[str]) -> list[set[str]]:
    """Each side's own terms: "the online store" vs "the offline store" -> {online}, {offline}."""
    keys = [set(term_keys(side)) for side in sides]
    shared = set.intersection(*keys) if keys else set()
    return [k - shared or k for k in keys]


def _about(unit: Sentence, keys: set[str]) -> float:
    """The share of a side's own terms a sentence (with its subject) holds."""
    if not keys:
        return 0.0
    own = unit.terms | unit.subject_terms
    return sum(has_term(k, own) for k in keys) / len(keys)


def _compare(units: Sequence[Sentence], sides: list[str]) -> list[Sentence]:
    """The best defining sentence of each side, in the question's order."""
    chosen: list[Sentence] = []
    for keys in _distinct_keys(sides):
        about = [u for u in units if _about(u, keys) > 0 and u not in chosen]
        about.sort(key=lambda u: -(_about(u, keys) + u.score + 0.1 * u.described))
        chosen += about[:1]
    return chosen if len(chosen) >= 2 else []


def _near_duplicate(a: set[str], b: set[str]) -> bool:
    """Same sentence give or take a few words (Jaccard >= 0.8 or one nearly inside the other)."""
    if not a or not b:
        return a == b
    common = len(a & b)
    return common / len(a | b) >= 0.8 or common / min(len(a), len(b)) >= 0.9


def _distinct(units: Sequence[Sentence]) -> list[Sentence]:
    kept: list[Sentence] = []
    seen: list[set[str]] = []
    for unit in units:
        keys = set(unit.terms | (unit.subject_terms if unit.described else frozenset()))
        if not any(_near_duplicate(keys, s) for s in seen):
            kept.append(unit)
            seen.append(keys)
    return kept


def names_only(text: str) -> bool:
    """A bare list of names ("Data Wrangler, Feature Store, Ground Truth, Clarify"): it says
    a thing exists, not what it does."""
    parts = [p.strip() for p in re.split(r",|\band\b", text.rstrip(". ")) if p.strip()]
    return len(parts) >= 2 and all(len(p.split()) <= 4 and p[:1].isupper() for p in parts)


def _guide_first(ranked: list[Sentence], shape: Shape) -> Sentence:
    """The best sentence, or the guide's best one that names what the question asks about
    when it answers about as well (`GUIDE_MARGIN`; any score when the question asks what the
    guide says); a bare list of names answers "which ...?" but defines nothing."""
    margin = 0.0 if shape.guide else GUIDE_MARGIN
    best = ranked[0]
    if best.guide:
        return best
    return next(
        (
            u
            for u in ranked
            if u.guide
            and u.on_focus
            and u.score >= margin * best.score
            and not (shape.kind == "define" and names_only(u.text))
        ),
        best,
    )


def select(units: Sequence[Sentence], shape: Shape) -> list[Sentence]:
    """The answer's sentences, the deciding one first (units already scored)."""
    if shape.guide:  # "what does the guide list ...?": the guide's own sentences, if any match
        units = [u for u in units if u.guide and u.score > 0] or units
    top = sorted(units, key=lambda u: (-u.score, u.passage, u.position))[:16]
    if not top or top[0].score <= 0:
        return []
    anchor = _guide_first(top, shape)
    # the anchor first, so a doc sentence the guide copied is the one dropped as a duplicate
    ranked = _distinct([anchor, *(u for u in top if u is not anchor)])
    if shape.kind == "compare":
        pair = _compare(ranked, shape.sides)
        if pair:
            return _budget(pair)
    others = [u for u in ranked if u is not anchor]
    same_item = [
        u
        for u in others
        if (u.passage, u.item) == (anchor.passage, anchor.item) and u.score >= 0.5 * anchor.score
    ]
    chosen = [anchor, *same_item[: MAX_LINES - 1]]
    for unit in others:  # too little in the answering item: the next best elsewhere
        if len(chosen) >= MIN_LINES or unit.score < 0.6 * anchor.score:
            break
        if unit not in chosen:
            chosen.append(unit)
    # Reading order (passages by rank); the guide's passage first when it was preferred;
    # "which", "define" and "how much" questions open with the deciding sentence itself.
    preferred = anchor.passage if anchor is not top[0] else -1
    chosen.sort(key=lambda u: (u.passage != preferred, u.passage, u.position))
    if shape.kind in ("which", "define") or shape.quantity:
        chosen = [anchor, *(u for u in chosen if u is not anchor)]
    return _budget(chosen)


def name_first(unit: Sentence, text: str) -> str:
    """A "which ...?" answer starts with the name: "scenario → Name (why)" reads "Name (why):
    scenario"; a sentence opening with a common word ("While ...", "You can ...") gets its
    subject in front; a described sentence already starts "Name: ..."."""
    parts = _ARROW.split(text, maxsplit=1)
    if len(parts) == 2 and 0 < len(parts[1].split()) <= 12:
        scenario, answer = parts[0].strip(" -–—"), parts[1].strip().rstrip(".")
        return f"{answer}: {scenario}"
    first = text.split(" ", 1)[0].lower().strip(",:;\"'“")
    subject = unit.subject
    names_a_thing = 0 < len(subject.split()) <= 6 and not subject[:1].isdigit()
    if names_a_thing and first in _COMMON_OPENINGS and not text.startswith(subject):
        return f"{subject}: {text}"
    return text
