"""A retrieved passage as a reader sees it: sentences and list items, each with its subject.

`split_passage` turns one hit's text into `Sentence`s in reading order. Structure decides the
subject a sentence is about: a heading, a lone link or bold label above bullets ("Amazon Polly"
then "- turns text into lifelike speech"), a "**Term**: definition" line, or a short list of
bare names under a label ("**Deploy & Manage**" then "Pipelines", "Neo"). Sentences that share a
subject in a row form one *item*: the part of a list chunk that is about one thing, which is
what coverage and sentence choice look at rather than the whole chunk.

Noise never becomes a sentence: navigation ("Topics" lists, lone links), cross-references
("For more information, see ..."), document-history rows, code blocks, images and fragments
cut off by a chunk boundary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from knowledge.text import (
    BULLET,
    SENTENCE_SPLIT,
    TABLE_RULE,
    clean_inline,
    content_terms,
    wordset,
)
from knowledge.types import Hit

MAX_SENTENCE_CHARS = 400
_PRONOUN_STARTS = wordset("it its this these that those they their them he she which who whose")
_GENERIC_PREFIXES = ("amazon ", "aws ")
_ADMONITIONS = wordset("note important tip warning caution example examples")
#: Labels whose bullets are navigation, not content.
_NAVIGATION = wordset("topics contents related next previous")
_VERB_STARTS = wordset(
    """is are was can provides provide supports support lets let allows allow enables enable turns
    turn converts convert uses use helps help offers offer creates create builds build detects
    detect extracts extract identifies identify automates automate makes make gives give runs run
    stores store returns return includes include requires require delivers deliver analyzes
    analyze translates translate transcribes transcribe generates generate trains train deploys
    deploy handles handle performs perform produces produce scales scale works work adds add
    finds find recognizes recognize processes process manages manage"""
)
# "**Term**: definition" or "- **T:** most basic" (the colon after or inside the bold).
_TERM_DEFINITION = re.compile(
    r"^\s*(?:[-*+•]\s+)?(?:\*\*|__)(?:([^*_:]{1,80}?):(?:\*\*|__)|([^*_]{1,80}?)(?:\*\*|__)"
    r"\s*[:\-–—])\s*(\S.*)$"
)
_HEADING_LINE = re.compile(r"^\s{0,3}#{1,6}\s+")
_BOLD_ONLY = re.compile(r"^\s*(\*\*|__)[^*_]{1,80}\1\s*:?\s*$")
_REFERENCE = re.compile(
    r"^(?:for (?:more |additional |further )?(?:information|details|an? (?:example|list|overview|"
    r"description|tutorial|walkthrough)|examples|instructions|a complete list|the full list)|"
    r"to learn (?:more|how)|see also|see |more information|refer to)",
    re.IGNORECASE,
)
_BOILERPLATE = re.compile(r"\btrademarks?\b|\bcopyright\b|\ball rights reserved\b", re.I)
_SEE_CLAUSE = re.compile(r",\s+see\s+\S", re.IGNORECASE)
_DATE = re.compile(
    r"\b(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2},? \d{4}|"
    r"\d{4}-\d{2}-\d{2})\b",
    re.IGNORECASE,
)
_HISTORY_TITLES = ("document history", "release notes", "history for")
_FENCE = re.compile(r"^\s*(```|~~~)")
_IMAGE = re.compile(r"^\s*!\[")
_LINK_LINE = re.compile(r"^\s*\[[^\]]+\]\([^)]*\)\s*:?\s*$")


@dataclass
class Sentence:
    """A sentence or list entry of a passage, as answers read it."""

    passage: int  # index into the hits
    position: int  # order within the passage
    text: str  # cleaned sentence
    subject: str  # what it is about: the term line or heading above it ("" if unknown)
    bullet: bool
    described: bool = False  # directly describes `subject` (a bullet under it, its definition)
    item: int = 0  # run of sentences sharing a subject within the passage
    lead_in: bool = False  # ends with ":" (introduces a list or code)
    caveat: bool = False  # under a Note / Important label
    score: float = 0.0
    guide: bool = False  # in a study-guide passage (``source_role: guide``); set when scored
    on_focus: bool = False  # names what the question asks about; set when scored

    @property
    def words(self) -> int:
        return len(self.text.split())

    @cached_property
    def terms(self) -> frozenset[str]:
        """Content terms (stems) of the sentence."""
        return frozenset(content_terms(self.text))

    @cached_property
    def subject_terms(self) -> frozenset[str]:
        """Content terms (stems) of its subject."""
        return frozenset(content_terms(self.subject))

    def display(self, follows_previous: bool = False) -> str:
        """The sentence as shown, its subject prefixed when the sentence does not name it.

        ``follows_previous``: the line shown just before is the sentence that precedes this one
        in the passage and it names the subject, so a leading "It ..." reads right unprefixed.
        """
        text = self.text
        if len(text) > MAX_SENTENCE_CHARS:
            text = text[:MAX_SENTENCE_CHARS].rsplit(" ", 1)[0] + " …"
        text = text.rstrip().rstrip(".;:,").rstrip()
        if follows_previous and not self.bullet:
            return text
        if needs_subject(text, self.subject, self.described):
            first, _, rest = text.partition(" ")
            word = first.lower().strip(",")
            if (word in _PRONOUN_STARTS or word in _VERB_STARTS) and not first.isupper():
                text = first.lower() + (" " + rest if rest else "")
            return f"{self.subject}: {text}"
        return text


def topic_of(hit: Hit) -> str:
    """The most specific heading of a hit (last title-path element), else its title."""
    parts = [p.strip() for p in (hit.title_path or "").split(">") if p.strip()]
    return clean_inline(parts[-1] if parts else hit.title)


def mentions(text: str, subject: str) -> bool:
    """Whether ``text`` already names ``subject`` (with or without an Amazon/AWS prefix)."""
    subj = subject.lower().strip()
    names = [subj] + [subj[len(p) :] for p in _GENERIC_PREFIXES if subj.startswith(p)]
    low = text.lower()
    return any(name and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", low) for name in names)


def needs_subject(text: str, subject: str, described: bool) -> bool:
    """A sentence keeps its subject: prefix the heading term to what does not name it.

    ``described``: the sentence directly describes the term above it (a bullet under a term
    line, a term's definition). Other sentences are prefixed when they start like a fragment:
    lower case, a pronoun or a verb.
    """
    if not subject or not text or mentions(text, subject):
        return False
    first = text.split(" ", 1)[0].lower().strip(",:;")
    return described or text[0].islower() or first in _PRONOUN_STARTS or first in _VERB_STARTS


def is_reference(sentence: str) -> bool:
    """A cross-reference or boilerplate rather than content: "For more information, see ...",
    "See X.", trademark and copyright notices."""
    return (
        bool(_REFERENCE.match(sentence))
        or bool(_SEE_CLAUSE.search(sentence))
        or bool(_BOILERPLATE.search(sentence))
    )


def is_history_page(hit: Hit) -> bool:
    """A document-history or release-notes page: dated change rows, never an answer."""
    heading = f"{hit.title} > {hit.title_path}".casefold()
    return any(marker in heading for marker in _HISTORY_TITLES)


class _Reader:
    """Walks a passage's lines once, keeping the current subject and list state."""

    def __init__(self, hit: Hit, passage: int) -> None:
        self.passage = passage
        self.base = topic_of(hit)
        self.subject = self.base
        self.described = False  # the lines below a term line describe it
        self.label = ""  # a bold label above bare names ("**Deploy & Manage**")
        self.names: list[str] = []  # bare names listed under the label
        self.listing = False  # the lines since the label are names and their bullets
        self.caveat = False
        self.navigation = False
        self.bullets = 0  # bullets since the last term line
        self.opens_term = False  # the paragraph starts right under a term line: it defines it
        self.item = 0
        self.units: list[Sentence] = []
        self.paragraph: list[str] = []

    # -- output ------------------------------------------------------------------------------
    def add(self, text: str, bullet: bool, described: bool | None = None) -> None:
        cleaned = clean_inline(text)
        described = self.described if described is None else described
        terms = len(content_terms(cleaned))
        short = len(cleaned) < 12 or terms < 2
        if (short and not (described and terms)) or is_reference(cleaned):
            return
        if self.units and self.units[-1].subject != self.subject:
            self.item += 1
        self.units.append(
            Sentence(
                self.passage,
                len(self.units),
                cleaned,
                self.subject,
                bullet,
                described,
                self.item,
                lead_in=cleaned.rstrip().endswith(":"),
                caveat=self.caveat,
            )
        )

    def flush(self, last: bool = False) -> None:
        text = " ".join(self.paragraph)
        self.paragraph.clear()
        sentences = [s for s in SENTENCE_SPLIT.split(text) if s.strip()]
        for n, sentence in enumerate(sentences):
            if n == 0 and sentence[:1].islower() and not self.units:
                continue  # the chunk starts mid-sentence (overlap with the previous chunk)
            if last and n == len(sentences) - 1 and not sentence.rstrip().endswith(_ENDS):
                continue  # cut off by the end of the chunk
            self.add(sentence, bullet=False, described=n == 0 and self.opens_term)
        self.opens_term = False

    def flush_names(self) -> None:
        """Bare names listed under a label become one entry: "Label: A, B, C"."""
        if self.names and self.label:
            subject, self.subject = self.subject, self.label
            self.add(", ".join(self.names), bullet=True, described=True)
            self.subject = subject
        self.names.clear()

    # -- line kinds --------------------------------------------------------------------------
    def heading(self, line: str) -> None:
        self.flush()
        self.flush_names()
        self.label, self.listing = "", False
        self.term(line)
        self.described = False  # a section title: its first paragraph need not define it

    def label_line(self, line: str) -> None:
        """A bold label alone on its line: the names or lines below it belong to it."""
        self.flush()
        self.flush_names()
        self.listing = False
        self.term(line)
        if not (self.caveat or self.navigation):
            self.label, self.listing = self.subject, True

    def name(self, line: str) -> None:
        """A bare name on its own line ("Amazon Kendra"): listed under a label, else a subject."""
        self.flush()
        term = clean_inline(line).rstrip(":").strip()
        if self.listing:
            self.names.append(term)
        self.subject, self.described = term or self.subject, False

    def term(self, line: str) -> None:
        self.flush()
        term = clean_inline(line).rstrip(":").strip()
        low = term.lower()
        self.caveat = low in _ADMONITIONS
        self.navigation = low in _NAVIGATION
        if self.caveat or self.navigation or not term:
            return
        if self.listing:
            self.names.append(term)
        self.subject, self.described, self.bullets = term, True, 0

    def definition(self, term: str, body: str) -> None:
        self.flush()
        self.subject, self.described, self.caveat = clean_inline(term).rstrip(":"), True, False
        for n, sentence in enumerate(s for s in SENTENCE_SPLIT.split(body) if s.strip()):
            self.add(sentence, bullet=True, described=n == 0)
        self.described = False

    def bullet(self, line: str) -> None:
        self.flush()
        if self.navigation or _LONE_LINK_BULLET.match(line):
            return
        self.bullets += 1
        self.add(line, bullet=True)

    def prose(self, line: str) -> None:
        if self.bullets or self.names:  # the term's bullets (or a list of names) ended
            self.subject, self.bullets = self.base, 0
        self.flush_names()
        self.listing = False
        if not self.paragraph:  # "AWS Auto Scaling" then "It monitors ...": it defines the term
            self.opens_term = self.described and self.subject != self.base
        self.described = False  # prose between a term line and any bullets below it
        self.caveat = False
        self.navigation = False
        self.paragraph.append(line)


_ENDS = (".", "!", "?", ":", ")", '"', "”")
_LONE_LINK_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+\[[^\]]+\]\([^)]*\)\s*$")


