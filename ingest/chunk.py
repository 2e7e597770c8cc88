"""Cut parsed sections into chunks that fit the embedding model, with overlap."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from ingest.document import Document

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[*`])")
_PARAGRAPH = re.compile(r"\n\s*\n")
# A chunk is cut to at most this many characters per token of its budget (4,800 for 200
# tokens). A word the tokenizer cannot split (minified code, base64, one 5 MB "word") counts
# as a single unknown token however long it is, so the token budget alone lets it through
# whole. Prose runs about 4.5 characters a token; in the study guide and 500 AWS pages the
# longest window has 19 (a JSON code block), so real chunks are never cut by this.
MAX_CHARS_PER_TOKEN = 24


@dataclass
class RawChunk:
    """A chunk before embedding and tagging."""

    text: str
    title_path: list[str]
    position: int
    objective_hint: str | None


def content_hash(text: str) -> str:
    """Stable hash of a chunk's text (whitespace-normalised)."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:32]


def chunk_id(source: str, text_hash: str, occurrence: int = 0) -> str:
    """Chunk ids derive from source and content (plus the occurrence of identical text)."""
    raw = f"{source}\x00{text_hash}\x00{occurrence}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def _pieces(text: str, max_tokens: int, count: Callable[[str], int]) -> list[tuple[str, int]]:
    """Paragraphs, then sentences, then word windows, each with its token count: every piece
    fits `max_tokens`. Each piece is counted once (counting is most of the chunker's time)."""
    out: list[tuple[str, int]] = []
    for para in _PARAGRAPH.split(text):
        para = para.strip()
        if not para:
            continue
        size = count(para)
        if size <= max_tokens:
            out.append((para, size))
            continue
        for sentence in _SENTENCE_END.split(para):
            size = count(sentence)
            if size <= max_tokens:
                out.append((sentence, size))
                continue
            words = sentence.split()
            step = max(8, max_tokens * 2 // 3)  # words run ~1.3 word pieces each
            for start in range(0, len(words), step):
                window = " ".join(words[start : start + step])
                out.append((window, count(window)))
    return out


def split_text(
    text: str, max_tokens: int, overlap_tokens: int, count: Callable[[str], int]
) -> list[str]:
    """Pack pieces of `text` into windows of at most `max_tokens`, carrying an overlap."""
    counted = _pieces(text, max_tokens, count)
    pieces = [p for p, _ in counted]
    sizes = [n for _, n in counted]
    windows: list[str] = []
    current: list[int] = []
    used = 0
    for n, size in enumerate(sizes):
        if current and used + size > max_tokens:
            windows.append("\n\n".join(pieces[i] for i in current))
            # keep trailing pieces as overlap while they fit the overlap budget
            keep: list[int] = []
            kept = 0
            for i in reversed(current):
                if kept + sizes[i] > overlap_tokens or kept + sizes[i] + size > max_tokens:
                    break
                keep.insert(0, i)
                kept += sizes[i]
            current, used = keep, kept
        current.append(n)
        used += size
    if current:
        windows.append("\n\n".join(pieces[i] for i in current))
    return windows


def chunk_document(
    doc: Document,
    *,
    max_tokens: int,
    overlap_tokens: int,
    count_tokens: Callable[[str], int],
    min_chars: int = 20,
) -> list[RawChunk]:
    """Split by headings first (one section at a time), then by size with overlap."""
    chunks: list[RawChunk] = []
    for section in doc.sections:
        path = [p for p in section.title_path if p]
        heading_cost = count_tokens(" > ".join(path)) + 1 if path else 0
        budget = max(32, max_tokens - heading_cost)
        text = section.text.strip()
        if len(text) < min_chars:
            if section.objective_hint and path:
                text = text or path[-1]  # keep the guide's objective headings findable
            else:
                continue
        for window in split_text(text, budget, overlap_tokens, count_tokens):
            for part in cap_length(window, budget * MAX_CHARS_PER_TOKEN):
                chunks.append(RawChunk(part, path, len(chunks), section.objective_hint))
    return chunks


def cap_length(text: str, max_chars: int) -> list[str]:
    """`text` as parts of at most `max_chars` characters: whole words where they fit, a word
    longer than that cut into slices. Text within the cap comes back as it is."""
    if len(text) <= max_chars:
        return [text]
    parts: list[str] = []
    current = ""
    for word in text.split():
        slices = [word[i : i + max_chars] for i in range(0, len(word), max_chars)]
        for piece in slices:
            if current and len(current) + 1 + len(piece) > max_chars:
                parts.append(current)
                current = ""
            current = f"{current} {piece}" if current else piece
    if current:
        parts.append(current)
    return parts
