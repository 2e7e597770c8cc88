"""HTTP mode as a production server: uvicorn, the raw-body signature check, timeouts, limits,
health, readiness, metrics, graceful shutdown and JSON logs.

The app runs on a random 127.0.0.1 port (`HttpRunner`, uvicorn in a thread) with the fake Slack
Web API; raw sockets play the clients that misbehave (half-open, slow headers).
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from bot.logs import JsonFormatter, configure_logging, redact
from bot.records import Records
from bot.service import StudyService
from bot.slack.app import create_app
from bot.slack.asgi import HttpLimits
from bot.slack.runner import HttpRunner, serve
from tests.fakes.slack_api import FakeSlackAPI, SlackSender, post_raw
from tests.test_slack_app import (
    BOT,
    SECRET,
    DrainableExecutor,
    FakeStudyService,
    Harness,
    envelope,
    mention,
    settings_for,
)

REPO = Path(__file__).resolve().parents[1]
FAST = HttpLimits(body_timeout=0.5, header_timeout=0.5, keepalive_timeout=1, max_connections=500)


class Server(Harness):
    """The Slack tests' harness, plus raw access to the HTTP server."""

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", self.runner.port

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"{self.runner.url}{path}", timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()


@pytest.fixture
def server(tmp_path) -> Iterator[Server]:
    with FakeSlackAPI() as fake:
        records = Records.from_url(f"sqlite:///{tmp_path / 'records.db'}")
        records.upgrade()
        settings = settings_for(fake, tmp_path)
        service = FakeStudyService(records, settings)
        executor = DrainableExecutor()
        app = create_app(settings, service, records, executor=executor)
        runner = HttpRunner(app, host="127.0.0.1", port=0, limits=FAST)
        runner.start_in_thread()
        sender = SlackSender(f"{runner.url}/slack/events", SECRET)
        yield Server(fake, records, service, runner, executor, sender)
        runner.stop()
        executor.shutdown(wait=True)
        records.close()


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def raw_connection(address: tuple[str, int], data: bytes) -> socket.socket:
    sock = socket.create_connection(address, timeout=5)
    sock.sendall(data)
    return sock


def exchange(address: tuple[str, int], data: bytes, timeout: float = 5) -> tuple[bytes, float]:
    """Send `data` on a new connection; what came back until the server closed it, and when."""
    sock = raw_connection(address, data)
    try:
        return read_until_closed(sock, timeout)
    finally:
        sock.close()


def read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    started = time.monotonic()
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data, time.monotonic() - started


# --------------------------------------------------------------------------- signature first


def test_an_unsigned_truncated_body_is_401_with_no_traceback_and_no_body_logged(server, caplog):
    caplog.set_level(logging.DEBUG)
    before = sample("studybot_http_rejected_requests_total", reason="bad_signature")
    assert server.sender.post('{"a":', headers={"Content-Type": "application/json"}).status == 401
    forged = '{"event": "SECRET-BODY-TEXT"'
    headers = SlackSender(server.sender.url, "not-the-secret").signed_headers(forged)
    assert server.sender.post(forged, headers=headers).status == 401
    server.executor.wait_idle()
    assert [m for m in server.fake.methods() if m != "auth.test"] == []
    assert sample("studybot_http_rejected_requests_total", reason="bad_signature") == before + 2
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "SECRET-BODY-TEXT" not in logged and '{"a":' not in logged
    assert not [r for r in caplog.records if r.exc_info], "a rejected request logged a traceback"
    assert "invalid Slack signature" in logged


def test_a_signed_body_that_is_not_json_is_400_not_a_crash(server, caplog):
    body = '{"a":'
    reply = server.sender.post(body)
    assert reply.status == 400
    assert not [r for r in caplog.records if r.exc_info]


def test_a_body_over_the_cap_is_refused_before_it_is_read(server):
    head = b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n"
    data, _ = exchange(server.address, head)
    assert data.startswith(b"HTTP/1.1 413")


