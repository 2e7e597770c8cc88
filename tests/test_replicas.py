"""Two `studybot serve` replicas on one PostgreSQL and one Chroma server, as a team runs them.

Real processes: `chroma run` (the chromadb package's server) on 127.0.0.1, a throwaway
PostgreSQL schema (tests/pg.py), `studybot ingest` and `studybot quiz --generate` into them,
then two `studybot serve` processes in HTTP mode against the fake Slack Web API. Slack's side
is played from this process (signed requests, spread over both replicas). Checked:

- the same event, its retries and its twin (message + app_mention), delivered concurrently to
  both replicas, give exactly one reply;
- 500 quiz clicks on the question of the day, spread over both, give exactly one attempt row
  per person with the first choice;
- both schedulers race for two daily posts (the start-up catch-up and a cron run): one each;
- a re-ingest while serving is seen by both replicas' next answer, BM25 included: each
  replica's lexical index ends up holding exactly the Chroma server's chunks.

Marked slow (a few minutes); skipped with the reason when PostgreSQL is absent.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.records import DailySchedule, QuizAttempt, QuizPost, QuizQuestion, Records
from tests.fakes.slack_api import Call, SlackSender
from tests.pg import PG_UNREACHABLE, PG_URL, temporary_schema
from tests.test_quiz_slack import QuizFakeSlack, click_body
from tests.test_slack_app import BOT, SECRET, envelope, mention, message

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REPO = Path(__file__).resolve().parents[1]
BIN = REPO / ".venv" / "bin"
NOTES = REPO / "knowledge" / "notes" / "mls-c01"
FIRST_NOTES = [
    "1.2-data-ingestion.md",
    "2.2-feature-engineering.md",
    "3.4-hyperparameter-optimization.md",
    "4.2-aws-ml-services.md",
]
CLICKERS = 250  # each clicks twice: 500 clicks
NEW_NOTE = """# Quokkastream replication

Quokkastream is the replication protocol of the imaginary Wombat feature store: every write
is copied to three Quokkastream followers before it is acknowledged, so a Quokkastream
follower can serve reads while the leader is being replaced.

## Quokkastream lag

Quokkastream lag is the number of writes a follower has not applied yet.
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


@dataclass
class Replica:
    name: str
    port: int
    data_dir: Path
    log: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def messages(self) -> list[str]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [json.loads(line)["message"] for line in lines if line.startswith("{")]

    def metric(self, name: str, **labels: str) -> float:
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=5) as r:
            text = r.read().decode()
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        key = f"{name}{{{want}}}" if labels else name
        for line in text.splitlines():
            if line.startswith(key + " "):
                return float(line.split()[-1])
        return 0.0


@dataclass
class Team:
    """Everything two replicas share, and the replicas."""

    tmp: Path
    fake: QuizFakeSlack
    db_url: str
    chroma_url: str
    sources: Path
    replicas: list[Replica] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)
    cron_fire: datetime | None = None

    def env(self, data_dir: Path, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.db_url,
            "STUDYBOT_CHROMA_URL": self.chroma_url,
            "STUDYBOT_DATA_DIR": str(data_dir),
            "SLACK_BOT_TOKEN": self.fake.token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": self.fake.base_url,
            "STUDYBOT_LOG_FORMAT": "json",
            **extra,
        }

    def studybot(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(BIN / "studybot"), *args],
            env=self.env(self.tmp / "ingest-data", COLUMNS="200"),
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    def sender(self, i: int) -> SlackSender:
        return SlackSender(f"{self.replicas[i % 2].url}/slack/events", SECRET)

    def posts(self, channel: str, method: str = "chat.postMessage") -> list[Call]:
        return [c for c in self.fake.posted(method) if c.params.get("channel") == channel]


