"""Ordering and matching items in Slack, as Slack sends them: signed block_actions requests into
the app over HTTP (select menus picked, then Submit, with the picks in `state.values`), the
WebClient pointed at the fake Slack Web API; the real quiz service on an MLA-C01 bank. Also the
service's own rules: all-or-nothing grading, refusals that record nothing, and an MLS-C01 bank
never drawing such items."""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from fsrs import Scheduler

from bot import quiz_bank
from bot.daily import DailyDriver, Schedule
from bot.quiz_service import QuizError, QuizService
from bot.records import Records
from bot.service import StudyService
from bot.slack.app import background_of, create_app
from bot.slack.quiz_blocks import ARRANGE_SUBMIT, SLOT_PREFIX
from bot.slack.runner import HttpRunner
from knowledge.blueprint import load_blueprint
from knowledge.question import Question
from knowledge.settings import Settings
from tests.fakes.slack_api import Call, SlackSender
from tests.test_quiz_service import EmptyStore
from tests.test_quiz_slack import QuizFakeSlack, QuizHarness, all_text, attempts, correct_of
from tests.test_slack_app import SECRET, DrainableExecutor, settings_for

MLA = load_blueprint("mla-c01")
MLS = load_blueprint("mls-c01")
STEP_WORDS = ["capture", "baseline", "schedule", "review", "retrain"]


def arranged_questions(blueprint_id: str = "mla-c01") -> list[Question]:
    """Per domain: an ordering item of 4 steps and a matching item of 3 terms."""
    bp = load_blueprint(blueprint_id)
    out = []
    for d in bp.domains:
        objective = d.objectives[0].id
        steps = [f"Step {w} of workflow {d.id}" for w in STEP_WORDS[:4]]
        order = [2, 0, 3, 1]
        out.append(
            Question(
                stem=f"Put the steps of workflow {d.id} in the right order.",
                options=[steps[k] for k in order],
                correct=[order.index(k) for k in range(4)],
                explanation="The material's order: " + "; ".join(steps),
                chunk_ids=[f"chunk-o{d.id}"],
                source="notes/steps.md",
                title=f"Workflow {d.id}",
                domain=d.id,
                objective=objective,
                format="ordering",
                choose=4,
                generator="offline:ordering",
            )
        )
        terms = [f"Term {w}{d.id}" for w in ("alpha", "bravo", "charlie")]
        descs = [f"Does the {w} job of domain {d.id}" for w in ("first", "second", "third")]
        shown = [1, 2, 0]
        out.append(
            Question(
                stem=f"Match each term of domain {d.id} to its description.",
                options=[*terms, *(descs[k] for k in shown)],
                correct=[shown.index(k) for k in range(3)],
                explanation="The material says: "
                + "; ".join(f"{t}: {x}" for t, x in zip(terms, descs, strict=True)),
                chunk_ids=[f"chunk-m{d.id}"],
                source="notes/terms.md",
                title=f"Terms {d.id}",
                domain=d.id,
                objective=objective,
                format="matching",
                choose=3,
                generator="offline:matching",
            )
        )
    return out


def make_quiz(records: Records, tmp_path: Path, blueprint=MLA) -> QuizService:
    return QuizService(
        Settings(_env_file=None, data_dir=tmp_path / "data"),
        records,
        blueprint,
        store=EmptyStore(),
        rng=random.Random(5),
        scheduler=Scheduler(enable_fuzzing=False),
    )


class Harness(QuizHarness):
    """The quiz harness of `tests.test_quiz_slack`, sending payloads built here."""

    def send(self, payload: dict) -> int:
        payload["response_url"] = self.fake.response_url(payload["user"]["id"])
        return self.sender.form("payload=" + quote(json.dumps(payload))).status

    def shown(self) -> list[Call]:
        """Questions shown through a response URL or posted as messages, with select menus."""
        calls = [*self.fake.calls("response_url"), *self.fake.posted("chat.postMessage")]
        return [c for c in calls if slots(c.blocks)]


@pytest.fixture
def harness(tmp_path):
    fake = QuizFakeSlack().start()
    records = Records.from_url(f"sqlite:///{tmp_path / 'arranged.db'}")
    records.upgrade()
    quiz_bank.insert_questions(records, arranged_questions(), MLA.id, datetime.now(UTC))
    quiz = make_quiz(records, tmp_path)
    service = StudyService(quiz.settings, records=records, blueprint=MLA, quiz=quiz)
    executor = DrainableExecutor()
    app = create_app(settings_for(fake, tmp_path), service, records, executor=executor)
    runner = HttpRunner(app, host="127.0.0.1", port=0)
    runner.start_in_thread()
    sender = SlackSender(f"{runner.url}/slack/events", SECRET)
    yield Harness(fake, records, quiz, app, runner, executor, sender)
    runner.stop()
    executor.shutdown(wait=True)
    for helper in background_of(app):
        helper.stop()
    records.close()
    fake.stop()


