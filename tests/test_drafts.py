"""Drafts as they are written: the model's reply streamed to a callback over real HTTP (the
local OpenAI-compatible server), while the answer code still gets the whole reply."""

from __future__ import annotations

from langchain_openai import ChatOpenAI

from knowledge.drafts import DraftingChatModel
from tests.fakes.openai_server import FakeOpenAI

REPLY = "Amazon Polly turns text into lifelike speech, in many voices and languages [1]."


def test_the_reply_is_streamed_piece_by_piece_and_returned_whole():
    pieces: list[str] = []
    with FakeOpenAI(lambda body: REPLY) as server:
        model = ChatOpenAI(
            model="fake-gpt", base_url=server.base_url, api_key="sk-test", max_retries=0
        )
        reply = DraftingChatModel(model, pieces.append).invoke("Which service speaks?")
        assert server.chat_requests[-1]["stream"] is True
    assert reply.content == REPLY
    assert len(pieces) > 3 and "".join(pieces) == REPLY  # in order, nothing lost


def test_a_failing_draft_callback_does_not_lose_the_answer():
    def broken(piece: str) -> None:
        raise RuntimeError("Slack is down")

    with FakeOpenAI(lambda body: REPLY) as server:
        model = ChatOpenAI(
            model="fake-gpt", base_url=server.base_url, api_key="sk-test", max_retries=0
        )
        drafting = DraftingChatModel(model, broken)
        assert drafting.invoke("Which service speaks?").content == REPLY
        assert drafting.model_name == "fake-gpt"  # everything else is the model's