def _table_rows(lines: list[str]) -> set[int]:
    """Indexes of lines inside Markdown tables that are history rows (a date) or rules."""
    drop: set[int] = set()
    row: list[int] = []
    for i, raw in enumerate(lines):
        line = raw.strip()
        if line.startswith("|") or row:
            row.append(i)
            if line.endswith("|") and (len(row) > 1 or line.count("|") >= 2):
                text = " ".join(lines[j] for j in row)
                if _DATE.search(text) or TABLE_RULE.match(line):
                    drop.update(row)
                row = []
    return drop


def _next_text(lines: list[str], i: int) -> tuple[str, bool]:
    """The next non-blank line after line ``i`` and whether a blank line came first."""
    for j in range(i + 1, len(lines)):
        if lines[j].strip():
            return lines[j].strip(), j > i + 1
    return "", True


def _title_like(line: str) -> bool:
    """A line that names something rather than saying something: bold, a link, or short."""
    if _BOLD_ONLY.match(line) or _LINK_LINE.match(line):
        return True
    return (
        len(line) <= 80
        and len(line.split()) <= 8
        and "|" not in line
        and not line[:1].islower()
        and not line.rstrip().endswith((".", "!", "?", ",", ";", ":"))
    )


def _read_line(reader: _Reader, line: str, lines: list[str], i: int) -> None:
    """Route one non-blank line by what it is."""
    definition = _TERM_DEFINITION.match(line)
    if definition:
        reader.definition(definition.group(1) or definition.group(2), definition.group(3))
    elif _HEADING_LINE.match(line):
        reader.heading(line)
    elif BULLET.match(line):
        reader.bullet(line)
    elif _title_like(line):
        following, gap = _next_text(lines, i)
        if BULLET.match(following):
            reader.term(line)  # a term and the bullets that describe it
        elif _BOLD_ONLY.match(line):
            reader.label_line(line)  # a label over names or prose
        elif not gap and following[:1].isupper() and not _title_like(following):
            reader.term(line)  # "AWS Auto Scaling" then "It monitors your applications ..."
        else:
            reader.name(line)
    else:
        reader.prose(line)


def split_passage(hit: Hit, passage: int) -> list[Sentence]:
    """A passage as sentences and list entries, each with the subject it belongs to."""
    if is_history_page(hit):
        return []
    reader = _Reader(hit, passage)
    lines = hit.text.splitlines()
    history = _table_rows(lines)
    in_code = False
    for i, raw in enumerate(lines):
        if _FENCE.match(raw):
            in_code = not in_code
            reader.flush()
            continue
        line = raw.strip()
        if in_code or i in history or _IMAGE.match(line):
            continue
        if not line or TABLE_RULE.match(line):
            reader.flush()
            continue
        if line.startswith("|"):
            line = line.strip("|").strip().replace(" | ", "; ")
        _read_line(reader, line, lines, i)
    reader.flush(last=True)
    reader.flush_names()
    return reader.units
