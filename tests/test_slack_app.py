"""The Slack front end over real HTTP: Slack -> our HTTP runner -> Bolt -> fake Slack Web API.

Every test runs the app's HTTP runner on a random 127.0.0.1 port, sends requests signed like
Slack, and watches the calls the app makes to `FakeSlackAPI`. The study service is a small
deterministic test double (`FakeStudyService`), not the real retrieval/LLM service.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
import sqlalchemy as sa
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.quiz_service import PublicQuestion, ShownQuestion
from bot.records import Records, RecordsUnavailable
from bot.service import FOLLOW_UP_WINDOW, StudyService
from bot.slack.app import create_app
from bot.slack.asking import POST_FAILED, RECORDS_DOWN, SERVICE_DOWN
from bot.slack.blocks import FEEDBACK_UP, MAX_BLOCKS, SECTION_LIMIT
from bot.slack.quiz_messages import slack_poster
from bot.slack.runner import HttpRunner
from knowledge.settings import Settings
from knowledge.types import Answer, Citation, DomainTag
from tests.fakes.slack_api import FakeSlackAPI, Reply, SlackSender, post_raw

SECRET = "secret"  # what Bolt's own tests sign the shared payloads with
PAYLOADS = Path(__file__).resolve().parents[2] / "shared" / "slack-payloads"
BOT = "UBOT"  # FakeSlackAPI's auth.test user_id


# --------------------------------------------------------------------------- test doubles


@dataclass
class AskCall:
    question: str
    who: str
    where: str
    thread: str | None


class FakeStudyService(StudyService):
    """TEST DOUBLE for `bot.service.StudyService.ask`: a canned grounded answer, no retrieval.

    Everything else is the real service over `records` (claims, recording, threads, feedback).
    It keeps the real `ask`'s contract: long questions are cut to 2,000 characters with a
    note, and follow-ups read the thread's history from the records (the answer says so, so tests
    can see that context arrived).
    """

    MAX_QUESTION_CHARS = 2000

    def __init__(self, records: Records, settings: Settings | None = None) -> None:
        super().__init__(settings or Settings(_env_file=None), records=records)
        self.calls: list[AskCall] = []
        self.delay = 0.0
        self.error: Exception | None = None
        # LLM mode: the "model" writes these pieces (to `on_draft`) before the answer is final
        self.drafts: list[str] | None = None
        self._lock = threading.Lock()

    @property
    def drafts_answers(self) -> bool:
        return self.drafts is not None

    def ask(
        self, question: str, who: str, where: str, thread: str | None = None, *, on_draft=None
    ) -> Answer:
        with self._lock:
            self.calls.append(AskCall(question, who, where, thread))
        if self.delay:
            time.sleep(self.delay)
        for piece in self.drafts or []:
            if on_draft is not None:
                on_draft(piece)
        if self.error is not None:
            raise self.error
        note = None
        if len(question) > self.MAX_QUESTION_CHARS:
            question = question[: self.MAX_QUESTION_CHARS]
            note = "Your question was long, so I answered its first 2,000 characters."
        history = self.records.thread_history(where, thread) if thread else []
        text = f"**SageMaker AMT** answers: {question[:80]} [1]"
        if history:
            text += f"\n\n_Follow-up after {len(history)} earlier question(s): {history[-1][0]}_"
        return Answer(
            text=text,
            citations=[
                Citation(
                    1,
                    "Automatic model tuning",
                    "guide.md",
                    "https://docs.aws.amazon.com/sagemaker/latest/dg/amt.html",
                    "c1",
                    0.9,
                ),
                Citation(
                    2,
                    "Tuning strategies",
                    "notes/3.4-hyperparameter-optimization.md",
                    None,
                    "c2",
                    0.6,
                ),
            ],
            domains=[DomainTag(3, "Modeling", "3.4 Perform hyperparameter optimization")],
            mode="extractive",
            confidence=0.8,
            note=note,
        )


class DrainableExecutor(ThreadPoolExecutor):
    """The work after each ack runs here; `wait_idle()` returns when all of it finished."""

    def __init__(self) -> None:
        super().__init__(max_workers=4, thread_name_prefix="lazy")
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn, /, *args, **kwargs):
        with self._idle:
            self._pending += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 15.0) -> None:
        with self._idle:
            assert self._idle.wait_for(lambda: self._pending == 0, timeout), "listeners still busy"


@dataclass
class Harness:
    fake: FakeSlackAPI
    records: Records
    service: FakeStudyService
    runner: HttpRunner
    executor: DrainableExecutor
    sender: SlackSender
    cleanups: list = field(default_factory=list)

    def settle(self) -> None:
        self.executor.wait_idle()

    def api_methods(self) -> list[str]:
        """Web API calls the app made after start-up (auth.test excluded)."""
        return [m for m in self.fake.methods() if m != "auth.test"]

    def send(self, event: dict, event_id: str, **kwargs) -> Reply:
        reply = self.sender.event(envelope(event, event_id), **kwargs)
        assert reply.status == 200, reply
        return reply

    def posted_texts(self) -> list[str]:
        """Everything the app posted, as one string per message (text + block texts)."""
        out = []
        for call in self.fake.posted():
            parts = [call.params.get("text", "")]
            for b in call.blocks:
                if b.get("text"):
                    parts.append(b["text"]["text"])
                parts += [e.get("text", "") for e in b.get("elements", []) if "text" in e]
            out.append("\n".join(str(p) for p in parts))
        return out


def settings_for(fake: FakeSlackAPI, tmp_path: Path, **overrides) -> Settings:
    values = dict(
        slack_bot_token=fake.token,
        slack_signing_secret=SECRET,
        slack_app_token=None,
        slack_api_url=fake.base_url,
        data_dir=tmp_path,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def fake() -> Iterator[FakeSlackAPI]:
    with FakeSlackAPI() as api:
        yield api


@pytest.fixture
def make_harness(fake, tmp_path):
    made: list[Harness] = []

    def make(
        *, records: Records | None = None, clock=time.time, secret: str = SECRET, **overrides
    ) -> Harness:
        if records is None:
            records = Records.from_url(f"sqlite:///{tmp_path / f'records{len(made)}.db'}")
            records.upgrade()
        settings = settings_for(fake, tmp_path, slack_signing_secret=secret, **overrides)
        service = FakeStudyService(records, settings)
        executor = DrainableExecutor()
        app = create_app(settings, service, records, executor=executor, clock=clock)
        runner = HttpRunner(app, host="127.0.0.1", port=0)
        runner.start_in_thread()
        h = Harness(
            fake,
            records,
            service,
            runner,
            executor,
            SlackSender(f"{runner.url}/slack/events", secret),
        )
        made.append(h)
        return h

    yield make
    for h in made:
        h.runner.stop()
        h.executor.shutdown(wait=True)
        h.records.close()


@pytest.fixture
def harness(make_harness) -> Harness:
    return make_harness()


# --------------------------------------------------------------------------- payload builders


def envelope(event: dict, event_id: str) -> dict:
    return {
        "token": "verification_token",
        "team_id": "T111",
        "api_app_id": "A111",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1700000000,
        "authorizations": [{"team_id": "T111", "user_id": BOT, "is_bot": True}],
    }


def mention(
    text: str, ts: str, *, thread_ts: str | None = None, user: str = "U1", channel: str = "C1"
) -> dict:
    event = {
        "type": "app_mention",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message(
    text: str,
    ts: str,
    *,
    thread_ts: str | None = None,
    user: str | None = "U1",
    channel: str = "C1",
    channel_type: str = "channel",
    **extra,
) -> dict:
    event = {
        "type": "message",
        "text": text,
        "ts": ts,
        "channel": channel,
        "channel_type": channel_type,
        "event_ts": ts,
        **extra,
    }
    if user:
        event["user"] = user
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def command_body(
    text: str,
    *,
    command: str = "/study",
    user: str = "U1",
    channel: str = "C1",
    response_url: str = "https://hooks.slack.com/commands/T111/1/x",
) -> str:
    return urlencode(
        {
            "token": "verification_token",
            "team_id": "T111",
            "team_domain": "study",
            "channel_id": channel,
            "channel_name": "study",
            "user_id": user,
            "user_name": "u",
            "command": command,
            "text": text,
            "api_app_id": "A111",
            "response_url": response_url,
            "trigger_id": f"trigger-{time.monotonic_ns()}",
        }
    )


def action_body(
    action_id: str,
    value: str,
    *,
    user: str = "U2",
    channel: str = "C1",
    message_ts: str = "1700000000.000001",
    thread_ts: str | None = None,
    response_url: str = "https://hooks.slack.com/actions/T111/1/x",
    message: dict | None = None,
    ephemeral: bool = False,
) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "u2", "team_id": "T111"},
        "api_app_id": "A111",
        "token": "verification_token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        },
        "trigger_id": "111.222.valid",
        "team": {"id": "T111", "domain": "study"},
        "channel": {"id": channel, "name": "study"},
        "message": message
        or {"ts": message_ts, "thread_ts": thread_ts or message_ts, "type": "message"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "feedback",
                "value": value,
                "type": "button",
                "action_ts": "1700000001.0",
            }
        ],
    }
    return "payload=" + quote(json.dumps(payload))


# --------------------------------------------------------------------------- HTTP basics


def test_healthz_and_unknown_paths(harness):
    with __import__("urllib.request").request.urlopen(f"{harness.runner.url}/healthz") as r:
        assert r.status == 200 and json.loads(r.read()) == {"ok": True}
    assert post_raw(f"{harness.runner.url}/other", b"{}", {}).status == 404


def test_bad_signature_and_stale_or_odd_timestamps_get_401(harness):
    body = json.dumps(envelope(mention(f"<@{BOT}> hi", "1700000000.000100"), "EvSig"))
    good = harness.sender.signed_headers(body)
    assert (
        harness.sender.post(body, headers={**good, "X-Slack-Signature": "v0=" + "0" * 64}).status
        == 401
    )
    now = int(time.time())
    assert harness.sender.post(body, timestamp=now - 301).status == 401  # older than 5 minutes
    assert harness.sender.post(body, timestamp=now + 301).status == 401
    assert (
        harness.sender.post(body, headers={**good, "X-Slack-Request-Timestamp": "soon"}).status
        == 401
    )
    assert harness.sender.post(body, headers={"Content-Type": "application/json"}).status == 401
    harness.settle()
    assert harness.api_methods() == []
    assert harness.sender.post(body, timestamp=now - 240).status == 200  # inside the window


def test_the_ack_returns_before_the_answer_is_ready(harness):
    harness.service.delay = 1.5
    started = time.monotonic()
    harness.send(mention(f"<@{BOT}> slow one", "1700000000.000100"), "EvSlow")
    assert time.monotonic() - started < 0.5
    harness.settle()
    assert len(harness.fake.posted()) == 1


# --------------------------------------------------------------------------- shared payloads


def _form_payload(name: str) -> str:
    return "payload=" + quote((PAYLOADS / name).read_text())


# file -> (how to send it, expected status, expected Web API calls after start-up)
ANSWERED = ["reactions.add", "chat.postMessage", "reactions.remove"]  # a top-level DM: 👀
STATUS = "assistant.threads.setStatus"
IN_THREAD = [STATUS, "chat.postMessage", STATUS]  # a reply in a thread: Slack's AI status
REPLAY = {
    "01_url_verification.json": ("json", 200, []),
    "02_event_app_mention.json": ("json", 200, IN_THREAD),
    "03_event_message_channel.json": ("json", 200, []),  # top-level chatter, no mention
    "04_event_message_im.json": ("json", 200, ANSWERED),
    "05_event_message_from_other_bot.json": ("json", 200, []),
    "06_event_bot_message_subtype_self.json": ("json", 200, []),
    "07_event_reaction_added.json": ("json", 200, []),
    "08_slash_command_form_body.txt": ("form", 200, []),  # a question: answered privately
    "09_slash_command_signed_request.json": ("signed", 200, []),
    "10_block_actions_payload.json": ("payload", 200, []),
    "11_block_actions_form_body.txt": ("form", 200, []),
    "12_view_submission_payload.json": ("payload", 200, []),
    "13_view_closed_payload.json": ("payload", 200, []),
    "14_ssl_check_form_body.txt": ("form", 200, []),
}

needs_payloads = pytest.mark.skipif(
    not PAYLOADS.is_dir(), reason=f"shared Slack payloads not found at {PAYLOADS}"
)


@needs_payloads
def test_every_shared_payload_is_replayed():
    files = {p.name for p in PAYLOADS.iterdir() if re.match(r"\d\d_", p.name)}
    assert files == set(REPLAY), "a payload was added or renamed: give it an expectation"


@needs_payloads
@pytest.mark.parametrize("name", sorted(REPLAY))
def test_replay_shared_payload(name, make_harness):
    how, status, calls = REPLAY[name]
    if how == "signed":  # Slack's published signing example, valid only at its own timestamp
        vector = json.loads((PAYLOADS / name).read_text())
        h = make_harness(
            clock=lambda: vector["expected_valid_at_unix_time"], secret=vector["signing_secret"]
        )
        reply = h.sender.post(vector["body"], headers=vector["headers"])
    else:
        h = make_harness()
        raw = (PAYLOADS / name).read_text()
        if how == "json":
            reply = h.sender.post(raw)
        elif how == "form":
            reply = h.sender.form(raw)
        else:
            reply = h.sender.form(_form_payload(name))
    h.settle()
    assert reply.status == status, reply
    assert h.api_methods() == calls

    if name.startswith("01_"):
        assert reply.json() == {"challenge": json.loads(raw)["challenge"]}
    elif name.startswith("14_"):
        assert reply.body == ""
    elif name.startswith("08_"):  # `/hello-world Hi`: a question, answered to the asker only
        body = reply.json()
        assert body["response_type"] == "ephemeral" and body["text"].startswith("🔎 Searching")
        assert [c.question for c in h.service.calls] == ["Hi"]
    elif name.startswith("09_"):  # an empty command: the help, ephemeral
        body = reply.json()
        assert body["response_type"] == "ephemeral"
        assert body["text"].endswith("help` to see what I can do.")
        sections = " ".join(b["text"]["text"] for b in body["blocks"] if b["type"] == "section")
        assert "&lt;question&gt;" in sections
    elif name.startswith("02_"):
        post = h.fake.posted()[0].params
        assert (post["channel"], post["thread_ts"]) == ("C111", "1595926230.009600")
        assert h.service.calls[0].question == "Hi there!"
    elif name.startswith("04_"):
        post = h.fake.posted()[0].params
        assert post["channel"] == "D111" and "thread_ts" not in post
        assert h.service.calls[0].question == "A top-level DM, not in a thread"
    if calls == [] and not name.startswith("08_"):
        assert h.service.calls == []


@needs_payloads
def test_signed_example_is_refused_with_the_real_clock(harness):
    vector = json.loads((PAYLOADS / "09_slash_command_signed_request.json").read_text())
    assert harness.sender.post(vector["body"], headers=vector["headers"]).status == 401


# --------------------------------------------------------------------------- exactly one reply


def test_retries_of_the_same_event_give_one_reply(harness):
    event = mention(f"<@{BOT}> What is AMT?", "1700000001.000100")
    harness.send(event, "EvRetry")
    for n in (1, 2, 3):
        harness.send(event, "EvRetry", retry_num=n)
    harness.settle()
    assert len(harness.fake.posted()) == 1
    assert len(harness.service.calls) == 1


def test_concurrent_duplicate_deliveries_give_one_reply(harness):
    body = json.dumps(envelope(mention(f"<@{BOT}> race", "1700000002.000100"), "EvRace"))
    replies: list[Reply] = []
    threads = [
        threading.Thread(target=lambda n=n: replies.append(harness.sender.post(body, retry_num=n)))
        for n in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    harness.settle()
    assert [r.status for r in replies] == [200] * 4
    assert len(harness.fake.posted()) == 1


def test_app_mention_plus_message_for_the_same_message_give_one_reply(harness):
    text = f"<@{BOT}> What is Bayesian search?"
    harness.send(mention(text, "1700000003.000100"), "EvMention")
    harness.send(message(text, "1700000003.000100"), "EvMessage")
    harness.settle()
    assert len(harness.fake.posted()) == 1
    root = "1700000003.000100"
    # in the bot's thread: a mention arrives as app_mention and as message
    text2 = f"<@{BOT}> and random search?"
    harness.send(message(text2, "1700000003.000200", thread_ts=root), "EvMessage2")
    harness.send(mention(text2, "1700000003.000200", thread_ts=root), "EvMention2")
    # the (channel, ts) key is the backstop even when the message text has no mention
    harness.send(mention(f"<@{BOT}> grid?", "1700000003.000300", thread_ts=root), "EvMention3")
    harness.send(message("grid?", "1700000003.000300", thread_ts=root), "EvMessage3")
    harness.settle()
    assert len(harness.fake.posted()) == 3
    assert len(harness.service.calls) == 3


# --------------------------------------------------------------------------- follow-ups


def test_follow_up_in_the_bots_thread_is_answered_with_context(harness):
    root = "1700000010.000100"
    harness.send(mention(f"<@{BOT}> What is AMT?", root), "EvQ1")
    harness.settle()
    harness.send(
        message("Which strategies does it support?", "1700000010.000200", thread_ts=root), "EvQ2"
    )
    harness.settle()
    posts = harness.fake.posted()
    assert [p.params["thread_ts"] for p in posts] == [root, root]
    assert [c.thread for c in harness.service.calls] == [None, root]
    assert "Follow-up after 1 earlier question(s): What is AMT?" in harness.posted_texts()[1]
    assert harness.records.thread_history("C1", root)[-1][0] == "Which strategies does it support?"


def test_messages_that_are_not_for_the_bot_are_ignored(harness):
    root = "1700000020.000100"
    harness.send(mention(f"<@{BOT}> What is AMT?", root), "EvF1")
    harness.settle()
    harness.fake.reset()
    harness.send(
        message(
            "a thread the bot never answered", "1700000020.000300", thread_ts="1699999999.000001"
        ),
        "EvF2",
    )
    harness.send(message("top-level chatter", "1700000020.000400"), "EvF3")
    harness.send(message("my own answer", "1700000020.000500", thread_ts=root, user=BOT), "EvF4")
    harness.send(
        message("edited", "1700000020.000600", thread_ts=root, subtype="message_changed"), "EvF5"
    )
    harness.send(
        message("another bot", "1700000020.000700", thread_ts=root, user="UB2", bot_id="B999"),
        "EvF6",
    )
    harness.send(
        message(
            "bot post",
            "1700000020.000800",
            thread_ts=root,
            user=None,
            subtype="bot_message",
            bot_id="BBOT",
        ),
        "EvF7",
    )
    harness.settle()
    assert harness.api_methods() == []
    assert len(harness.service.calls) == 1


def test_only_replies_addressed_to_the_bot_are_follow_ups(make_harness, tmp_path):
    """Under the question of the day, "I picked C" is for the channel, not for the bot: a reply
    without a mention is answered only from the person the bot last answered in that thread,
    within FOLLOW_UP_WINDOW of its answer."""
    now = [datetime.now(UTC)]
    records = Records.from_url(f"sqlite:///{tmp_path / 'follow.db'}", clock=lambda: now[0])
    records.upgrade()
    h = make_harness(records=records)
    client = WebClient(token=h.fake.token, base_url=h.fake.base_url)
    shown = ShownQuestion(
        "tok",
        "daily",
        PublicQuestion(
            1, "Which?", ["a", "b", "c", "d"], 1, DomainTag(3, "Modeling", "3.4 x"), "guide.md", "t"
        ),
        "C1",
        None,
    )
    root = slack_poster(client)(shown, None)  # the question of the day, as the bot posts it
    h.send(message("I picked C", "1700000015.000100", thread_ts=root, user="U2"), "EvDaily1")
    h.settle()
    assert h.service.calls == []
    h.send(mention(f"<@{BOT}> why is B right?", "1700000015.000200", thread_ts=root), "EvDaily2")
    h.send(message("I picked C too", "1700000015.000300", thread_ts=root, user="U2"), "EvDaily3")
    h.settle()
    assert [c.question for c in h.service.calls] == ["why is B right?"]
    now[0] += timedelta(minutes=5)  # the asker, soon after the answer: a follow-up
    h.send(message("and why not A?", "1700000015.000400", thread_ts=root), "EvDaily4")
    h.settle()
    assert [c.question for c in h.service.calls][-1] == "and why not A?"
    now[0] += FOLLOW_UP_WINDOW + timedelta(minutes=1)  # much later: talking to the channel
    h.send(message("thanks all, see you tomorrow", "1700000015.000500", thread_ts=root), "EvDaily5")
    h.settle()
    assert len(h.service.calls) == 2
    assert len(h.fake.posted()) == 3  # the daily question and the two answers


# --------------------------------------------------------------------------- Slack API failures


def test_a_429_from_chat_post_message_is_retried_and_posted(harness):
    harness.fake.rate_limit("chat.postMessage", retry_after=1)
    harness.send(mention(f"<@{BOT}> rate limited?", "1700000030.000100"), "Ev429")
    harness.settle()
    assert [c.status for c in harness.fake.calls("chat.postMessage")] == [429, 200]
    assert len(harness.fake.posted()) == 1


def test_invalid_auth_is_logged_with_the_event_id_and_the_app_keeps_going(harness, caplog):
    harness.fake.fail("chat.postMessage", "invalid_auth")
    with caplog.at_level(logging.ERROR):
        harness.send(mention(f"<@{BOT}> auth?", "1700000040.000100"), "EvAuth")
        harness.settle()
    assert harness.fake.posted() == []  # nothing more was tried: the token is bad
    assert any(
        "EvAuth" in r.getMessage() and "invalid_auth" in r.getMessage() for r in caplog.records
    )
    harness.send(mention(f"<@{BOT}> again", "1700000040.000200"), "EvAuth2")
    harness.settle()
    assert len(harness.fake.posted()) == 1


def test_other_api_errors_get_one_friendly_line(harness, caplog):
    harness.fake.fail("chat.postMessage", "internal_error")
    with caplog.at_level(logging.ERROR):
        harness.send(mention(f"<@{BOT}> boom", "1700000050.000100"), "EvBoom")
        harness.settle()
    posts = harness.fake.posted()
    assert len(posts) == 1 and posts[0].params["text"] == POST_FAILED
    assert posts[0].params["thread_ts"] == "1700000050.000100"
    assert any("EvBoom" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- bad input


def test_empty_mention_gets_a_short_help_line(harness):
    harness.send(mention(f"<@{BOT}>   ", "1700000060.000100"), "EvEmpty")
    harness.settle()
    assert harness.service.calls == []
    [post] = harness.fake.posted()
    assert "Ask me a question" in post.params["text"] and f"<@{BOT}>" in post.params["text"]
    assert post.params["thread_ts"] == "1700000060.000100"


def test_a_40000_char_question_is_answered_within_slack_limits(harness):
    question = "why " * 10_000
    harness.send(mention(f"<@{BOT}> " + question, "1700000070.000100"), "EvLong")
    harness.settle()
    assert harness.service.calls[0].question == question.strip()  # the service cuts it
    [post] = harness.fake.posted()
    assert len(post.blocks) <= MAX_BLOCKS
    assert all(len(b["text"]["text"]) <= SECTION_LIMIT for b in post.blocks if "text" in b)
    assert "first 2,000 characters" in harness.posted_texts()[0]  # the service's note, shown
    [(stored, _)] = harness.records.thread_history("C1", "1700000070.000100")
    assert 0 < len(stored) <= 4000


def test_emoji_non_latin_and_code_pass_through(harness):
    slack_text = f"<@{BOT}> Was ist 日本語 🤖 und a &lt; b &amp;&amp; c?\n```x = {{'k': 1}}```"
    harness.send(mention(slack_text, "1700000080.000100"), "EvUni")
    harness.settle()
    assert (
        harness.service.calls[0].question == "Was ist 日本語 🤖 und a < b && c?\n```x = {'k': 1}```"
    )
    assert len(harness.fake.posted()) == 1


def test_a_failing_service_gets_one_friendly_line_and_a_log_with_the_event_id(harness, caplog):
    harness.service.error = RuntimeError("knowledge store unavailable")
    with caplog.at_level(logging.ERROR):
        harness.send(mention(f"<@{BOT}> anyone?", "1700000090.000100"), "EvDown")
        harness.settle()
    [post] = harness.fake.posted()
    assert post.params["text"] == SERVICE_DOWN
    assert any("EvDown" in r.getMessage() for r in caplog.records)
    harness.service.error = RecordsUnavailable("The study records database is unavailable.")
    harness.send(mention(f"<@{BOT}> still?", "1700000090.000200"), "EvDown2")
    harness.settle()
    assert harness.fake.posted()[-1].params["text"] == RECORDS_DOWN


def test_unavailable_records_get_one_friendly_line(make_harness, tmp_path, caplog):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    h = make_harness(records=Records.from_url(f"sqlite:///{blocker / 'records.db'}"))
    with caplog.at_level(logging.ERROR):
        h.send(mention(f"<@{BOT}> hello?", "1700000100.000100"), "EvNoDb")
        h.settle()
    [post] = h.fake.posted()
    assert post.params["text"] == RECORDS_DOWN
    assert h.service.calls == []
    assert any("EvNoDb" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- /study


def test_study_help_in_the_ack_and_anything_else_is_a_question(harness):
    for text in ("help", ""):
        reply = harness.sender.form(command_body(text))
        assert reply.status == 200
        body = reply.json()
        sections = " ".join(b["text"]["text"] for b in body["blocks"] if b["type"] == "section")
        assert "`/study &lt;question&gt;" in sections and "`/study help`" in sections
    reply = harness.sender.form(command_body("ask"))
    assert "Usage" in reply.json()["text"]
    harness.settle()
    assert harness.api_methods() == [] and harness.service.calls == []
    url = harness.fake.response_url("q")
    reply = harness.sender.form(command_body("frobnicate now", response_url=url))
    assert reply.json()["text"] == "🔎 Searching the study guide…"  # the ack: a sign of work
    harness.settle()
    assert [c.question for c in harness.service.calls] == ["frobnicate now"]
    [hook] = harness.fake.calls("response_url")
    assert hook.params["response_type"] == "ephemeral"


# --------------------------------------------------------------------------- feedback, home


def count_feedback(records: Records) -> list[tuple]:
    with records.engine.connect() as conn:
        return [
            tuple(r) for r in conn.execute(sa.text("SELECT ask_id, user_id, value FROM feedback"))
        ]


def test_feedback_for_an_unknown_ask_is_logged_not_thanked(harness, caplog):
    with caplog.at_level(logging.WARNING):
        harness.sender.form(action_body(FEEDBACK_UP, "999"))
        harness.sender.form(action_body(FEEDBACK_UP, "not-a-number"))
        harness.settle()
    assert harness.api_methods() == []
    assert any("999" in r.getMessage() for r in caplog.records)


def test_home_tab_shows_help(harness):
    harness.send(
        {
            "type": "app_home_opened",
            "user": "U1",
            "channel": "D1",
            "tab": "home",
            "event_ts": "1700000130.000100",
        },
        "EvHome",
    )
    harness.settle()
    [call] = harness.fake.posted("views.publish")
    view = call.json_param("view")
    assert view["type"] == "home"
    assert any("/study &lt;question&gt;" in json.dumps(b) for b in view["blocks"])
    assert any(f"<@{BOT}>" in json.dumps(b) for b in view["blocks"])  # the help line's mention


# --------------------------------------------------------------------------- Socket Mode path


def test_socket_mode_dispatch_acks_and_answers(fake, tmp_path):
    records = Records.from_url(f"sqlite:///{tmp_path / 'sm.db'}")
    records.upgrade()
    executor = DrainableExecutor()
    settings = settings_for(
        fake, tmp_path, slack_app_token="xapp-1-A111-1-abc", slack_signing_secret=None
    )
    app = create_app(settings, FakeStudyService(records), records, executor=executor)
    assert app.process_before_response is False
    body = json.dumps(envelope(mention(f"<@{BOT}> via socket", "1700000140.000100"), "EvSock"))
    response = app.dispatch(BoltRequest(body=body, mode="socket_mode"))
    assert response.status == 200
    executor.wait_idle()
    executor.shutdown()
    records.close()
    assert len(fake.posted()) == 1


def test_message_matcher_leaves_channel_mentions_to_app_mention():
    from slack_bolt import BoltContext

    from bot.slack.listeners.events.messages import wanted

    ctx = BoltContext({"bot_user_id": BOT})
    in_thread = dict(ts="2.0", thread_ts="1.0", channel_type="channel")
    assert wanted(message("more?", **in_thread), ctx) is True
    assert wanted(message(f"<@{BOT}> more?", **in_thread), ctx) is False
    assert wanted(message(f"<@{BOT}|studybot> more?", **in_thread), ctx) is False
    assert wanted(message(f"<@{BOT}> in a DM", "3.0", channel_type="im"), ctx) is True
    assert wanted(message("top level", "4.0"), ctx) is False
    assert wanted(message("broadcast", subtype="thread_broadcast", **in_thread), ctx) is True