def test_signed_requests_still_ack_with_the_slack_retry_headers(server):
    reply = server.sender.event(
        envelope(mention(f"<@{BOT}> What is AMT?", "1700000001.000100"), "EvH1"), retry_num=1
    )
    assert reply.status == 200
    server.executor.wait_idle()
    assert len(server.fake.posted()) == 1


# --------------------------------------------------------------------------- timeouts and limits


def test_a_half_open_request_gets_408_and_is_closed_after_the_body_timeout(server):
    head = b'POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{"a"'
    data, waited = exchange(server.address, head)
    assert data.startswith(b"HTTP/1.1 408")
    assert FAST.body_timeout <= waited < FAST.body_timeout + 2


def test_a_connection_that_never_finishes_its_headers_is_closed(server):
    data, waited = exchange(server.address, b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
    assert data == b"" and waited < FAST.header_timeout + 2
    data, waited = exchange(server.address, b"")  # connects, sends nothing at all
    assert data == b"" and waited < FAST.header_timeout + 2


def test_many_half_open_connections_hold_no_threads_and_health_stays_quick(server):
    threads_before = threading.active_count()
    stuck = [
        raw_connection(
            server.address,
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 9999\r\n\r\n",
        )
        for _ in range(100)
    ]
    try:
        started = time.monotonic()
        assert server.get("/healthz") == (200, b'{"ok":true}')
        assert time.monotonic() - started < 1.0
        reply = server.sender.event(envelope(mention(f"<@{BOT}> hi", "1700000002.1"), "EvH2"))
        assert reply.status == 200
        assert threading.active_count() <= threads_before + 4  # a dispatch thread, the pool
    finally:
        for sock in stuck:
            sock.close()


def test_over_the_connection_limit_new_requests_get_503(tmp_path):
    with FakeSlackAPI() as fake:
        records = Records.from_url(f"sqlite:///{tmp_path / 'records.db'}")
        records.upgrade()
        settings = settings_for(fake, tmp_path)
        app = create_app(settings, FakeStudyService(records, settings), records)
        limits = HttpLimits(body_timeout=5, header_timeout=5, max_connections=5)
        with HttpRunner(app, host="127.0.0.1", port=0, limits=limits) as runner:
            held = [raw_connection(("127.0.0.1", runner.port), b"") for _ in range(5)]
            try:
                status = post_raw(f"{runner.url}/slack/events", b"{}", {}).status
            finally:
                for sock in held:
                    sock.close()
        records.close()
    assert status == 503


# --------------------------------------------------------------------------- health, readiness


def test_healthz_and_unknown_paths(server):
    assert server.get("/healthz") == (200, b'{"ok":true}')
    assert server.get("/nothing")[0] == 404
    assert post_raw(f"{server.runner.url}/other", b"{}", {}).status == 404


def test_readyz_says_when_the_store_is_empty(server):
    status, body = server.get("/readyz")
    assert status == 503
    assert json.loads(body) == {"ready": False, "checks": {"database": "ok", "store": "empty"}}


def readyz_of(settings, records: Records) -> tuple[int, dict]:
    """GET /readyz of an app over the real service with `settings` and `records`."""
    app = create_app(settings, StudyService(settings, records=records), records)
    with HttpRunner(app, host="127.0.0.1", port=0, limits=FAST) as runner:
        try:
            with urllib.request.urlopen(f"{runner.url}/readyz", timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())


def test_readyz_is_ready_over_an_ingested_store(notes_settings, tmp_path):
    with FakeSlackAPI() as fake:
        settings = notes_settings.model_copy(update=slack_of(fake))
        records = Records.from_url(f"sqlite:///{tmp_path / 'records.db'}")
        assert readyz_of(settings, records) == (
            200,
            {"ready": True, "checks": {"database": "ok", "store": "ok"}},
        )
        records.close()


def test_readyz_reports_an_unreachable_database_without_its_address(
    notes_settings, tmp_path, caplog
):
    with FakeSlackAPI() as fake:
        settings = notes_settings.model_copy(update=slack_of(fake))
        records = Records.from_url("postgresql://nobody@127.0.0.1:1/nothing")
        status, body = readyz_of(settings, records)
    assert status == 503
    assert body["checks"] == {"database": "unavailable", "store": "ok"}
    assert "127.0.0.1:1" in "\n".join(r.getMessage() for r in caplog.records)


def slack_of(fake: FakeSlackAPI) -> dict:
    return {
        "slack_bot_token": SecretStr(fake.token),
        "slack_signing_secret": SecretStr(SECRET),
        "slack_api_url": fake.base_url,
    }


# --------------------------------------------------------------------------- metrics


def metric_values(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_count_events_duplicates_acks_answers_and_slack_api_errors(server):
    def scrape() -> dict:
        status, body = server.get("/metrics")
        assert status == 200
        return metric_values(body.decode())

    before = scrape()
    event = mention(f"<@{BOT}> What is AMT?", "1700000003.000100")
    server.sender.event(envelope(event, "EvM1"))
    server.sender.event(envelope(event, "EvM1"), retry_num=1)
    server.executor.wait_idle()
    server.fake.rate_limit("chat.postMessage")
    server.sender.event(envelope(mention(f"<@{BOT}> again", "1700000003.000200"), "EvM2"))
    server.executor.wait_idle()
    server.fake.fail("chat.postMessage", "is_archived")
    server.sender.event(envelope(mention(f"<@{BOT}> third", "1700000003.000300"), "EvM3"))
    server.executor.wait_idle()
    after = scrape()

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("studybot_slack_requests_total", type="app_mention") == 4
    assert delta("studybot_duplicates_dropped_total", kind="event") == 1
    assert delta("studybot_ack_seconds_count") == 4
    assert delta("studybot_answers_total", mode="extractive") == 3
    assert delta("studybot_answer_seconds_count", mode="extractive") == 3
    assert delta("studybot_slack_api_rate_limited_total", method="chat.postMessage") == 1
    assert (
        delta("studybot_slack_api_errors_total", method="chat.postMessage", error="is_archived")
        == 1
    )
    assert after[("studybot_work_in_flight", ())] == 0


# --------------------------------------------------------------------------- graceful shutdown


def test_stopping_lets_an_acknowledged_answer_finish_and_post(tmp_path):
    with FakeSlackAPI() as fake:
        records = Records.from_url(f"sqlite:///{tmp_path / 'records.db'}")
        settings = settings_for(fake, tmp_path, port=0)
        service = FakeStudyService(records, settings)
        service.delay = 1.5
        ready: list = []
        thread = threading.Thread(
            target=serve,
            args=(settings, service, records),
            kwargs={"host": "127.0.0.1", "on_ready": ready.append},
            daemon=True,
        )
        thread.start()
        deadline = time.monotonic() + 15
        while not (ready and ready[0]._server.started) and time.monotonic() < deadline:
            time.sleep(0.05)
        sender = SlackSender(f"{ready[0].url}/slack/events", SECRET)
        reply = sender.event(envelope(mention(f"<@{BOT}> slow", "1700000004.000100"), "EvS1"))
        assert reply.status == 200 and fake.posted() == []
        ready[0].stop()  # while the answer is still being written
        thread.join(20)
        assert not thread.is_alive()
        assert len(fake.posted()) == 1  # posted before serve() returned
        records.close()


# --------------------------------------------------------------------------- logs


def test_json_log_lines_are_objects_with_secrets_masked():
    record = logging.LogRecord(
        "bot.x", logging.ERROR, __file__, 1, "token %s at %s", ("xoxb-123-abc", "x"), None
    )
    try:
        raise RuntimeError("postgresql://bot:hunter2@db/x failed")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "bot.x"
    assert entry["message"] == "token xoxb-*** at x"
    assert "hunter2" not in line and "RuntimeError" in entry["exc_info"]
    assert "\n" not in line
    assert redact("Bearer xoxp-1-2-3 and xapp-1-A1-2") == "Bearer xoxp-*** and xapp-***"


def test_configure_logging_rejects_an_unknown_format():
    with pytest.raises(ValueError, match="STUDYBOT_LOG_FORMAT"):
        configure_logging("yaml")


def _serve_process(fake: FakeSlackAPI, tmp_path: Path, **env: str) -> subprocess.Popen:
    environment = {
        **os.environ,
        "SLACK_BOT_TOKEN": fake.token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.base_url,
        "STUDYBOT_DATA_DIR": str(tmp_path / "data"),
        "STUDYBOT_PORT": "0",
        **env,
    }
    return subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "studybot"), "serve", "--host", "127.0.0.1"],
        env=environment,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_studybot_serve_logs_json_and_stops_cleanly_on_sigterm(tmp_path):
    with FakeSlackAPI() as fake:
        proc = _serve_process(fake, tmp_path, STUDYBOT_LOG_FORMAT="json")
        lines: list[str] = []
        url = None
        try:
            for line in proc.stderr:
                lines.append(line)
                found = re.search(r"listening on (http://[\d.:]+)/slack/events", line)
                if found:
                    url = found.group(1)
                    break
            assert url, "".join(lines)
            assert post_raw(f"{url}/slack/events", b'{"a":', {}).status == 401
            proc.terminate()
            _, rest = proc.communicate(timeout=30)
        finally:
            proc.kill()
    lines += rest.splitlines()
    assert proc.returncode == 0
    entries = [json.loads(line) for line in lines if line.strip()]
    messages = [e["message"] for e in entries]
    assert any("invalid Slack signature" in m for m in messages)
    assert messages[-1] == "studybot stopped"
    everything = "".join(lines)
    assert fake.token not in everything and '{"a":' not in everything


