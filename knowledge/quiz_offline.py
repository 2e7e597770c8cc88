"""Offline questions: built from the material's own structure, no model.

The material names things and says what they are. Three structures are read, chunk by chunk:

- ``**Term**: description.`` lines (the bundled notes) and ``+ **Term** – description`` bullets
  (the AWS developer guides; not the form fields nested in numbered how-to steps);
- a name line followed by ``- description`` bullets (the study guide, where
  ``[Amazon Polly](url)`` lines become plain ``Amazon Polly`` lines);
- table rows under a header whose second column is a Description (hyperparameters, metrics,
  status values); at most `MAX_TERMS_PER_TABLE` questions per table.

Each term belongs to a *group*: the heading (or term line) it is listed under, in one source.
A group heading that ends in a kind noun ("Streaming ingestion services", "Classification
metrics", "XGBoost Hyperparameters") says what its terms are; groups of a pooled kind (services,
algorithms, metrics, ...) in one collection (the notes, the guide, one AWS guide) lend each other
distractors. Page titles that name a SageMaker algorithm or feature add page entities. Sections of
how-to pages ("Step 2: Create a Labeling Job") are skipped: their lists are UI fields.

Four kinds of question (``generator="offline:<kind>"``):

- ``term``: "Which <kind> matches this description: “…”?" - the answer and three siblings;
  only the opening sentence (or first bullets) of a description is quoted: it defines the term;
- ``multi``: "Which TWO …" - two terms of one chunk by their descriptions, or "Which TWO of the
  following are <group heading>?" against members of other groups (services and algorithms);
- ``blank``: a defining sentence ("X is a …", "X helps you …") with the name blanked, when the
  rest of the sentence says something specific;
- ``title``: an AWS doc page's opening sentence with the page's subject blanked, the options
  other pages' subjects of the same kind from the same guide.

Every question cites the one chunk it is answerable from, and its correct options appear in that
chunk. Distractors are other entities of the same kind: never the same entity under another name
("KNN" / "k-NN"), nor, across groups, one whose name contains the other's ("Glue" / "Glue
crawler"), nor one whose description nearly repeats the answer's. No stem names its answer or
uses a word that only the answer's name has ("directly" for "Direct access", "95th" for "p95"):
such candidates are dropped, not patched.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from knowledge.question import (
    ChunkLike,
    GenerationStats,
    Question,
    appears_in,
    normalize_option,
    passage_of,
)
from knowledge.text import (
    SENTENCE_SPLIT,
    STOPWORDS,
    TABLE_RULE,
    clean_inline,
    content_terms,
    is_term_line,
    stem_word,
)

if TYPE_CHECKING:
    from knowledge.blueprint import Blueprint

KINDS = ("term", "multi", "blank", "title")
BLANK = "______"
MAX_QUOTE_CHARS = 260
MAX_EXPLANATION_CHARS = 420
MIN_DESCRIPTION_WORDS = 4
MAX_TERMS_PER_TABLE = 6  # term questions from one table (hyperparameters, metrics)
MIN_SPECIFIC_TERMS = 3  # uncommon words a defining sentence needs to single out its subject
MIN_FEATURE_MENTIONS = 5  # chunks that must name a page's feature for it to count as one
SIMILAR_DESCRIPTIONS = 0.6  # term Jaccard above which two descriptions may describe one thing

# Plural -> singular kind nouns a heading can end in ("Streaming ingestion services").
KIND_NOUNS = {
    "services": "service", "algorithms": "algorithm", "metrics": "metric",
    "hyperparameters": "hyperparameter", "parameters": "parameter", "techniques": "technique",
    "formats": "format", "classes": "class", "modes": "mode", "strategies": "strategy",
    "types": "type", "methods": "method", "features": "feature", "tools": "tool",
    "options": "option", "frameworks": "framework", "families": "family",
    "distributions": "distribution", "charts": "chart", "transforms": "transform",
    "transformations": "transformation", "encodings": "encoding", "libraries": "library",
    "statistics": "statistic", "measures": "measure", "approaches": "approach",
    "patterns": "pattern", "policies": "policy", "components": "component", "cells": "cell",
    "problems": "problem", "paradigms": "paradigm", "models": "model", "variables": "variable",
    "databases": "database", "warehouses": "warehouse", "tasks": "task", "settings": "setting",
    "functions": "function", "blocks": "block", "accelerators": "accelerator",
    "instances": "instance", "rules": "rule", "losses": "loss", "objectives": "objective",
}  # fmt: skip
_SINGULAR_NOUNS = set(KIND_NOUNS.values())
# Kinds whose groups may lend each other distractors within one collection.
POOLED_KINDS = {"service", "algorithm", "metric", "technique", "format", "distribution", "chart"}
# Kinds whose group headings sort their members into disjoint categories ("Streaming ingestion
# services" vs "Batch and bulk ingestion services"); metric lists overlap ("CloudWatch metrics"
# vs an algorithm's metrics, which CloudWatch also receives).
GROUP_KINDS = {"service", "algorithm"}
_PREPOSITIONS = {
    "for", "in", "of", "to", "with", "that", "on", "by", "from", "worth", "at", "between",
}  # fmt: skip
_GENERIC_TOKENS = {  # (stemmed) words of names that give nothing away
    "amazon", "aw", "aws", "sagemaker", "data", "model", "learn", "machin", "algorithm",
}  # fmt: skip
COMMON_SHARE = 0.08  # a word in more than this share of chunks is too common to be specific
_ADMONITIONS = {
    "note", "important", "tip", "warning", "caution", "example", "examples", "topics",
    "contents", "required", "optional", "prerequisites", "response", "request parameters",
    "permissions details", "xml", "json", "default",
}  # fmt: skip
_PROCEDURE_VERBS = {
    "step", "navigate", "view", "review", "configure", "import", "set", "create", "use", "using",
    "share", "execute", "run", "shut", "release", "apply", "give", "connect", "add", "edit",
    "delete", "update", "launch", "open", "choose", "select", "install", "enable", "disable",
    "deploy", "attach", "get", "start", "stop", "clean", "troubleshoot", "document", "join",
    "prepare", "define", "specify", "submit", "upload", "download", "access", "sign", "manage",
    "monitor", "track", "test", "invoke", "build", "train", "tune", "register", "schedule",
    "interpret", "evaluate", "compile", "detect", "explain", "analyze", "visualize", "load",
    "save", "export", "migrate", "customize", "bring",
}  # fmt: skip
_UI_STARTS = {"choose", "select", "click", "enter", "open", "navigate", "press", "type", "go"}
_DEFINING = (
    r"is|are|provides|helps|lets|enables|allows|automates|offers|delivers|reduces|"
    r"turns|converts|transcribes|translates|detects|extracts|identifies|trains|learns|"
    r"partitions|assigns|maps|scans|builds|creates|generates|monitors|manages|stores|orchestrates"
)
_BOLD_TERM = re.compile(
    r"^\s*(?:[-*+•]\s+)?\*\*(?P<term>[^*\n]{1,80}?)\s*(?P<colon>:)?\s*\*\*"
    r"\s*(?P<sep>:|–|—|-{1,2}(?=\s))?\s*(?P<desc>\S.*)$"
)
_TABLE_ROW = re.compile(r"^\s*\|(?P<cells>.*)$")
_BULLET_LINE = re.compile(r"^\s*(?:[-*+•▪◦])\s+")
_NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+")
_PAREN = re.compile(r"^(?P<main>.*?)\s*\((?P<inner>[^()]+)\)\s*$")
_CELL_NOISE = re.compile(
    r"^\s*(?:\*\*)?(?:required|optional|valid values|default value|range|type)\b", re.I
)


# --------------------------------------------------------------------------------------------
# What is read from the chunks
# --------------------------------------------------------------------------------------------


@dataclass
class _ChunkView:
    chunk: ChunkLike
    passage: str
    source: str
    title: str
    path: list[str]
    domain: int
    objective: str
    position: int

    @property
    def id(self) -> str:
        return self.chunk.id

    @property
    def family(self) -> str:
        """The collection a chunk belongs to: its source's folder (notes, one AWS guide)."""
        src = self.source.split("#", 1)[0]
        parent = str(PurePosixPath(src.replace("\\", "/")).parent)
        return parent


