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
result reaching the fake Slack (chat.update of the learner's own question for on-demand;
chat.postEphemeral for the question of the day). Clocks: CLOCK_MONOTONIC (system-wide).
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


def run_db(db: str, plan: list[tuple[int, int]]) -> list[dict]:
    """`plan`: (concurrent clicks, rounds) pairs, each run for both scenarios."""
    import sqlalchemy as sa
    from slack_sdk import WebClient

    from bot.daily import DailyDriver, Schedule
    from bot.records import QuizAttempt, Records
    from bot.slack.blocks import blocks_to_dicts
    from bot.slack.quiz_blocks import question_blocks
    from bot.slack.quiz_messages import slack_poster
    from tests.fakes.slack_api import SlackSender
    from tests.test_quiz_slack import QuizFakeSlack, click_body, correct_of, make_quiz, seed_bank
    from tests.test_slack_app import SECRET

    tmp = Path(tempfile.mkdtemp(prefix="studybot-bench-quiz-"))
    schema = admin = None
    if db == "sqlite":
        url = f"sqlite:///{tmp / 'quiz.db'}"
    else:
        base = _pg_url()
        schema = f"bench_quiz_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(base)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = f"{base}?options=-csearch_path%3D{schema}"
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
    out = []
    expected_rows = 0
    try:
        for (concurrency, rounds), scenario in (
            (step, scenario) for step in plan for scenario in ("ondemand", "daily")
        ):
            expected_rows += rounds * concurrency
            http_s: list[float] = []
            result_s: list[float] = []
            makespans: list[float] = []
            for r in range(rounds):
                users = [f"U{scenario[0]}{concurrency}x{r:02d}{i:03d}" for i in range(concurrency)]
                clicks: list[tuple[str, str]] = []  # (match key, body)
                if scenario == "ondemand":
                    for i, user in enumerate(users):
                        shown = quiz.next_question(user, "C1")
                        right = correct_of(records, shown.token)
                        ts = f"17{concurrency:03d}{r:02d}000.{i:06d}"
                        body = click_body(
                            blocks_to_dicts(question_blocks(shown)),
                            user=user,
                            choices=right,
                            submit=len(right) > 1,
                            channel="C1",
                            message_ts=ts,
                        )
                        clicks.append((ts, body))
                    method, key = "chat.update", "ts"
                else:
                    channel = f"CD{concurrency}x{r:02d}"
                    driver.store.save(Schedule(channel, "09:00", "UTC"), "U1")
                    run = driver.run_daily(channel)
                    post = fake.posted("chat.postMessage")[-1]
                    right = correct_of(records, run.token)
                    for user in users:
                        body = click_body(post, user=user, choices=right, submit=len(right) > 1)
                        clicks.append((user, body))
                    method, key = "chat.postEphemeral", "user"
                fake.reset()
                signed = [(k, b, sender.signed_headers(b, content_type=FORM)) for k, b in clicks]
                replies = load.submit(fire, sender.url, signed).result()
                assert all(status == 200 for _, status, _, _ in replies), replies
                http_s += [t1 - t0 for _, _, t0, t1 in replies]
                sent = {k: t0 for k, _, t0, _ in replies}
                calls = fake.wait_for(method, count=len(clicks), timeout=120)
                arrived = {c.params[key]: fake.received[id(c)] for c in calls}
                assert set(arrived) == set(sent)
                result_s += [arrived[k] - sent[k] for k in sent]
                makespans.append(max(arrived.values()) - min(sent.values()))
            out.append(
                {
                    "db": db,
                    "scenario": scenario,
                    "result_via": method,
                    "rounds": rounds,
                    "concurrent_clicks": concurrency,
                    "http_ms": latency_summary(http_s),
                    "result_ms": latency_summary(result_s),
                    "all_results_delivered_ms": latency_summary(makespans),
                }
            )
        with records.engine.connect() as conn:
            rows = conn.execute(sa.select(sa.func.count()).select_from(QuizAttempt)).scalar_one()
        assert rows == expected_rows, (rows, expected_rows)
        for item in out:
            item["attempt_rows_total"] = rows
    finally:
        load.shutdown()
        bot.terminate()
        bot.wait(10)
        fake.stop()
        records.close()
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
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
                "(the ack); result = send to the result call reaching the fake Slack Web API "
                "(chat.update for on-demand, chat.postEphemeral for daily). Bolt's default "
                "lazy-listener executor (5 threads); real QuizService on a seeded bank."
            ),
            "load_avg_1m_before": round(load_before, 2),
            "load_avg_1m_after": round(os.getloadavg()[0], 2),
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