def test_quiz_answers_and_llm_fallbacks_are_counted(notes_settings, tmp_path):
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from bot.quiz_service import QuizError
    from knowledge.answer import AnswerGenerator
    from tests.test_quiz_slack import correct_of, make_quiz, seed_bank, service_for

    records = Records.from_url(f"sqlite:///{tmp_path / 'records.db'}")
    records.upgrade()
    seed_bank(records)
    service = service_for(make_quiz(records, tmp_path))
    before = {r: sample("studybot_quiz_answers_total", result=r) for r in ("correct", "repeat")}
    refused = sample("studybot_quiz_answers_total", result="refused")
    shown = service.next_question("U1", "C1")
    right = sorted(correct_of(records, shown.token))
    service.answer_question(shown.token, "U1", right)
    service.answer_question(shown.token, "U1", right)
    with pytest.raises(QuizError):
        service.answer_question("NoSuchToken123", "U1", [0])
    assert sample("studybot_quiz_answers_total", result="correct") == before["correct"] + 1
    assert sample("studybot_quiz_answers_total", result="repeat") == before["repeat"] + 1
    assert sample("studybot_quiz_answers_total", result="refused") == refused + 1

    model = FakeListChatModel(responses=["An answer that cites nothing."])
    asking = StudyService(
        notes_settings,
        records=records,
        generator=AnswerGenerator(notes_settings, service.blueprint, chat_model=model),
    )
    fallbacks = sample("studybot_llm_fallbacks_total")
    asked = asking.ask_and_record("Which service turns text into lifelike speech?", "U1", "C1")
    assert asked.answer.mode == "extractive"
    assert sample("studybot_llm_fallbacks_total") == fallbacks + 1
    records.close()


def test_warm_up_loads_the_model_and_builds_bm25_before_the_first_question(
    notes_settings, tmp_path, caplog
):
    caplog.set_level(logging.INFO)
    records = Records.from_url(f"sqlite:///{tmp_path / 'records.db'}")
    service = StudyService(notes_settings, records=records)
    service.warm_up()
    retriever = service.retriever
    assert retriever.lexical.generation == retriever.store.generation() >= 0
    assert any("Warmed up in" in r.getMessage() for r in caplog.records)
    records.close()
