"""The agent panel (Slack's assistant view) over signed requests and the fake Web API.

A new panel thread gets a greeting and suggested prompts; a learner's message there gets a
title for the thread, Slack's AI status while the answer is written, and the answer in the
thread, through the same service path as a mention. Quiz and progress requests in the panel
are in tests/test_quiz_slack.py (they need the real quiz).
"""

from __future__ import annotations

from bot.slack.listeners.events.assistant import intent_of, suggested_prompts
from knowledge.blueprint import load_blueprint
from tests import test_slack_app

fake = test_slack_app.fake
make_harness = test_slack_app.make_harness
harness = test_slack_app.harness

ROOT = "1700000400.000100"


def thread_started(thread_ts: str = ROOT, *, context: dict | None = None) -> dict:
    return {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": "U1",
            "context": context or {},
            "channel_id": "D1",
            "thread_ts": thread_ts,
        },
        "event_ts": thread_ts,
    }


def panel_message(text: str, ts: str, thread_ts: str = ROOT) -> dict:
    return {
        "type": "message",
        "user": "U1",
        "text": text,
        "ts": ts,
        "thread_ts": thread_ts,
        "channel": "D1",
        "channel_type": "im",
        "event_ts": ts,
    }


def test_a_new_panel_thread_gets_a_greeting_and_suggested_prompts(harness):
    harness.send(thread_started(context={"channel_id": "C1", "team_id": "T111"}), "EvStart")
    harness.settle()
    [greeting] = harness.fake.posted()
    assert (greeting.params["channel"], greeting.params["thread_ts"]) == ("D1", ROOT)
    assert greeting.params["text"].startswith("Hi <@U1>! I'm studybot")
    assert "AWS Certified Machine Learning - Specialty" in greeting.params["text"]
    [prompts] = harness.fake.posted("assistant.threads.setSuggestedPrompts")
    assert (prompts.params["channel_id"], prompts.params["thread_ts"]) == ("D1", ROOT)
    titles = [p["title"] for p in prompts.params["prompts"]]
    assert titles == ["Quiz me", "Quiz me on Domain 3", "How am I doing?", "What is on the exam?"]
    assert harness.service.calls == []


def test_a_question_in_the_panel_is_titled_shown_as_work_and_answered_in_its_thread(harness):
    harness.send(panel_message("What does SageMaker AMT tune?", "1700000400.000200"), "EvP1")
    harness.settle()
    methods = harness.api_methods()
    assert methods == [
        "assistant.threads.setTitle",
        "assistant.threads.setStatus",
        "chat.postMessage",
        "assistant.threads.setStatus",
    ]
    [title] = harness.fake.posted("assistant.threads.setTitle")
    assert title.params["title"] == "What does SageMaker AMT tune?"
    [answer] = harness.fake.posted()
    assert (answer.params["channel"], answer.params["thread_ts"]) == ("D1", ROOT)
    assert [c.question for c in harness.service.calls] == ["What does SageMaker AMT tune?"]
    # the next message in the thread is a follow-up with context, and keeps the title
    harness.send(panel_message("and for XGBoost?", "1700000400.000300"), "EvP2")
    harness.settle()
    assert harness.service.calls[-1].thread == ROOT
    assert len(harness.fake.posted("assistant.threads.setTitle")) == 1
    assert "earlier question(s): What does SageMaker AMT tune?" in harness.posted_texts()[-1]


def test_a_retried_panel_message_is_answered_once(harness):
    event = panel_message("What is a confusion matrix?", "1700000400.000400")
    harness.send(event, "EvP3")
    harness.send(event, "EvP3", retry_num=1)
    harness.settle()
    assert len(harness.fake.posted()) == 1


def test_panel_intents_and_prompts_follow_the_blueprint():
    bp = load_blueprint("mls-c01")
    assert intent_of("Quiz me", bp).kind == "quiz" and intent_of("Quiz me", bp).domain is None
    assert intent_of("Quiz me on domain 2 (Exploratory Data Analysis)", bp).domain == 2
    assert intent_of("quiz me on modeling", bp).domain == 3
    assert intent_of("How am I doing?", bp).kind == "progress"
    assert intent_of("What does a quiz on Neo look like?", bp).kind == "ask"
    for prompt in suggested_prompts(bp):  # each prompt means what its title says
        wanted = {"Quiz me": "quiz", "How am I doing?": "progress"}.get(prompt["title"], "")
        kind = intent_of(prompt["message"], bp).kind
        assert kind == (wanted or ("quiz" if prompt["title"].startswith("Quiz") else "ask"))
