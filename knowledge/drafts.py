"""Drafts as they are written: a chat model whose `invoke` streams its reply to a callback.

A front end that can show text as it arrives (Slack's chat streaming) wraps the answer model in
`DraftingChatModel`; the answer code still gets the whole reply from `invoke` and still decides,
after its citation check, what the final answer is. The front end shows the final answer in
place of the draft. Condensing and quiz generation keep the unwrapped model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage

from knowledge.llm import message_text

log = logging.getLogger(__name__)

DraftFn = Callable[[str], None]  # receives each new piece of the reply, in order


class DraftingChatModel:
    """Wraps a LangChain chat model: `invoke` calls `stream`, hands each piece of the reply to
    `on_draft`, and returns the whole reply as one AIMessage. Anything else is the model's."""

    def __init__(self, model: Any, on_draft: DraftFn) -> None:
        self._model = model
        self._on_draft = on_draft

    def invoke(self, messages: Any, *args: Any, **kwargs: Any) -> AIMessage:
        pieces: list[str] = []
        for chunk in self._model.stream(messages, *args, **kwargs):
            piece = message_text(chunk)
            if not piece:
                continue
            pieces.append(piece)
            try:
                self._on_draft(piece)
            except Exception:  # showing the draft is a courtesy: the answer goes on
                log.exception("showing a draft failed; the answer continues without it")
        return AIMessage(content="".join(pieces))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)