# --------------------------------------------------------------------------- payloads


def slots(blocks: list[dict]) -> list[dict]:
    """The select-menu sections of a question message, in order."""
    return [b for b in blocks if str(b.get("block_id", "")).startswith(SLOT_PREFIX)]


def submit_button(blocks: list[dict]) -> tuple[dict, dict]:
    actions = next(b for b in blocks if b["type"] == "actions")
    return actions, next(e for e in actions["elements"] if e["action_id"] == ARRANGE_SUBMIT)


def payload(call: Call, user: str, action: dict, picks: dict[int, int]) -> dict:
    """A block_actions payload on a posted question; `picks`: slot -> the option picked there
    (what `state.values` holds when the action arrives)."""
    values: dict = {}
    for k, section in enumerate(slots(call.blocks)):
        menu = section["accessory"]
        picked = next((o for o in menu["options"] if int(o["value"]) == picks.get(k, -9)), None)
        values[section["block_id"]] = {
            menu["action_id"]: {"type": "static_select", "selected_option": picked}
        }
    channel = call.params.get("channel", "C1")
    ts = (call.response or {}).get("ts", "1.2") if call.response else "1.2"
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T111"},
        "api_app_id": "A111",
        "token": "verification_token",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel},
        "trigger_id": f"{uuid.uuid4().int % 10**12}.1.x",
        "team": {"id": "T111", "domain": "study"},
        "channel": {"id": channel, "name": "study"},
        "message": {"type": "message", "ts": ts, "text": "question", "blocks": call.blocks},
        "state": {"values": values},
        "actions": [action],
    }


def submit(call: Call, user: str, sequence: list[int]) -> dict:
    actions, button = submit_button(call.blocks)
    action = {
        "action_id": ARRANGE_SUBMIT,
        "block_id": actions["block_id"],
        "text": button["text"],
        "value": button["value"],
        "type": "button",
        "action_ts": f"{time.time():.6f}",
    }
    return payload(call, user, action, {k: v for k, v in enumerate(sequence) if v is not None})


def pick(call: Call, user: str, slot: int, option: int) -> dict:
    """Picking in one select menu: Slack sends a block_actions with the menu as the action."""
    section = slots(call.blocks)[slot]
    menu = section["accessory"]
    chosen = next(o for o in menu["options"] if int(o["value"]) == option)
    action = {
        "action_id": menu["action_id"],
        "block_id": section["block_id"],
        "type": "static_select",
        "selected_option": chosen,
        "action_ts": f"{time.time():.6f}",
    }
    return payload(call, user, action, {slot: option})


def token_of(call: Call) -> str:
    return submit_button(call.blocks)[1]["value"]


def question_format(harness: Harness, call: Call) -> str:
    return harness.quiz.shown(token_of(call)).question.format


# --------------------------------------------------------------------------- Slack


def test_an_ordering_item_offers_a_menu_of_every_step_per_position(harness):
    call = first_of(harness, "ordering")
    menus = slots(call.blocks)
    labels = [m["text"]["text"] for m in menus]
    assert labels == ["*1st step*", "*2nd step*", "*3rd step*", "*4th step*"]
    for m in menus:
        assert m["accessory"]["type"] == "static_select"
        options = [o["text"]["text"] for o in m["accessory"]["options"]]
        assert len(options) == 4 and all(len(x) <= 75 for x in options)
        assert [x[:3] for x in options] == ["A. ", "B. ", "C. ", "D. "]
    text = all_text(call.blocks)
    assert "Pick the step for each position" in text and "*A.* Step" in text
    _, button = submit_button(call.blocks)
    assert button["text"]["text"] == "Submit" and len(button["value"]) <= 32


def first_of(harness: Harness, fmt: str, *, user: str = "U1") -> Call:
    """Ask `/study quiz` until a question of `fmt` is shown; return its call."""
    for _ in range(8):
        harness.command("quiz", user=user)
        harness.settle()
        call = harness.shown()[-1]
        if question_format(harness, call) == fmt:
            return call
    raise AssertionError(f"no {fmt} question shown")


