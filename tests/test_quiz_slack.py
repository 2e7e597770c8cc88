"""Quiz in Slack, as Slack uses it: signed HTTP into the app's HTTP runner, a fake Slack Web API.

The core is the real `bot.service.StudyService` with the real `bot.quiz_service.QuizService` on a
seeded question bank (SQLite file or a throwaway PostgreSQL schema); only the knowledge store
behind on-demand gap filling is a stub that reports "nothing ingested", so no model is loaded.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote

import pytest
import sqlalchemy as sa
from fsrs import Scheduler

from bot import quiz_bank
from bot.daily import DailyDriver, Schedule
from bot.quiz_service import (
    DailyRecap,
    ExamProgress,
    ExamResult,
    Grade,
    PublicQuestion,
    QuizService,
    ShownQuestion,
)
from bot.records import QuizAttempt, QuizPost, Records
from bot.service import StudyService
from bot.slack.app import background_of, create_app
from bot.slack.blocks import MAX_BLOCKS, SECTION_LIMIT, blocks_to_dicts
from bot.slack.listeners.actions.quiz_answers import PICK_FIRST, Click, parse_click
from bot.slack.listeners.commands.quiz import EXAM_USAGE, parse_exam_args, parse_quiz_args
from bot.slack.quiz_blocks import (
    ANSWER_PREFIX,
    LABEL_LIMIT,
    PICK,
    SHARE_RESULT,
    SUBMIT,
    answered_message,
    daily_blocks,
    exam_result_blocks,
    question_blocks,
    result_blocks,
)
from bot.slack.quiz_messages import REFUSALS
from bot.slack.runner import HttpRunner
from knowledge.blueprint import load_blueprint
from knowledge.question import Question
from knowledge.settings import Settings
from knowledge.types import DomainTag
from tests.fakes.slack_api import Call, FakeSlackAPI, SlackSender
from tests.test_quiz_service import EmptyStore
from tests.test_slack_app import SECRET, DrainableExecutor, command_body, envelope, settings_for

BLUEPRINT = load_blueprint("mls-c01")
DOMAIN = DomainTag(3, "Modeling", "3.4 Perform hyperparameter optimization")
_WORD_TEXT = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike november "
    "oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu amber beryl "
    "cobalt dune ember fjord glacier harbor iris jade kestrel lagoon meadow nimbus opal prairie"
)
WORDS = _WORD_TEXT.split()
MULTI_DOMAIN = 4  # the seeded bank's "choose 2 of 5" questions all live in domain 4


# --------------------------------------------------------------------------- fakes and setup


class QuizFakeSlack(FakeSlackAPI):
    """FakeSlackAPI plus a receive time per call."""

    def __init__(self) -> None:
        super().__init__()
        self.received: dict[int, float] = {}  # id(call) -> time.monotonic() at arrival

    def _record(self, call: Call) -> None:
        self.received[id(call)] = time.monotonic()
        super()._record(call)


def seed_questions(per_domain: int = 6) -> list[Question]:
    """Single-answer questions in domains 1–3, "choose 2 of 5" in domain 4; distinct wording."""
    words = iter(WORDS * 4)
    out = []
    for d in BLUEPRINT.domains:
        objective = d.objectives[0].id
        for i in range(per_domain):
            w = f"{next(words)}{d.id}{i}"
            multi = d.id == MULTI_DOMAIN
            n = 5 if multi else 4
            options = [f"Option {w} {k} {WORDS[(k * 7 + i) % len(WORDS)]}" for k in range(n)]
            source = f"https://docs.aws.amazon.com/sagemaker/{w}.html" if i % 2 else "guide.md"
            out.append(
                Question(
                    stem=f"Which service handles the {w} workload in domain {d.name}?",
                    options=options,
                    correct=[1, 3] if multi else [i % 4],
                    explanation=f"The {w} workload runs on the service the guide names <here>.",
                    chunk_ids=[f"chunk-{w}"],
                    source=source,
                    title=f"{d.name}: {w}",
                    domain=d.id,
                    objective=objective,
                    format="multi" if multi else "single",
                    choose=2 if multi else 1,
                    generator="offline:test",
                )
            )
    return out


def seed_bank(records: Records, per_domain: int = 6) -> int:
    questions = seed_questions(per_domain)
    inserted = quiz_bank.insert_questions(records, questions, BLUEPRINT.id, datetime.now(UTC))
    assert inserted == len(questions)
    return inserted


def make_quiz(records: Records, tmp_path: Path, *, clock=None, seed: int = 7) -> QuizService:
    kwargs = {"clock": clock} if clock is not None else {}
    return QuizService(
        Settings(_env_file=None, data_dir=tmp_path / "data"),
        records,
        BLUEPRINT,
        store=EmptyStore(),
        rng=random.Random(seed),
        scheduler=Scheduler(enable_fuzzing=False),
        **kwargs,
    )


def service_for(quiz: QuizService) -> StudyService:
    """The real core facade the Slack app calls (`service.quiz`, `service.blueprint`)."""
    return StudyService(quiz.settings, records=quiz.records, blueprint=BLUEPRINT, quiz=quiz)


def correct_of(records: Records, token: str) -> list[int]:
    with records.engine.connect() as conn:
        qid = conn.execute(sa.select(QuizPost.question_id).where(QuizPost.token == token)).scalar()
    return list(quiz_bank.get_question(records, qid).correct)


def attempts(records: Records) -> list[tuple]:
    with records.engine.connect() as conn:
        return conn.execute(
            sa.select(QuizAttempt.post_id, QuizAttempt.user_id, QuizAttempt.correct)
        ).all()


@dataclass
class QuizHarness:
    fake: QuizFakeSlack
    records: Records
    quiz: QuizService
    app: object
    runner: HttpRunner
    executor: DrainableExecutor
    sender: SlackSender
    extra: list = field(default_factory=list)

    def settle(self, timeout: float = 30.0) -> None:
        self.executor.wait_idle(timeout)

    def command(self, text: str, *, user: str = "U1", channel: str = "C1"):
        body = command_body(text, user=user, channel=channel, response_url=self.fake.response_url())
        reply = self.sender.form(body)
        assert reply.status == 200, reply
        return reply

    def click(self, body: str):
        """Send a click; its response URL is the fake's (one per clicker: `hook` = user id)."""
        payload = json.loads(parse_qs(body)["payload"][0])
        payload["response_url"] = self.fake.response_url(payload["user"]["id"])
        return self.sender.form("payload=" + quote(json.dumps(payload)))

    def questions_posted(self) -> list[Call]:
        """Questions the bot posted as messages (the daily question, exams in the DM)."""
        return [c for c in self.fake.posted() if any(b["type"] == "actions" for b in c.blocks)]

    def questions_shown(self) -> list[Call]:
        """Questions shown privately through a response URL (`/study quiz`)."""
        return [c for c in self.fake.calls("response_url") if _has_controls(c.blocks)]

    def replies_to(self, user: str) -> list[dict]:
        """What the clicks of `user` got back through their response URL."""
        return [c.params for c in self.fake.calls("response_url") if c.hook == user]


