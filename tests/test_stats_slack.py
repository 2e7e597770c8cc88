"""Stats in Slack over real HTTP: `/study stats`, `/study stats export`, `/study me`, App Home.

Slack -> our HTTP runner -> Bolt -> a fake Slack Web API that records every call and the bytes
of every upload. The records hold the hand-computed history of tests/test_stats.py, with the
same frozen `now`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from slack_sdk import WebClient

from bot.quiz_service import PublicQuestion, QuizError, ShownQuestion
from bot.records import QuizAttempt, Records
from bot.service import StudyService
from bot.slack.app import create_app
from bot.slack.blocks import blocks_to_dicts
from bot.slack.commands import CommandRouter
from bot.slack.deps import SlackDeps
from bot.slack.home import publish_home
from bot.slack.listeners.commands.stats import CHART_FAILED, CHART_IN_DM, LeadCheck
from bot.slack.runner import HttpRunner
from bot.slack.stats_blocks import (
    HOME_MAX_BLOCKS,
    channel_stats_blocks,
    home_blocks,
    learner_progress_blocks,
    refusal_text,
)
from bot.stats import StudyStats
from bot.stats_chart import PNG_SIGNATURE
from knowledge.settings import Settings
from knowledge.types import DomainTag
from tests.fakes.slack_api import Call, FakeSlackAPI, SlackSender
from tests.test_slack_app import (
    SECRET,
    DrainableExecutor,
    action_body,
    command_body,
    envelope,
    settings_for,
)
from tests.test_stats import BP, NOW, seed

LEAD = "ULEAD"  # in STUDYBOT_LEAD_USER_IDS
ADMIN = "UADMIN"  # a workspace admin per users.info
LEARNER = "U2"  # neither


class StatsFakeSlack(FakeSlackAPI):
    """The shared fake plus what stats needs: conversations.open, and admins in users.info."""

    def __init__(self, admins: set[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.admins = admins

    def _answer(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        if method == "conversations.open":
            users = str(p.get("users") or "")
            if not users:
                return {"ok": False, "error": "users_list_not_supplied"}
            return {"ok": True, "channel": {"id": "D" + users.split(",")[0]}}
        answer = super()._answer(method, p)
        if method == "users.info" and answer.get("ok"):
            answer["user"]["is_admin"] = p.get("user") in self.admins
            answer["user"]["is_owner"] = False
        return answer

    def uploaded(self) -> list[dict[str, Any]]:
        return [u for u in self.uploads.values() if u.get("completed")]


class StubQuiz:
    """TEST DOUBLE for the quiz service's `next_question` / `set_message_ts`."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int | None]] = []
        self.error: QuizError | None = None
        self.ts: dict[str, str] = {}

    def next_question(self, who: str, where: str, domain: int | None = None) -> ShownQuestion:
        self.calls.append((who, where, domain))
        if self.error is not None:
            raise self.error
        question = PublicQuestion(
            question_id=7,
            stem="Which technique fills in missing values?",
            options=["Imputation", "Sharding", "Pruning", "Bagging"],
            choose=1,
            domain=DomainTag(2, "Exploratory Data Analysis", "2.1 Sanitize and prepare data"),
            source="notes/2.1.md",
            title="Missing values",
        )
        return ShownQuestion("tok123", "ondemand", question, where, who)

    def set_message_ts(self, token: str, ts: str) -> None:
        self.ts[token] = ts


class StatsService(StudyService):
    """TEST DOUBLE for `StudyService`: the real service over the records with a stub quiz;
    no retrieval."""

    def __init__(self, settings: Settings, records: Records) -> None:
        super().__init__(settings, records=records, blueprint=BP, quiz=StubQuiz())  # type: ignore[arg-type]

    def ask(self, question: str, who: str, where: str, thread: str | None = None):
        raise AssertionError("stats tests ask nothing")


@dataclass
class Harness:
    fake: StatsFakeSlack
    records: Records
    service: StatsService
    runner: HttpRunner
    executor: DrainableExecutor
    sender: SlackSender

    def command(self, text: str, *, user: str, channel: str = "C1") -> dict | None:
        """Send a signed `/study ...`; returns the ack body (None when empty)."""
        url = self.fake.response_url("cmd")
        reply = self.sender.form(command_body(text, user=user, channel=channel, response_url=url))
        assert reply.status == 200, reply
        self.executor.wait_idle()
        return reply.json() if reply.body else None

    def replies(self) -> list[Call]:
        return self.fake.calls("response_url")

    def api_methods(self) -> list[str]:
        return [m for m in self.fake.methods() if m not in ("auth.test", "response_url")]


