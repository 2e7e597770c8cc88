"""A channel chooses its exam, as Slack uses it: `/study exam-guide mla-c01` through signed
requests, then answers, quiz questions, stats and `/study me` in that channel use MLA-C01's
domains, while the default channel keeps MLS-C01's; one learner keeps separate progress."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot import quiz_bank
from bot.records import Records
from bot.service import StudyService
from bot.slack.app import create_app
from bot.slack.runner import HttpRunner
from knowledge.blueprint import load_blueprint
from knowledge.question import Question
from tests.fakes.slack_api import SlackSender
from tests.test_quiz_slack import (  # noqa: F401  (fixtures)
    click_body,
    correct_of,
    make_harness,
    token_of,
)
from tests.test_slack_app import (
    SECRET,
    DrainableExecutor,
    command_body,
    envelope,
    mention,
    settings_for,
)
from tests.test_slack_e2e import _posted_text, slack  # noqa: F401  (the fixture)

MLA, MLS = load_blueprint("mla-c01"), load_blueprint("mls-c01")
MLA_NAMES = [d.name for d in MLA.domains]
MLS_NAMES = [d.name for d in MLS.domains]
LEAD = "ULEAD"


def mla_questions(per_domain: int = 4) -> list[Question]:
    """Single-answer MLA-C01 questions, distinct wording, one objective per domain."""
    out = []
    for d in MLA.domains:
        for i in range(per_domain):
            w = f"mla{d.id}x{i}"
            out.append(
                Question(
                    stem=f"Which service runs the {w} pipeline step for {d.name}?",
                    options=[f"Choice {w} {k}" for k in range(4)],
                    correct=[i % 4],
                    explanation=f"The {w} step runs on the service the notes name.",
                    chunk_ids=[f"chunk-{w}"],
                    source="notes/mla-c01/x.md",
                    title=f"{d.name}: {w}",
                    domain=d.id,
                    objective=d.objectives[0].id,
                    format="single",
                    choose=1,
                    generator="offline:test",
                )
            )
    return out


@pytest.fixture
def exams(make_harness, tmp_path):  # noqa: F811
    """The quiz harness (seeded MLS-C01 bank) plus an MLA-C01 bank, with a team lead."""
    h = make_harness()
    quiz_bank.insert_questions(h.records, mla_questions(), MLA.id, datetime.now(UTC))
    # the harness app has no lead; a second app over the same records has one
    settings = settings_for(h.fake, tmp_path, lead_user_ids=[LEAD])
    service = StudyService(settings, records=h.records, blueprint=MLS, quiz=h.quiz)
    executor = DrainableExecutor()
    app = create_app(settings, service, h.records, executor=executor)
    runner = HttpRunner(app, host="127.0.0.1", port=0)
    runner.start_in_thread()
    h.sender = SlackSender(f"{runner.url}/slack/events", SECRET)
    h.executor = executor
    yield h
    runner.stop()
    executor.shutdown(wait=True)


def _command(h, text: str, *, user: str = "U1", channel: str = "C1") -> dict | None:
    body = command_body(text, user=user, channel=channel, response_url=h.fake.response_url())
    reply = h.sender.form(body)
    assert reply.status == 200
    h.settle()
    return reply.json() if reply.body else None


def _answer_one_quiz_question(h, channel: str) -> str:
    """`/study quiz` in `channel`, then the right answer clicked; returns the question's text."""
    before = len(h.questions_shown())
    _command(h, "quiz", channel=channel)
    shown = h.questions_shown()[before]
    token = token_of(shown)
    (right,) = correct_of(h.records, token)
    h.click(click_body(shown.blocks, user="U1", choices=[right], channel=channel, message_ts="1.2"))
    h.settle()
    return json.dumps(shown.blocks, ensure_ascii=False)


def test_a_channel_switched_to_mla_gets_mla_quiz_questions_stats_and_progress(exams):
    h = exams
    shown = _command(h, "exam-guide")
    assert "MLS-C01" in shown["text"] and "/study exam-guide mla-c01" in shown["text"]
    switched = _command(h, "exam-guide mla-c01", channel="C2")
    assert switched["response_type"] == "in_channel" and "(MLA-C01)" in switched["text"]
    assert "65 questions in 130 minutes" in switched["text"]
    assert "MLA-C01" in _command(h, "exam-guide", channel="C2")["text"]
    refused = _command(h, "exam-guide azure-ai", channel="C2")
    assert "pick one of" in refused["text"] and "mla-c01" in refused["text"]

    mla_question = _answer_one_quiz_question(h, "C2")
    assert any(name in mla_question for name in MLA_NAMES)
    assert not any(name in mla_question for name in MLS_NAMES)
    mls_question = _answer_one_quiz_question(h, "C1")
    assert any(name in mls_question for name in MLS_NAMES)

    # the lead's stats in the MLA channel name MLA-C01's domains, not MLS-C01's
    _command(h, "stats 7d", user=LEAD, channel="C2")
    [stats] = [c for c in h.fake.calls("response_url") if "Quiz answers" in json.dumps(c.blocks)]
    text = json.dumps(stats.blocks, ensure_ascii=False)
    assert all(name in text for name in MLA_NAMES[:2]) and not any(n in text for n in MLS_NAMES)
    assert "*Quiz answers*\\n1" in text

    # one learner, two exams: each channel's /study me counts only its exam's answer
    for channel, names, others in (("C2", MLA_NAMES, MLS_NAMES), ("C1", MLS_NAMES, MLA_NAMES)):
        before = len(h.fake.calls("response_url"))
        _command(h, "me", channel=channel)
        me = h.fake.calls("response_url")[before:]
        text = json.dumps([c.blocks for c in me], ensure_ascii=False)
        assert any(n in text for n in names) and not any(n in text for n in others)
        assert "*Quiz answers*\\n1 (100% correct)" in text  # not 2: the other exam's answer


def test_answers_in_an_mla_channel_carry_mla_domain_tags(slack):  # noqa: F811
    fake, sender, executor = slack()
    reply = sender.form(command_body("exam-guide mla-c01", channel="C2"))
    assert reply.status == 200 and "MLA-C01" in reply.json()["text"]
    question = "<@UBOT> Which service turns text into lifelike speech?"
    sender.event(envelope(mention(question, "200.1", channel="C2"), "EvMla"))
    sender.event(envelope(mention(question, "200.2", channel="C1"), "EvMls"))
    executor.wait_idle(60)
    posts = {p.params["channel"]: _posted_text(p) for p in fake.posted("chat.postMessage")}
    assert "Polly" in posts["C2"] and "Polly" in posts["C1"]
    assert any(f"· {name} ·" in posts["C2"] for name in MLA_NAMES)
    assert not any(f"· {name} ·" in posts["C2"] for name in MLS_NAMES)
    assert "Domain 4 · Machine Learning Implementation and Operations" in posts["C1"]


def test_each_exam_has_its_own_bank_even_for_the_same_question(tmp_path):
    records = Records.from_url(f"sqlite:///{tmp_path / 'banks.db'}")
    records.upgrade()
    try:
        same = mla_questions(1)
        now = datetime.now(UTC)
        assert quiz_bank.insert_questions(records, same, MLS.id, now) == len(same)
        assert quiz_bank.insert_questions(records, same, MLA.id, now) == len(same)
        assert quiz_bank.insert_questions(records, same, MLA.id, now) == 0  # a refill
        assert quiz_bank.bank_size(records, MLA.id) == quiz_bank.bank_size(records, MLS.id)
    finally:
        records.close()