def _has_controls(blocks: list[dict]) -> bool:
    return any(
        b["type"] == "actions" and str(b.get("block_id", "")).startswith("quiz_actions")
        for b in blocks
    )


@pytest.fixture
def make_harness(tmp_path):
    made: list[QuizHarness] = []

    def make(url: str | None = None, *, clock=None) -> QuizHarness:
        fake = QuizFakeSlack().start()
        records = Records.from_url(url or f"sqlite:///{tmp_path / f'quiz{len(made)}.db'}")
        records.upgrade()
        seed_bank(records)
        quiz = make_quiz(records, tmp_path, clock=clock)
        executor = DrainableExecutor()
        app = create_app(
            settings_for(fake, tmp_path), service_for(quiz), records, executor=executor
        )
        runner = HttpRunner(app, host="127.0.0.1", port=0)
        runner.start_in_thread()
        sender = SlackSender(f"{runner.url}/slack/events", SECRET)
        h = QuizHarness(fake, records, quiz, app, runner, executor, sender)
        made.append(h)
        return h

    yield make
    for h in made:
        h.runner.stop()
        h.executor.shutdown(wait=True)
        for helper in background_of(h.app):
            helper.stop()
        h.records.close()
        h.fake.stop()


@pytest.fixture
def harness(make_harness) -> QuizHarness:
    return make_harness()


# --------------------------------------------------------------------------- payloads


def click_body(
    call_or_blocks: Call | list[dict],
    *,
    user: str,
    choices: list[int] | None = None,
    submit: bool = False,
    token: str | None = None,
    channel: str | None = None,
    message_ts: str | None = None,
) -> str:
    """A block_actions payload as Slack sends it for a click on a posted question.

    `choices`: the button index (single) or the ticked checkboxes (with `submit=True`).
    `token` replaces the button's value (a tampered or stale token).
    """
    if isinstance(call_or_blocks, Call):
        blocks = call_or_blocks.blocks
        channel = channel or call_or_blocks.params["channel"]
        message_ts = message_ts or call_or_blocks.response["ts"]
    else:
        blocks = call_or_blocks
    actions = next(b for b in blocks if b["type"] == "actions")
    elements = actions["elements"]
    state: dict = {"values": {}}
    if submit:
        button = next(e for e in elements if e.get("action_id") == SUBMIT)
        picked = [
            o
            for o in next(e for e in elements if e["type"] == "checkboxes")["options"]
            if int(o["value"]) in (choices or [])
        ]
        state["values"][actions["block_id"]] = {
            PICK: {"type": "checkboxes", "selected_options": picked}
        }
    else:
        (index,) = choices or [0]
        button = next(e for e in elements if e.get("action_id") == f"{ANSWER_PREFIX}{index}")
    action = {
        "action_id": button["action_id"],
        "block_id": actions["block_id"],
        "text": button["text"],
        "value": token if token is not None else button["value"],
        "type": "button",
        "action_ts": f"{time.time():.6f}",
    }
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T111"},
        "api_app_id": "A111",
        "token": "verification_token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": f"{uuid.uuid4().int % 10**12}.1.x",
        "team": {"id": "T111", "domain": "study"},
        "channel": {"id": channel, "name": "study"},
        "message": {"type": "message", "ts": message_ts, "text": "question", "blocks": blocks},
        "state": state,
        "response_url": "https://hooks.slack.com/actions/T111/1/x",
        "actions": [action],
    }
    return "payload=" + quote(json.dumps(payload))


