"""What a "what is X?" question asks about, and the passages that are about X.

A learner asking "What does SageMaker Clarify do?" wants the passage that introduces Clarify,
not the fifth page that configures it; on a store of thousands of pages, the configuration pages
repeat "Clarify" more often than the introduction does. Two signs show a passage is about X:

* it **defines** X: a sentence whose subject is X followed by defining words ("Amazon SageMaker
  Clarify helps improve ...", "The Object2Vec algorithm is a general-purpose ...", "Feature Store
  is a centralized store ...");
* it is **titled** for X: its page or section heading names X and little else ("Object2Vec
  Algorithm", "Topic modeling"), the page's opening passage most of all.

Only the subject's key words must match: in "SageMaker Feature Store" on a store of SageMaker
pages, "feature" and "store" decide, "sagemaker" (on every page) only qualifies.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from knowledge.coverage import has_term, term_keys
from knowledge.text import BULLET, SENTENCE_SPLIT, clean_inline, wordset
from knowledge.types import Hit

#: A subject longer than this (in words) is a question, not a name.
MAX_SUBJECT_WORDS = 6
#: Subject words weighing less than this share of its rarest word only qualify it.
KEY_SHARE = 0.5
#: Words of a sentence's subject that may stand beside the asked subject's words ("The Amazon
#: SageMaker Object2Vec algorithm" still defines "Object2Vec").
MAX_EXTRA_WORDS = 3
#: A heading names the subject squarely from this share of its words on.
TITLED = 0.5
#: What opening the page titled for the subject adds: a page's introduction is its definition.
OPENING = 0.5
#: How much the share of the page title's words that name the subject weighs on its opening:
#: "What is Amazon Comprehend?" opens with 2.0, as much as a definition.
OPENING_WEIGHT = 1.5
#: A section titled for the subject counts this much of its share.
SECTION = 0.8

#: Words that make a sentence's subject a phrase about something else.
_LINKING = re.compile(r"\b(?:in|of|for|with|and|or|on|to|from|by|when|if|after|before)\b", re.I)
#: Words before a name that do not change what it names.
_VENDOR = frozenset({"amazon", "aws"})
_FILLER = _VENDOR | {"the", "a", "an"}
#: Common nouns that may follow a name and still name it ("the Object2Vec Algorithm").
_KINDS = wordset(
    "algorithm algorithms service feature features tool tools library framework container "
    "model models api sdk capability"
)
#: What follows "X is" in a definition: a kind of thing ("a fully managed service", "the ...",
#: "one of ...", "used / designed for ...").
_WHAT_IT_IS = re.compile(
    r"\s*(?:(?:commonly|typically|often|mainly|primarily|generally|mostly)\s+)?"
    r"(?:a|an|the|one\s+of|used|designed|ideal|intended|built|purpose-built|fully\s+managed"
    r"|managed|serverless|open[- ]source|part\s+of|available\s+as)\b",
    re.I,
)
_PARENTHESES = re.compile(r"\([^)]*\)")
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.I)
_ASKED = [
    re.compile(r"^\s*what\s+(?:does|do)\s+(?P<x>.+?)\s+do\b", re.I),
    # "What does SageMaker Data Capture record?": what X does, by its one verb
    re.compile(r"^\s*what\s+(?:does|do)\s+(?P<x>.+?)\s+[a-z]+\s*\?*\s*$", re.I),
    re.compile(r"^\s*how\s+(?:does|do)\s+(?P<x>.+?)\s+work\b", re.I),
    re.compile(
        r"^\s*what\s+(?:is|are)\s+(?P<x>.+?)\s+(?:used\s+for|for|good\s+for)\s*\??\s*$", re.I
    ),
    re.compile(r"^\s*(?:what(?:'s|\s+is|\s+are)|who\s+is)\s+(?P<x>.+?)\s*\??\s*$", re.I),
    re.compile(
        r"^\s*(?:explain|describe|define|tell\s+me\s+about)\s+(?P<x>.+?)\s*[?.!]*\s*$", re.I
    ),
]
#: "targeted sentiment in Amazon Comprehend": the subject, then where it lives.
_QUALIFIER = re.compile(r"\s+(?:in|on|within|inside|from)\s+(?=(?:amazon\s+|aws\s+)?[A-Z])")
#: Questions that ask about the exam, a comparison or a choice are not "what is X?".
_NOT_A_SUBJECT = re.compile(
    r"\b(?:difference|differences|between|versus|vs\.?|compare|better|best|which|should|"
    r"how many|how much|it|this|that|these|those|they|there|guide|guide's|i|we|you)\b",
    re.I,
)
#: The words that follow a thing's name when a sentence says what it is or does.
_VERBS = (
    r"(?:is|are|helps?|provides?|makes?|lets|enables?|allows?|gives?|offers?|generalizes|"
    r"automatically|automates|simplifies|detects|extracts|can\s+help)"
)
#: A defining sentence: a short subject, then defining words or a dash / colon.
_DEFINITION = re.compile(
    rf"^(?P<head>(?:[\w'().+/-]+\s+){{0,{MAX_SUBJECT_WORDS + MAX_EXTRA_WORDS - 1}}}?[\w'().+/-]+)"
    rf"(?P<verb>\s*[—–]\s*|:\s|\s+{_VERBS}\b)",
    re.I,
)


@dataclass(frozen=True)
class Subject:
    """What a question asks about: its words as written and its key terms (stems)."""

    text: str
    keys: frozenset[str]

    def named_by(self, words: set[str] | frozenset[str]) -> bool:
        """Whether a set of terms names the subject (holds every key term)."""
        return bool(self.keys) and all(has_term(k, set(words)) for k in self.keys)


def asked_subject(question: str) -> str:
    """The thing a definition question asks about ("" when it asks no such thing).

    "What does SageMaker Clarify do?" -> "SageMaker Clarify"; "What is targeted sentiment in
    Amazon Comprehend?" -> "targeted sentiment"; "How does topic modeling work?" -> "topic
    modeling". Questions that compare, choose or count ("which", "vs", "how many") have none.
    """
    text = " ".join(question.split())
    for pattern in _ASKED:
        found = pattern.match(text)
        if not found:
            continue
        subject = found.group("x").strip(" ?.,!\"'")
        subject = _QUALIFIER.split(subject, maxsplit=1)[0]
        subject = _ARTICLE.sub("", subject).strip()
        words = subject.split()
        if not words or len(words) > MAX_SUBJECT_WORDS or _NOT_A_SUBJECT.search(subject):
            return ""
        return subject
    return ""


def key_subject(subject: str, rarity: Callable[[str], float] | None = None) -> Subject | None:
    """The subject's key terms: vendor words never, words far commoner than its rarest one
    (``rarity``: a word's rarity in the store, e.g. its idf) only qualify it."""
    pairs = [
        (word, key)
        for word in re.findall(r"[\w'.-]+", subject)
        for key in term_keys(word)
        if key not in _VENDOR and word.lower() not in _VENDOR
    ]
    if not pairs:
        return None
    keys = list(dict.fromkeys(key for _, key in pairs))
    if rarity is not None:
        weights: dict[str, float] = {}
        for word, key in pairs:
            weights[key] = max(weights.get(key, 0.0), rarity(word.lower()))
        top = max(weights.values())
        if top > 0:
            keys = [k for k in keys if weights[k] >= KEY_SHARE * top]
    return Subject(subject, frozenset(keys))


def definition_strength(sentence: str, subject: Subject) -> float:
    """How squarely a sentence defines the subject: 1 for "X is a / the / used for ..." and a
    glossary entry ("X: ...", "X — ..."), 0.75 for "X provides / helps / lets ...", 0.5 for
    other "X is ..." ("is available in ..."), 0 when its own subject is not the subject's name
    (maybe with a vendor or family prefix before it and a common noun after it: "The Amazon
    SageMaker Object2Vec algorithm is ..."), but a longer name ("Ground Truth Plus is ...") or a
    phrase about something else ("Models and data in a multi-model endpoint are ...")."""
    found = _DEFINITION.match(sentence.strip())
    if not found:
        return 0.0
    head = _PARENTHESES.sub(" ", found.group("head"))  # "Amazon Augmented AI (Amazon A2I)"
    if _LINKING.search(head):
        return 0.0
    words = head.split()
    named = [
        i for i, w in enumerate(words) if any(has_term(k, set(term_keys(w))) for k in subject.keys)
    ]
    if not named or not subject.named_by({t for w in words for t in term_keys(w)}):
        return 0.0
    after = words[named[-1] + 1 :]
    if any(w.lower() not in _KINDS for w in after) or len(after) > 1:
        return 0.0  # "Ground Truth Plus", "the Debugger report", "Feature Store feature groups"
    extra = [w for i, w in enumerate(words) if i not in named and w.lower() not in _FILLER]
    if len(extra) > MAX_EXTRA_WORDS:
        return 0.0
    verb = found.group("verb").strip().lower()
    if verb in ("is", "are"):  # "is a ..." defines; "is available ..." only says something
        rest = sentence.strip()[found.end() :]
        return 1.0 if _WHAT_IT_IS.match(rest) else 0.5
    if verb in ("—", "–", ":"):  # a glossary entry: "**Asynchronous inference**: Queues ..."
        return 1.0
    return 0.75


@lru_cache(maxsize=8192)  # a page's title, read for each of its passages
def _title_terms(title: str) -> frozenset[str]:
    return frozenset(t for t in term_keys(title) if t not in _VENDOR)


def title_match(title: str, subject: Subject, also: str = "") -> float:
    """How squarely a heading names the subject: the share of its words that are the
    subject's (0 when it does not name it). "Object2Vec Algorithm" names "Object2Vec" at 0.5,
    "Tune an Object2Vec Model" at 0.33. ``also``: words that name the page without being
    its heading (its address: ".../comprehend/.../topic-modeling.html")."""
    terms = _title_terms(title)
    if not terms or not subject.named_by(terms | _title_terms(also)):
        return 0.0
    own = [t for t in terms if any(has_term(k, {t}) for k in subject.keys)]
    return len(own) / len(terms)


def _address_words(source: str) -> str:
    """The words of a web address's path ("comprehend latest dg topic modeling")."""
    path = re.sub(r"^[a-z]+://[^/]+", "", source).removesuffix(".html")
    return " ".join(re.split(r"[/_.-]+", path))


def _definition(text: str, subject: Subject) -> tuple[float, float]:
    """The strongest definition of the subject in a text (`definition_strength`), and how
    squarely its own label names the subject: a short label naming it above a list of bullets
    describing it is a definition under its own heading ("[**Neo**](url)" then "- enables ...",
    as the study guide writes its entries)."""
    lines = [line for line in text.splitlines() if line.strip()]
    best = 0.0
    for i, line in enumerate(lines):
        low = line.lower()
        if not all(key in low for key in subject.keys):
            continue  # a line that does not name the subject defines nothing of it
        plain = clean_inline(line)
        if not plain:
            continue
        label = len(plain.split()) <= MAX_SUBJECT_WORDS and not plain.endswith((".", "?", "!"))
        if label and not BULLET.match(line):
            below = lines[i + 1] if i + 1 < len(lines) else ""
            share = title_match(plain.rstrip(":"), subject)
            if BULLET.match(below) and share >= TITLED:
                return 1.0, share
            continue
        for sentence in SENTENCE_SPLIT.split(plain):
            best = max(best, definition_strength(sentence, subject))
            if best >= 1.0:
                return best, 0.0
    return best, 0.0


@lru_cache(maxsize=256)
def _definition_pattern(keys: frozenset[str]) -> re.Pattern[str]:
    """A quick test for a text that may define a subject: one of its key words soon followed
    by a defining verb, a dash or a colon, or ending a line above a bullet."""
    names = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))
    return re.compile(
        rf"(?:{names})\S*?(?:[^\S\n]+\S+){{0,3}}?(?:[^\S\n]+{_VERBS}\b|\s*[—–:])"
        rf"|(?:{names})[^\n]*\n\s*[-*+•]\s"
    )