@dataclass
class Entity:
    """A named thing of some kind: a term with a description, or a page's subject."""

    name: str  # as the material writes it
    key: str  # canonical identity (see `_entity_keys`)
    keys: frozenset[str]
    tokens: frozenset[str]  # words of the normalised name
    noun: str | None  # singular kind noun ("service"), None when unknown
    label: str  # how a stem names the kind ("streaming ingestion service")
    group: str  # group id (source + heading)
    heading: str  # the heading or term line the group is listed under
    pool: str | None  # pool id for pooled kinds (kind + collection)
    objective: str
    headed: bool = False  # the kind comes from the group's heading (not guessed from the name)
    description: str = ""
    desc_terms: frozenset[str] = frozenset()


@dataclass
class Entry:
    """A term and its description inside one chunk."""

    entity: Entity
    description: str
    chunk: _ChunkView
    sentences: list[str] = field(default_factory=list)


def _view(chunk: ChunkLike, blueprint: Blueprint) -> _ChunkView | None:
    meta = chunk.metadata or {}
    try:
        domain = int(meta.get("domain") or 0)
    except (TypeError, ValueError):
        domain = 0
    objective = str(meta.get("objective") or "").split(" ", 1)[0]
    try:
        if blueprint.objective(objective).domain_id != domain:
            return None
    except KeyError:
        return None
    path = [p.strip() for p in str(meta.get("title_path") or "").split(" > ") if p.strip()]
    try:
        position = int(meta.get("position") or 0)
    except (TypeError, ValueError):
        position = 0
    return _ChunkView(
        chunk=chunk,
        passage=passage_of(chunk),
        source=str(meta.get("source") or ""),
        title=str(meta.get("title") or (path[0] if path else "")),
        path=path,
        domain=domain,
        objective=objective,
        position=position,
    )


# --------------------------------------------------------------------------------------------
# Names, kinds and labels
# --------------------------------------------------------------------------------------------


def _entity_keys(name: str) -> frozenset[str]:
    """Identity keys of a name: with and without its parenthesis, vendor prefix and spacing.

    "Random Cut Forest (RCF)" -> {"randomcutforestrcf", "randomcutforest", "rcf"}; "KNN" and
    "k-NN" share "knn". Two names with a common key are the same entity.
    """
    forms = [name]
    match = _PAREN.match(name)
    if match:
        forms += [match.group("main"), match.group("inner")]
    return frozenset(k for k in (normalize_option(f).replace(" ", "") for f in forms) if k)


def _name_tokens(name: str) -> frozenset[str]:
    return frozenset(normalize_option(name).split())


def _related(a: Entity, b: Entity) -> bool:
    """Same entity, or (across groups) one name inside the other ("Glue" / "Glue crawler").

    Two names listed side by side in one group ("S3 Standard", "S3 Standard-Infrequent
    Access") are distinct alternatives by the material's own account.
    """
    if a.keys & b.keys:
        return True
    if a.group == b.group:
        return False
    ta, tb = a.tokens - {"amazon", "aws"}, b.tokens - {"amazon", "aws"}
    return bool(ta and tb) and (ta <= tb or tb <= ta)


def _kind_of(heading: str) -> tuple[str | None, str]:
    """(singular kind noun, stem label) from a heading; (None, "") when it names no kind.

    "Storage services for training data" -> ("service", "storage service");
    "XGBoost Hyperparameters" -> ("hyperparameter", "XGBoost hyperparameter");
    "Metrics computed by the linear learner" -> ("metric", "metric").
    """
    words = clean_inline(heading).replace(":", " ").split()
    prefix: list[str] = []
    for word in words:
        if word.lower() in _PREPOSITIONS:
            break
        prefix.append(word)
    while len(prefix) > 1 and re.fullmatch(r"[a-z]+(?:ed|ing)", prefix[-1]):
        prefix.pop()  # "Metrics computed (by ...)"
    if not prefix or any(w.lower() in {"a", "an", "the"} for w in prefix):
        return None, ""
    if prefix[0].lower() in _PROCEDURE_VERBS:
        return None, ""
    low = prefix[-1].lower().strip(",")
    noun = KIND_NOUNS.get(low) or (low if low in _SINGULAR_NOUNS else None)
    if noun is None:
        return None, ""
    words_only = [w for w in prefix if any(c.isalnum() for c in w)]
    title_case = len(words_only) > 1 and all(w[:1].isupper() for w in words_only)
    modifiers = [w if title_case else _lower_word(w) for w in prefix[:-1]]
    if modifiers and modifiers[-1] == "and" and len(modifiers) >= 2:
        other = KIND_NOUNS.get(modifiers[-2].lower())
        if other:  # "Databases and warehouses" -> "database or warehouse"
            modifiers = [*modifiers[:-2], other, "or"]
    if len(modifiers) > 4:
        modifiers = []
    return noun, " ".join([*modifiers, noun])


