"""Questions about the exam itself, answered from the blueprint.

"How many questions?", "what passing score?", "how long?", "which question types?", "what
are the domains and their weights?", "what is objective 2.2?": the blueprint holds these as
data (`knowledge/blueprints/*.yaml`), so the answer states them exactly instead of hoping a
passage sentence survives extraction. `exam_question` says which facts a question asks for;
`exam_lines` writes them. A question that names another exam ("Solutions Architect") is not
about this one and gets no blueprint answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.blueprint import Blueprint, Domain, Objective
from knowledge.coverage import question_names
from knowledge.text import content_terms

_EXAM_WORDS = re.compile(
    r"\b(exam|certification|certified|specialty|blueprint|objectives)\b"
    r"|\btest\b(?!\s*(sets?|data|split))",
    re.I,
)
_FACTS = {
    "count": re.compile(
        r"\bhow many questions\b|\bnumber of questions\b|\bquestions (are|is) (there|on)\b", re.I
    ),
    "time": re.compile(r"\bhow (long|much time)\b|\bminutes\b|\bduration\b|\btime limit\b", re.I),
    "score": re.compile(
        r"\bpass(ing|ed|es)?\b|\bscored\b|\bscoring\b|\bscale\b|\bwhat score\b"
        r"|\bscore (do|does|to|needed|required)\b",
        re.I,
    ),
    "types": re.compile(
        r"\b(question|item) (types?|formats?)\b|\b(types?|kinds?|formats?) of questions?\b"
        r"|\bmultiple (choice|response)\b",
        re.I,
    ),
    "domains": re.compile(
        r"\bdomains?\b|\bweights?\b|\bweighted\b|\bpercent(age)?\b|%|\bworth\b|\btopics\b", re.I
    ),
    "objectives": re.compile(r"\bobjectives\b", re.I),
}
_OBJECTIVE_ID = re.compile(r"\b([1-9])\.([1-9])\b")
_SUPERLATIVE = re.compile(
    r"\b(most|biggest|largest|highest|heaviest|least|smallest|lowest)\b", re.I
)
#: Words of objective names too common to pick one objective by.
_GENERIC = {
    "data",
    "machin",
    "learn",
    "model",
    "solution",
    "problem",
    "given",
    "appropriat",
    "exam",
    "domain",
    "objectiv",
    "cover",
    "fall",
    "under",
    "belong",
}
_TIME_OTHER = re.compile(r"\b(course|training|study|prepare|preparation|video|class)\b", re.I)


@dataclass
class ExamQuestion:
    """What a question about the exam asks: which facts, and which domain or objective."""

    facts: set[str] = field(default_factory=set)
    domain: Domain | None = None
    objective: Objective | None = None
    heaviest_first: bool = False  # "which domain weighs most?": domains by weight


def _vocabulary(blueprint: Blueprint) -> set[str]:
    words = f"{blueprint.id} {blueprint.name} AWS ML MLS Amazon"
    words += " ".join(f" {d.name}" for d in blueprint.domains)
    words += " ".join(f" {o.name}" for o in blueprint.objectives)
    return {w.lower() for w in re.findall(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*", words)}


def _named_domain(question: str, blueprint: Blueprint) -> Domain | None:
    low = question.lower()
    for d in sorted(blueprint.domains, key=lambda d: -len(d.name)):
        if d.name.lower() in low or re.search(rf"\bdomain {d.id}\b", low):
            return d
    return None


def exam_question(question: str, blueprint: Blueprint) -> ExamQuestion | None:
    """The exam facts a question asks for, or None when it is not about this exam's facts."""
    if not _EXAM_WORDS.search(question) and not _OBJECTIVE_ID.search(question):
        return None
    vocabulary = _vocabulary(blueprint)
    if any(name.lower() not in vocabulary for name in question_names(question)):
        return None  # names something else (another exam, another cloud)
    asked = ExamQuestion(heaviest_first=bool(_SUPERLATIVE.search(question)))
    for fact, pattern in _FACTS.items():
        if pattern.search(question):
            asked.facts.add(fact)
    if "time" in asked.facts and _TIME_OTHER.search(question):
        asked.facts.discard("time")  # "how long does the course take" is not the exam's time
    found = _OBJECTIVE_ID.search(question)
    if found and re.search(r"\bobjective\b|\bdomain\b|\bexam\b", question, re.I):
        try:
            asked.objective = blueprint.objective(f"{found.group(1)}.{found.group(2)}")
        except KeyError:
            return None
        asked.facts.add("objective")
    asked.domain = _named_domain(question, blueprint)
    if asked.objective is None and asked.domain is None and asked.facts & {"domains", "objectives"}:
        asked.objective = _topic_objective(question, blueprint)
        if asked.objective is not None:
            asked.facts.add("objective")
    if asked.domain is not None and "objectives" not in asked.facts:
        asked.facts.add("domains")
    return asked if asked.facts else None