# --------------------------------------------------------------------------- the team


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    if PG_URL is None:
        pytest.skip(PG_UNREACHABLE)
    if not (BIN / "chroma").exists():
        pytest.skip("the chroma server CLI is not installed in .venv")
    tmp = tmp_path_factory.mktemp("replicas")
    sources = tmp / "notes"
    sources.mkdir()
    for name in FIRST_NOTES:
        shutil.copy(NOTES / name, sources / name)
    chroma_port = free_port()
    chroma = subprocess.Popen(
        [str(BIN / "chroma"), "run", "--host", "127.0.0.1", "--port", str(chroma_port)]
        + ["--path", str(tmp / "chroma")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    chroma_url = f"http://127.0.0.1:{chroma_port}"
    try:
        wait_until(lambda: http_status(f"{chroma_url}/api/v2/heartbeat") == 200, 60, "chroma")
        with temporary_schema("replicas") as db_url, QuizFakeSlack() as fake:
            team = Team(tmp, fake, db_url, chroma_url, sources)
            started = time.monotonic()
            team.studybot("ingest", str(sources))
            team.studybot("quiz", "--generate", "--count", "20")
            team.figures["setup_ingest_and_bank_s"] = time.monotonic() - started
            cron_channel_fire = schedule_daily_posts(db_url)
            start_replicas(team)
            team.cron_fire = cron_channel_fire
            try:
                yield team
            finally:
                stop_replicas(team)
    finally:
        chroma.terminate()
        chroma.wait(20)


def schedule_daily_posts(db_url: str) -> datetime:
    """Two channels' questions of the day, in the database before the replicas start:
    CCATCHUP was due a minute ago (both replicas catch up at start-up), CCRON fires from both
    schedulers' cron jobs a little after they are up. Returns CCRON's fire time."""
    records = Records.from_url(db_url)
    records.upgrade()
    now = datetime.now(UTC)
    zone = next(  # a timezone where neither run crosses local midnight
        z
        for z in ("UTC", "Asia/Tokyo", "America/New_York", "Asia/Kolkata")
        if 10 <= (local := now.astimezone(ZoneInfo(z))).hour * 60 + local.minute <= 23 * 60 + 55
    )
    due = (now - timedelta(minutes=1)).astimezone(ZoneInfo(zone))
    fire = (
        (now + timedelta(seconds=100)).replace(second=0, microsecond=0).astimezone(ZoneInfo(zone))
    )
    with records.begin() as conn:
        for channel, at in (("CCATCHUP", due), ("CCRON", fire)):
            conn.execute(
                sa.insert(DailySchedule).values(
                    channel_id=channel,
                    time_of_day=at.strftime("%H:%M"),
                    timezone=zone,
                    weekdays_only=False,
                    enabled=True,
                    created_by="ULEAD",
                    updated_at=now,
                )
            )
    records.close()
    return fire


def start_replicas(team: Team) -> None:
    started = time.monotonic()
    for name in ("a", "b"):
        replica = Replica(name, free_port(), team.tmp / f"replica-{name}", team.tmp / f"{name}.log")
        replica.process = subprocess.Popen(
            [str(BIN / "studybot"), "serve", "--host", "127.0.0.1"],
            env=team.env(replica.data_dir, STUDYBOT_PORT=str(replica.port)),
            cwd=team.tmp,
            stdout=subprocess.DEVNULL,
            stderr=replica.log.open("w"),
        )
        team.replicas.append(replica)
    for replica in team.replicas:
        wait_until(
            lambda r=replica: http_status(f"{r.url}/readyz") == 200 or r.process.poll() is not None,
            180,
            f"replica {replica.name} to be ready",
        )
        assert replica.process.poll() is None, replica.log.read_text()[-3000:]
    team.figures["replicas_ready_s"] = time.monotonic() - started


def stop_replicas(team: Team) -> None:
    for replica in team.replicas:
        if replica.process.poll() is None:
            replica.process.terminate()
    for replica in team.replicas:
        try:
            replica.process.wait(60)
        except subprocess.TimeoutExpired:
            replica.process.kill()


# --------------------------------------------------------------------------- the checks


def deliver_concurrently(team: Team, deliveries: list[tuple[dict, int | None]]) -> None:
    """Each (payload, retry number) to replica a or b in turn, eight at a time, shuffled."""
    deliveries = list(deliveries)
    random.Random(len(deliveries)).shuffle(deliveries)

    def deliver(item) -> int:
        i, (payload, retry) = item
        return team.sender(i).event(payload, retry_num=retry).status

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(deliver, enumerate(deliveries))) == [200] * len(deliveries)


def dropped(team: Team) -> float:
    return sum(r.metric("studybot_duplicates_dropped_total", kind="event") for r in team.replicas)


def test_an_event_its_retries_and_its_twin_spread_over_both_give_one_reply(team):
    started = time.monotonic()
    channel, before = "CEVENTS", dropped(team)
    roots = [f"1700000100.{n:06d}" for n in range(1, 4)]
    deliver_concurrently(  # each mention, and two retries of it
        team,
        [
            (
                envelope(
                    mention(f"<@{BOT}> What is model tuning? {n}", ts, channel=channel), f"Ev{n}"
                ),
                r,
            )
            for n, ts in enumerate(roots)
            for r in (None, 1, 2)
        ],
    )
    wait_until(lambda: len(team.posts(channel)) >= len(roots), 120, "the replies")
    # Follow-ups in the bot's thread come twice: as app_mention and as a message (the
    # message listener answers replies in the bot's threads), each with retries.
    follow_ups = [f"1700000101.{n:06d}" for n in range(1, 4)]
    deliveries = []
    for n, ts in enumerate(follow_ups):
        text = f"and random search {n}?"
        at = mention(f"<@{BOT}> {text}", ts, thread_ts=roots[0], channel=channel)
        twin = message(text, ts, thread_ts=roots[0], channel=channel)
        deliveries += [(envelope(at, f"EvF{n}"), r) for r in (None, 1, 2)]
        deliveries += [(envelope(twin, f"EvT{n}"), r) for r in (None, 1)]
    deliver_concurrently(team, deliveries)
    expected = len(roots) + len(follow_ups)
    wait_until(lambda: len(team.posts(channel)) >= expected, 120, "the follow-up replies")
    time.sleep(3)  # a second reply to anything would come within this
    replies = team.posts(channel)
    assert len(replies) == expected
    assert sorted(c.params["thread_ts"] for c in replies) == sorted(roots + [roots[0]] * 3)
    assert dropped(team) - before == 2 * len(roots) + 4 * len(follow_ups)
    team.figures["events_s"] = time.monotonic() - started


def query(team: Team, statement: sa.Executable) -> list:
    records = Records.from_url(team.db_url)
    try:
        with records.connect() as conn:
            return conn.execute(statement).all()
    finally:
        records.close()


def daily_question(team: Team, channel: str) -> tuple[Call, list[int]]:
    (call,) = team.posts(channel)
    token = next(b for b in call.blocks if b["type"] == "actions")["elements"][-1]["value"]
    ((correct,),) = query(
        team,
        sa.select(QuizQuestion.correct)
        .join(QuizPost, QuizPost.question_id == QuizQuestion.id)
        .where(QuizPost.token == token),
    )
    return call, sorted(correct)


def test_500_clicks_spread_over_both_give_exactly_the_right_attempt_rows(team):
    call, right = daily_question(team, "CCATCHUP")
    choose = len(right)
    options = 4 if choose == 1 else 5
    picks = {  # every person's pick; each clicks it twice (a double click), on either replica
        f"U{n:04d}": sorted(random.Random(n).sample(range(options), choose))
        for n in range(CLICKERS)
    }
    clicks = [(user, pick) for user, pick in picks.items()] * 2
    random.Random(5).shuffle(clicks)
    started = time.monotonic()

    def click(item):
        i, (user, pick) = item
        body = click_body(call, user=user, choices=pick, submit=choose > 1)
        return team.sender(i).form(body).status

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(click, enumerate(clicks)))
    acked = time.monotonic() - started
    assert statuses == [200] * len(clicks)
    wait_until(
        lambda: len(team.posts("CCATCHUP", "chat.postEphemeral")) >= len(clicks),
        300,
        "a result for every click",
        interval=1,
    )
    team.figures["clicks"] = len(clicks)
    team.figures["clicks_acked_s"] = acked
    team.figures["clicks_graded_s"] = time.monotonic() - started
    rows = query(
        team,
        sa.select(QuizAttempt.user_id, QuizAttempt.choices, QuizAttempt.correct)
        .join(QuizPost, QuizPost.id == QuizAttempt.post_id)
        .where(QuizPost.channel_id == "CCATCHUP"),
    )
    assert len(rows) == CLICKERS
    assert {user: sorted(choices) for user, choices, _ in rows} == picks
    assert all(correct == (sorted(choices) == right) for _, choices, correct in rows)
    graded = {
        result: sum(r.metric("studybot_quiz_answers_total", result=result) for r in team.replicas)
        for result in ("correct", "wrong", "repeat")
    }
    assert graded["correct"] + graded["wrong"] == CLICKERS and graded["repeat"] == CLICKERS
    assert all(r.metric("studybot_quiz_answers_total", result="repeat") > 0 for r in team.replicas)


