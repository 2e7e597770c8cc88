"""What parsing produces: a document cut into heading sections, before chunking."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Section:
    """A run of text under one heading path (e.g. ['SageMaker', 'Train a model'])."""

    title_path: list[str]
    text: str
    # Objective id ("2.2") when the heading itself names an exam objective; tags exactly.
    objective_hint: str | None = None


@dataclass
class Document:
    """One parsed source: a file, a page or a PDF."""

    source: str  # path or URL, as the user gave it or as it was resolved
    title: str
    kind: str  # "guide" | "markdown" | "html" | "pdf" | "text"
    sections: list[Section]
    links: list[str] = field(default_factory=list)  # absolute URLs or resolved paths
    metadata: dict[str, str] = field(default_factory=dict)  # e.g. front matter
