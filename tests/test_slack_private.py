"""Private by default, as a learner sees it over signed requests and the fake Web API.

`/study <question>` is answered to the asker only (the command's response URL) with a working
"Share in channel" button; feedback buttons show they were clicked and a 👎 asks why; the
database's details (host, port) never reach a user.
"""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa

from bot.records import RECORDS_UNAVAILABLE, Records
from bot.slack.blocks import FEEDBACK_DOWN, FEEDBACK_UP, REASON_PREFIX, SHARE_ANSWER
from bot.slack.listeners.actions.feedback import THANKS
from bot.slack.listeners.actions.sharing import NOT_YOURS
from tests import test_slack_app
from tests.test_slack_app import BOT, action_body, command_body, count_feedback, mention, message

# the Slack harness over signed HTTP and the fake Web API (fixtures of tests/test_slack_app.py)
fake = test_slack_app.fake
make_harness = test_slack_app.make_harness
harness = test_slack_app.harness


def _buttons(blocks: list[dict]) -> dict[str, dict]:
    return {
        e["action_id"]: e
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("type") == "button"
    }


def _ask_privately(harness, text: str, *, user: str = "U1", channel: str = "C1") -> dict:
    """`/study <text>`: the private answer posted to the command's response URL."""
    url = harness.fake.response_url(f"cmd-{user}")
    reply = harness.sender.form(command_body(text, user=user, channel=channel, response_url=url))
    assert reply.status == 200 and reply.json()["response_type"] == "ephemeral"
    harness.settle()
    return harness.fake.calls("response_url")[-1].params


def test_a_question_without_ask_is_answered_privately_with_a_share_button(harness):
    answer = _ask_privately(harness, "what does Neo do?")
    assert harness.service.calls[0].question == "what does Neo do?"
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert answer["blocks"][0]["text"]["text"] == "You asked:\n>what does Neo do?"
    assert "SageMaker AMT" in json.dumps(answer["blocks"])
    assert set(_buttons(answer["blocks"])) == {FEEDBACK_UP, FEEDBACK_DOWN, SHARE_ANSWER}
    assert harness.fake.calls("chat.postMessage") == []  # nothing public


def test_share_posts_the_answer_in_the_channel_and_its_thread_takes_follow_ups(harness):
    answer = _ask_privately(harness, "What does AMT tune?")
    share = _buttons(answer["blocks"])[SHARE_ANSWER]
    hook = harness.fake.response_url("share")
    body = action_body(SHARE_ANSWER, share["value"], user="U1", response_url=hook, ephemeral=True)
    assert harness.sender.form(body).status == 200
    harness.settle()
    [post] = harness.fake.posted()
    assert post.params["channel"] == "C1" and "thread_ts" not in post.params
    assert post.blocks[0]["text"]["text"] == "<@U1> asked:\n>What does AMT tune?"
    assert set(_buttons(post.blocks)) == {FEEDBACK_UP, FEEDBACK_DOWN}  # shared: no Share
    [deleted] = [c for c in harness.fake.calls("response_url") if c.params.get("delete_original")]
    assert deleted.hook == "share"  # the private copy is removed
    root = post.response["ts"]
    harness.send(message("and which metric?", "1700000210.000200", thread_ts=root), "EvShare2")
    harness.settle()
    assert harness.service.calls[-1].thread == root  # a follow-up, with the thread's context
    assert "earlier question(s): What does AMT tune?" in harness.posted_texts()[-1]


def test_only_the_asker_can_share_and_sharing_works_where_the_bot_is_not_a_member(harness):
    harness.fake.channel("C7", is_member=False)
    answer = _ask_privately(harness, "What is a confusion matrix?", channel="C7")
    value = _buttons(answer["blocks"])[SHARE_ANSWER]["value"]
    hook = harness.fake.response_url("other")
    harness.sender.form(
        action_body(SHARE_ANSWER, value, user="U2", channel="C7", response_url=hook)
    )
    harness.settle()
    refused = harness.fake.calls("response_url")[-1].params
    assert NOT_YOURS in refused["text"] and refused["response_type"] == "ephemeral"
    hook = harness.fake.response_url("mine")
    harness.sender.form(
        action_body(SHARE_ANSWER, value, user="U1", channel="C7", response_url=hook)
    )
    harness.settle()
    assert harness.fake.posted() == []  # not a member: chat.postMessage was refused ...
    shared = [c.params for c in harness.fake.calls("response_url") if c.hook == "mine"]
    assert shared[0]["response_type"] == "in_channel"  # ... so it went through the response URL
    assert shared[0]["blocks"][0]["text"]["text"].startswith("<@U1> asked:")
    assert shared[1].get("delete_original") is True


