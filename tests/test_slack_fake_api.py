"""The fake Slack Web API answers like Slack, records calls, and injects failures."""

from __future__ import annotations

import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from tests.fakes.slack_api import FakeSlackAPI


@pytest.fixture
def fake():
    with FakeSlackAPI() as api:
        yield api


@pytest.fixture
def client(fake):
    return WebClient(token=fake.token, base_url=fake.base_url, retry_handlers=[])


def test_answers_like_slack_and_records_every_call(fake, client):
    assert client.auth_test()["user_id"] == "UBOT"
    first = client.chat_postMessage(channel="C1", text="hi", thread_ts="1.0")
    second = client.chat_postMessage(channel="C1", text="-", blocks=[{"type": "divider"}])
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["thread_ts"] == "1.0"
    assert client.chat_update(channel="C1", ts=first["ts"], text="edited")["ts"] == first["ts"]
    assert client.chat_postEphemeral(channel="C1", user="U1", text="psst")["message_ts"]
    client.reactions_add(channel="C1", timestamp=first["ts"], name="eyes")
    client.reactions_remove(channel="C1", timestamp=first["ts"], name="eyes")
    assert client.views_publish(user_id="U1", view={"type": "home", "blocks": []})["view"]["id"]
    assert client.users_info(user="U1")["user"]["id"] == "U1"
    assert client.conversations_info(channel="D1")["channel"]["is_im"] is True
    assert fake.methods() == [
        "auth.test",
        "chat.postMessage",
        "chat.postMessage",
        "chat.update",
        "chat.postEphemeral",
        "reactions.add",
        "reactions.remove",
        "views.publish",
        "users.info",
        "conversations.info",
    ]
    post = fake.calls("chat.postMessage")[1]
    assert post.blocks == [{"type": "divider"}]
    assert post.headers["authorization"] == f"Bearer {fake.token}"
    with pytest.raises(SlackApiError, match="unknown_method"):
        client.api_call("nope.never")


def test_file_upload_v2_stores_the_bytes(fake, client):
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    client.files_upload_v2(
        channel="C1", content=data, filename="chart.png", title="Chart", initial_comment="This week"
    )
    [upload] = fake.uploads.values()
    assert upload["bytes"] == data
    assert (upload["filename"], upload["title"], upload["channel_id"]) == (
        "chart.png",
        "Chart",
        "C1",
    )
    assert upload["completed"] is True


def test_rate_limit_and_errors_are_injected(fake):
    retrying = WebClient(
        token=fake.token,
        base_url=fake.base_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    fake.rate_limit("chat.postMessage", retry_after=1)
    started = time.monotonic()
    assert retrying.chat_postMessage(channel="C1", text="x")["ok"]
    assert time.monotonic() - started >= 1.0
    assert [c.status for c in fake.calls("chat.postMessage")] == [429, 200]
    assert fake.calls("chat.postMessage")[0].response["error"] == "ratelimited"

    fake.fail("chat.postMessage", "invalid_auth", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError, match="invalid_auth"):
            retrying.chat_postMessage(channel="C1", text="x")
    assert retrying.chat_postMessage(channel="C1", text="x")["ok"]
    assert len(fake.posted()) == 2


def test_a_wrong_token_is_invalid_auth(fake):
    with pytest.raises(SlackApiError, match="invalid_auth"):
        WebClient(token="xoxb-wrong", base_url=fake.base_url).auth_test()


def test_response_url_and_wait_for(fake):
    WebhookClient(fake.response_url("x")).send(text="ephemeral", response_type="ephemeral")
    [hook] = fake.wait_for("response_url", 1, timeout=2)
    assert hook.params == {"text": "ephemeral", "response_type": "ephemeral"}
    with pytest.raises(AssertionError, match="expected 1 chat.update"):
        fake.wait_for("chat.update", 1, timeout=0.1)
    fake.reset()
    assert fake.calls() == []


def test_ai_app_and_streaming_methods_are_answered_and_recorded(fake, client):
    client.assistant_threads_setStatus(channel_id="D1", thread_ts="1.0", status="is thinking…")
    client.assistant_threads_setStatus(channel_id="D1", thread_ts="1.0", status="")
    client.assistant_threads_setTitle(channel_id="D1", thread_ts="1.0", title="Neo")
    prompts = [{"title": "Quiz me", "message": "Quiz me"}]
    client.assistant_threads_setSuggestedPrompts(channel_id="D1", thread_ts="1.0", prompts=prompts)
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.assistant_threads_setSuggestedPrompts(channel_id="D1", prompts=prompts * 5)
    stream = client.chat_stream(
        channel="C1",
        thread_ts="1.0",
        recipient_team_id="T111",
        recipient_user_id="U1",
        buffer_size=5,
    )
    stream.append(markdown_text="Neo compiles ")
    stream.append(markdown_text="models.")
    stream.stop()
    ts = fake.posted("chat.startStream")[0].response["ts"]
    assert fake.streamed_text(ts) == "Neo compiles models."
    assert fake.streams[ts].stopped and fake.streams[ts].recipient_user_id == "U1"
    assert [c.params["status"] for c in fake.calls("assistant.threads.setStatus")] == [
        "is thinking…",
        "",
    ]
    with pytest.raises(SlackApiError, match="message_not_in_streaming_state"):
        client.chat_appendStream(channel="C1", ts=ts, markdown_text="more")
    with pytest.raises(SlackApiError, match="missing_recipient_user_id"):
        client.chat_startStream(channel="C1", thread_ts="1.0")


def test_membership_decides_where_the_bot_may_post(fake, client):
    fake.channel("C9", is_member=False)
    fake.channel("G9", is_member=False, is_private=True, visible=False)
    with pytest.raises(SlackApiError, match="not_in_channel"):
        client.chat_postMessage(channel="C9", text="hi")
    assert client.conversations_info(channel="C9")["channel"]["is_member"] is False
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.conversations_info(channel="G9")
    with pytest.raises(SlackApiError, match="method_not_supported_for_channel_type"):
        client.conversations_join(channel="G9")
    client.conversations_join(channel="C9")
    assert client.chat_postMessage(channel="C9", text="hi")["ok"]
    assert client.conversations_open(users="U7")["channel"]["id"] == "D7"