def _payload(form_body: str) -> dict:
    return json.loads(parse_qs(form_body)["payload"][0])


def token_of(call: Call) -> str:
    actions = next(b for b in call.blocks if b["type"] == "actions")
    return next(e["value"] for e in actions["elements"] if e["type"] == "button")


def all_text(blocks: list[dict]) -> str:
    """Every text in a list of block dicts, joined."""
    out: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(blocks)
    return "\n".join(out)


# --------------------------------------------------------------------------- Slack limits


def _public(choose: int = 1, *, stem: str = "Which service tunes hyperparameters?", n=None, opt=40):
    n = n or (5 if choose > 1 else 4)
    return PublicQuestion(
        question_id=1,
        stem=stem,
        options=[f"Option {k} " + "x" * opt for k in range(n)],
        choose=choose,
        domain=DOMAIN,
        source="https://docs.aws.amazon.com/sagemaker/latest/dg/amt.html",
        title="Automatic model tuning",
    )


def _shown(kind="ondemand", review=False, **kw) -> ShownQuestion:
    exam = ExamProgress(9, 3, 15) if kind == "exam" else None
    user = None if kind == "daily" else "U1"
    return ShownQuestion("tok_" + "A" * 12, kind, _public(**kw), "C1", user, exam, review)


def _grade(correct=True, **kw) -> Grade:
    values = dict(
        correct=correct,
        answer=[2],
        chosen=[2] if correct else [0],
        explanation="AMT runs many training jobs & keeps the best <one>.",
        source="https://docs.aws.amazon.com/sagemaker/latest/dg/amt.html",
        title="Automatic model tuning",
        domain=DOMAIN,
        streak=3 if correct else 0,
    )
    values.update(kw)
    return Grade(**values)


def assert_valid(blocks) -> list[dict]:
    """slack_sdk validates the element limits in to_dict(); then the message-level limits."""
    dicts = blocks_to_dicts(blocks) if blocks and not isinstance(blocks[0], dict) else blocks
    assert 1 <= len(dicts) <= MAX_BLOCKS
    for b in dicts:
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= SECTION_LIMIT
        if b["type"] == "actions":
            for e in b["elements"]:
                if e["type"] == "button":
                    assert len(e["value"]) <= 2000 and len(e["text"]["text"]) <= 75
                if e["type"] == "checkboxes":
                    assert all(len(o["text"]["text"]) <= LABEL_LIMIT for o in e["options"])
        if b["type"] == "context":
            assert len(b["elements"]) <= 10
    action_ids = [e["action_id"] for b in dicts for e in b.get("elements", []) if "action_id" in e]
    assert len(action_ids) == len(set(action_ids)), "action ids must be unique in a message"
    return dicts


@pytest.mark.parametrize(
    "shown",
    [
        _shown(),
        _shown(choose=2, review=True),
        _shown("daily"),
        _shown("exam", choose=2),
        _shown(stem="Why? " * 4000),  # a 20,000-character stem
        _shown(opt=2500),  # options far longer than a label or a section
        _shown(choose=2, opt=900, stem="Long " * 2000),
    ],
    ids=["single", "choose2", "daily", "exam", "long-stem", "long-options", "long-choose2"],
)
def test_question_blocks_stay_within_slack_limits(shown):
    dicts = assert_valid(question_blocks(shown))
    actions = [b for b in dicts if b["type"] == "actions"]
    assert len(actions) == 1 and actions[0]["block_id"] == f"quiz_actions:{shown.kind}"
    buttons = [e for e in actions[0]["elements"] if e["type"] == "button"]
    assert {b["value"] for b in buttons} == {shown.token}, "every button value is the token only"
    if shown.question.choose == 1:
        assert [b["text"]["text"] for b in buttons] == ["A", "B", "C", "D"]
        assert [b["action_id"] for b in buttons] == [f"quiz_answer_{i}" for i in range(4)]
    else:
        boxes = [e for e in actions[0]["elements"] if e["type"] == "checkboxes"]
        assert [o["value"] for o in boxes[0]["options"]] == ["0", "1", "2", "3", "4"]
        assert [b["action_id"] for b in buttons] == [SUBMIT]
        assert "Choose 2" in all_text(dicts)
    text = all_text(dicts)
    assert "Domain 3 · Modeling" in text
    assert ("🔁 Review" in text) == shown.review
    if shown.exam:
        assert "Question 3 of 15" in text