def test_feedback_buttons_show_the_votes_and_a_thumbs_down_asks_why(harness):
    harness.send(mention(f"<@{BOT}> rate me", "1700000220.000100"), "EvFb")
    harness.settle()
    [post] = harness.fake.posted()
    ask_id = _buttons(post.blocks)[FEEDBACK_UP]["value"]
    original = {"ts": post.response["ts"], "type": "message", "text": "x", "blocks": post.blocks}
    hook = harness.fake.response_url("fb")
    for user, action in (("U2", FEEDBACK_UP), ("U3", FEEDBACK_DOWN)):
        body = action_body(action, ask_id, user=user, message=original, response_url=hook)
        assert harness.sender.form(body).status == 200
        harness.settle()
    assert sorted(count_feedback(harness.records)) == [
        (int(ask_id), "U2", 1),
        (int(ask_id), "U3", -1),
    ]
    updated = harness.fake.posted("chat.update")[-1]  # the public answer shows the votes
    labels = [e["text"]["text"] for e in _buttons(updated.blocks).values()]
    assert labels == ["👍 Helpful · 1", "👎 Not helpful · 1"]
    thanks, why = [c.params for c in harness.fake.calls("response_url")]
    assert thanks["text"] == THANKS and thanks["response_type"] == "ephemeral"
    reasons = _buttons(why["blocks"])
    assert set(reasons) == {f"{REASON_PREFIX}{r}" for r in ("wrong", "not_helpful", "off_topic")}
    body = action_body(f"{REASON_PREFIX}off_topic", ask_id, user="U3", response_url=hook)
    harness.sender.form(body)
    harness.settle()
    noted = harness.fake.calls("response_url")[-1].params
    assert noted["replace_original"] is True and "off-topic" in noted["text"]
    with harness.records.engine.connect() as conn:
        reason = conn.execute(sa.text("SELECT reason FROM feedback WHERE user_id = 'U3'")).scalar()
    assert reason == "off_topic"
    stats = harness.service.channel_stats("C1", "7d")
    assert stats.feedback.helpful == 1 and stats.feedback.reasons["off_topic"] == 1


def test_feedback_on_a_private_answer_highlights_the_learners_choice(harness):
    answer = _ask_privately(harness, "What is SMOTE?")
    ask_id = _buttons(answer["blocks"])[FEEDBACK_DOWN]["value"]
    hook = harness.fake.response_url("private-fb")
    body = action_body(FEEDBACK_DOWN, ask_id, user="U1", response_url=hook, ephemeral=True)
    harness.sender.form(body)
    harness.settle()
    redrawn = next(
        c.params for c in harness.fake.calls("response_url") if c.params["replace_original"]
    )
    buttons = _buttons(redrawn["blocks"])
    assert buttons[FEEDBACK_DOWN]["style"] == "danger" and "style" not in buttons[FEEDBACK_UP]
    assert buttons[FEEDBACK_DOWN]["text"]["text"] == "👎 Not helpful · 1"
    assert SHARE_ANSWER in buttons  # still the asker's to share
    assert harness.fake.calls("chat.postEphemeral") == []  # everything went through the URL


def test_database_details_never_reach_users(make_harness, caplog):
    """`/study me`, `/study stats` and a question with the records down: one generic line for
    the user, the host and port only in the log."""
    down = Records.from_url("postgresql+psycopg://studybot@127.0.0.1:9/records")
    h = make_harness(records=down, lead_user_ids=["U1"])
    with caplog.at_level(logging.ERROR):
        for text in ("me", "stats", "what is Neo?"):
            h.sender.form(command_body(text, response_url=h.fake.response_url(text.split()[0])))
        h.settle()
    replies = {c.hook: c.params for c in h.fake.calls("response_url")}
    assert set(replies) == {"me", "stats", "what"}
    for said in replies.values():
        shown = json.dumps(said)
        assert "127.0.0.1" not in shown and ":9" not in shown and "psycopg" not in shown
    assert replies["me"]["text"] == replies["stats"]["text"] == RECORDS_UNAVAILABLE
    # the question is still answered (it needs no records), just without feedback buttons
    assert "SageMaker AMT" in replies["what"]["text"] and not _buttons(replies["what"]["blocks"])
    assert any("127.0.0.1" in r.getMessage() for r in caplog.records)  # the operator's details
