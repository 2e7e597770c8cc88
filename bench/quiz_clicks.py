"""Quiz answer handling under 100 concurrent clicks: HTTP latency and time to the result.

    .venv/bin/python bench/quiz_clicks.py                 # SQLite, and PostgreSQL when reachable
    .venv/bin/python bench/quiz_clicks.py --rounds 10 --db sqlite

Three processes, so the bot does not share its interpreter with the load or with "Slack":

- the bot: the real Slack app (`create_app`, HTTP runner, Bolt's default lazy-listener executor)
  and the real `QuizService` on a seeded bank, started as a subprocess (`--serve`);
- this process: the fake Slack Web API from the tests (stamps each call's arrival) and the setup
  (questions are created through a second QuizService on the same database, like a replica);
- the load: a client process whose 100 threads are released at once by a barrier, each sending
  one signed `block_actions` click.

Per click: `http` = send → HTTP response (what Slack waits for: the ack); `result` = send → the
result reaching the fake Slack: since the bot answers a click through the click's response_url
(on-demand: the answered question in place of the learner's own; daily: a private result), each
click's payload carries the fake Slack's `/respond/<learner>` URL and the result is its post
there. Clocks: CLOCK_MONOTONIC (system-wide).
Scenarios: `ondemand` (100 learners, each clicking their own question) and `daily` (100 learners
answering one channel's question of the day). Writes bench/results/quiz_clicks.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import latency_summary, print_table, write_results  # noqa: E402

CLICKS = 100
FORM = "application/x-www-form-urlencoded"


def _pg_url() -> str | None:
    from tests.test_records import _PG_URL

    return _PG_URL


# --------------------------------------------------------------------------- the bot process


def serve(db_url: str, slack_base_url: str, data_dir: str) -> None:
    """The bot under test: prints its port, then serves until terminated."""
    import logging

    from bot.records import Records
    from bot.slack.app import create_app
    from bot.slack.runner import HttpRunner
    from knowledge.settings import Settings
    from tests.test_quiz_slack import make_quiz, service_for
    from tests.test_slack_app import SECRET

    logging.basicConfig(level=logging.WARNING)
    records = Records.from_url(db_url)
    quiz = make_quiz(records, Path(data_dir))
    settings = Settings(
        _env_file=None,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=slack_base_url,
        data_dir=Path(data_dir),
    )
    app = create_app(settings, service_for(quiz), records)  # Bolt's own executor (5 threads)
    runner = HttpRunner(app, host="127.0.0.1", port=0)
    print(runner.port, flush=True)
    runner.serve_forever()


# --------------------------------------------------------------------------- the load process


def fire(url: str, clicks: list[tuple[str, str, dict]]) -> list[tuple[str, int, float, float]]:
    """Send every click from its own thread, all released at once: (key, status, t0, t1)."""
    from tests.fakes.slack_api import post_raw

    gate = threading.Barrier(len(clicks))

    def one(item):
        key, body, headers = item
        data = body.encode()
        gate.wait()
        t0 = time.monotonic()
        reply = post_raw(url, data, headers, timeout=60)
        return key, reply.status, t0, time.monotonic()

    with ThreadPoolExecutor(max_workers=len(clicks)) as pool:
        return list(pool.map(one, clicks))


# --------------------------------------------------------------------------- orchestration


def with_response_url(body: str, url: str) -> str:
    """A click form body whose payload carries `url` as its response_url."""
    import json
    from urllib.parse import parse_qs, quote

    payload = json.loads(parse_qs(body)["payload"][0])
    payload["response_url"] = url
    return "payload=" + quote(json.dumps(payload))


@dataclass
class Bench:
    """Everything one database's runs share: the quiz, the fake Slack, the bot's URL."""

    records: object
    quiz: object
    fake: object
    driver: object
    sender: object
    load: ProcessPoolExecutor


def build_clicks(bench: Bench, scenario: str, concurrency: int, r: int) -> list[tuple[str, str]]:
    """(reply hook, form body) per learner: each click's response_url is the fake Slack's
    `/respond/<hook>`, where the bot sends the result (on-demand and daily alike)."""
    from bot.daily import Schedule
    from bot.slack.blocks import blocks_to_dicts
    from bot.slack.quiz_blocks import question_blocks
    from tests.test_quiz_slack import click_body, correct_of

    users = [f"U{scenario[0]}{concurrency}x{r:02d}{i:03d}" for i in range(concurrency)]
    clicks: list[tuple[str, str]] = []
    if scenario == "ondemand":
        for i, user in enumerate(users):
            shown = bench.quiz.next_question(user, "C1")
            right = correct_of(bench.records, shown.token)
            body = click_body(
                blocks_to_dicts(question_blocks(shown)),
                user=user,
                choices=right,
                submit=len(right) > 1,
                channel="C1",
                message_ts=f"17{concurrency:03d}{r:02d}000.{i:06d}",
            )
            clicks.append((user, body))
    else:
        channel = f"CD{concurrency}x{r:02d}"
        bench.driver.store.save(Schedule(channel, "09:00", "UTC"), "U1")
        run = bench.driver.run_daily(channel)
        post = bench.fake.posted("chat.postMessage")[-1]
        right = correct_of(bench.records, run.token)
        for user in users:
            clicks.append((user, click_body(post, user=user, choices=right, submit=len(right) > 1)))
    return [(hook, with_response_url(b, bench.fake.response_url(hook))) for hook, b in clicks]


def measure_round(bench: Bench, clicks: list[tuple[str, str]]) -> tuple[list, list, float]:
    """Fire one burst; (ack seconds, result seconds, first send to last result)."""
    bench.fake.reset()
    signed = [(k, b, bench.sender.signed_headers(b, content_type=FORM)) for k, b in clicks]
    replies = bench.load.submit(fire, bench.sender.url, signed).result()
    assert all(status == 200 for _, status, _, _ in replies), replies
    sent = {k: t0 for k, _, t0, _ in replies}
    calls = bench.fake.wait_for("response_url", count=len(clicks), timeout=120)
    arrived = {c.hook: bench.fake.received[id(c)] for c in calls}
    assert set(arrived) == set(sent)
    return (
        [t1 - t0 for _, _, t0, t1 in replies],
        [arrived[k] - sent[k] for k in sent],
        max(arrived.values()) - min(sent.values()),
    )


def open_db(db: str, tmp: Path):
    """(database URL, cleanup) for a fresh SQLite file or a fresh PostgreSQL schema."""
    import sqlalchemy as sa

    if db == "sqlite":
        return f"sqlite:///{tmp / 'quiz.db'}", lambda: None
    base = _pg_url()
    schema = f"bench_quiz_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return f"{base}?options=-csearch_path%3D{schema}", drop


def run_db(db: str, plan: list[tuple[int, int]]) -> list[dict]:
    """`plan`: (concurrent clicks, rounds) pairs, each run for both scenarios."""
    from slack_sdk import WebClient

    from bot.daily import DailyDriver
    from bot.records import Records
    from bot.slack.quiz_messages import slack_poster
    from tests.fakes.slack_api import SlackSender
    from tests.test_quiz_slack import QuizFakeSlack, make_quiz, seed_bank
    from tests.test_slack_app import SECRET

    tmp = Path(tempfile.mkdtemp(prefix="studybot-bench-quiz-"))
    url, drop = open_db(db, tmp)
    fake = QuizFakeSlack().start()
    records = Records.from_url(url)
    records.upgrade()
    seed_bank(records, per_domain=10)
    quiz = make_quiz(records, tmp, seed=11)
    client = WebClient(token=fake.token, base_url=fake.base_url)
    driver = DailyDriver(records, lambda: quiz, slack_poster(client), sync_interval=None)
    bot = subprocess.Popen(
        [sys.executable, __file__, "--serve", url, fake.base_url, str(tmp)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    port = int(bot.stdout.readline())
    sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", SECRET)
    load = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
    load.submit(time.sleep, 0).result()  # start the load process before timing anything
    bench = Bench(records, quiz, fake, driver, sender, load)
    try:
        return run_plan(bench, db, plan)
    finally:
        load.shutdown()
        bot.terminate()
        bot.wait(10)
        fake.stop()
        records.close()
        drop()


def run_plan(bench: Bench, db: str, plan: list[tuple[int, int]]) -> list[dict]:
    """Every (concurrency, rounds) step for both scenarios; checks every answer was stored."""
    import sqlalchemy as sa

    from bot.records import QuizAttempt

    out = []
    expected_rows = 0
    for (concurrency, rounds), scenario in (
        (step, scenario) for step in plan for scenario in ("ondemand", "daily")
    ):
        expected_rows += rounds * concurrency
        http_s: list[float] = []
        result_s: list[float] = []
        makespans: list[float] = []
        for r in range(rounds):
            acks, results, makespan = measure_round(
                bench, build_clicks(bench, scenario, concurrency, r)
            )
            http_s += acks
            result_s += results
            makespans.append(makespan)
        out.append(
            {
                "db": db,
                "scenario": scenario,
                "result_via": "response_url",
                "rounds": rounds,
                "concurrent_clicks": concurrency,
                "http_ms": latency_summary(http_s),
                "result_ms": latency_summary(result_s),
                "all_results_delivered_ms": latency_summary(makespans),
            }
        )
    with bench.records.engine.connect() as conn:
        rows = conn.execute(sa.select(sa.func.count()).select_from(QuizAttempt)).scalar_one()
    assert rows == expected_rows, (rows, expected_rows)
    for item in out:
        item["attempt_rows_total"] = rows
    return out


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(*sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clicks", type=int, default=CLICKS)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if "postgresql" in dbs and _pg_url() is None:
        print("PostgreSQL is not reachable on 127.0.0.1:5432: SQLite only")
        dbs.remove("postgresql")
    load_before = os.getloadavg()[0]
    results = []
    plan = [(1, 20), (args.clicks, args.rounds)]  # a lone click (baseline), then the burst
    for db in dbs:
        print(f"{db}: {plan} (concurrent clicks, rounds), on-demand and daily")
        results += run_db(db, plan)
    print_table(
        "quiz answer handling (ms)",
        [
            "db",
            "scenario",
            "clicks",
            "http p50",
            "http p95",
            "http p99",
            "result p50",
            "result p99",
            "all done p50",
        ],
        [
            (
                r["db"],
                r["scenario"],
                r["concurrent_clicks"],
                r["http_ms"]["p50_ms"],
                r["http_ms"]["p95_ms"],
                r["http_ms"]["p99_ms"],
                r["result_ms"]["p50_ms"],
                r["result_ms"]["p99_ms"],
                r["all_results_delivered_ms"]["p50_ms"],
            )
            for r in results
        ],
    )
    write_results(
        "quiz_clicks",
        {
            "what": (
                "Signed block_actions clicks from a separate load process into the bot's HTTP "
                "runner (its own process), all released at once; http = send to HTTP response "
                "(the ack); result = send to the result reaching the fake Slack through the "
                "click's response_url (on-demand and daily). Bolt's default lazy-listener "
                "executor (5 threads); real QuizService on a seeded bank."
            ),
            "load_avg_1m_before": round(load_before, 2),
            "load_avg_1m_after": round(os.getloadavg()[0], 2),
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