def _topic_objective(question: str, blueprint: Blueprint) -> Objective | None:
    """The one objective whose name shares a distinctive word with the question, if any
    ("which domain covers data ingestion?" -> 1.2)."""
    wanted = set(content_terms(question)) - _GENERIC
    scored = [
        (len(wanted & (set(content_terms(o.name)) - _GENERIC)), o) for o in blueprint.objectives
    ]
    best = max((n for n, _ in scored), default=0)
    matches = [o for n, o in scored if n == best]
    return matches[0] if best and len(matches) == 1 else None


def _domain_line(d: Domain) -> str:
    return f"Domain {d.id} · {d.name}: {d.weight:g}% of the exam"


def exam_lines(asked: ExamQuestion, blueprint: Blueprint) -> list[str]:
    """The blueprint's answer to an exam question, one fact per line."""
    exam = blueprint.exam
    lines: list[str] = []
    if "count" in asked.facts or "time" in asked.facts:
        lines.append(
            f"The {blueprint.name} exam has {exam.questions} questions, "
            f"to be answered within {exam.minutes} minutes"
        )
    if "score" in asked.facts:
        lines.append(
            f"It is scored from {exam.scale.min} to {exam.scale.max}; "
            f"the minimum passing score is {exam.passing_score}"
        )
    if "types" in asked.facts and exam.question_types:
        lines.append("Question types: " + " and ".join(exam.question_types))
    if asked.objective is not None:
        o = asked.objective
        d = blueprint.domain(o.domain_id)
        lines.append(f"Objective {o.id} (Domain {d.id} · {d.name}): {o.name}")
    elif "objectives" in asked.facts:
        for d in [asked.domain] if asked.domain else blueprint.domains:
            objectives = "; ".join(o.label for o in d.objectives)
            lines.append(f"Domain {d.id} · {d.name} ({d.weight:g}%): {objectives}")
    elif "domains" in asked.facts:
        if asked.domain is not None:
            lines.append(_domain_line(asked.domain))
        else:
            ranked = blueprint.domains
            if asked.heaviest_first:
                ranked = sorted(blueprint.domains, key=lambda d: -d.weight)
            lines += [_domain_line(d) for d in ranked]
    return lines


def exam_values(asked: ExamQuestion, blueprint: Blueprint) -> list[str]:
    """Values a passage quoting these facts would contain ("65", "750"): to find it and cite it."""
    exam = blueprint.exam
    values = {
        "count": [str(exam.questions)],
        "time": [str(exam.minutes)],
        "score": [str(exam.passing_score)],
        "types": [t.split()[-1] for t in exam.question_types],
        "domains": [f"{d.weight:g}%" for d in blueprint.domains],
        "objectives": [o.id for o in blueprint.objectives],
    }
    out = [v for fact in sorted(asked.facts) for v in values.get(fact, [])]
    if asked.objective is not None:
        out.append(asked.objective.id)
    return out


def blueprint_text(blueprint: Blueprint) -> str:
    """The blueprint's words, so names it uses ("MLS-C01") count as known to the material."""
    return " ".join(sorted(_vocabulary(blueprint)))