def _procedural(heading: str) -> bool:
    """A heading of a how-to (a UI walk-through): its lists are form fields, not concepts."""
    words = clean_inline(heading).split()
    return bool(words) and (
        words[0].lower().rstrip(":") in _PROCEDURE_VERBS or heading.lower().startswith("step ")
    )


def _lower_word(word: str) -> str:
    """Lower-case a heading word unless it is an acronym or a product-style name."""
    rest = word[1:]
    if any(c.isupper() for c in rest) or any(c.isdigit() for c in word):
        return word
    return word.lower()


def _plural(label: str) -> str:
    if " of “" in label:  # "parameter of “Confusion”" -> "parameters of “Confusion”"
        noun, _, rest = label.partition(" of “")
        return f"{_plural(noun)} of “{rest}"
    head, _, last = label.rpartition(" ")
    if last.endswith(("s", "x", "ch", "sh")):
        plural = last + "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        plural = last[:-1] + "ies"
    else:
        plural = last + "s"
    return f"{head} {plural}" if head else plural


def _stem_label(entity: Entity, pooled: bool) -> str:
    """How a stem names the answer's kind: the group's label, or the bare kind when the
    distractors come from other groups too."""
    if pooled and _shape(entity.name) == "sagemaker":
        return "SageMaker feature"
    if pooled and _is_service(entity.name):
        return "AWS service"
    if pooled:
        return entity.noun or entity.label
    if entity.label == "service" and _is_service(entity.name):
        return "AWS service"
    return entity.label


def _shape(name: str) -> str:
    """What kind of name: a SageMaker feature, another AWS service, or anything else."""
    if re.match(r"^(?:Amazon\s+)?SageMaker\b", name):
        return "sagemaker"
    return "aws" if _is_service(name) else "other"


def _is_service(name: str) -> bool:
    return bool(re.match(r"^(?:Amazon|AWS|SageMaker)\s+[A-Z0-9]", name))


def _good_term(term: str) -> bool:
    words = term.split()
    return (
        0 < len(words) <= 7
        and len(term) <= 60
        and any(c.isalpha() for c in term)
        and term.lower().rstrip(":") not in _ADMONITIONS
        and not term.lower().startswith(("to ", "for ", "if ", "when ", "step ", "example"))
        and not term.endswith((".", "?", "!", ",", ":"))
        and "," not in term
    )


def _good_description(text: str) -> bool:
    words = text.split()
    return (
        len(words) >= MIN_DESCRIPTION_WORDS
        and words[0].lower().strip(",:") not in _UI_STARTS
        and sum(1 for w in words if any(c.isalpha() for c in w)) >= 0.6 * len(words)
    )


# --------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------


@dataclass
class _Raw:
    term: str
    description: str
    heading: str  # group heading (section heading or term line)
    group: str
    parts: list[str] = field(default_factory=list)  # the bullets, for a term line + bullets
    noun_hint: str | None = None  # a table's first-column kind ("parameter"), if any


def _raw_entries(view: _ChunkView, tables: dict[str, tuple[str, str | None]]) -> list[_Raw]:
    """The term/description structures of one chunk."""
    section = view.path[-1] if view.path else view.title
    base_group = f"{view.source}\x00{' > '.join(view.path)}"
    raw_lines = view.chunk.text.splitlines()
    lines = [line.strip() for line in raw_lines]
    out: list[_Raw] = []
    term_line: str | None = None  # a term line whose bullets are bold terms ("Instance types:")
    in_steps = False  # inside a numbered procedure: its nested bullets are form fields
    i = 0
    while i < len(lines):
        line = lines[i]
        indented = raw_lines[i][:1] in (" ", "\t")
        if _NUMBERED.match(line):
            in_steps = True
        elif line and not indented and not _NUMBERED.match(line):
            in_steps = False
        if not _BULLET_LINE.match(line):
            term_line = None
        bold = _BOLD_TERM.match(line)
        if bold and (bold.group("colon") or bold.group("sep")) and "|" not in line:
            term = clean_inline(bold.group("term")).rstrip(":").strip()
            desc = clean_inline(_cut_noise(bold.group("desc")))
            heading, group = section, base_group
            if term_line and _BULLET_LINE.match(line):
                heading, group = term_line, f"{base_group}\x00{term_line}"
            if (
                _good_term(term)
                and len(term) >= 2
                and _good_description(desc)
                and not (in_steps and indented)
            ):
                out.append(_Raw(term, desc, heading, group))
            i += 1
            continue
        if _TABLE_ROW.match(line) and not TABLE_RULE.match(line):
            i = _table_entry(lines, i, tables.get(base_group), base_group, out)
            continue
        if line and not _BULLET_LINE.match(line) and not _NUMBERED.match(line):
            j = i + 1
            if j < len(lines) and not lines[j]:
                j += 1  # "[Amazon Lex](url)", a blank line, then its bullets
            if j < len(lines) and _BULLET_LINE.match(lines[j]) and is_term_line(line, lines[j]):
                candidate = clean_inline(line).rstrip(":").strip()
                if _good_term(candidate) and not line.startswith("#"):
                    bullets = []
                    while j < len(lines) and _BULLET_LINE.match(lines[j]):
                        bullets.append(lines[j])
                        j += 1
                    if any(_BOLD_TERM.match(b) for b in bullets):
                        term_line = candidate  # the bullets are terms of their own
                        i += 1
                        continue
                    texts = [t for t in (clean_inline(b).rstrip(".") for b in bullets) if t]
                    desc = " ".join(t[0].upper() + t[1:] + "." for t in texts)
                    if _good_description(desc) and _name_like(candidate):
                        out.append(_Raw(candidate, desc, section, base_group, parts=texts))
                    i = j
                    continue
        i += 1
    return out


def _poolable(term: str) -> bool:
    """A name that can stand among other groups' names: "F1 score", "XGBoost", not an
    enum value ("regular") or a phrase ("Debugging output tensors")."""
    words = term.split()
    if len(words) > 4 or not any(c.isupper() or c.isdigit() for c in term):
        return False
    return len(words) < 3 or any(c.isupper() for w in words[1:] for c in w)


def _name_like(term: str) -> bool:
    """A name ("Amazon Polly", "CI/CD", "XGBoost"), not a phrase ("Everything is code")."""
    words = term.split()
    return len(term) >= 2 and all(
        w[:1].isupper() or w[:1].isdigit() or w in {"for", "and", "of", "on", "-", "&"}
        for w in words
    )


