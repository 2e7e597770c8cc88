"""Ask figures: HTTP-mode ack latency under 50 concurrent signed mentions, and offline answer
latency on a real store.

    .venv/bin/python bench/ask.py ack                      # ack p50/p99, 50 concurrent mentions
    STUDYBOT_DATA_DIR=/tmp/sb-cov .venv/bin/python bench/ask.py answer   # offline answer p50/p95

`ack` runs the real Slack app (HTTP runner, lazy listeners) with the real service over the
bundled notes, pointed at the fake Slack Web API from the tests, and times each signed request
from send to HTTP response (what Slack waits for). `answer` times `StudyService.ask` end to end
(query embedding, hybrid retrieval, extractive answer) for every question of
tests/data/retrieval_eval.jsonl against the store in STUDYBOT_DATA_DIR (build it from the
study guide and the SageMaker guide first).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RETRIEVAL_EVAL, environment, latency_summary, write_results  # noqa: E402


def bench_ack(concurrency: int = 50, rounds: int = 3) -> dict:
    from pydantic import SecretStr

    from bot.records import Records
    from bot.service import StudyService
    from bot.slack.app import create_app
    from bot.slack.runner import HttpRunner
    from ingest.job import build_pipeline
    from knowledge.settings import Settings
    from tests.fakes.slack_api import FakeSlackAPI, SlackSender
    from tests.test_slack_app import DrainableExecutor, envelope, mention

    data = Path(tempfile.mkdtemp(prefix="studybot-ack-"))
    with FakeSlackAPI() as fake:
        settings = Settings(
            _env_file=None,
            data_dir=data,
            slack_bot_token=SecretStr(fake.token),
            slack_signing_secret=SecretStr("secret"),
            slack_api_url=fake.base_url,
        )
        build_pipeline(settings).run(
            [str(Path(__file__).resolve().parents[1] / "knowledge/notes/mls-c01")]
        )
        records = Records.from_url(settings.database_url)
        records.upgrade()
        service = StudyService(settings, records=records)
        service.ask("warm up the model", "u", "c")
        executor = DrainableExecutor()
        app = create_app(settings, service, records, executor=executor)
        runner = HttpRunner(app, host="127.0.0.1", port=0)
        runner.start_in_thread()
        sender = SlackSender(f"{runner.url}/slack/events", "secret")
        latencies: list[float] = []

        def one(n: int) -> float:
            event = mention(f"<@UBOT> What is automatic model tuning? #{n}", f"{1000 + n}.1")
            t0 = time.perf_counter()
            reply = sender.event(envelope(event, f"EvBench{n}"))
            elapsed = time.perf_counter() - t0
            assert reply.status == 200, reply
            return elapsed

        for r in range(rounds):
            with ThreadPoolExecutor(concurrency) as pool:
                latencies += list(pool.map(one, range(r * concurrency, (r + 1) * concurrency)))
            executor.wait_idle(600)
        answered = len(fake.posted("chat.postMessage"))
        runner.stop()
        executor.shutdown(wait=True)
    summary = latency_summary(latencies)
    return {
        "concurrency": concurrency,
        "requests": len(latencies),
        "answers_posted": answered,
        "ack_ms": summary,
    }


def bench_answer() -> dict:
    from bot.service import StudyService
    from knowledge.settings import Settings

    settings = Settings()
    service = StudyService(settings)
    chunks = service.retriever.store.count()
    questions = [json.loads(x)["q"] for x in RETRIEVAL_EVAL.open()]
    for q in questions[:5]:
        service.ask(q, "bench", "bench")
    seconds = []
    modes: dict[str, int] = {}
    for q in questions:
        t0 = time.perf_counter()
        answer = service.ask(q, "bench", "bench")
        seconds.append(time.perf_counter() - t0)
        modes[answer.mode] = modes.get(answer.mode, 0) + 1
    return {
        "store_chunks": chunks,
        "questions": len(questions),
        "modes": modes,
        "answer_ms": latency_summary(seconds),
    }


def main() -> None:
    what = sys.argv[1] if len(sys.argv) > 1 else "ack"
    result = bench_ack() if what == "ack" else bench_answer()
    result["environment"] = environment()
    write_results(f"ask_{what}", result)
    print(json.dumps({k: v for k, v in result.items() if k != "environment"}, indent=2))


if __name__ == "__main__":
    main()