@pytest.fixture
def make_harness(tmp_path) -> Iterator:
    made: list[Harness] = []

    def make(**overrides: Any) -> Harness:
        fake = StatsFakeSlack({ADMIN}).start()
        records = Records.from_url(f"sqlite:///{tmp_path / f'r{len(made)}.db'}", clock=lambda: NOW)
        records.upgrade()
        seed(records)
        settings = settings_for(fake, tmp_path, lead_user_ids=[LEAD], **overrides)
        service = StatsService(settings, records)
        executor = DrainableExecutor()
        app = create_app(settings, service, records, executor=executor, clock=time.time)
        runner = HttpRunner(app, host="127.0.0.1", port=0)
        runner.start_in_thread()
        sender = SlackSender(f"{runner.url}/slack/events", SECRET)
        made.append(Harness(fake, records, service, runner, executor, sender))
        return made[-1]

    yield make
    for h in made:
        h.runner.stop()
        h.executor.shutdown(wait=True)
        h.records.close()
        h.fake.stop()


@pytest.fixture
def harness(make_harness) -> Harness:
    return make_harness()


def _texts(call: Call) -> str:
    """Everything a reply shows: its text and every text in its blocks."""
    return json.dumps({"text": call.params.get("text"), "blocks": call.blocks}, ensure_ascii=False)


# --------------------------------------------------------------------------- /study stats


def test_a_lead_gets_the_summary_and_the_chart_in_their_dm(harness):
    assert harness.command("stats 7d", user=LEAD) is None  # empty ack; the work follows
    [reply] = harness.replies()
    assert reply.params["response_type"] == "ephemeral"
    shown = _texts(reply)
    # the hand-computed 7d figures of tests/test_stats.py
    assert "*Active learners*\\n4" in shown and "*Questions asked*\\n2" in shown
    assert "*Quiz answers*\\n8" in shown and "38% (target 75%)" in shown
    assert "2. Exploratory Data Analysis* — 25%" in shown and "1/4 · below 75%" in shown
    assert "`2026-W47` 2 answers · 0% · 1 learner · 1 question asked" in shown
    assert "2 posted, 3 answers from 3 people (75% of active learners, 1.5 answers per" in shown
    assert "*2.2 Perform feature engineering* (0% of 1 answer)" in shown
    assert "1. <@U1> — 3/4 correct (75%)" in shown
    assert CHART_IN_DM in shown
    # the chart: DM opened, file uploaded in three steps, bytes are a PNG
    [opened] = harness.fake.calls("conversations.open")
    assert opened.params["users"] == LEAD
    assert harness.api_methods() == [
        "conversations.info",
        "conversations.open",
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    [upload] = harness.fake.uploaded()
    assert upload["channel_id"] == "D" + LEAD
    assert upload["filename"] == "studybot-stats-C1-7d.png"
    assert upload["bytes"].startswith(PNG_SIGNATURE) and len(upload["bytes"]) > 10_000


def test_a_workspace_admin_is_a_lead_and_users_info_is_cached(harness):
    harness.command("stats", user=ADMIN)
    harness.command("stats all", user=ADMIN)
    assert len(harness.fake.calls("users.info")) == 1
    assert len(harness.fake.uploaded()) == 2
    first, second = (_texts(r) for r in harness.replies())
    assert "last 30 days" in first and "*Quiz answers*\\n13" in first
    assert "all time" in second and "*Quiz answers*\\n15" in second


def test_a_non_lead_gets_a_polite_refusal_and_nothing_else(harness):
    harness.command("stats", user=LEARNER)
    harness.command("stats export", user=LEARNER)
    harness.command("stats all", user="U1")
    replies = harness.replies()
    assert len(replies) == 3
    for reply in replies:
        assert reply.params["response_type"] == "ephemeral"
        assert reply.params["text"] == refusal_text("/study")
        assert not reply.blocks
        shown = _texts(reply)
        assert "<@U" not in shown and "%" not in shown.replace("%20", "")
    # users.info was asked, nothing was opened, uploaded or posted
    assert set(harness.api_methods()) == {"users.info"}
    assert harness.fake.uploads == {}


def test_stats_usage_and_dm(harness):
    ack = harness.command("stats 90d", user=LEAD)
    assert ack is not None and ack["response_type"] == "ephemeral" and "Usage" in ack["text"]
    assert harness.replies() == []
    harness.command("stats", user=LEAD, channel="DLEAD")
    [reply] = harness.replies()
    assert "in the study channel" in reply.params["text"]
    assert harness.fake.uploads == {}


def test_the_chart_goes_to_a_thread_in_the_configured_channel(make_harness):
    h = make_harness(stats_channel="CLEADS")
    h.command("stats 30d", user=LEAD)
    [parent] = h.fake.posted()
    assert parent.params["channel"] == "CLEADS" and "<#C1>" in parent.params["text"]
    [upload] = h.fake.uploaded()
    assert upload["channel_id"] == "CLEADS" and upload["thread_ts"] == parent.response["ts"]
    assert "The chart follows in a thread in <#CLEADS>" in _texts(h.replies()[0])


def test_a_failed_upload_still_gives_the_summary(harness):
    harness.fake.fail("files.getUploadURLExternal", "not_allowed_token_type")
    harness.command("stats 7d", user=LEAD)
    summary, sorry = harness.replies()
    assert "*Quiz answers*\\n8" in _texts(summary)
    assert sorry.params["text"] == CHART_FAILED and sorry.params["response_type"] == "ephemeral"


# --------------------------------------------------------------------------- export


def test_export_sends_the_csv_to_the_leads_dm(harness):
    harness.command("stats export 30d", user=LEAD)
    [upload] = harness.fake.uploaded()
    assert upload["channel_id"] == "D" + LEAD
    assert upload["filename"] == "studybot-stats-C1-30d-2026-11-25.csv"
    expected = StudyStats(harness.records, BP).export_csv("C1", "30d")
    assert upload["bytes"].decode("utf-8") == expected
    assert expected.splitlines()[1] == "U1,2,5,4,0.8000,3,2,1,1,1,1,0,0,2026-11-25T09:00:00+00:00"
    [reply] = harness.replies()
    assert "CSV (4 learners, 30d) is in your DM" in reply.params["text"]


# --------------------------------------------------------------------------- /study me


def test_me_shows_only_my_own_progress(harness):
    harness.command("me", user="U9", channel="C1")
    [reply] = harness.replies()
    shown = _texts(reply)
    assert reply.params["response_type"] == "ephemeral"
    assert "*646* on the 100–1000 scale, below the passing score 750" in shown
    assert "from 22 answers" in shown and "*Reviews due*\\n0" in shown
    assert "<@U" not in shown  # nobody else's figures
    harness.command("me", user="U1")
    shown = _texts(harness.replies()[-1])
    assert (
        "not enough data yet (6 answers): needs 14 more answers" in shown
        and "*Streak*\\n3 days" in shown
    )
    assert "*Reviews due*\\n2" in shown
    assert set(harness.api_methods()) == set()  # no users.info: `me` is for everyone


# --------------------------------------------------------------------------- App Home


def _home_event(user: str) -> dict:
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D" + user,
        "tab": "home",
        "event_ts": "1700000130.000100",
    }