_NOISE_INLINE = re.compile(
    r"\s*(?:\*\*(?:Optional|Required)\*\*|(?<![\w`])(?:Valid values|Default values?|Units)\s*:"
    r"|\s\|\s).*$",
    re.DOTALL,
)


def _cut_noise(text: str) -> str:
    """A table cell's or a bullet's text without the trailing "Optional Valid values: …"."""
    return _NOISE_INLINE.sub("", text).strip()


def _table_entry(
    lines: list[str],
    i: int,
    table: tuple[str, str | None] | None,
    base_group: str,
    out: list[_Raw],
) -> int:
    """Read the table row starting at line ``i`` (its cell may run over several lines)."""
    j = i + 1
    if not lines[i].rstrip().endswith("|") or lines[i].count("|") < 3:
        while j < len(lines) and not _TABLE_ROW.match(lines[j]):
            if lines[j].startswith("```"):
                break
            j += 1
            if lines[j - 1].endswith("|"):  # the row's closing cell
                break
    if table is None or _is_header_row(lines, i):
        return j
    heading, noun = table
    cells = [c.strip() for c in lines[i].strip("|").split("|")]
    term = clean_inline(cells[0]).strip("`").strip()
    parts = [cells[1] if len(cells) > 1 else "", *lines[i + 1 : j]]
    kept = []
    for part in parts:
        text = clean_inline(_cut_noise(part.rstrip("|").strip()))
        if text and not _CELL_NOISE.match(text) and "|" not in text:
            kept.append(text if text.endswith((".", "!", "?")) else text + ".")
    desc = " ".join(kept)
    if _good_term(term) and not term[0].isdigit() and _good_description(desc):
        out.append(_Raw(term, desc, heading, base_group + "\x00table", noun_hint=noun))
    return j


def _is_header_row(lines: list[str], i: int) -> bool:
    return i + 1 < len(lines) and bool(TABLE_RULE.match(lines[i + 1].strip()))


def _table_headers(views: Iterable[_ChunkView]) -> dict[str, tuple[str, str | None]]:
    """Section -> (heading, kind noun of the first column) for sections with a term table.

    A table counts when its header row has a Description/Definition column second. The kind
    comes from the heading ("XGBoost Hyperparameters"), else from the first column's header
    ("| Parameter Name |" -> "parameter").
    """
    tables: dict[str, tuple[str, str | None]] = {}
    for view in views:
        lines = view.chunk.text.splitlines()
        for i, raw in enumerate(lines):
            line = raw.strip()
            if not (_TABLE_ROW.match(line) and _is_header_row(lines, i)):
                continue
            cells = [clean_inline(c).lower() for c in line.strip("|").split("|")]
            if len(cells) >= 2 and re.search(r"descri|definition|meaning|purpose", cells[1]):
                group = f"{view.source}\x00{' > '.join(view.path)}"
                section = view.path[-1] if view.path else view.title
                first = cells[0].replace("name", "").strip()
                noun = _kind_of(first + "s")[0] if first else None
                tables.setdefault(group, (section, noun))
    return tables


_WORDS = re.compile(r"[a-z0-9]+")
_stem_cached = lru_cache(maxsize=200_000)(stem_word)


def _term_set(text: str) -> set[str]:
    """`knowledge.text.content_terms` as a set, with the stemming cached (for whole corpora)."""
    stems = {_stem_cached(w) for w in _WORDS.findall(text.lower()) if len(w) > 1}
    return {s for s in stems if s not in STOPWORDS}


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_SPLIT.split(text) if s.strip()]


class _Corpus:
    """Everything read from the chunks: entries, entities, groups and pools."""

    def __init__(self, views: list[_ChunkView]) -> None:
        self.views = views
        self.entries: list[Entry] = []
        self.groups: dict[str, list[Entity]] = {}
        self.pools: dict[str, list[Entity]] = {}
        self.page_entities: dict[str, list[Entity]] = {}  # pool id -> title entities
        self.page_of: dict[str, Entity] = {}  # source -> its title entity
        self.by_key: dict[str, Entity] = {}
        headers = _table_headers(views)
        for view in views:
            for raw in _raw_entries(view, headers):
                self._add(view, raw)
        for view in views:
            self._add_page(view)
        self._keep_known_features()
        # Names a defining sentence may be about: services, SageMaker features and algorithms,
        # and capitalised members of kinds that pool (not table rows such as "labels").
        self.blankable: dict[str, Entity] = {}
        for entity in self.by_key.values():
            if entity.name[:1].isupper() and (
                _shape(entity.name) != "other"
                or entity.group.startswith("page:")
                or (entity.headed and entity.noun in POOLED_KINDS)
            ):
                for key in entity.keys:
                    self.blankable.setdefault(key, entity)

    def _add(self, view: _ChunkView, raw: _Raw) -> None:
        if _procedural(raw.heading) or _procedural(view.title):
            return
        noun, label = _kind_of(raw.heading)
        if noun is None and raw.noun_hint:  # "| Parameter Name |" under "LoadBalancing"
            noun, label = raw.noun_hint, f"{raw.noun_hint} of “{raw.heading}”"
        headed = noun is not None
        if noun is None and _is_service(raw.term):
            noun, label = "service", "AWS service"
        if noun == "service" and not _is_service(raw.term) and label == "service":
            label = "service"
        if _is_service(raw.term):
            pool: str | None = f"service\x00{view.family}"
        elif noun in POOLED_KINDS and _poolable(raw.term):
            pool = f"{noun}\x00{view.family}"
        else:
            pool = None
        members = self.groups.setdefault(raw.group, [])
        entity = Entity(
            name=raw.term,
            key=min(_entity_keys(raw.term)),
            keys=_entity_keys(raw.term),
            tokens=_name_tokens(raw.term),
            noun=noun,
            label=label,
            group=raw.group,
            heading=raw.heading,
            pool=pool,
            objective=view.objective,
            description=raw.description,
            desc_terms=frozenset(content_terms(raw.description)),
            headed=headed,
        )
        existing = next((m for m in members if m.keys & entity.keys), None)
        if existing is None:
            members.append(entity)
            if pool:
                self.pools.setdefault(pool, []).append(entity)
            for key in entity.keys:
                self.by_key.setdefault(key, entity)
        else:
            entity = existing
        # The opening sentence (or the first two bullets) defines the term; later ones add
        # details that may fit its siblings too ("Ignored for other optimizers.").
        if raw.parts:
            sentences = raw.parts[:2]
            if len(raw.parts) > 1 and len(raw.parts[0].split()) < 8:
                sentences = [f"{raw.parts[0]}; {raw.parts[1]}", *sentences]
        else:
            sentences = [s for s in _sentences(raw.description) if not _CELL_NOISE.match(s)][:1]
        self.entries.append(Entry(entity, raw.description, view, sentences))

    def _add_page(self, view: _ChunkView) -> None:
        if view.source in self.page_of or not view.path:
            return
        name, noun, label = _title_entity(view.title)
        if not name:
            return
        pool = f"page:{noun}\x00{view.family}"
        entity = Entity(
            name=name,
            key=min(_entity_keys(name)),
            keys=_entity_keys(name),
            tokens=_name_tokens(name),
            noun=noun,
            label=label,
            group=f"page:{view.source}",
            heading=view.title,
            pool=pool,
            objective=view.objective,
        )
        members = self.page_entities.setdefault(pool, [])
        if not any(m.keys & entity.keys for m in members):
            members.append(entity)
        self.page_of[view.source] = entity
        for key in entity.keys:
            self.by_key.setdefault(key, entity)

    def _keep_known_features(self) -> None:
        """Drop page "features" the material hardly mentions ("SageMaker Studio Tour")."""
        texts = [v.chunk.text for v in self.views]
        for pool, members in self.page_entities.items():
            if not pool.startswith("page:feature"):
                continue
            kept = []
            for entity in members:
                pattern = _mention_pattern(entity, case=True)
                core = _VENDOR.sub("", entity.name) or entity.name
                mentions = sum(1 for t in texts if core in t and pattern.search(t))
                if mentions >= MIN_FEATURE_MENTIONS:
                    kept.append(entity)
            dropped = {id(e) for e in members} - {id(e) for e in kept}
            members[:] = kept
            for source, entity in list(self.page_of.items()):
                if id(entity) in dropped:
                    del self.page_of[source]
            for key, entity in list(self.by_key.items()):
                if id(entity) in dropped:
                    del self.by_key[key]