def test_result_blocks_show_verdict_explanation_citation_domain_and_streak():
    right = all_text(assert_valid(result_blocks(_grade())))
    assert "Correct!" in right and "You chose C" in right
    assert "AMT runs many training jobs &amp; keeps the best &lt;one&gt;." in right  # escaped
    assert "<https://docs.aws.amazon.com/sagemaker/latest/dg/amt.html|" in right
    assert "Domain 3 · Modeling · 3.4 Perform hyperparameter optimization" in right
    assert "Streak: 3" in right
    wrong = all_text(assert_valid(result_blocks(_grade(False, source="notes/3.4.md"))))
    assert "Not quite" in wrong and "You chose A" in wrong and "the answer is *C*" in wrong
    assert "`notes/3.4.md`" in wrong and "Streak: 0" in wrong
    repeat = all_text(assert_valid(result_blocks(_grade(already_answered=True))))
    assert "already answered" in repeat
    huge = _grade(explanation="Because. " * 3000)
    assert_valid(result_blocks(huge))


def test_answered_message_drops_the_controls_and_keeps_the_question():
    original = blocks_to_dicts(question_blocks(_shown()))
    after = assert_valid(answered_message(original, _grade()))
    assert not [b for b in after if b["type"] == "actions"]
    assert "Which service tunes hyperparameters?" in all_text(after)
    assert "only they can answer" not in all_text(after)
    assert "Correct!" in all_text(after)


def test_exam_result_blocks_have_the_score_passing_line_and_domains():
    result = ExamResult(1, 15, 11, 760, 750, True, {1: (3, 3), 2: (2, 4), 3: (4, 5), 4: (2, 3)})
    names = {d.id: d.name for d in BLUEPRINT.domains}
    text = all_text(assert_valid(exam_result_blocks(result, domain_names=names)))
    assert "Scaled score: 760" in text and "passing line 750" in text and "Pass" in text
    assert "11 of 15 correct (73%)" in text
    assert "1 Data Engineering" in text and "2/4" in text and "50%" in text
    failed = ExamResult(2, 3, 1, 400, 750, False, {3: (1, 3)})
    assert "Below the passing line" in all_text(assert_valid(exam_result_blocks(failed)))


def test_daily_blocks_recap_the_previous_question():
    recap = DailyRecap("Which service turns text into speech?", "Amazon Polly", 7, 4 / 7)
    text = all_text(assert_valid(daily_blocks(_shown("daily"), recap)))
    assert "Which service turns text into speech?" in text and "Amazon Polly" in text
    assert "7 people answered, 57% correct" in text
    assert "Everyone can answer" in text
    nobody = all_text(assert_valid(daily_blocks(_shown("daily"), DailyRecap("Q?", "A", 0, 0.0))))
    assert "Nobody answered" in nobody


# --------------------------------------------------------------------------- parsing


def test_quiz_and_exam_arguments():
    assert parse_quiz_args("", BLUEPRINT).count == 1
    assert parse_quiz_args("3", BLUEPRINT).count == 3
    assert parse_quiz_args("modeling", BLUEPRINT).domain == 3
    args = parse_quiz_args("2 Data Engineering", BLUEPRINT)
    assert (args.count, args.domain) == (2, 1)
    assert parse_quiz_args("domain 2", BLUEPRINT).domain == 2
    assert parse_quiz_args("d4", BLUEPRINT).domain == 4
    with pytest.raises(ValueError, match="1 to 5"):
        parse_quiz_args("9", BLUEPRINT)
    with pytest.raises(ValueError, match="Domains: 1 Data Engineering"):
        parse_quiz_args("astrology", BLUEPRINT)
    assert parse_exam_args("") == 15 and parse_exam_args("5") == 5
    for bad in ("0", "66", "five", "5 6"):
        with pytest.raises(ValueError, match="Usage"):
            parse_exam_args(bad)
    assert "default 15" in EXAM_USAGE


def test_parse_click_reads_buttons_and_checkbox_state():
    blocks = blocks_to_dicts(question_blocks(_shown(choose=2)))
    body = _payload(
        click_body(blocks, user="U1", choices=[3, 1], submit=True, channel="C1", message_ts="1.2")
    )
    click = parse_click(body, body["actions"][0])
    assert click == Click(
        token="tok_" + "A" * 12,
        user_id="U1",
        channel_id="C1",
        message_ts="1.2",
        choices=[1, 3],
        kind="ondemand",
        message_blocks=blocks,
        request_id=body["trigger_id"],
    )
    body["state"]["values"][body["actions"][0]["block_id"]][PICK]["selected_options"] = []
    assert parse_click(body, body["actions"][0]).choices is None
    single_blocks = blocks_to_dicts(question_blocks(_shown()))
    single = _payload(
        click_body(single_blocks, user="U1", choices=[2], channel="C1", message_ts="1.2")
    )
    assert parse_click(single, single["actions"][0]).choices == [2]


# --------------------------------------------------------------------------- flows over HTTP


def test_help_lists_quiz_exam_and_daily(harness):
    reply = harness.command("help")
    text = json.dumps(reply.json())
    assert "/study quiz [N] [domain]" in text and "/study exam [N]" in text
    assert "/study daily on HH:MM" in text


