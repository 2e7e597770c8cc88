"""A chunk's exam tags, one (domain, objective, confidence) per installed blueprint.

Chunks are tagged for every installed blueprint, so one store serves every exam: the tags live
in the chunk's metadata under per-blueprint keys (``domain@mla-c01``, ``objective@mla-c01``,
``tag_confidence@mla-c01``). The plain ``domain`` / ``objective`` / ``tag_confidence`` keys
keep the tag of the blueprint the store was ingested with (``blueprint``), which is what stores
written before per-blueprint tags hold. Everything reads tags through `read_tag`, or through
`for_blueprint`, which gives a metadata copy whose plain keys hold the chosen blueprint's tag.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DOMAIN, OBJECTIVE, CONFIDENCE = "domain", "objective", "tag_confidence"


@dataclass(frozen=True)
class ChunkTag:
    """One blueprint's tag of a chunk (domain 0 and objective "" = untagged)."""

    domain: int
    objective: str
    confidence: float


UNTAGGED = ChunkTag(0, "", 0.0)


def key(name: str, blueprint_id: str) -> str:
    """The metadata key of one tag field for one blueprint, e.g. ``domain@mla-c01``."""
    return f"{name}@{blueprint_id}"


def tag_metadata(tags: dict[str, ChunkTag]) -> dict[str, int | str | float]:
    """The per-blueprint metadata keys for `tags` (blueprint id -> tag)."""
    out: dict[str, int | str | float] = {}
    for blueprint_id, tag in tags.items():
        out[key(DOMAIN, blueprint_id)] = tag.domain
        out[key(OBJECTIVE, blueprint_id)] = tag.objective
        out[key(CONFIDENCE, blueprint_id)] = round(tag.confidence, 4)
    return out


def read_tag(metadata: dict[str, Any], blueprint_id: str) -> ChunkTag:
    """The chunk's tag for one blueprint; a store written before per-blueprint keys has its
    ingest blueprint's tag in the plain keys; untagged when neither applies (run `retag`)."""
    if key(DOMAIN, blueprint_id) in metadata:
        return ChunkTag(
            int(metadata.get(key(DOMAIN, blueprint_id)) or 0),
            str(metadata.get(key(OBJECTIVE, blueprint_id)) or ""),
            float(metadata.get(key(CONFIDENCE, blueprint_id)) or 0.0),
        )
    if metadata.get("blueprint") == blueprint_id:
        return ChunkTag(
            int(metadata.get(DOMAIN) or 0),
            str(metadata.get(OBJECTIVE) or ""),
            float(metadata.get(CONFIDENCE) or 0.0),
        )
    return UNTAGGED


def tagged_for(metadata: dict[str, Any]) -> set[str]:
    """The blueprints a chunk carries a tag for."""
    found = {k.split("@", 1)[1] for k in metadata if k.startswith(f"{DOMAIN}@")}
    if metadata.get("blueprint"):
        found.add(str(metadata["blueprint"]))
    return found


def for_blueprint(metadata: dict[str, Any], blueprint_id: str) -> dict[str, Any]:
    """A copy of `metadata` whose plain ``domain`` / ``objective`` / ``tag_confidence`` (and
    ``blueprint``) are the tag for `blueprint_id`: what code written for one exam reads."""
    tag = read_tag(metadata, blueprint_id)
    return {
        **metadata,
        "blueprint": blueprint_id,
        DOMAIN: tag.domain,
        OBJECTIVE: tag.objective,
        CONFIDENCE: tag.confidence,
    }


def domain_filter(blueprint_id: str, domain: int) -> dict[str, Any]:
    """A Chroma ``where`` for the chunks of one domain of one blueprint (either key layout)."""
    return {
        "$or": [
            {key(DOMAIN, blueprint_id): domain},
            {"$and": [{"blueprint": blueprint_id}, {DOMAIN: domain}]},
        ]
    }
