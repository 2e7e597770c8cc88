"""Signs of work, as a learner sees them: Slack's AI status while an answer is written (cleared
after), 👀 where there is no status, and an LLM answer streamed, then replaced by the final one.

Over signed requests into the app and the fake Web API; the service is the test double of
tests/test_slack_app.py (its `drafts` play a model writing).
"""

from __future__ import annotations

from bot.slack.progress import LOADING_MESSAGES, STATUS
from tests import test_slack_app
from tests.test_slack_app import BOT, mention, message

fake = test_slack_app.fake
make_harness = test_slack_app.make_harness
harness = test_slack_app.harness

SET_STATUS = "assistant.threads.setStatus"


def test_set_status_is_shown_before_a_slow_answer_and_cleared_after(harness):
    harness.service.delay = 0.6
    root = "1700000300.000100"
    harness.send(mention(f"<@{BOT}> a slow one", root), "EvStatus")
    harness.settle()
    calls = [c for c in harness.fake.calls() if c.method != "auth.test"]
    assert [c.method for c in calls] == [SET_STATUS, "chat.postMessage", SET_STATUS]
    shown, posted, cleared = calls
    assert shown.params["status"] == STATUS and shown.params["loading_messages"] == LOADING_MESSAGES
    assert (shown.params["channel_id"], shown.params["thread_ts"]) == ("C1", root)
    assert posted.params["thread_ts"] == root  # the answer goes to the thread the status is in
    assert cleared.params["status"] == ""
    arrived = [harness.fake.received_at(c) for c in calls]
    assert arrived[1] - arrived[0] >= 0.5  # the status was up while the answer was written


def test_the_status_is_cleared_when_the_answer_fails_too(harness):
    harness.service.error = RuntimeError("store down")
    harness.send(mention(f"<@{BOT}> boom", "1700000310.000100"), "EvStatusFail")
    harness.settle()
    statuses = [c.params["status"] for c in harness.fake.calls(SET_STATUS)]
    assert statuses == [STATUS, ""]


def test_eyes_where_slack_gives_no_status(harness):
    # a top-level DM has no thread to show a status in
    harness.send(message("hi there", "1700000320.000100", channel="D1", channel_type="im"), "EvDm")
    # and where Slack refuses the status (an older workspace, a missing scope), 👀 instead
    harness.fake.fail(SET_STATUS, "missing_scope")
    harness.send(mention(f"<@{BOT}> no status", "1700000320.000200"), "EvNoStatus")
    harness.settle()
    assert [c.params["timestamp"] for c in harness.fake.calls("reactions.add")] == [
        "1700000320.000100",
        "1700000320.000200",
    ]
    assert len(harness.fake.calls("reactions.remove")) == 2
    assert len(harness.fake.posted()) == 2


def test_an_llm_answer_is_streamed_then_replaced_by_the_checked_answer(harness):
    draft = ["SageMaker automatic model tuning ", "runs many training jobs " * 8, "[1] NOT_COV"]
    harness.service.drafts = draft
    root = "1700000330.000100"
    harness.send(mention(f"<@{BOT}> what does AMT do?", root), "EvStream")
    harness.settle()
    [started] = harness.fake.posted("chat.startStream")
    ts = started.response["ts"]
    stream = harness.fake.streams[ts]
    assert stream.thread_ts == root and stream.recipient_user_id == "U1"
    assert started.params["recipient_team_id"] == "T111"
    assert harness.fake.streamed_text(ts) == "".join(draft)  # every piece of the draft arrived
    assert stream.stopped
    [final] = harness.fake.posted("chat.update")  # the citation-checked answer replaces it
    assert final.params["ts"] == ts and final.params["channel"] == "C1"
    assert "NOT_COV" not in str(final.blocks) and "SageMaker AMT" in final.blocks[0]["text"]["text"]
    assert any(b["type"] == "actions" for b in final.blocks)  # with its feedback buttons
    assert harness.fake.posted("chat.postMessage") == []  # posted once: the stream
    assert harness.records.is_bot_thread("C1", root)
    methods = harness.api_methods()
    assert methods[0] == SET_STATUS and methods[-1] == SET_STATUS  # status around it all


def test_a_short_draft_is_not_streamed(harness):
    harness.service.drafts = ["Short."]  # below one streaming buffer: nothing to stream yet
    harness.send(mention(f"<@{BOT}> short?", "1700000340.000100"), "EvShort")
    harness.settle()
    assert harness.fake.calls("chat.startStream") == []
    assert len(harness.fake.posted("chat.postMessage")) == 1


def test_offline_answers_are_not_streamed(harness):
    harness.send(mention(f"<@{BOT}> offline", "1700000350.000100"), "EvOffline")
    harness.settle()
    assert harness.fake.calls("chat.startStream") == []
    assert [c.method for c in harness.fake.posted()] == ["chat.postMessage"]


def test_a_slash_question_shows_searching_in_the_ack(harness):
    body = test_slack_app.command_body(
        "what does Neo do?", response_url=harness.fake.response_url("q")
    )
    reply = harness.sender.form(body)
    assert reply.json()["text"] == "🔎 Searching the study guide…"
    assert reply.json()["blocks"][0]["text"]["text"].endswith(">what does Neo do?")
    harness.settle()
    assert harness.fake.calls(SET_STATUS) == []  # no thread: the ack is the sign of work