_TITLE_VERBS = {
    "choose", "use", "using", "how", "create", "tune", "sell", "buy", "develop", "find",
    "common", "logs", "instance", "training", "built-in", "run", "get", "deploy", "custom",
    "an", "the", "a", "unsupervised", "supported",
}  # fmt: skip
_NOT_FEATURES = {
    "api", "console", "sdk", "pricing", "faq", "guide", "reference", "notes", "overview",
    "quotas", "examples", "samples", "tutorial", "tutorials", "permissions", "troubleshooting",
    "roles", "jobs", "workflows", "images", "domain", "domains", "tour", "exceptions",
    "integration", "controller", "environments", "elements", "account", "prerequisites",
}  # fmt: skip
_ALGORITHM_TITLE = re.compile(
    r"^(?:Amazon SageMaker |SageMaker )?(?P<name>[A-Z0-9][\w\-]*(?:[ \-][\w\-]+|\s\([^)]+\))*?)"
    r"\s+(?:Forecasting\s+)?Algorithm$",
    re.IGNORECASE,
)
_FEATURE_TITLE = re.compile(
    r"^(?:What Is |Use |Using |Overview of |Get Started with |Getting Started with )?"
    r"(?P<name>(?:Amazon )?SageMaker(?: [A-Z][\w\-]*){1,4})\??$"
)


def _title_entity(title: str) -> tuple[str, str, str]:
    """(name, kind noun, label) of the subject a page title names, or ("", "", "")."""
    title = " ".join(clean_inline(title).split())
    match = _ALGORITHM_TITLE.match(title)
    if match:
        name = match.group("name").strip()
        if name.split()[0].lower() not in _TITLE_VERBS and len(name.split()) <= 5:
            return name, "algorithm", "SageMaker built-in algorithm"
    match = _FEATURE_TITLE.match(title)
    if match:
        name = match.group("name")
        last = name.split()[-1].lower()
        if last not in KIND_NOUNS and last not in _NOT_FEATURES:
            return name, "feature", "SageMaker feature"
    return "", "", ""


# --------------------------------------------------------------------------------------------
# Stems, leaks and distractors
# --------------------------------------------------------------------------------------------


_VENDOR = re.compile(r"^(?:(?:Amazon|AWS|SageMaker)\s+)+")


def _mention_pattern(entity: Entity, case: bool = False) -> re.Pattern[str]:
    return _mention_regex(entity.name, case)


@lru_cache(maxsize=20_000)
def _mention_regex(name: str, case: bool) -> re.Pattern[str]:
    """Where a text names the entity: any of its forms, with or without "Amazon SageMaker".

    ``case``: match the letter case too (for finding the entity's name in prose, where
    "Image" is not "image"); a name continued by another capitalised word ("Studio" in
    "Studio Lab") does not count then.
    """
    forms = {name}
    match = _PAREN.match(name)
    if match:
        forms |= {match.group("main"), match.group("inner")}
    cores = {_VENDOR.sub("", f) or f for f in forms}
    alternatives = sorted(
        (re.sub(r"(?:\\[ _\-]|[_ ])+", r"[\\s_\\-]+", re.escape(f)) for f in cores if len(f) >= 2),
        key=len,
        reverse=True,
    )
    vendor = r"(?:(?:(?:Amazon|AWS)\s+)?(?:SageMaker\s+)?)"
    tail = r"(?![\w-])" + (r"(?!\s+[A-Z][a-z])" if case else "")
    return re.compile(
        rf"(?<![\w-]){vendor}(?:{'|'.join(alternatives)}){tail}", 0 if case else re.IGNORECASE
    )


def _restyle(name: str, like: str) -> str:
    """Write a SageMaker feature's name the way the answer is written ("Amazon SageMaker X" or
    "SageMaker X"), so no option stands out by its prefix."""
    if not re.match(r"^(?:Amazon\s+)?SageMaker\s+", name):
        return name
    core = _VENDOR.sub("", name)
    if like.startswith("Amazon SageMaker "):
        return f"Amazon SageMaker {core}"
    if like.startswith("SageMaker "):
        return f"SageMaker {core}"
    return name


