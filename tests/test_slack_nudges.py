"""Opt-in nudges in Slack, over signed requests into the app, the real quiz service on a seeded
bank and the fake Web API (the harness of tests/test_quiz_slack.py): `/study remind` and the
reminder DM (sent once), `/study leaderboard` and the weekly post (posted once).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from bot.nudges import NudgeDriver
from bot.slack.app import background_of
from bot.slack.nudge_blocks import REVIEW_NOW
from tests import test_quiz_slack
from tests.test_quiz_slack import all_text, correct_of

make_harness = test_quiz_slack.make_harness
harness = test_quiz_slack.harness


def test_a_due_review_reminder_is_sent_once(make_harness):
    now = [datetime.now(UTC)]
    harness = make_harness(clock=lambda: now[0])
    reply = harness.command("remind on 08:00 UTC", user="U1")
    assert reply.body == ""
    harness.settle()
    said = harness.fake.calls("response_url")[-1].params
    assert said["response_type"] == "ephemeral" and "08:00 UTC" in said["text"]
    quiz = harness.quiz
    shown = quiz.next_question("U1", "C1")
    wrong = [(correct_of(harness.records, shown.token)[0] + 1) % 4]
    quiz.answer(shown.token, "U1", wrong)  # a miss: its review falls due soon
    nudges = next(b for b in background_of(harness.app) if isinstance(b, NudgeDriver))
    now[0] = now[0].replace(hour=8, minute=5) + timedelta(days=1)  # the next morning
    sent, _ = nudges.tick(now[0])
    assert [s.user_id for s in sent] == ["U1"]
    again, _ = nudges.tick(now[0] + timedelta(minutes=5))
    assert again == []
    (dm,) = harness.fake.posted("chat.postMessage")
    assert dm.params["channel"] == "D1" and "1 review is due today" in all_text(dm.blocks)
    start = next(b for b in dm.blocks if b["type"] == "actions")["elements"][0]
    assert start["action_id"] == REVIEW_NOW
    harness.click(_review_click("U1"))  # "Start reviewing": the due review, in the DM
    harness.settle()
    question = harness.questions_posted()[-1]
    assert question.params["channel"] == "D1" and "🔁 Review" in all_text(question.blocks)
    harness.command("remind off", user="U1")
    harness.settle()
    assert nudges.tick(now[0] + timedelta(days=1)) == ([], [])


def _review_click(user: str) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "container": {"type": "message", "channel_id": f"D{user[1:]}"},
        "channel": {"id": f"D{user[1:]}"},
        "trigger_id": "review.1",
        "response_url": "https://hooks.slack.com/actions/T111/1/x",
        "actions": [{"action_id": REVIEW_NOW, "value": "review", "type": "button"}],
    }
    return "payload=" + quote(json.dumps(payload))


def test_a_weekly_leaderboard_is_opt_in_per_channel_and_posted_once(harness):
    quiz = harness.quiz
    for user, right in (("U1", 5), ("U2", 3)):
        for i in range(5):
            shown = quiz.next_question(user, "C1")
            good = correct_of(harness.records, shown.token)
            quiz.answer(shown.token, user, good if i < right else [9]) if False else None
            picks = good if i < right else ([(good[0] + 1) % 4] if len(good) == 1 else [0, 2])
            quiz.answer(shown.token, user, picks)
    harness.command("leaderboard", channel="C1")
    harness.settle()
    shown_now = harness.fake.calls("response_url")[-1].params
    assert shown_now["response_type"] == "ephemeral"
    text = all_text(shown_now["blocks"])
    assert text.index("<@U1>") < text.index("<@U2>") and "5/5 correct (100%)" in text
    harness.command("leaderboard on 09:00 UTC", channel="C1", user="U9")
    harness.settle()
    said = harness.fake.calls("response_url")[-1].params
    assert said["response_type"] == "in_channel" and "Mondays at 09:00 UTC" in said["text"]
    nudges = next(b for b in background_of(harness.app) if isinstance(b, NudgeDriver))
    now = datetime.now(UTC)
    monday = (now + timedelta(days=7 - now.weekday())).replace(hour=9, minute=5)
    _, boards = nudges.tick(monday)
    _, again = nudges.tick(monday + timedelta(minutes=10))
    assert [b.channel_id for b in boards] == ["C1"] and again == []
    (post,) = harness.fake.posted("chat.postMessage")
    assert post.params["channel"] == "C1" and "Weekly leaderboard" in all_text(post.blocks)