def test_study_quiz_shows_the_question_to_the_asker_only(harness):
    reply = harness.command("quiz modeling")
    assert reply.body == ""  # nothing in the ack: the question comes through the response URL
    harness.settle()
    (call,) = harness.questions_shown()
    assert call.params["response_type"] == "ephemeral"
    assert not harness.fake.calls("chat.postMessage")  # nothing in the channel
    dicts = assert_valid(call.blocks)
    actions = next(b for b in dicts if b["type"] == "actions")
    assert [e["text"]["text"] for e in actions["elements"]] == ["A", "B", "C", "D"]
    token = token_of(call)
    with harness.records.engine.connect() as conn:
        post = conn.execute(sa.select(QuizPost).where(QuizPost.token == token)).one()
    assert post.user_id == "U1" and post.channel_id == "C1"
    assert "Domain 3 · Modeling" in all_text(call.blocks)


def test_study_quiz_three_questions_and_bad_arguments(harness):
    harness.command("quiz 3")
    harness.settle()
    calls = harness.questions_shown()
    assert len(calls) == 3 and len({token_of(c) for c in calls}) == 3
    for bad, expected in (("quiz 12", "1 to 5"), ("quiz astrology", "I don't know the domain")):
        reply = harness.command(bad)
        assert expected in reply.json()["text"]
    harness.settle()
    assert len(harness.questions_shown()) == 3


def _click(harness, call: Call, user: str, choices: list[int], channel: str = "C1"):
    """Click on a question shown through a response URL (Slack sends no blocks for those)."""
    body = click_body(
        call.blocks, user=user, choices=choices, channel=channel, message_ts="1700000300.000001"
    )
    payload = _payload(body)
    payload["container"]["is_ephemeral"] = True
    del payload["message"]
    return harness.click("payload=" + quote(json.dumps(payload)))


def test_a_private_quiz_is_answered_with_the_result_through_the_response_url(harness):
    """The bot is not in C9: only the click's response URL reaches the learner."""
    harness.fake.channel("C9", is_member=False)
    harness.command("quiz 2 modeling", channel="C9")
    harness.settle()
    first, second = harness.questions_shown()
    right = correct_of(harness.records, token_of(first))
    assert _click(harness, first, "U1", right, channel="C9").status == 200
    harness.settle()
    (result,) = harness.replies_to("U1")
    assert result["replace_original"] is True and result["response_type"] == "ephemeral"
    text = all_text(result["blocks"])
    assert "Correct!" in text and "workload runs on the service" in text
    assert "Domain 3 · Modeling" in text and ("📖" in text) and "Streak: 1" in text
    stem = next(
        b["text"]["text"]
        for b in first.blocks
        if "*Which service" in b.get("text", {}).get("text", "")
    )
    assert result["blocks"][2]["text"]["text"] == stem  # the question stays above its result
    assert not _has_controls(result["blocks"]), "the answer buttons are gone"
    share = next(b for b in result["blocks"] if b.get("block_id") == "quiz_share")
    assert share["elements"][0]["action_id"] == SHARE_RESULT
    wrong = (correct_of(harness.records, token_of(second))[0] + 1) % 4
    _click(harness, second, "U1", [wrong], channel="C9")
    harness.settle()
    text = all_text(harness.replies_to("U1")[-1]["blocks"])
    assert "Not quite" in text and "Streak: 0" in text
    assert len(attempts(harness.records)) == 2
    assert not harness.fake.calls("chat.postEphemeral") and not harness.fake.calls("chat.update")
    home = harness.fake.posted("views.publish")[-1].json_param("view")
    assert "<@UBOT>" in json.dumps(home)  # the refreshed App Home keeps the bot's mention


def test_a_shared_quiz_result_is_posted_in_the_channel(harness):
    harness.command("quiz modeling")
    harness.settle()
    (call,) = harness.questions_shown()
    right = correct_of(harness.records, token_of(call))
    wrong = [(right[0] + 1) % 4]
    _click(harness, call, "U1", wrong)
    harness.settle()
    share = next(
        b for b in harness.replies_to("U1")[0]["blocks"] if b.get("block_id") == "quiz_share"
    )
    button = share["elements"][0]
    # someone else cannot share it, and nothing is posted for them
    harness.click(_share_body(button["value"], "U2"))
    harness.settle()
    assert REFUSALS["not_answered"] in harness.replies_to("U2")[0]["text"]
    harness.click(_share_body(button["value"], "U1"))
    harness.settle()
    (post,) = harness.fake.posted("chat.postMessage")
    text = all_text(post.blocks)
    assert post.params["channel"] == "C1" and "Quiz result, shared" in text
    assert "<@U1> chose" in text and f"the answer is *{'ABCD'[right[0]]}*" in text
    assert harness.replies_to("U1")[-1].get("delete_original") is True


def _share_body(token: str, user: str) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "container": {"type": "message", "channel_id": "C1", "is_ephemeral": True},
        "channel": {"id": "C1"},
        "trigger_id": f"share-{user}",
        "response_url": "https://hooks.slack.com/actions/T111/1/x",
        "actions": [{"action_id": SHARE_RESULT, "value": token, "type": "button"}],
    }
    return "payload=" + quote(json.dumps(payload))


