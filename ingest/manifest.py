"""What the last ingest saw of each source, so unchanged sources are not parsed again."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

#: The manifest's file name under the data dir.
MANIFEST_FILE = "ingest-manifest.json"


@dataclass
class SourceEntry:
    body_hash: str
    chunks: int
    title: str = ""
    kind: str = ""
    links: list[str] = field(default_factory=list)


class Manifest:
    """A JSON file under the data dir; saved atomically after every completed batch."""

    def __init__(self, path: Path, signature: str) -> None:
        self.path = path
        self.signature = signature
        self.sources: dict[str, SourceEntry] = {}
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = {}
            if data.get("signature") == signature:
                self.sources = {k: SourceEntry(**v) for k, v in data.get("sources", {}).items()}

    def unchanged(self, source: str, body_hash: str) -> SourceEntry | None:
        entry = self.sources.get(source)
        return entry if entry and entry.body_hash == body_hash else None

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        payload = {
            "signature": self.signature,
            "sources": {k: asdict(v) for k, v in self.sources.items()},
        }
        tmp.write_text(json.dumps(payload), encoding="utf-8")
        os.replace(tmp, self.path)