def _name_words(name: str) -> list[str]:
    """Lower-case words of a name, camelCase and snake_case split ("ModelLoadingWaitTime")."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return re.findall(r"[a-z0-9]+", spaced.lower())


def _tokens(text: str) -> set[str]:
    """Words of a stem as `_leaks` compares them: lower case, digit runs on their own ("95" of
    "95th"); two-letter words only when they hold a digit or are an acronym ("L2", "AI")."""
    out = set(re.findall(r"\d+", text))
    for raw in re.findall(r"[A-Za-z0-9]+", text):
        word = raw.lower()
        if len(word) >= 3 or (len(word) == 2 and (raw.isupper() or any(c.isdigit() for c in raw))):
            out.add(word)
    return out


def _alike(a: str, b: str) -> bool:
    """Two words that read as one: equal, a plural ("bins", "bin"), the same stem ("resizing",
    "resize"), the same first six letters ("directly", "direct"), or one a prefix of the other
    ("characters", "char"; "skipping", "skip")."""
    if a == b or a in (b + "s", b + "es") or b in (a + "s", a + "es"):
        return True
    if len(a) < 4 or len(b) < 4:
        return False
    if _stem_cached(a) == _stem_cached(b):
        return True
    return a[:6] == b[:6] or a.startswith(b) or b.startswith(a)


def _gives_away(token: str, word: str) -> bool:
    """A stem token that gives away a name word: alike, a long token inside a compound name
    word ("features" in "nfeatures"), or its digits ("95" in "p95")."""
    if _alike(token, word):
        return True
    if len(token) >= 4 and (token in word or _stem_cached(token) in word):
        return True  # "features" in "nfeatures", "re-initialized" in "reinitialize_top_layer"
    if len(word) == 3 and len(token) >= 5 and token.startswith(word):
        return True  # "min" of "minimum", "max" of "maximum"
    return token.isdigit() and token in word


def _leaks(stem: str, answers: Sequence[Entity], others: Sequence[Entity]) -> bool:
    """The stem gives the answer away: it names it, or uses a word of its name that no other
    option's name shares ("Which k-NN hyperparameter is the type of index?" -> index_type)."""
    tokens = _tokens(stem) - STOPWORDS
    other_words = {w for o in others for w in _name_words(o.name)}
    for entity in answers:
        if _mention_pattern(entity).search(stem):
            return True
        for word in _name_words(entity.name):
            # two-letter words count too: the stem keeps only acronyms ("IO") and "L2"-likes
            if len(word) < 2 or word in STOPWORDS:
                continue
            if _stem_cached(word) in _GENERIC_TOKENS:
                continue
            if any(_alike(word, o) for o in other_words):
                continue  # another option shares the word: it singles nothing out
            if any(_gives_away(t, word) for t in tokens):
                return True
    return False


def _names_in(text: str, entities: Iterable[Entity]) -> bool:
    return any(_mention_pattern(e).search(text) for e in entities)


