"""Slack end to end with the REAL study service: signed events in, real retrieval over the
bundled notes, answers posted to the fake Slack Web API (offline and through a local
OpenAI-compatible server)."""

from __future__ import annotations

import re

import pytest
from pydantic import SecretStr

from bot.records import Records
from bot.service import StudyService
from bot.slack.app import create_app
from bot.slack.runner import HttpRunner
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlackAPI, SlackSender
from tests.test_slack_app import SECRET, DrainableExecutor, envelope, mention


@pytest.fixture
def slack(notes_settings, tmp_path):
    """Run the app over HTTP with the real service; yields a function building it per settings."""
    stack = []

    def start(**overrides):
        fake = FakeSlackAPI().__enter__()
        settings = notes_settings.model_copy(
            update={
                "slack_bot_token": SecretStr(fake.token),
                "slack_signing_secret": SecretStr(SECRET),
                "slack_api_url": fake.base_url,
                "database_url_env": f"sqlite:///{tmp_path / f'records{len(stack)}.db'}",
                **overrides,
            }
        )
        records = Records.from_url(settings.database_url)
        records.upgrade()
        service = StudyService(settings, records=records)
        executor = DrainableExecutor()
        app = create_app(settings, service, records, executor=executor)
        runner = HttpRunner(app, host="127.0.0.1", port=0)
        runner.start_in_thread()
        stack.append((fake, runner, executor, records))
        return fake, SlackSender(f"{runner.url}/slack/events", SECRET), executor

    yield start
    for fake, runner, executor, records in stack:
        runner.stop()
        executor.shutdown(wait=True)
        records.close()
        fake.__exit__(None, None, None)


def _posted_text(call) -> str:
    parts = [call.params.get("text", "")]
    for block in call.blocks:
        if block.get("text"):
            parts.append(block["text"]["text"])
        parts += [e.get("text", "") for e in block.get("elements", []) if "text" in e]
    return "\n".join(str(p) for p in parts)


def test_mention_gets_a_grounded_cited_domain_tagged_answer_in_thread(slack):
    fake, sender, executor = slack()
    reply = sender.event(
        envelope(mention("<@UBOT> Which service turns text into lifelike speech?", "100.1"), "Ev1")
    )
    assert reply.status == 200
    executor.wait_idle(60)
    posts = fake.posted("chat.postMessage")
    assert len(posts) == 1
    post = posts[0]
    assert post.params["thread_ts"] == "100.1" and post.params["channel"] == "C1"
    text = _posted_text(post)
    assert "Polly" in text and "[1]" in text
    assert "Extracted from the study material" in text
    assert "Domain 4" in text and "4.2" in text
    assert re.search(r"4\.2-aws-ml-services\.md", text)  # the citation names its source


def test_off_topic_mention_is_answered_as_not_covered(slack):
    fake, sender, executor = slack()
    sender.event(envelope(mention("<@UBOT> How do I bake sourdough bread?", "100.2"), "Ev2"))
    executor.wait_idle(60)
    text = _posted_text(fake.posted("chat.postMessage")[0])
    assert "does not cover" in text


def test_llm_mode_through_a_local_openai_compatible_server(slack):
    def responder(request: dict) -> str:
        prompt = "\n".join(str(m.get("content")) for m in request["messages"])
        assert "<passage" in prompt and "Polly" in prompt
        return "Amazon Polly turns text into lifelike speech [1]."

    with FakeOpenAI(responder) as server:
        fake, sender, executor = slack(
            openai_api_key=SecretStr("sk-test"),
            openai_base_url=server.base_url,
        )
        sender.event(
            envelope(mention("<@UBOT> Which service turns text into speech?", "100.3"), "Ev3")
        )
        executor.wait_idle(60)
        assert server.chat_requests, "the model was not called"
    text = _posted_text(fake.posted("chat.postMessage")[0])
    assert "Amazon Polly turns text into lifelike speech [1]" in text
    assert "Extracted" not in text


def _long_reply(cite: str) -> str:
    return (
        "Amazon Polly is the AWS service that turns text into lifelike speech. It offers many "
        "voices in many languages, neural and standard engines, and speech marks that tell an "
        "application when each word is spoken, so captions and lip movement can follow the "
        "audio. Lexicons change how words are pronounced, and SSML tags control pauses, "
        f"emphasis and speaking rate {cite}."
    )


def test_an_llm_answer_is_streamed_into_the_thread_then_replaced_by_the_checked_answer(slack):
    with FakeOpenAI(lambda request: _long_reply("[1]")) as server:
        server.stream_delay = 0.02
        fake, sender, executor = slack(
            openai_api_key=SecretStr("sk-test"), openai_base_url=server.base_url
        )
        sender.event(
            envelope(mention("<@UBOT> Which service turns text into speech?", "100.4"), "Ev4")
        )
        executor.wait_idle(60)
        assert any(r.get("stream") for r in server.chat_requests)
    [started] = fake.posted("chat.startStream")
    ts = started.response["ts"]
    assert started.params["thread_ts"] == "100.4" and started.params["recipient_user_id"] == "U1"
    assert len(fake.posted("chat.appendStream")) >= 1 and fake.streams[ts].stopped
    assert fake.streamed_text(ts) == _long_reply("[1]")  # the draft, as the model wrote it
    [final] = fake.posted("chat.update")
    assert final.params["ts"] == ts
    text = _posted_text(final)
    assert "Amazon Polly is the AWS service that turns text into lifelike speech" in text
    assert "Extracted" not in text and fake.posted("chat.postMessage") == []


def test_a_streamed_draft_without_a_citation_is_replaced_by_an_extractive_answer(slack):
    with FakeOpenAI(lambda request: _long_reply("(source: trust me)")) as server:
        fake, sender, executor = slack(
            openai_api_key=SecretStr("sk-test"), openai_base_url=server.base_url
        )
        sender.event(
            envelope(mention("<@UBOT> Which service turns text into speech?", "100.5"), "Ev5")
        )
        executor.wait_idle(60)
    [started] = fake.posted("chat.startStream")
    assert "trust me" in fake.streamed_text(started.response["ts"])  # it was shown as a draft
    [final] = fake.posted("chat.update")  # ... and the citation check replaced it
    text = _posted_text(final)
    assert "trust me" not in text and "Polly" in text
