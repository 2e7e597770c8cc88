"""What the offline quiz generator reads from the material: terms, their kinds and groups.

The material names things and says what they are. Three structures are read, chunk by chunk:

- ``**Term**: description.`` lines (the bundled notes) and ``+ **Term** – description`` bullets
  (the AWS developer guides; not the form fields nested in numbered how-to steps);
- a name line followed by ``- description`` bullets (the study guide, where
  ``[Amazon Polly](url)`` lines become plain ``Amazon Polly`` lines);
- table rows under a header whose second column is a Description (hyperparameters, metrics,
  status values).

Each term belongs to a *group*: the heading (or term line) it is listed under, in one source.
A group heading that ends in a kind noun ("Streaming ingestion services", "Classification
metrics", "XGBoost Hyperparameters") says what its terms are; groups of a pooled kind (services,
algorithms, metrics, ...) in one collection (the notes, the guide, one AWS guide) form a pool.
Page titles that name a SageMaker algorithm or feature add page entities. Sections of how-to
pages ("Step 2: Create a Labeling Job") are skipped: their lists are UI fields.

`Corpus` holds all of it; `defining_sentences` finds the sentences that define a known entity
("X is a …", "X helps you …"). `knowledge.quiz_offline` builds the questions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from knowledge.question import ChunkLike, normalize_option, passage_of
from knowledge.text import SENTENCE_SPLIT, TABLE_RULE, clean_inline, content_terms, is_term_line

if TYPE_CHECKING:
    from knowledge.blueprint import Blueprint

MIN_DESCRIPTION_WORDS = 4
MIN_FEATURE_MENTIONS = 5  # chunks that must name a page's feature for it to count as one
EXACT_TAG = 0.99  # tag confidence of a chunk an objective heading tagged

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
_PREPOSITIONS = {
    "for", "in", "of", "to", "with", "that", "on", "by", "from", "worth", "at", "between",
}  # fmt: skip
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
class ChunkView:
    """A chunk with the metadata the generator reads, parsed once."""

    chunk: ChunkLike
    passage: str
    source: str
    title: str
    path: list[str]
    domain: int
    objective: str
    position: int
    exact: bool = False  # an objective heading of the guide tagged it (tag confidence 1)

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
    chunk: ChunkView
    sentences: list[str] = field(default_factory=list)


def chunk_view(chunk: ChunkLike, blueprint: Blueprint) -> ChunkView | None:
    """The chunk's view, or None when it has no domain and objective of ``blueprint``."""
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
    try:
        exact = float(meta.get("tag_confidence") or 0) >= EXACT_TAG
    except (TypeError, ValueError):
        exact = False
    return ChunkView(
        exact=exact,
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


def new_entity(
    name: str,
    noun: str | None,
    label: str,
    group: str,
    pool: str | None,
    objective: str,
    heading: str = "",
) -> Entity:
    """An entity the material names without describing it (a page's subject, a keyword's
    product name)."""
    return Entity(
        name=name,
        key=min(_entity_keys(name)),
        keys=_entity_keys(name),
        tokens=_name_tokens(name),
        noun=noun,
        label=label,
        group=group,
        heading=heading,
        pool=pool,
        objective=objective,
        headed=noun is not None and not heading,
    )


def _name_tokens(name: str) -> frozenset[str]:
    return frozenset(normalize_option(name).split())


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
    head = prefix[:-1]
    if not title_case and head and head[0] in ("Amazon", "AWS", "SageMaker"):
        while head and head[0][:1].isupper():  # "Amazon SageMaker Autopilot problem types"
            head = head[1:]  # -> "problem type": the product's name is no kind
    modifiers = [w if title_case else _lower_word(w) for w in head]
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


def name_shape(name: str) -> str:
    """What kind of name: a SageMaker feature, another AWS service, or anything else."""
    if re.match(r"^(?:Amazon\s+)?SageMaker\b", name):
        return "sagemaker"
    return "aws" if is_service(name) else "other"


def is_service(name: str) -> bool:
    """A name that starts like an AWS service ("Amazon Polly", "AWS Glue", "SageMaker Neo")."""
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


def _raw_entries(view: ChunkView, tables: dict[str, tuple[str, str | None]]) -> list[_Raw]:
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


def _table_headers(views: Iterable[ChunkView]) -> dict[str, tuple[str, str | None]]:
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


_HEADING_SUBJECT = re.compile(r"^(?:(?:The|An?)\s+)?(?:(?:Amazon|AWS)\s+)?(?:SageMaker\s+)?", re.I)


def _heading_entry(view: ChunkView) -> _Raw | None:
    """A section whose heading names a concept and whose first sentence starts with that name
    ("## Binary classification" / "Binary classification is a type of supervised learning
    that …"): the heading is the term, the rest of the sentence its description, and the other
    sections under the same parent heading its siblings."""
    if len(view.path) < 2:
        return None
    heading = clean_inline(view.path[-1]).strip()
    if not _good_term(heading) or len(heading.split()) > 5 or _procedural(heading):
        return None
    first_line = next((ln for ln in view.chunk.text.splitlines() if ln.strip()), "")
    if first_line.lstrip().startswith(("|", "#", "-", "*", "+", "`", "!")):
        return None
    sentences = split_sentences(clean_inline(first_line))
    if not sentences:
        return None
    sentence = sentences[0]
    lead = _HEADING_SUBJECT.match(sentence)
    rest = sentence[lead.end() if lead else 0 :]
    core = _HEADING_SUBJECT.sub("", heading)
    if not core or not rest.lower().startswith(core.lower() + " "):
        return None
    predicate = rest[len(core) :].strip()
    predicate = re.sub(r"^\([^)]*\)\s*", "", predicate)
    verb = predicate.split(" ", 1)[0] if predicate else ""
    if not re.fullmatch(r"(?:is|are|can|[a-z]+s)", verb):
        return None  # "Custom Transforms group allows …": the heading does not start a clause
    predicate = re.sub(r"^(?:is|are)\s+(?=(?:a|an|the)\s)", "", predicate)
    if len(predicate.split()) < MIN_DESCRIPTION_WORDS or predicate.split()[0] in ("is", "are"):
        return None
    parent = view.path[-2]
    group = f"{view.source}\x00{' > '.join(view.path[:-1])}\x00headings"
    description = predicate[:1].upper() + predicate[1:]
    return _Raw(
        heading, description if description.endswith(".") else description + ".", parent, group
    )


def split_sentences(text: str) -> list[str]:
    """The sentences of a text, stripped, empty ones dropped."""
    return [s.strip() for s in SENTENCE_SPLIT.split(text) if s.strip()]


class Corpus:
    """Everything read from the chunks: entries, entities, groups and pools."""

    def __init__(self, views: list[ChunkView]) -> None:
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
            heading = _heading_entry(view)
            if heading is not None:
                self._add(view, heading)
        for view in views:
            self._add_page(view)
        self._keep_known_features()
        # Names a defining sentence may be about: services, SageMaker features and algorithms,
        # and capitalised members of kinds that pool (not table rows such as "labels").
        self.blankable: dict[str, Entity] = {}
        for entity in self.by_key.values():
            if entity.name[:1].isupper() and (
                name_shape(entity.name) != "other"
                or entity.group.startswith("page:")
                or (entity.headed and entity.noun in POOLED_KINDS)
            ):
                for key in entity.keys:
                    self.blankable.setdefault(key, entity)

    def _add(self, view: ChunkView, raw: _Raw) -> None:
        if _procedural(raw.heading) or _procedural(view.title):
            return
        noun, label = _kind_of(raw.heading)
        if noun is None and raw.noun_hint:  # "| Parameter Name |" under "LoadBalancing"
            noun, label = raw.noun_hint, raw.noun_hint
        headed = noun is not None
        if noun is None and is_service(raw.term):
            noun, label = "service", "AWS service"
        if noun == "service" and not is_service(raw.term) and label == "service":
            label = "service"
        if is_service(raw.term):
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
            sentences = [s for s in split_sentences(raw.description) if not _CELL_NOISE.match(s)][
                :1
            ]
        self.entries.append(Entry(entity, raw.description, view, sentences))

    def _add_page(self, view: ChunkView) -> None:
        if view.source in self.page_of or not view.path:
            return
        name, noun, label = _title_entity(view.title)
        if not name:
            return
        pool = f"page:{noun}\x00{view.family}"
        group = f"page:{view.source}"
        entity = new_entity(name, noun, label, group, pool, view.objective, heading=view.title)
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
                pattern = mention_pattern(entity, case=True)
                core = VENDOR.sub("", entity.name) or entity.name
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
# Where a text names an entity
# --------------------------------------------------------------------------------------------


VENDOR = re.compile(r"^(?:(?:Amazon|AWS|SageMaker)\s+)+")


def mention_pattern(entity: Entity, case: bool = False) -> re.Pattern[str]:
    """The (cached) regex that finds where a text names ``entity`` (see `_mention_regex`)."""
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
    cores = {VENDOR.sub("", f) or f for f in forms}
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


_DEFINITION = re.compile(
    r"^(?:The |An? )?(?P<name>[A-Z][\w\-]*(?:\s+(?:[A-Z0-9][\w\-]*|\([^)]+\)))*)"
    r"(?:\s+[a-z][\w\-]*){0,2}?"
    r"\s+(?:(?:is|are)\s+(?:a|an|the|one|Amazon's|AWS's)|helps|lets|enables|automates)\s"
)
_DEFINITION_HINT = re.compile(
    r"\s(?:(?:is|are)\s+(?:a|an|the|one|Amazon's|AWS's)|helps|lets|enables|automates)\s"
)


def defining_sentences(corpus: Corpus, view: ChunkView) -> Iterable[tuple[str, Entity]]:
    """Sentences of a chunk that define a known entity: "X is a …", "X helps you …"."""
    text = "\n".join(
        clean_inline(line)
        for line in view.chunk.text.splitlines()
        if _DEFINITION_HINT.search(line)
        and not _BOLD_TERM.match(line.strip())
        and not line.strip().startswith("|")
    )
    for paragraph in re.split(r"\n+", text):
        for sentence in split_sentences(paragraph):
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


__all__ = [
    "KIND_NOUNS",
    "MIN_DESCRIPTION_WORDS",
    "POOLED_KINDS",
    "VENDOR",
    "ChunkView",
    "Corpus",
    "Entity",
    "Entry",
    "chunk_view",
    "defining_sentences",
    "is_service",
    "mention_pattern",
    "name_shape",
    "new_entity",
    "split_sentences",
]