def _quote(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    text = " ".join(text.split()).strip()
    text = text[:1].upper() + text[1:]
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"
    return text


def _explain(entity: Entity, description: str) -> str:
    return _quote(f"{entity.name}: {description}", MAX_EXPLANATION_CHARS)


def _compatible(candidate: Entity, answers: Sequence[Entity], stem: str) -> bool:
    for answer in answers:
        if _related(candidate, answer):
            return False
        if candidate.desc_terms and answer.desc_terms:
            union = candidate.desc_terms | answer.desc_terms
            if len(candidate.desc_terms & answer.desc_terms) / len(union) >= SIMILAR_DESCRIPTIONS:
                return False
    return not _mention_pattern(candidate).search(stem)


def _pick(
    candidates: Sequence[Entity],
    n: int,
    answers: Sequence[Entity],
    stem: str,
    rng: random.Random,
    chosen: list[Entity],
    prefer_objective: str | None = None,
    tries: int = 60,
) -> None:
    """Add up to ``n`` distractors from ``candidates`` to ``chosen`` (rng order, filtered)."""
    if not candidates:
        return
    order = list(range(len(candidates)))
    if len(order) > tries:
        order = rng.sample(order, tries)
    else:
        rng.shuffle(order)
    shape = _shape(answers[0].name)
    order.sort(
        key=lambda i: (
            _shape(candidates[i].name) != shape,
            prefer_objective is not None and candidates[i].objective != prefer_objective,
        )
    )
    need = len(chosen) + n
    for i in order:
        if len(chosen) >= need:
            return
        cand = candidates[i]
        if not _compatible(cand, answers, stem) or any(_related(cand, c) for c in chosen):
            continue
        chosen.append(cand)


class _Builder:
    def __init__(self, corpus: _Corpus, rng: random.Random, stats: GenerationStats | None):
        self.corpus = corpus
        self.rng = rng
        self.stats = stats
        self.used_sentences: set[tuple[str, str]] = set()
        df: dict[str, int] = {}
        for view in corpus.views:
            for term in _term_set(view.chunk.text):
                df[term] = df.get(term, 0) + 1
        floor = max(5, COMMON_SHARE * len(corpus.views))
        self.common = frozenset(t for t, n in df.items() if n > floor)

    def distinctive(self, text: str) -> bool:
        """Whether a sentence says enough that is specific (not "a feature to train models")."""
        specific = {
            t for t in content_terms(text) if t not in self.common and t not in _GENERIC_TOKENS
        }
        return len(specific) >= MIN_SPECIFIC_TERMS

    def leaks(self, stem: str, answers: Sequence[Entity], others: Sequence[Entity]) -> bool:
        return _leaks(stem, answers, others)

    def skip(self, reason: str) -> None:
        if self.stats is not None:
            self.stats.reject(f"offline_{reason}")

    # -- helpers ------------------------------------------------------------------------------
    def distractors(
        self, answers: Sequence[Entity], n: int, stem: str, objective: str
    ) -> tuple[list[Entity], bool]:
        """``n`` distractors: siblings first, then the answer's pool; (list, pooled?)."""
        first = answers[0]
        chosen: list[Entity] = []
        siblings = self.corpus.groups.get(first.group) or self.corpus.page_entities.get(
            first.group, []
        )
        _pick(siblings, n, answers, stem, self.rng, chosen)
        pooled = False
        if len(chosen) < n and first.pool:
            pool = self.corpus.pools.get(first.pool) or self.corpus.page_entities.get(
                first.pool, []
            )
            before = len(chosen)
            _pick(pool, n - len(chosen), answers, stem, self.rng, chosen, objective)
            pooled = len(chosen) > before
        return chosen, pooled

    def question(
        self,
        view: _ChunkView,
        stem: str,
        answers: Sequence[Entity],
        distractors: Sequence[Entity],
        explanation: str,
        kind: str,
        answer_names: Sequence[str] | None = None,
    ) -> Question | None:
        names = list(answer_names or [a.name for a in answers])
        options = names + [_restyle(d.name, names[0]) for d in distractors]
        if any(appears_in(n, stem) for n in names) or self.leaks(stem, answers, distractors):
            self.skip("leak")
            return None
        order = list(range(len(options)))
        self.rng.shuffle(order)
        shuffled = [options[i] for i in order]
        correct = sorted(order.index(i) for i in range(len(answers)))
        multi = len(answers) > 1
        return Question(
            stem=stem,
            options=shuffled,
            correct=correct,
            explanation=explanation,
            chunk_ids=[view.id],
            source=view.source,
            title=view.title,
            domain=view.domain,
            objective=view.objective,
            format="multi" if multi else "single",
            choose=len(answers),
            generator=f"offline:{kind}",
            passage=view.passage,
        )

    def descriptions(self, entry: Entry, others: Sequence[Entity] = ()) -> list[str]:
        """Quotable sentences of the entry's description that do not name the answer.

        Only the opening sentences (or bullets) count: they define the term, later ones add
        details that may fit its siblings too ("Data is encrypted to be private and secure").
        """
        out = []
        for sentence in dict.fromkeys(entry.sentences):
            if len(sentence.split()) < MIN_DESCRIPTION_WORDS:
                continue
            if _names_in(sentence, [entry.entity, *others]):
                continue
            out.append(_quote(sentence))
        return out

    # -- (a) term + description ---------------------------------------------------------------
    def term(self, entry: Entry) -> Question | None:
        entity = entry.entity
        reason = "leak"
        for quote in self.descriptions(entry):
            distractors, pooled = self.distractors([entity], 3, quote, entry.chunk.objective)
            if len(distractors) < 3:
                reason = "few_distractors"
                continue
            if not self.leaks(quote, [entity], distractors):
                break
            reason = "leak"
        else:
            self.skip(reason)
            return None
        if entity.noun is None:
            stem = f"Which term from “{entity.heading}” matches this description: “{quote}”?"
        else:
            stem = f"Which {_stem_label(entity, pooled)} matches this description: “{quote}”?"
        return self.question(
            entry.chunk, stem, [entity], distractors, _explain(entity, entry.description), "term"
        )

    # -- (b) choose two -------------------------------------------------------------------------
    def pair(self, first: Entry, second: Entry) -> Question | None:
        answers = [first.entity, second.entity]
        d1, d2 = (
            self.descriptions(first, [second.entity]),
            self.descriptions(second, [first.entity]),
        )
        if not d1 or not d2:
            self.skip("leak")
            return None
        q1, q2 = d1[0], d2[0]
        entity = first.entity
        quotes = f"(1) “{q1}” (2) “{q2}”"
        distractors, pooled = self.distractors(answers, 3, quotes, first.chunk.objective)
        if len(distractors) < 3:
            self.skip("few_distractors")
            return None
        if entity.noun is None:
            lead = f"Which TWO terms from “{entity.heading}”"
        else:
            lead = f"Which TWO of the following {_plural(_stem_label(entity, pooled))}"
        stem = f"{lead} match these descriptions? {quotes}"
        if self.leaks(stem, answers, distractors):
            self.skip("leak")
            return None
        explanation = " ".join(
            [_explain(first.entity, first.description), _explain(second.entity, second.description)]
        )
        return self.question(first.chunk, stem, answers, distractors, explanation, "multi")

    def group(self, entries: list[Entry]) -> Question | None:
        """'Which TWO of the following are <group heading>?' against other groups of the kind."""
        entity = entries[0].entity
        modifiers = set(content_terms(entity.label)) - set(content_terms(entity.noun or ""))
        if entity.noun not in GROUP_KINDS or not entity.pool or not modifiers or not entity.headed:
            return None
        members = self.corpus.groups.get(entity.group, [])
        first, second = self.rng.sample(entries, 2)
        answers = [first.entity, second.entity]
        stem = f"Which TWO of the following are {_plural(entity.label)}?"
        candidates = [
            e
            for e in self.corpus.pools.get(entity.pool, [])
            if e.group != entity.group
            and not (set(content_terms(e.label)) & modifiers)
            and not (e.desc_terms & modifiers)
            and not any(_related(e, m) for m in members)
        ]
        chosen: list[Entity] = []
        _pick(candidates, 3, answers, stem, self.rng, chosen)
        if len(chosen) < 3:
            self.skip("few_distractors")
            return None
        explanation = _quote(
            f"The material lists {first.entity.name} and {second.entity.name} under "
            f"“{entity.heading}”. {_explain(first.entity, first.description)} "
            f"{_explain(second.entity, second.description)}",
            MAX_EXPLANATION_CHARS,
        )
        return self.question(first.chunk, stem, answers, chosen, explanation, "multi")

    # -- (c) blanked definition ---------------------------------------------------------------
    def blank(self, view: _ChunkView, sentence: str, entity: Entity) -> Question | None:
        pattern = _mention_pattern(entity, case=True)
        found = pattern.search(sentence)
        blanked = pattern.sub(BLANK, sentence)
        if found is None or len(blanked.split()) < 6:
            return None
        surface = found.group(0)
        if not self.distinctive(blanked):
            self.skip("vague")
            return None
        quote = _quote(blanked)
        distractors, pooled = self.distractors([entity], 3, quote, view.objective)
        if len(distractors) < 3:
            self.skip("few_distractors")
            return None
        if self.leaks(quote, [entity], distractors):
            self.skip("leak")
            return None
        bare = not _VENDOR.match(surface)
        if sum(1 for d in distractors if _VENDOR.match(d.name)) < 2:
            surface = _VENDOR.sub("", surface) or surface  # "Neo" among "Studio", "Autopilot"
            bare = True
        if entity.noun is None:
            lead = f"Which term from “{entity.heading}” fills the blank"
        else:
            lead = f"Which {_stem_label(entity, pooled)} fills the blank"
        stem = f"{lead}: “{quote}”?"
        explanation = f"The material says: “{_quote(sentence, MAX_EXPLANATION_CHARS)}”"
        if bare:  # "Studio Lab" among "Canvas", "Model Dashboard", not "Amazon SageMaker ..."
            distractors = [replace(d, name=_VENDOR.sub("", d.name) or d.name) for d in distractors]
        return self.question(
            view, stem, [entity], distractors, explanation, "blank", answer_names=[surface]
        )

    # -- (d) page title + summary -------------------------------------------------------------
    def title(self, view: _ChunkView, entity: Entity) -> Question | None:
        pattern = _mention_pattern(entity)
        text = " ".join(
            clean_inline(line) for line in view.chunk.text.split("\n\n")[0].splitlines()
        )
        for sentence in _sentences(text)[:3]:
            match = pattern.search(sentence)
            if not match or len(sentence[: match.start()].split()) > 4:
                continue
            tail = sentence[match.end() :]
            if not re.match(rf"^(?:\s+[\w\-()]+){{0,3}}?\s+(?:{_DEFINING})\b", tail):
                continue
            if sentence.rstrip().endswith(":") or len(sentence.split()) < 8:
                continue
            if not self.distinctive(pattern.sub(" ", sentence)):
                continue
            blanked = _quote(pattern.sub(BLANK, sentence))
            options: list[Entity] = []
            pool = self.corpus.page_entities.get(entity.pool or "", [])
            _pick(pool, 3, [entity], blanked, self.rng, options, view.objective)
            if len(options) < 3:
                self.skip("few_distractors")
                return None
            if self.leaks(blanked, [entity], options):
                self.skip("leak")
                return None
            self.used_sentences.add((view.id, sentence))
            stem = f"Which {entity.label} does this describe: “{blanked}”?"
            explanation = (
                f"The page “{view.title}” opens: “{_quote(sentence, MAX_EXPLANATION_CHARS)}”"
            )
            return self.question(view, stem, [entity], options, explanation, "title")
        return None


_DEFINITION = re.compile(
    r"^(?:The |An? )?(?P<name>[A-Z][\w\-]*(?:\s+(?:[A-Z0-9][\w\-]*|\([^)]+\)))*)"
    r"(?:\s+[a-z][\w\-]*){0,2}?"
    r"\s+(?:(?:is|are)\s+(?:a|an|the|one|Amazon's|AWS's)|helps|lets|enables|automates)\s"
)
_DEFINITION_HINT = re.compile(
    r"\s(?:(?:is|are)\s+(?:a|an|the|one|Amazon's|AWS's)|helps|lets|enables|automates)\s"
)
MAX_BLANKS_PER_ENTITY = 6


def _defining_sentences(corpus: _Corpus, view: _ChunkView) -> Iterable[tuple[str, Entity]]:
    """Sentences of a chunk that define a known entity: "X is a …", "X helps you …"."""
    text = "\n".join(
        clean_inline(line)
        for line in view.chunk.text.splitlines()
        if _DEFINITION_HINT.search(line)
        and not _BOLD_TERM.match(line.strip())
        and not line.strip().startswith("|")
    )
    for paragraph in re.split(r"\n+", text):
        for sentence in _sentences(paragraph):
            match = _DEFINITION.match(sentence)
            if not match or len(sentence.split()) < 8 or sentence.rstrip().endswith(":"):
                continue
            if "|" in sentence or "Units:" in sentence:
                continue
            keys = _entity_keys(match.group("name"))
            entity = next(
                (corpus.blankable[k] for k in sorted(keys) if k in corpus.blankable), None
            )
            if entity is None or re.search(r"\b(?:also|too|like|similar|other)\b", sentence):
                continue
            yield sentence, entity


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


def generate_offline(
    chunks: Sequence[ChunkLike],
    blueprint: Blueprint,
    rng: random.Random,
    kinds: Sequence[str] = KINDS,
    *,
    stats: GenerationStats | None = None,
) -> list[Question]:
    """Candidate questions built from the structure of ``chunks`` (validate them before use).

    ``kinds`` picks among ``term``, ``multi``, ``blank`` and ``title``. Chunks without a
    domain and objective of ``blueprint`` are skipped. Deterministic for a given ``rng`` state
    and chunk order. Questions a structure could not support (no non-leaking description, too
    few distractors) are counted in ``stats`` as ``offline_<reason>`` rejections.
    """
    views: list[_ChunkView] = []
    for chunk in chunks:
        view = _view(chunk, blueprint)
        if view is None:
            if stats is not None:
                stats.rejected["offline_untagged_chunk"] += 1
            continue
        views.append(view)
    corpus = _Corpus(views)
    builder = _Builder(corpus, rng, stats)
    out: list[Question] = []

    def add(q: Question | None) -> None:
        if q is not None:
            out.append(q)

    by_chunk: dict[str, list[Entry]] = {}
    for entry in corpus.entries:
        by_chunk.setdefault(entry.chunk.id, []).append(entry)
    if "term" in kinds:
        by_group: dict[str, list[Entry]] = {}
        seen: set[tuple[str, str]] = set()
        for entry in corpus.entries:  # an entry repeated by chunk overlap is asked once
            if (entry.entity.group, entry.entity.key) not in seen:
                seen.add((entry.entity.group, entry.entity.key))
                by_group.setdefault(entry.entity.group, []).append(entry)
        for group, entries in by_group.items():
            if group.endswith("\x00table") and len(entries) > MAX_TERMS_PER_TABLE:
                # a 40-row parameter table is not 40 questions
                keep = sorted(rng.sample(range(len(entries)), MAX_TERMS_PER_TABLE))
                entries = [entries[k] for k in keep]
            for entry in entries:
                add(builder.term(entry))
    if "multi" in kinds:
        done_groups: set[str] = set()
        for view in views:
            entries = by_chunk.get(view.id, [])
            groups: dict[str, list[Entry]] = {}
            for entry in entries:
                groups.setdefault(entry.entity.group, []).append(entry)
            for group, members in groups.items():
                distinct = list({m.entity.key: m for m in members}.values())
                if len(distinct) < 2:
                    continue
                first, second = rng.sample(distinct, 2)
                add(builder.pair(first, second))
                if group not in done_groups:
                    q = builder.group(distinct)
                    if q is not None:
                        done_groups.add(group)
                        out.append(q)
    if "title" in kinds:
        for view in views:
            entity = corpus.page_of.get(view.source)
            if entity is not None and view.position == 0:
                add(builder.title(view, entity))
    if "blank" in kinds:
        per_entity: dict[str, int] = {}
        per_page: set[tuple[str, str]] = set()
        for view in views:
            for sentence, entity in _defining_sentences(corpus, view):
                if (view.id, sentence) in builder.used_sentences:
                    continue
                if (entity.key, view.source) in per_page:
                    continue
                if per_entity.get(entity.key, 0) >= MAX_BLANKS_PER_ENTITY:
                    continue
                builder.used_sentences.add((view.id, sentence))
                q = builder.blank(view, sentence, entity)
                if q is not None:
                    per_page.add((entity.key, view.source))
                    per_entity[entity.key] = per_entity.get(entity.key, 0) + 1
                    out.append(q)
    return out


__all__ = ["KINDS", "Entity", "Entry", "generate_offline"]
