"""Questions written by the chat model from one chunk (``prompts/quiz.md``), checked hard.

The model is asked for JSON matching `ModelQuestion` (with an OpenAI ``json_schema`` response
format when the model is a ``ChatOpenAI``); the JSON is parsed from the reply text, so any model
that returns JSON in its message content works, including a local OpenAI-compatible server.

A reply is rejected (``generate_llm`` returns None and logs why) when it is not JSON of that
shape, an option repeats, an answer is not among the options, the number of answers does not
match the format, or the explanation does not rest on the passage (`validate_question`). Any
model failure (timeout, connection, HTTP error) also gives None: the caller falls back to the
offline generator.
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from knowledge.answer import format_passages
from knowledge.llm import message_text, prompt_messages
from knowledge.question import (
    CHOOSE,
    OPTION_COUNT,
    ChunkLike,
    Format,
    GenerationStats,
    Question,
    normalize_option,
    passage_of,
    reason_of,
    validate_question,
)
from knowledge.types import Hit

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from knowledge.blueprint import Blueprint

log = logging.getLogger(__name__)


class ModelQuestion(BaseModel):
    """What the model must return."""

    stem: str
    options: list[str]
    answers: list[str]  # exact text of the correct option(s)
    explanation: str


RESPONSE_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {
        "name": "exam_question",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {
                "stem": {"type": "string"},
                "options": {"type": "array", "items": {"type": "string"}},
                "answers": {"type": "array", "items": {"type": "string"}},
                "explanation": {"type": "string"},
            },
            "required": ["stem", "options", "answers", "explanation"],
            "additionalProperties": False,
        },
    },
}

_FORMAT_RULES = {
    "single": "Exactly one option is correct.",
    "multi": (
        'Exactly two options are correct; the stem asks "Which TWO …" or says "(Choose two.)".'
    ),
}
_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.IGNORECASE)


class Rejected(ValueError):
    """A model reply that cannot become a question; ``reason`` is a short code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def parse_reply(text: str) -> ModelQuestion:
    """The `ModelQuestion` in a reply: bare JSON, fenced JSON, or JSON inside some prose."""
    body = _FENCE.sub("", text.strip())
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        start, end = body.find("{"), body.rfind("}")
        if start < 0 or end <= start:
            raise Rejected("not_json", "the reply holds no JSON object") from None
        try:
            data = json.loads(body[start : end + 1])
        except json.JSONDecodeError as exc:
            raise Rejected("not_json", str(exc)) from None
    if not isinstance(data, dict):
        raise Rejected("not_json", "the reply is not a JSON object")
    try:
        return ModelQuestion.model_validate(data)
    except ValidationError as exc:
        raise Rejected("schema", f"{exc.error_count()} field error(s)") from None


def to_question(
    reply: ModelQuestion, chunk: ChunkLike, blueprint: Blueprint, fmt: Format
) -> Question:
    """A checked `Question` from a parsed reply; raises `Rejected` with the first problem."""
    options = [" ".join(o.split()) for o in reply.options]
    normalized = [normalize_option(o) for o in options]
    if len(set(normalized)) != len(normalized):
        raise Rejected("repeated_options")
    if len(options) != OPTION_COUNT[fmt]:
        raise Rejected("option_count", f"{len(options)} options for {fmt}")
    correct: list[int] = []
    for answer in reply.answers:
        key = normalize_option(answer)
        if key not in normalized:
            raise Rejected("answer_not_in_options", answer[:80])
        correct.append(normalized.index(key))
    if len(set(correct)) != CHOOSE[fmt]:
        raise Rejected("correct_count", f"{len(set(correct))} answers for {fmt}")
    meta = chunk.metadata or {}
    objective = str(meta.get("objective") or "").split(" ", 1)[0]
    question = Question(
        stem=" ".join(reply.stem.split()),
        options=options,
        correct=sorted(set(correct)),
        explanation=reply.explanation.strip(),
        chunk_ids=[chunk.id],
        source=str(meta.get("source") or ""),
        title=str(meta.get("title") or ""),
        domain=int(meta.get("domain") or 0),
        objective=objective,
        format=fmt,
        choose=CHOOSE[fmt],
        generator="llm",
        passage=passage_of(chunk),
    )
    errors = validate_question(question, blueprint=blueprint)
    if errors:
        raise Rejected(reason_of(errors[0]), errors[0])
    return question


def _chat(chat_model: BaseChatModel):
    """The model, asked for JSON by schema when it is an OpenAI chat model."""
    try:
        # heavy import (~2 s), needed only when a chat model is given, not at module import
        from langchain_openai.chat_models.base import BaseChatOpenAI
    except ImportError:  # pragma: no cover - langchain-openai is a dependency
        return chat_model
    if isinstance(chat_model, BaseChatOpenAI):
        return chat_model.bind(response_format=RESPONSE_FORMAT)
    return chat_model


def _hit(chunk: ChunkLike) -> Hit:
    meta = chunk.metadata or {}
    return Hit(
        id=chunk.id,
        text=chunk.text,
        source=str(meta.get("source") or ""),
        title=str(meta.get("title") or ""),
        title_path=str(meta.get("title_path") or ""),
        domain=int(meta.get("domain") or 0),
        objective=str(meta.get("objective") or ""),
        score=1.0,
    )


def generate_llm(
    chunk: ChunkLike,
    blueprint: Blueprint,
    chat_model: BaseChatModel,
    format: Format = "single",
    *,
    stats: GenerationStats | None = None,
) -> Question | None:
    """One question from ``chunk`` by the chat model, or None (the reason is logged and, with
    ``stats``, counted as ``llm_<reason>``)."""

    def reject(reason: str, detail: str = "") -> None:
        log.info("quiz: model question rejected (%s) %s", reason, detail)
        if stats is not None:
            stats.rejected[f"llm_{reason}"] += 1

    meta = chunk.metadata or {}
    objective_id = str(meta.get("objective") or "").split(" ", 1)[0]
    try:
        objective = blueprint.objective(objective_id).label
    except KeyError:
        reject("untagged_chunk", chunk.id)
        return None
    messages = prompt_messages(
        "quiz",
        exam=blueprint.name,
        objective=objective,
        passage=format_passages([_hit(chunk)]),
        option_count=OPTION_COUNT[format],
        choose=CHOOSE[format],
        format_rule=_FORMAT_RULES[format],
    )
    try:
        reply = message_text(_chat(chat_model).invoke(messages))
    except Exception as exc:  # any model failure: the caller falls back to offline questions
        reject("model_error", type(exc).__name__)
        return None
    try:
        return to_question(parse_reply(reply), chunk, blueprint, format)
    except Rejected as exc:
        reject(exc.reason, str(exc))
        return None


__all__ = ["RESPONSE_FORMAT", "ModelQuestion", "Rejected", "generate_llm", "parse_reply"]