def test_picks_are_only_acknowledged_and_submit_grades_all_or_nothing(harness):
    call = first_of(harness, "ordering")
    right = correct_of(harness.records, token_of(call))
    before = len(harness.fake.calls("response_url"))
    for slot, option in enumerate(right):  # picking in menus: acknowledged, nothing said
        assert harness.send(pick(call, "U1", slot, option)) == 200
    harness.settle()
    assert len(harness.fake.calls("response_url")) == before and attempts(harness.records) == []
    swapped = [right[1], right[0], *right[2:]]  # one swap: the whole item is wrong
    assert harness.send(submit(call, "U1", swapped)) == 200
    harness.settle()
    result = harness.replies_to("U1")[-1]
    assert result["replace_original"] is True
    text = all_text(result["blocks"])
    letters = " → ".join("ABCD"[i] for i in right)
    assert "Not quite" in text and f"the right order: *{letters}*" in text
    assert "The material's order: Step capture" in text  # the explanation lists the order
    assert "📖" in text and not slots(result["blocks"])  # cited; the menus are gone
    assert [c for _, _, c in attempts(harness.records)] == [False]


def test_incomplete_or_repeated_picks_are_refused_and_lose_nothing(harness):
    call = first_of(harness, "ordering")
    right = correct_of(harness.records, token_of(call))
    harness.send(submit(call, "U1", [right[0], None, right[2], right[3]]))  # a menu left empty
    harness.send(submit(call, "U1", [right[0], right[0], right[2], right[3]]))  # one step twice
    harness.send(submit(call, "U1", []))  # nothing picked at all
    harness.settle()
    missing, twice, empty = harness.replies_to("U1")[-3:]
    assert "all 4 are needed" in missing["text"] and "picked twice" in twice["text"]
    assert "all 4 are needed" in empty["text"]
    for said in (missing, twice, empty):  # a private note; the question and its picks stay
        assert said["replace_original"] is False and said["response_type"] == "ephemeral"
    assert attempts(harness.records) == []
    harness.send(submit(call, "U1", right))
    harness.settle()
    result = harness.replies_to("U1")[-1]
    assert result["replace_original"] is True and "Correct!" in all_text(result["blocks"])
    assert [c for _, _, c in attempts(harness.records)] == [True]


def test_a_matching_item_has_a_menu_of_descriptions_per_term(harness):
    call = first_of(harness, "matching")
    menus = slots(call.blocks)
    assert [m["text"]["text"].split(" ", 1)[0] for m in menus] == ["*A.*", "*B.*", "*C.*"]
    for m in menus:
        assert [o["text"]["text"][:2] for o in m["accessory"]["options"]] == ["1.", "2.", "3."]
    right = correct_of(harness.records, token_of(call))
    harness.send(submit(call, "U1", right))
    harness.settle()
    text = all_text(harness.replies_to("U1")[-1]["blocks"])
    pairs = ", ".join(f"{'ABC'[k]}→{i + 1}" for k, i in enumerate(right))
    assert f"Correct!* You matched {pairs}." in text


def test_the_daily_arranged_item_gives_each_person_a_private_result(harness):
    driver = next(b for b in background_of(harness.app) if isinstance(b, DailyDriver))
    driver.store.save(Schedule("C9", "09:00", "Europe/Berlin"), "U1")
    assert driver.run_daily("C9").status == "posted"
    (call,) = [c for c in harness.fake.posted("chat.postMessage") if slots(c.blocks)]
    assert call.params["channel"] == "C9" and "Question of the day" in all_text(call.blocks)
    right = correct_of(harness.records, token_of(call))
    wrong = [right[1], right[0], *right[2:]]
    for user, seq in (("U1", right), ("U2", wrong)):
        harness.send(submit(call, user, seq))
        harness.settle()
    for user, verdict in (("U1", "Correct!"), ("U2", "Not quite")):
        (said,) = harness.replies_to(user)
        assert said["replace_original"] is False and said["response_type"] == "ephemeral"
        assert verdict in all_text(said["blocks"])
    assert not harness.fake.calls("chat.update"), "the channel's question stays for everyone"
    assert sorted((u, c) for _, u, c in attempts(harness.records)) == [("U1", True), ("U2", False)]


def test_a_mock_exam_scores_arranged_items_one_point_each(harness):
    harness.command("exam 3", user="U7")
    harness.settle()
    plan = [True, False, True]  # per item: 100 + 900 * 2/3 = 700
    for i, right_answer in enumerate(plan, start=1):
        call = [c for c in harness.fake.posted("chat.postMessage") if slots(c.blocks)][-1]
        assert call.params["channel"] == "D7" and f"Question {i} of 3" in all_text(call.blocks)
        right = correct_of(harness.records, token_of(call))
        seq = right if right_answer else [right[1], right[0], *right[2:]]
        harness.send(submit(call, "U7", seq))
        harness.settle()
    final = harness.fake.posted("chat.postMessage")[-1]
    text = all_text(final.blocks)
    assert "Mock exam finished" in text and "Scaled score: 700" in text
    assert "2 of 3 correct" in text


# --------------------------------------------------------------------------- the service