def test_both_schedulers_give_one_daily_post_per_channel(team):
    assert len(team.posts("CCATCHUP")) == 1  # both caught up at start-up
    fire = team.cron_fire.timestamp()
    wait_until(lambda: time.time() > fire + 5, 200, "the cron run")
    wait_until(lambda: team.posts("CCRON"), 60, "the cron post")
    time.sleep(3)
    assert len(team.posts("CCRON")) == 1
    for channel in ("CCATCHUP", "CCRON"):
        outcomes = [
            [m for m in r.messages() if f"Question of the day in {channel} on" in m]
            for r in team.replicas
        ]
        said = sorted("posted" if any("posted" in m for m in o) else "claimed" for o in outcomes)
        assert said == ["claimed", "posted"], outcomes  # both ran; one posted, one found it taken


def test_a_reingest_while_serving_is_seen_by_both_replicas_bm25_included(team):
    (team.sources / "9.9-quokkastream.md").write_text(NEW_NOTE)
    asking = threading.Event()
    counter = itertools.count()

    def keep_asking() -> None:  # both replicas keep answering (and refreshing) during the ingest
        while not asking.is_set():
            n = next(counter)
            ts = f"1700000200.{n:06d}"
            team.sender(n).event(
                envelope(
                    mention(f"<@{BOT}> What is hyperparameter tuning?", ts, channel="CBG"),
                    f"EvBg{n}",
                )
            )
            time.sleep(0.3)

    background = threading.Thread(target=keep_asking, daemon=True)
    background.start()
    started = time.monotonic()
    try:
        team.studybot("ingest", str(team.sources))
    finally:
        asking.set()
        background.join(10)
    team.figures["reingest_s"] = time.monotonic() - started
    for i in range(len(team.replicas)):  # one question to each replica
        question = mention(f"<@{BOT}> What is Quokkastream lag?", f"1700000300.{i:06d}")
        team.sender(i).event(envelope({**question, "channel": "CNEW"}, f"EvNew{i}"))
    wait_until(lambda: len(team.posts("CNEW")) == 2, 120, "both answers")
    for call in team.posts("CNEW"):
        assert "Quokkastream" in json.dumps(call.blocks), call.blocks
    store_ids, generation = chroma_state(team)
    for replica in team.replicas:
        meta = json.loads((replica.data_dir / "bm25" / "studybot-meta.json").read_text())
        assert meta["generation"] == generation, replica.name
        assert set(meta["ids"]) == store_ids, replica.name  # BM25 holds exactly the store


def chroma_state(team: Team) -> tuple[set[str], int]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    host, port = team.chroma_url.removeprefix("http://").split(":")
    client = chromadb.HttpClient(
        host=host, port=int(port), settings=ChromaSettings(anonymized_telemetry=False)
    )
    collection = client.get_collection("studybot")
    return set(collection.get(include=[])["ids"]), int(collection.metadata["generation"])


def test_replicas_stop_cleanly_on_sigterm_and_report_figures(team):
    stop_replicas(team)
    for replica in team.replicas:
        assert replica.process.returncode == 0, replica.log.read_text()[-2000:]
        assert replica.messages()[-1] == "studybot stopped"
    print("replica figures:", json.dumps({k: round(v, 2) for k, v in team.figures.items()}))