def test_home_is_published_with_progress_buttons_and_help(harness):
    reply = harness.sender.event(envelope(_home_event("U1"), "EvHome1"))
    assert reply.status == 200
    harness.executor.wait_idle()
    [call] = harness.fake.posted("views.publish")
    assert call.params["user_id"] == "U1"
    view = call.json_param("view")
    text = json.dumps(view, ensure_ascii=False)
    assert view["type"] == "home"
    assert "Your study progress" in text and "*Streak*\\n3 days" in text
    assert "*Reviews due*\\n2" in text and "6 (67% correct)" in text
    buttons = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        (f"quiz_domain_{n}", str(n)) for n in (1, 2, 3, 4)
    ]
    assert "/study stats" in text and "/study me" in text and "/study &lt;question&gt;" in text


def test_home_is_republished_after_an_answer(harness):
    """What the quiz listener does after grading: `publish_home(client, user, deps)`."""
    client = WebClient(token=harness.fake.token, base_url=harness.fake.base_url)
    deps = SlackDeps(service=harness.service, commands=CommandRouter())
    assert publish_home(client, "U-new", deps)
    before = json.dumps(
        harness.fake.posted("views.publish")[-1].json_param("view"), ensure_ascii=False
    )
    assert "none yet" in before
    with harness.records.engine.begin() as conn:  # one answer, as the quiz service records it
        post_id, question_id = conn.execute(
            sa.text("SELECT post_id, question_id FROM quiz_attempts LIMIT 1")
        ).one()
        conn.execute(
            sa.insert(QuizAttempt).values(
                post_id=post_id,
                question_id=question_id,
                user_id="U-new",
                channel_id="DU-new",
                kind="ondemand",
                domain=3,
                objective="3.2",
                choices=[0],
                correct=True,
                created_at=NOW,
            )
        )
    assert publish_home(client, "U-new", deps)
    after = json.dumps(
        harness.fake.posted("views.publish")[-1].json_param("view"), ensure_ascii=False
    )
    assert "1 (100% correct)" in after and "3. Modeling* — 100%" in after