def test_another_user_is_refused_and_no_attempt_is_recorded(harness):
    harness.command("quiz", user="U1")
    harness.settle()
    (call,) = harness.questions_shown()
    _click(harness, call, "U2", [0])
    harness.settle()
    (refused,) = harness.replies_to("U2")
    assert refused["response_type"] == "ephemeral" and refused["replace_original"] is False
    assert REFUSALS["not_yours"] in refused["text"]
    assert not harness.replies_to("U1") and attempts(harness.records) == []


@pytest.mark.parametrize("token", ["tampered-token-value", "x", "' OR 1=1 --", "A" * 2000])
def test_a_tampered_token_is_refused_politely(harness, token):
    harness.command("quiz")
    harness.settle()
    (call,) = harness.questions_shown()
    body = click_body(
        call.blocks, user="U1", choices=[0], token=token, channel="C1", message_ts="1.2"
    )
    assert harness.click(body).status == 200
    harness.settle()
    (refused,) = harness.replies_to("U1")
    assert refused["text"] == REFUSALS["unknown"]
    assert attempts(harness.records) == []


def test_an_expired_question_is_refused(make_harness):
    now = [datetime.now(UTC)]
    h = make_harness(clock=lambda: now[0])
    h.command("quiz")
    h.settle()
    (call,) = h.questions_shown()
    now[0] += timedelta(days=2)
    _click(h, call, "U1", [0])
    h.settle()
    (refused,) = h.replies_to("U1")
    assert refused["text"] == REFUSALS["expired"]
    assert attempts(h.records) == []


def test_choose_two_with_checkboxes_and_submit(harness):
    harness.command(f"quiz domain {MULTI_DOMAIN}")
    harness.settle()
    (call,) = harness.questions_shown()
    actions = next(b for b in call.blocks if b["type"] == "actions")
    assert [e["type"] for e in actions["elements"]] == ["checkboxes", "button"]
    right = correct_of(harness.records, token_of(call))
    assert len(right) == 2

    def submit(picks: list[int]) -> str:
        return click_body(
            call.blocks, user="U1", choices=picks, submit=True, channel="C1", message_ts="1.2"
        )

    # ticking a box is acknowledged and ignored (Slack sends one block_actions per toggle)
    toggle = _payload(submit(right))
    toggle["actions"][0] = {
        "action_id": PICK,
        "block_id": actions["block_id"],
        "type": "checkboxes",
        "selected_options": [],
        "action_ts": "1.0",
    }
    assert harness.click("payload=" + quote(json.dumps(toggle))).status == 200
    # Submit with nothing ticked: a hint; with one ticked: the service asks for exactly two
    harness.click(submit([]))
    harness.click(submit(right[:1]))
    harness.settle()
    hint, refusal = harness.replies_to("U1")
    assert PICK_FIRST in hint["text"] and "exactly 2" in refusal["text"]
    assert attempts(harness.records) == []
    harness.click(submit(right))
    harness.settle()
    result = harness.replies_to("U1")[-1]
    assert result["replace_original"] is True
    assert "Correct!" in all_text(result["blocks"])
    assert "You chose B and D" in all_text(result["blocks"])
    assert len(attempts(harness.records)) == 1


def test_daily_answers_are_recorded_per_person_with_private_results(harness):
    driver = next(b for b in background_of(harness.app) if isinstance(b, DailyDriver))
    driver.store.save(Schedule("C9", "09:00", "Europe/Berlin"), "U1")
    result = driver.run_daily("C9")
    assert result.status == "posted"
    (call,) = harness.questions_posted()
    assert call.params["channel"] == "C9" and "Question of the day" in all_text(call.blocks)
    right = correct_of(harness.records, token_of(call))
    choose = len(right)
    wrong = [(right[0] + 1) % 4] if choose == 1 else [0, 2]
    for user, picks in (("U1", right), ("U2", wrong), ("U3", right), ("U1", wrong)):
        harness.click(click_body(call, user=user, choices=picks, submit=choose > 1))
        harness.settle()
    results = {u: harness.replies_to(u) for u in ("U1", "U2", "U3")}
    assert [len(r) for r in results.values()] == [2, 1, 1]
    for said in (r for replies in results.values() for r in replies):
        assert said["response_type"] == "ephemeral" and said["replace_original"] is False
    texts = [all_text(r["blocks"]) for r in (*results["U1"], *results["U2"], *results["U3"])]
    assert "Correct!" in texts[0] and "Not quite" in texts[2] and "Correct!" in texts[3]
    assert "already answered" in texts[1] and "Correct!" in texts[1]  # the first answer stands
    assert all("Share in channel" in t for t in texts)
    assert not harness.fake.calls("chat.update"), "the channel's question stays for everyone"
    assert sorted((u, c) for _, u, c in attempts(harness.records)) == [
        ("U1", True),
        ("U2", False),
        ("U3", True),
    ]
    with harness.records.engine.connect() as conn:
        ts = conn.execute(sa.select(QuizPost.message_ts).where(QuizPost.kind == "daily")).scalar()
    assert ts == call.response["ts"]