def test_grading_refuses_incomplete_sequences_and_records_nothing(tmp_path):
    records = Records.from_url(f"sqlite:///{tmp_path / 'svc.db'}")
    records.upgrade()
    quiz_bank.insert_questions(records, arranged_questions(), MLA.id, datetime.now(UTC))
    quiz = make_quiz(records, tmp_path)
    for _ in range(6):
        shown = quiz.next_question("U1", "C1")
        if shown.question.format == "ordering":
            break
    assert shown.question.items == shown.question.targets and shown.question.choose == 4
    right = correct_of(records, shown.token)
    for bad in ([0, 1, 2], [0, 0, 1, 2], [0, 1, 2, 9], [right[0], *right]):
        with pytest.raises(QuizError) as refused:
            quiz.answer(shown.token, "U1", bad)
        assert refused.value.code == "invalid_choice"
    assert attempts(records) == []
    grade = quiz.answer(shown.token, "U1", right)
    assert grade.correct and grade.answer == right and grade.chosen == right
    assert grade.answer_lines[0].startswith("1. Step capture")
    again = quiz.answer(shown.token, "U1", list(reversed(right)))
    assert again.already_answered and again.correct  # the first answer stands
    records.close()


def test_an_exam_without_ordering_and_matching_items_never_draws_one(tmp_path):
    """The MLS-C01 bank holds arranged rows (say, from an old run): they are never drawn."""
    records = Records.from_url(f"sqlite:///{tmp_path / 'mls.db'}")
    records.upgrade()
    from tests.test_quiz_slack import seed_questions

    now = datetime.now(UTC)
    quiz_bank.insert_questions(records, seed_questions(3), MLS.id, now)
    quiz_bank.insert_questions(records, arranged_questions("mls-c01"), MLS.id, now)
    quiz = make_quiz(records, tmp_path, MLS)
    formats = set()
    for n in range(12):
        formats.add(quiz.next_question(f"U{n}", "C1").question.format)
    exam = quiz.start_exam("U99", "D1", 10)
    formats.add(exam.question.format)
    daily = quiz.daily_question("C5")
    formats.add(daily.question.format)
    assert formats <= {"single", "multi"}
    assert len(quiz_bank.candidates(records, MLS.id)) == 12 + 8  # all rows are still there
    records.close()


@pytest.mark.parametrize("fmt", ["ordering", "matching"])
def test_arranged_blocks_stay_within_slack_limits_with_long_text(fmt):
    from bot.quiz_service import PublicQuestion, ShownQuestion
    from bot.slack.quiz_blocks import question_blocks
    from knowledge.types import DomainTag
    from tests.test_quiz_slack import assert_valid

    long = "word " * 60
    options = [f"Item {k} {long}" for k in range(5)]
    if fmt == "matching":
        options += [f"Description {k} {long * 3}" for k in range(5)]
    q = PublicQuestion(
        7, "Put these in order " + long, options, 5, DomainTag(1, "D", "1.1 X"), "s", "t", fmt
    )
    for kind in ("ondemand", "daily", "exam"):
        shown = ShownQuestion("tok_" + "B" * 12, kind, q, "C1", None if kind == "daily" else "U1")
        dicts = assert_valid(question_blocks(shown))
        menus = [b["accessory"] for b in dicts if b["type"] == "section" and "accessory" in b]
        assert len(menus) == 5
        for menu in menus:
            assert [o["value"] for o in menu["options"]] == ["0", "1", "2", "3", "4"]
            assert all(len(o["text"]["text"]) <= 75 for o in menu["options"])
        text = all_text(dicts)
        assert f"Item 4 {long.strip()[:40]}" in text  # listed in full above the menus


def test_a_shared_arranged_result_shows_the_steps_and_the_verdict():
    from bot.quiz_service import Grade, PublicQuestion, ShownQuestion
    from bot.slack.quiz_blocks import shared_result_blocks
    from knowledge.types import DomainTag

    domain = DomainTag(4, "Monitoring", "4.1 Monitor model inference")
    q = PublicQuestion(3, "Put these steps in order.", ["Run B", "Run A", "Run C"], 3, domain,
                       "notes/x.md", "X", "ordering")  # fmt: skip
    shown = ShownQuestion("tok_" + "C" * 12, "ondemand", q, "C1", "U1")
    grade = Grade(False, [1, 0, 2], [0, 1, 2], "The order: Run A; Run B; Run C.", "notes/x.md",
                  "X", domain, 0, format="ordering")  # fmt: skip
    text = all_text([b.to_dict() for b in shared_result_blocks(shown, grade, "U1")])
    assert "*A.* Run B" in text and "*C.* Run C" in text
    assert "<@U1> ordered A → B → C; the right order: *B → A → C*" in text
