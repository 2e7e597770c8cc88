"""Plain data shared by the store, retrieval, answers and the front ends."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from knowledge.tags import ChunkTag, tag_metadata


@dataclass
class Chunk:
    """A piece of a source, ready to embed, with where it came from and what it serves."""

    id: str
    text: str
    source: str
    title: str
    title_path: list[str]
    position: int
    content_hash: str
    blueprint: str
    domain: int
    objective: str
    tag_confidence: float
    #: "guide" when the chunk's document is organised by the blueprint's objectives (the study
    #: guide, the bundled notes), "reference" for other pages; "" when unknown (older stores).
    source_role: str = ""
    # Every installed blueprint's tag (blueprint id -> tag); `domain`/`objective` above are
    # the tag of `blueprint`, the one the store is ingested with.
    tags: dict[str, ChunkTag] = field(default_factory=dict)
    exam: str = ""  # the exam the source belongs to, when its folder or front matter says so

    def metadata(self) -> dict[str, str | int | float]:
        """Chroma metadata (flat scalars only)."""
        extra: dict[str, str | int | float] = {"exam": self.exam} if self.exam else {}
        if self.source_role:
            extra["source_role"] = self.source_role
        return {
            "source": self.source,
            "title": self.title,
            "title_path": " > ".join(self.title_path),
            "position": self.position,
            "content_hash": self.content_hash,
            "blueprint": self.blueprint,
            "domain": self.domain,
            "objective": self.objective,
            "tag_confidence": round(self.tag_confidence, 4),
            **tag_metadata(self.tags),
            **extra,
        }

    def embedding_text(self) -> str:
        """What gets embedded: the heading path gives the passage its context."""
        return f"{' > '.join(self.title_path)}\n{self.text}" if self.title_path else self.text


@dataclass
class Hit:
    """One retrieved chunk with its scores."""

    id: str
    text: str
    source: str
    title: str
    title_path: str
    domain: int
    objective: str
    score: float  # fused (reciprocal-rank) score
    dense_score: float | None = None  # cosine similarity, when the dense retriever found it
    lexical_score: float | None = None  # BM25 score, when the lexical retriever found it
    metadata: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Citation:
    """A numbered reference from an answer to a passage."""

    number: int
    title: str
    source: str
    url: str | None
    chunk_id: str
    score: float


@dataclass
class DomainTag:
    """The exam domain and objective an answer belongs to."""

    id: int
    name: str
    objective: str  # e.g. "3.4 Perform hyperparameter optimization"

    @property
    def label(self) -> str:
        return f"Domain {self.id} · {self.name} · {self.objective}"


@dataclass
class Answer:
    """What `ask` returns to every front end."""

    text: str  # Markdown with [n] citation markers
    citations: list[Citation]
    domains: list[DomainTag]  # most relevant first
    mode: str  # "llm" | "extractive" | "not_covered"
    confidence: float
    note: str | None = None  # e.g. "The model was unreachable; extracted from the material."
    closest_topics: list[str] = field(default_factory=list)  # when not covered
