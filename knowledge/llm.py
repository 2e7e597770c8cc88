"""The chat model (langchain-openai) and the prompt files it is driven by.

Everything that knows about the OpenAI provider lives here: building the client from
`Settings`, and turning its errors into one line a user can read. Prompts live in
``prompts/<name>.md``; a prompt file is split into chat messages by role markers::

    <!-- role: system -->
    ...instructions...
    <!-- role: user -->
    ...{placeholders} filled in by the caller...

Text before the first marker (for example an HTML comment for maintainers) is not sent.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import TYPE_CHECKING, Any

from langchain_core.exceptions import (
    ModelConnectionError,
    ModelError,
    ModelTimeoutError,
)
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from knowledge.settings import Settings

if TYPE_CHECKING:
    from langchain_openai import ChatOpenAI

_ROLE_MARKER = re.compile(r"^<!--\s*role:\s*(system|user|assistant)\s*-->\s*$", re.MULTILINE)
_MESSAGE_TYPES: dict[str, type[BaseMessage]] = {
    "system": SystemMessage,
    "user": HumanMessage,
    "assistant": AIMessage,
}


def make_chat_model(settings: Settings) -> ChatOpenAI | None:
    """The configured chat model, or None when no OpenAI key is set (offline mode).

    No retries (a slow model should fall back quickly, not three times slower) and
    temperature 0 (answers should be reproducible).
    """
    if not settings.llm_enabled:
        return None
    from langchain_openai import ChatOpenAI  # imported lazily: offline use never needs it

    return ChatOpenAI(
        model=settings.chat_model,
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key,
        timeout=settings.llm_timeout,
        max_retries=0,
        temperature=0,
    )


def load_prompt(name: str) -> str:
    """The text of ``prompts/<name>.md`` (read through importlib.resources)."""
    resource = resources.files("prompts").joinpath(f"{name}.md")
    if not resource.is_file():
        raise FileNotFoundError(f"no prompt named {name!r} (expected prompts/{name}.md)")
    return resource.read_text(encoding="utf-8")


def prompt_messages(name: str, **values: Any) -> list[BaseMessage]:
    """Chat messages from ``prompts/<name>.md`` with ``{placeholders}`` filled from ``values``.

    Values are substituted in one pass, so braces or placeholder names inside a value (for
    example inside a retrieved passage) are never expanded.
    """
    text = load_prompt(name)
    markers = list(_ROLE_MARKER.finditer(text))
    if not markers:
        raise ValueError(f"prompt {name!r} has no '<!-- role: ... -->' markers")
    messages: list[BaseMessage] = []
    for i, marker in enumerate(markers):
        end = markers[i + 1].start() if i + 1 < len(markers) else len(text)
        template = text[marker.end() : end].strip()
        messages.append(_MESSAGE_TYPES[marker.group(1)](content=template.format_map(values)))
    return messages


def message_text(message: Any) -> str:
    """The plain text of a chat model's reply (string content or content blocks)."""
    text = getattr(message, "text", None)
    if isinstance(text, str):  # a property in langchain-core 1.x (a str subclass)
        return str(text)
    content = getattr(message, "content", message)
    return content if isinstance(content, str) else str(content)


def describe_llm_error(exc: BaseException) -> str:
    """One line for the user saying why the model's answer is not used (no secrets, no trace)."""
    import openai  # a dependency of langchain-openai; imported only when something failed

    suffix = "so this answer is extracted from the material."
    if isinstance(exc, ModelTimeoutError | TimeoutError | openai.APITimeoutError):
        return f"The language model did not answer in time, {suffix}"
    if isinstance(exc, ModelConnectionError | ConnectionError | openai.APIConnectionError):
        return f"The language model could not be reached, {suffix}"
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return f"The language model returned an error (HTTP {status}), {suffix}"
    if isinstance(exc, ModelError | openai.OpenAIError):
        return f"The language model returned an error, {suffix}"
    return f"The language model failed, {suffix}"