def test_home_without_records_still_shows_help(harness, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    broken = Records.from_url(f"sqlite:///{blocker / 'x.db'}")
    client = WebClient(token=harness.fake.token, base_url=harness.fake.base_url)
    deps = SlackDeps(
        service=StatsService(harness.service.settings, broken), commands=CommandRouter()
    )
    assert publish_home(client, "U1", deps)
    text = json.dumps(
        harness.fake.posted("views.publish")[-1].json_param("view"), ensure_ascii=False
    )
    assert "not available right now" in text and "How to use studybot" in text
    broken.close()


def test_a_domain_button_starts_a_quiz_in_the_dm(harness):
    reply = harness.sender.form(action_body("quiz_domain_2", "2", user="U7", channel="DU7"))
    assert reply.status == 200
    harness.executor.wait_idle()
    assert harness.service.quiz.calls == [("U7", "DU7", 2)]
    [post] = harness.fake.posted()
    assert post.params["channel"] == "DU7"
    assert "Which technique fills in missing values?" in json.dumps(post.blocks)
    assert harness.service.quiz.ts == {"tok123": post.response["ts"]}


def test_a_domain_button_with_no_questions_says_so(harness):
    harness.service.quiz.error = QuizError("no_questions", "No questions in Modeling yet.")
    harness.sender.form(action_body("quiz_domain_3", "3", user="U7"))
    harness.executor.wait_idle()
    [post] = harness.fake.posted()
    assert (post.params["channel"], post.params["text"]) == ("DU7", "No questions in Modeling yet.")


# --------------------------------------------------------------------------- units


def test_lead_check_ttl():
    class Client:
        def __init__(self) -> None:
            self.calls = 0
            self.admin = True

        def users_info(self, user: str) -> dict:
            self.calls += 1
            return {"ok": True, "user": {"id": user, "is_admin": self.admin}}

    now = [0.0]
    check = LeadCheck(["U1", " "], ttl_s=60, clock=lambda: now[0])
    client = Client()
    assert check(client, "U1") and client.calls == 0  # listed: no API call
    assert check(client, "U2") and check(client, "U2") and client.calls == 1
    client.admin = False
    now[0] = 61.0  # expired: asked again
    assert not check(client, "U2") and client.calls == 2
    assert not check(client, "")


def test_blocks_pass_slack_validation(tmp_path):
    records = Records.from_url(f"sqlite:///{tmp_path / 'b.db'}", clock=lambda: NOW)
    records.upgrade()
    seed(records)
    stats = StudyStats(records, BP)
    for period in ("7d", "30d", "all"):
        blocks = blocks_to_dicts(channel_stats_blocks(stats.channel_stats("C1", period)))
        assert 3 < len(blocks) <= 50
    for user in ("U1", "U9", "nobody"):
        progress = stats.learner_progress(user)
        assert blocks_to_dicts(learner_progress_blocks(progress))
        home = blocks_to_dicts(home_blocks(progress, BP, [("ask <q>", "Ask.")]))
        assert len(home) <= HOME_MAX_BLOCKS
    records.close()


def test_manifest_has_the_scopes_stats_needs():
    manifest = (Path(__file__).resolve().parents[1] / "slack" / "manifest.yml").read_text()
    for scope in ("users:read", "im:write", "files:write", "commands"):
        assert f"- {scope}" in manifest


def test_stats_and_progress_headers_name_the_exam(tmp_path):
    """A channel studying for another exam must see which exam the figures are for."""
    records = Records.from_url(f"sqlite:///{tmp_path / 'h.db'}", clock=lambda: NOW)
    records.upgrade()
    seed(records)
    stats = StudyStats(records, BP)
    channel = blocks_to_dicts(channel_stats_blocks(stats.channel_stats("C1", "30d")))
    progress = stats.learner_progress("U1")
    mine = blocks_to_dicts(learner_progress_blocks(progress))
    code = BP.id.upper()
    assert channel[0]["type"] == "header" and code in channel[0]["text"]["text"]
    assert mine[0]["type"] == "header" and code in mine[0]["text"]["text"]
    assert progress.to_dict()["exam"] == code
    records.close()