def test_exam_runs_in_the_dm_to_a_scaled_score(harness):
    reply = harness.command("exam 3", user="U7")
    assert "3-question mock exam" in reply.json()["text"]
    harness.settle()
    (opened,) = harness.fake.posted("conversations.open")
    assert opened.params["users"] == "U7"
    plan = [True, False, True]  # right, wrong, right -> 100 + 900 * 2/3 = 700
    for i, right_answer in enumerate(plan, start=1):
        call = harness.questions_posted()[-1]
        assert call.params["channel"] == "D7"
        assert f"Question {i} of 3" in all_text(call.blocks)
        right = correct_of(harness.records, token_of(call))
        picks = right if right_answer else ([(right[0] + 1) % 4] if len(right) == 1 else [0, 2])
        harness.click(click_body(call, user="U7", choices=picks, submit=len(right) > 1))
        harness.click(click_body(call, user="U7", choices=picks, submit=len(right) > 1))  # double
        harness.settle()
    assert len(harness.questions_posted()) == 3, "a double click does not skip a question"
    final = harness.fake.posted("chat.postMessage")[-1]
    text = all_text(final.blocks)
    assert final.params["channel"] == "D7" and "Mock exam finished" in text
    assert "Scaled score: 700" in text and "passing line 750" in text
    assert "Below the passing line" in text and "2 of 3 correct" in text
    assert len(attempts(harness.records)) == 3


def test_exam_when_the_dm_cannot_be_opened(harness):
    harness.fake.fail("conversations.open", "not_allowed_token_type")
    harness.command("exam", user="U7")
    harness.settle()
    (said,) = harness.fake.calls("response_url")
    assert "couldn't open a direct message" in said.params.get("text", json.dumps(said.params))
    assert not harness.questions_posted()


# --------------------------------------------------------------------------- concurrency


def test_1000_concurrent_answer_submissions_give_exactly_one_attempt_each(make_harness, db_url):
    """100 learners x 10 duplicate clicks on their own question, all at once, over real HTTP."""
    h = make_harness(db_url)
    learners = [f"U{i:03d}" for i in range(100)]
    bodies: list[str] = []
    expected: dict[str, bool] = {}
    for n, user in enumerate(learners):
        shown = h.quiz.next_question(user, "C1")
        blocks = blocks_to_dicts(question_blocks(shown))
        right = correct_of(h.records, shown.token)
        picks = right if n % 3 else ([(right[0] + 1) % 4] if len(right) == 1 else [0, 2])
        expected[user] = n % 3 != 0
        body = click_body(
            blocks,
            user=user,
            choices=picks,
            submit=len(right) > 1,
            channel="C1",
            message_ts=f"1700000100.{n:06d}",
        )
        bodies += [body] * 10
    random.Random(1).shuffle(bodies)
    start = threading.Barrier(100)

    def send(chunk: list[str]) -> list[int]:
        start.wait()
        return [h.click(b).status for b in chunk]

    with ThreadPoolExecutor(max_workers=100) as pool:
        futures = [pool.submit(send, bodies[i::100]) for i in range(100)]
        statuses = [s for f in futures for s in f.result()]
    assert statuses == [200] * 1000
    h.settle(timeout=300)
    rows = attempts(h.records)
    assert len(rows) == 100, f"{len(rows)} attempt rows for 100 learners"
    assert {u: c for _, u, c in rows} == expected
    assert len({(p, u) for p, u, _ in rows}) == 100
    results = h.fake.calls("response_url")
    assert len(results) == 1000 and not h.fake.calls("chat.postEphemeral")
    verdicts = {r.hook: all_text(r.blocks) for r in results if r.params["replace_original"]}
    assert set(verdicts) == set(learners)  # every learner's own question got the result
    for user, right in expected.items():
        assert ("Correct!" if right else "Not quite") in verdicts[user]


# --------------------------------------------------------------------------- /study daily


def test_study_daily_on_status_off(harness):
    for bad, expected in (
        ("daily on 25:00 Europe/Berlin", "`25:00` is not a time I understand: use 24-hour HH:MM"),
        ("daily on 9am", "`9am` is not a time I understand"),
        ("daily on 09:00 Mars/Olympus", "`Mars/Olympus` is not a timezone I know"),
    ):
        assert expected in harness.command(bad, channel="C5").json()["text"]
    harness.settle()
    assert not harness.fake.calls("response_url")
    assert harness.command("daily on 09:00 Europe/Berlin weekdays", channel="C5").body == ""
    harness.settle()
    (said,) = harness.fake.calls("response_url")
    assert said.params["response_type"] == "in_channel"
    assert "09:00 Europe/Berlin, on weekdays (Mon–Fri)" in said.params["text"]
    assert "CET" in said.params["text"] or "CEST" in said.params["text"]
    driver = next(b for b in background_of(harness.app) if isinstance(b, DailyDriver))
    assert driver.store.get("C5") == Schedule("C5", "09:00", "Europe/Berlin", True)
    harness.command("daily status", channel="C5")
    harness.settle()
    harness.command("daily on 7:30", channel="C6", user="U9")  # no timezone: the user's (Berlin)
    harness.settle()
    status, default_tz = harness.fake.calls("response_url")[1:]
    assert "is on: 09:00 Europe/Berlin" in status.params["text"]
    assert "07:30 Europe/Berlin, every day (your Slack timezone" in default_tz.params["text"]
    harness.command("daily off", channel="C5")
    harness.settle()
    harness.command("daily off", channel="C5")
    harness.settle()
    off, again = harness.fake.calls("response_url")[3:]
    assert "turned the question of the day off" in off.params["text"]
    assert "already off" in again.params["text"]
    assert driver.store.get("C5").enabled is False


