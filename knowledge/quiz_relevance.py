"""Is a question worth a learner's time? Exam relevance, trivia, the domain it tests, page cap.

A question is exam-relevant when its answer is a concept the exam names: a term that the
blueprint's objective keywords name, or that the study guide itself mentions. "The study guide"
is read from the store at run time: every source whose headings name the blueprint's objectives
(the guide's ``### 2.2 Perform feature engineering`` sections, the bundled notes), not a list
written into the code.

Reference material (tables of hyperparameters, error codes, API fields, enum values, status
strings, CloudWatch metric names) is *trivia*: such a term is dropped unless the guide names it.
A term is trivia when it is shaped like an identifier (``snake_case``, ``camelCase``,
``ALL_CAPS``, dotted or with a digit run), when it comes from a reference table, or when the kind
its heading gives it is a reference kind (parameter, status, error code, field …).

The domain and objective of a question are read from what it tests: the blueprint keywords its
answers name decide, the chunk's own tag stands when they name none or name its objective
(`ExamVocabulary.objective_of`).
`cap_per_source` keeps one page from supplying more than a share of the bank.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from lemminflect import getAllLemmas

from knowledge.text import clean_inline, stem_word

if TYPE_CHECKING:
    from knowledge.blueprint import Blueprint

T = TypeVar("T")

#: Largest share of a generation run's questions that one page (source) may supply.
MAX_PAGE_SHARE = 0.03
#: A keyword found in more than this share of the chunks is too common to name a term alone
#: ("training", "instance", "endpoint"), unless it is the whole term.
COMMON_KEYWORD_SHARE = 0.03
MIN_COMMON_HITS = 50  # in a small corpus (the notes) no keyword is common
#: Kinds (singular heading nouns) whose members are reference material, not exam concepts.
REFERENCE_KINDS = frozenset(
    [
        "parameter",
        "hyperparameter",
        "setting",
        "option",
        "field",
        "attribute",
        "property",
        "argument",
        "variable",
        "key",
        "value",
        "status",
        "state",
        "code",
        "error",
        "exception",
        "dimension",
        "header",
        "column",
        "event",
        "permission",
        "action",
        "condition",
        "rule",
    ]
)
# Weights of the evidence for a question's objective (see `objective_of`): a keyword that is
# an answer's whole name, and one inside it.
ANSWER_WEIGHT = 2.0
ANSWER_PART_WEIGHT = 1.0

_IDENTIFIER = re.compile(
    r"""^(?:
        [a-z0-9]+(?:_[a-z0-9]+)+          # snake_case
      | [A-Z0-9]+(?:_[A-Z0-9]+)+          # SNAKE_CAPS
      | [a-z]+(?:[A-Z][a-z0-9]*)+         # camelCase
      | (?:[A-Z][a-z0-9]+){3,}            # PascalCase run: DeliveryToS3, LeasesToTake
      | [A-Za-z0-9]+(?:\.[A-Za-z0-9_]+)+  # dotted: DeliveryToS3.Success, S3.AccessDenied
      | [a-z]+\d+[a-z0-9]*                # alpha0, l1_reg-like with digits
      | [A-Za-z]+:[A-Za-z:]+              # aws:SourceVpc, sagemaker:VolumeKmsKey
    )$""",
    re.VERBOSE,
)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_VENDOR = re.compile(r"^(?:(?:amazon|aws|sagemaker)\s+)+", re.IGNORECASE)
_KIND_WORDS = {"hyperparameters", "parameters", "release", "metrics", "settings", "options"}
_OBJECTIVE_HEADING = re.compile(r"^\s*(\d+\.\d+)\s+\S")


def flat(text: str) -> str:
    """Lower case, every run of non-alphanumerics one space, padded: for whole-word search."""
    return f" {' '.join(_NON_ALNUM.sub(' ', text.lower()).split())} "


def stemmed(text: str) -> str:
    """`flat` with every word stemmed ("dynamic partitioning" -> " dynamic partition ")."""
    return f" {' '.join(stem_word(w) for w in flat(text).split())} "


def identifier_shaped(term: str) -> bool:
    """A term written like code or a table value ("max_depth", "PERSON", "S3.Success").

    Product names stay names ("DataSync", "Object2Vec"); an all-capitals word is an enum value
    when it is an English word ("PERSON", "MUSIC"), an acronym otherwise ("IAM", "RMSE").
    """
    core = clean_inline(term).strip("`'\" ")
    if not core or " " in core:
        return False
    if re.fullmatch(r"[A-Z]{3,}", core):
        return is_english_word(core)
    return bool(_IDENTIFIER.match(core))


def is_english_word(word: str) -> bool:
    """Whether a word is an English word in its own right (`lemminflect`'s lexicon), as
    "person" is and "rmse" or "smote" (only a form of "smite") are not."""
    low = word.lower()
    return any(lemmas and lemmas[0] == low for lemmas in getAllLemmas(low).values())


def guide_sources(
    sources_and_paths: Iterable[tuple[str, Sequence[str]]], blueprint: Blueprint
) -> set[str]:
    """Sources organised by the blueprint's objectives: a heading of theirs names an objective.

    ``sources_and_paths``: (source, heading path) per chunk. The study guide's
    ``### 3.2 Select the appropriate model(s) …`` and the bundled notes' ``# 1.2 …`` qualify;
    a documentation page does not.
    """
    ids = {o.id for o in blueprint.objectives}
    found: set[str] = set()
    for source, path in sources_and_paths:
        if source in found:
            continue
        for heading in path:
            match = _OBJECTIVE_HEADING.match(heading)
            if match and match.group(1) in ids:
                found.add(source)
                break
    return found


@dataclass(frozen=True)
class _Keyword:
    text: str  # normalised ("random cut forest")
    compact: str  # without spaces ("randomcutforest")
    stems: str  # stemmed, padded (" random cut forest ")
    objectives: tuple[str, ...]
    common: bool  # found in more than COMMON_KEYWORD_SHARE of the chunks


class ExamVocabulary:
    """What the exam names: the blueprint's keywords and the study guide's words.

    ``guide_text``: the text of the guide material (see `guide_sources`); ``corpus_texts``:
    every chunk's text, for how common each keyword is (a keyword in most pages names nothing).
    """

    def __init__(
        self, blueprint: Blueprint, guide_text: str, corpus_texts: Sequence[str] = ()
    ) -> None:
        self.blueprint = blueprint
        self.guide_lines = [clean_inline(line) for line in guide_text.splitlines() if line.strip()]
        self.guide_raw = " ".join(self.guide_lines)
        self.guide_flat = flat(self.guide_raw)
        by_keyword: dict[str, list[str]] = {}
        for objective in blueprint.objectives:
            for keyword in objective.keywords:
                key = " ".join(flat(keyword).split())
                if key:
                    by_keyword.setdefault(key, []).append(objective.id)
        flats = [flat(t) for t in corpus_texts]
        floor = max(MIN_COMMON_HITS, COMMON_KEYWORD_SHARE * len(flats))
        self.keywords: list[_Keyword] = []
        for key, objectives in by_keyword.items():
            needle = f" {key} "
            hits = sum(1 for f in flats if needle in f) if flats else 0
            common = bool(flats) and hits > floor
            self.keywords.append(
                _Keyword(key, key.replace(" ", ""), stemmed(key), tuple(objectives), common)
            )
        self.keywords.sort(key=lambda k: -len(k.text))
        self.single_words = frozenset(k.stems.strip() for k in self.keywords if " " not in k.text)

    # -- naming ---------------------------------------------------------------------------------
    def keyword_hits(self, text: str, whole_term: bool = False) -> Counter:
        """Objective id -> keywords of it found in ``text`` (common single words skipped unless
        ``whole_term`` and the keyword is the whole text)."""
        hay = stemmed(text)
        compact = flat(text).replace(" ", "")
        hits: Counter = Counter()
        for kw in self.keywords:  # longest first: "batch transform" before "transform"
            whole = whole_term and compact == kw.compact
            if kw.common and " " not in kw.text and not whole:
                continue
            if whole or kw.stems in hay:
                for objective in kw.objectives:
                    hits[objective] += 1
                hay = hay.replace(kw.stems, " \x00 ")
                if whole:
                    break
        return hits

    def guide_names(self, term: str) -> bool:
        """Whether the study guide mentions ``term`` (with or without its vendor prefix or its
        parenthesis; a one-word term must keep its capitals, so "Studio" is not "studio")."""
        for form in _forms(term):
            if len(form) < 2 or (" " not in form and form.islower() and is_english_word(form)):
                continue  # "mode", "label": a word of any text, not a name the guide gives
            if " " in form or not form[:1].isupper():
                if flat(form) != "  " and flat(form) in self.guide_flat:
                    return True
            elif re.search(rf"(?<![\w-]){re.escape(form)}(?![\w-])", self.guide_raw):
                return True
        return False

    def _named_in_context(self, term: str, context: str) -> bool:
        subjects = [w for w in re.findall(r"[A-Z][\w\-]+", context) if w.lower() not in _KIND_WORDS]
        if not self.guide_names(term):
            return False
        if not subjects:
            return True
        pattern = re.compile(rf"(?<![\w-]){re.escape(clean_inline(term).strip('`'))}(?![\w-])")
        return any(
            pattern.search(line) and any(s in line for s in subjects) for line in self.guide_lines
        )

    def _head_hits(self, form: str) -> Counter:
        """Objectives of a short term's head noun when it is a keyword, common or not ("DL
        Containers" -> "container")."""
        words = stemmed(form).split()
        if not 1 < len(words) <= 3 or words[-1] not in self.single_words:
            return Counter()
        return Counter(
            o for kw in self.keywords if kw.stems.strip() == words[-1] for o in kw.objectives
        )

    def _whole_keyword(self, form: str) -> bool:
        compact = flat(form).replace(" ", "")
        return any(kw.compact == compact for kw in self.keywords)

    def names(self, term: str) -> bool:
        """Exam-relevant: the guide mentions the term or a blueprint keyword names it.

        A keyword names a term when it is all of it ("Hyperband", "k-NN" for "knn"), when the
        term holds a multi-word or uncommon keyword ("Amazon Kinesis Data Firehose"), or when
        it is the head noun of a short compound ("Binary classification", "IAM role").
        """
        if self.guide_names(term):
            return True
        for form in _forms(term):
            if self.keyword_hits(form, whole_term=True):
                return True
            words = stemmed(form).split()
            if 1 < len(words) <= 3 and words[-1] in self.single_words:
                return True
        return False

    def is_trivia(
        self, term: str, kind: str | None = None, from_table: bool = False, context: str = ""
    ) -> bool:
        """Reference material the guide does not name, nor a keyword as the whole term (see
        the module docstring). A table value or identifier must be named in the context of its
        table: ``context`` is the table's heading ("LDA Hyperparameters"), and one of its names
        must share a guide line with the term (the notes' "Linear Learner: … `mini_batch_size`"
        does not make LDA's `mini_batch_size` worth asking)."""
        if from_table or identifier_shaped(term):
            return not self._named_in_context(term, context)
        if self.guide_names(term):
            return False
        whole = any(self._whole_keyword(form) for form in _forms(term))
        return (kind or "") in REFERENCE_KINDS and not whole

    # -- the objective a question tests ---------------------------------------------------------
    def objective_of(
        self, answers: Sequence[str], stem: str, chunk_objective: str, chunk_exact: bool = False
    ) -> str:
        """The objective a question tests: what its answers name.

        The blueprint keywords the correct options name decide (a keyword that is the whole
        name counts double). The chunk's own tag stands when the answers name no keyword, or
        name its objective among the best; the stem's keywords only break ties. So "Ground
        Truth" from a security page is 2.1, and "Amazon EBS" from the storage notes stays 1.1
        whatever training words its stem uses. ``chunk_exact``: the chunk's section heading
        names its objective (the guide, the notes); then only a keyword that is an answer's
        whole name moves the question ("Log loss" in the evaluation notes stays 3.5 although
        "loss" is a training keyword).
        """
        scores: Counter = Counter()
        whole = False
        for answer in answers:
            hits, weight = Counter(), ANSWER_PART_WEIGHT
            for form in _forms(answer):
                if self._whole_keyword(form):
                    weight, whole = ANSWER_WEIGHT, True
                hits |= self.keyword_hits(form, whole_term=True) or self._head_hits(form)
            total = sum(hits.values())
            for objective, n in hits.items():
                scores[objective] += weight * n / total / len(answers)
        if chunk_exact and not whole and chunk_objective:
            return chunk_objective
        if not scores:  # the answers name no keyword: an exact tag stands, else the stem speaks
            stem_hits = self.keyword_hits(stem) if not chunk_exact else Counter()
            if not stem_hits or chunk_objective in stem_hits:
                return chunk_objective
            order = [o.id for o in self.blueprint.objectives]
            return max(stem_hits, key=lambda o: (stem_hits[o], -order.index(o)))
        best = max(scores.values())
        top = [o for o, v in scores.items() if v >= best - 1e-9]
        if chunk_objective in top:
            return chunk_objective
        stem_hits = self.keyword_hits(stem)
        order = [o.id for o in self.blueprint.objectives]
        return max(top, key=lambda o: (stem_hits.get(o, 0), -order.index(o)))


def _forms(term: str) -> list[str]:
    """A term as written, without its vendor prefix, and its parenthesis and what it holds:
    "Amazon SageMaker Random Cut Forest (RCF)" -> itself, "Random Cut Forest (RCF)",
    "Random Cut Forest", "RCF"."""
    text = clean_inline(term).strip("`'\" ")
    forms = [text]
    core = _VENDOR.sub("", text).strip()
    if core and core != text:
        forms.append(core)
    match = re.match(r"^(?P<main>.*?)\s*\((?P<inner>[^()]+)\)\s*$", core)
    if match:
        forms += [match.group("main"), match.group("inner")]
    return [f for f in dict.fromkeys(forms) if f]


def cap_per_source(
    items: Sequence[T],
    source: Callable[[T], str],
    group: Callable[[T], str],
    share: float = MAX_PAGE_SHARE,
    kind: Callable[[T], str] | None = None,
) -> tuple[list[T], int]:
    """Keep at most ``share`` of the result from any one source; (kept, dropped).

    The cap is the largest n with n <= share × (what is kept); when fewer sources exist than
    1 / share, every source may supply an equal part instead (a handful of notes files is not
    cut down to nothing). Within a source, items of the ``group`` (objective) with the fewest
    items overall go first, then the ``kind``s take turns (a page's "choose two" question is
    not crowded out by its single-answer ones, which come first), then the given order.
    """
    by_source: dict[str, list[T]] = {}
    for item in items:
        by_source.setdefault(source(item), []).append(item)
    if not by_source:
        return [], 0
    sizes = sorted((len(v) for v in by_source.values()), reverse=True)
    cap = _largest_cap(sizes, share)
    sizes_by_group = Counter(group(i) for i in items)
    kept_ids: set[int] = set()
    for members in by_source.values():
        turn: list[int] = []
        seen: Counter = Counter()
        for member in members:
            key = kind(member) if kind is not None else ""
            turn.append(seen[key])
            seen[key] += 1
        ranked = sorted(
            range(len(members)), key=lambda k: (sizes_by_group[group(members[k])], turn[k], k)
        )
        kept_ids.update(id(members[k]) for k in ranked[:cap])
    kept = [i for i in items if id(i) in kept_ids]
    return kept, len(items) - len(kept)


def _largest_cap(sizes: Sequence[int], share: float) -> int:
    """The largest per-source cap c with c <= share × sum(min(size, c)) (at least the even
    split over the sources)."""
    even = math.ceil(sum(sizes) / len(sizes)) if len(sizes) < 1 / share else 1
    best = max(1, min(even, sizes[0]))
    for cap in range(sizes[0], 0, -1):
        if cap <= share * sum(min(s, cap) for s in sizes):
            return max(cap, best)
    return best


__all__ = [
    "MAX_PAGE_SHARE",
    "REFERENCE_KINDS",
    "ExamVocabulary",
    "cap_per_source",
    "flat",
    "guide_sources",
    "identifier_shaped",
]