def _may_define(text: str, subject: Subject) -> bool:
    return bool(_definition_pattern(subject.keys).search(text))


@dataclass(frozen=True)
class Titles:
    """How a passage's titles name the subject: what `about_score` adds for them, and how
    much a definition in it counts (its page or section is about the subject, or not)."""

    titled: float
    aboutness: float
    #: the share of its page's (on its opening passage) or its section's title words that
    #: name the subject: a passage with no definition must be titled at least half for it
    share: float = 0.0

    @property
    def most(self) -> float:
        """The highest `about_score` the passage can reach (a full-strength definition)."""
        return 2.0 * self.aboutness + self.titled


def titles(hit: Hit, subject: Subject) -> Titles | None:
    """The title part of `about_score`, read without the passage's sentences; None when the
    passage never names the subject."""
    written = f"{hit.title_path} {hit.source} {hit.text}".lower()
    if not all(key in written for key in subject.keys):
        return None
    path = [p.strip() for p in hit.title_path.split(">") if p.strip()]
    page = hit.title or (path[0] if path else "")
    section = path[-1] if len(path) > 1 else ""
    page_share = title_match(page, subject, _address_words(hit.source))
    opening = 0.0
    if page_share and hit.metadata.get("position", 1) == 0:
        opening = OPENING_WEIGHT * page_share + OPENING
    # a section of a page about something else ("Autopilot" in a Canvas page) counts half
    section_share = title_match(section, subject) * (1.0 if page_share else 0.5)
    titled = max(opening, SECTION * section_share)
    opened = page_share if opening else 0.0
    return Titles(titled, max(page_share, section_share, 0.5), max(opened, section_share))


def about_score(hit: Hit, subject: Subject, titled: Titles | None = None) -> float:
    """How much a passage is about the subject (0 when not at all).

    A definition counts 2 at full strength (`definition_strength`) on a page or section
    titled for the subject alone, less where the title names other things too, and half on a
    page about something else (a Comprehend sentence on an OpenSearch solution page); then how
    squarely its own section or its page is titled for it, the page's opening passage most (its
    address may name the product: "Topic modeling" in the Comprehend guide). ``titled``: the
    passage's `titles`, when already read.
    """
    parts = titled or titles(hit, subject)
    if parts is None:
        return 0.0
    strength, labelled = 0.0, 0.0
    if _may_define(hit.text.lower(), subject):
        strength, labelled = _definition(hit.text, subject)
    if not strength and parts.share < TITLED:
        return 0.0
    return 2.0 * strength * max(parts.aboutness, labelled) + parts.titled


__all__ = [
    "Subject",
    "Titles",
    "about_score",
    "asked_subject",
    "definition_strength",
    "key_subject",
    "title_match",
    "titles",
]