def test_studybot_serve_starts_and_stops_the_daily_scheduler(tmp_path):
    from bot.slack.runner import serve

    with QuizFakeSlack() as fake:
        records = Records.from_url(f"sqlite:///{tmp_path / 'serve.db'}")
        started = threading.Event()
        ready: list = []

        def on_ready(runner):
            ready.append(runner)
            started.set()

        settings = settings_for(fake, tmp_path, port=0)
        quiz = make_quiz(records, tmp_path)
        thread = threading.Thread(
            target=serve,
            args=(settings, service_for(quiz), records),
            kwargs={"host": "127.0.0.1", "on_ready": on_ready},
            daemon=True,
        )
        thread.start()
        assert started.wait(15)
        (driver,) = [b for b in background_of(ready[0].app) if isinstance(b, DailyDriver)]
        assert driver.running
        ready[0].stop()
        thread.join(10)
        assert not thread.is_alive() and not driver.running
        records.close()


# --------------------------------------------------------------------------- membership, failures


def test_daily_on_in_a_channel_without_the_bot_explains_itself(harness):
    harness.fake.channel("G5", is_member=False, is_private=True, visible=False)
    harness.command("daily on 09:00 UTC", channel="G5")
    harness.settle()
    (said,) = harness.fake.calls("response_url")
    assert said.params["response_type"] == "ephemeral"
    assert "I'm not a member of this channel" in said.params["text"]
    assert "/invite @studybot" in said.params["text"] and "not turned on" in said.params["text"]
    driver = next(b for b in background_of(harness.app) if isinstance(b, DailyDriver))
    assert driver.store.get("G5") is None  # nothing saved that could never post
    harness.fake.channel("C6", is_member=False)  # public: the bot joins it
    harness.command("daily on 09:00 UTC", channel="C6")
    harness.settle()
    assert [c.params["channel"] for c in harness.fake.posted("conversations.join")] == ["C6"]
    said = harness.fake.calls("response_url")[-1].params
    assert said["response_type"] == "in_channel" and "I joined this channel" in said["text"]
    assert driver.store.get("C6").enabled
    assert driver.run_daily("C6").status == "posted"


def test_a_failed_daily_post_is_told_to_the_subscriber_once(harness):
    driver = next(b for b in background_of(harness.app) if isinstance(b, DailyDriver))
    harness.command("daily on 09:00 UTC", channel="C8", user="U4")
    harness.settle()
    harness.fake.channel("C8", is_member=False)  # later someone removed the bot
    first, again = driver.run_daily("C8"), driver.run_daily("C8")
    assert first.status == again.status == "failed"
    assert "not a member of that channel" in first.error
    (dm,) = harness.fake.posted("chat.postMessage")
    assert dm.params["channel"] == "D4"  # the DM of whoever turned it on
    assert "couldn't post today's question of the day in <#C8>" in dm.params["text"]
    assert "/invite @studybot" in dm.params["text"]


# --------------------------------------------------------------------------- the agent panel


def test_quiz_me_and_progress_in_the_agent_panel(harness):
    root = "1700000500.000100"

    def say(text: str, ts: str, event_id: str) -> None:
        event = {
            "type": "message",
            "user": "U1",
            "text": text,
            "ts": ts,
            "thread_ts": root,
            "channel": "D1",
            "channel_type": "im",
        }
        assert harness.sender.event(envelope(event, event_id)).status == 200
        harness.settle()

    say("Quiz me on domain 2", "1700000500.000200", "EvQuizMe")
    (question,) = harness.questions_posted()
    assert (question.params["channel"], question.params["thread_ts"]) == ("D1", root)
    assert "Domain 2" in all_text(question.blocks)
    right = correct_of(harness.records, token_of(question))
    harness.click(click_body(question, user="U1", choices=right))
    harness.settle()
    (result,) = harness.replies_to("U1")
    assert result["replace_original"] is True and "Correct!" in all_text(result["blocks"])
    say("How am I doing?", "1700000500.000300", "EvProgress")
    progress = harness.fake.posted("chat.postMessage")[-1]
    assert progress.params["thread_ts"] == root
    assert "Your study progress" in all_text(progress.blocks) and "1 (100% correct)" in all_text(
        progress.blocks
    )
