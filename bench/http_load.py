"""HTTP mode under abuse: 200 half-open connections plus 50 concurrent signed mentions.

    .venv/bin/python bench/http_load.py                     # SQLite records
    .venv/bin/python bench/http_load.py --rounds 3 --db postgresql

The bot is the real `studybot serve` (HTTP mode, uvicorn) as a subprocess, over the bundled
notes (ingested first) and the fake Slack Web API from the tests (in this process). Each round:

1. `half_open` connections send a request line, headers and `Content-Length: 100000`, then
   nothing (the bot must time them out: 408 and close, STUDYBOT_HTTP_BODY_TIMEOUT);
2. `mentions` signed `app_mention` events are released at once from as many threads; each is
   timed from send to HTTP response (the ack Slack waits for) and to the answer reaching the
   fake Slack (`chat.postMessage` in the thread);
3. throughout, `GET /healthz` every 100 ms (1 s timeout), and the server's thread count and open
   descriptors (/proc) every 100 ms.

A first round without half-open connections gives the undisturbed figures to compare with.
Writes bench/results/http_load.json (http_load_postgresql.json with `--db postgresql`).
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    STUDYBOT_BIN,
    child_env,
    latency_summary,
    print_table,
    write_results,
)

HALF_OPEN_HEAD = (
    b"POST /slack/events HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100000\r\n\r\n"
)
QUESTIONS = [
    "Which service turns text into lifelike speech?",
    "How does automatic model tuning choose the next hyperparameters?",
    "What is a good metric for an imbalanced classification problem?",
    "How do I stream data into S3 with Kinesis Data Firehose?",
]


# --------------------------------------------------------------------------- the server


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def threads_and_fds(self) -> tuple[int, int]:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        threads = next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("Threads:")
        )
        return threads, len(os.listdir(f"/proc/{self.proc.pid}/fd"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, fake, db_url: str | None) -> Server:
    """Ingest the bundled notes into `data_dir`, then `studybot serve` on a free port."""
    from tests.test_slack_app import SECRET

    base = child_env(data_dir)
    done = subprocess.run([str(STUDYBOT_BIN), "ingest"], env=base, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"ingest failed:\n{done.stdout}{done.stderr}")
    port = free_port()
    env = child_env(
        data_dir,
        STUDYBOT_PORT=str(port),
        SLACK_BOT_TOKEN=fake.token,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.base_url,
        STUDYBOT_LOG_FORMAT="json",
        **({"DATABASE_URL": db_url} if db_url else {}),
    )
    log = data_dir / "serve.log"
    proc = subprocess.Popen(
        [str(STUDYBOT_BIN), "serve", "--host", "127.0.0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    server = Server(proc, port, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{server.url}/readyz", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    sys.exit(f"studybot serve did not become ready:\n{log.read_text()[-3000:]}")


# --------------------------------------------------------------------------- observers


@dataclass
class Observer:
    """Polls /healthz and the server's threads and descriptors every 100 ms, in a thread."""

    server: Server
    health: list[tuple[float, float | None]] = field(default_factory=list)  # (t, seconds|None)
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # (t, threads, fds)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self._stop.is_set():
            t0 = time.monotonic()
            try:
                with urllib.request.urlopen(f"{self.server.url}/healthz", timeout=1) as r:
                    r.read()
                self.health.append((t0, time.monotonic() - t0))
            except OSError:
                self.health.append((t0, None))
            self.samples.append((t0, *self.server.threads_and_fds()))
            self._stop.wait(max(0.0, 0.1 - (time.monotonic() - t0)))

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def window(self, start: float, end: float) -> dict:
        probes = [s for t, s in self.health if start <= t <= end]
        ok = [s for s in probes if s is not None]
        samples = [(th, fd) for t, th, fd in self.samples if start <= t <= end]
        return {
            "healthz": {
                "probes": len(probes),
                "failed_or_over_1s": len(probes) - len(ok),
                **latency_summary(ok),
            },
            "threads_max": max((th for th, _ in samples), default=0),
            "fds_max": max((fd for _, fd in samples), default=0),
        }


# --------------------------------------------------------------------------- load


def open_half_open(port: int, n: int) -> list[socket.socket]:
    sockets = []
    for _ in range(n):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(HALF_OPEN_HEAD)
        sock.setblocking(False)
        sockets.append(sock)
    return sockets


def watch_half_open(sockets: list[socket.socket], opened: float, timeout: float) -> dict:
    """Wait until the server closes each connection; when, and what it answered."""
    selector = selectors.DefaultSelector()
    for sock in sockets:
        selector.register(sock, selectors.EVENT_READ, {"data": b""})
    closed_after: list[float] = []
    answers: dict[str, int] = {}
    deadline = opened + timeout
    while selector.get_map() and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.5):
            try:
                chunk = key.fileobj.recv(4096)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                chunk = b""  # closed with a reset: closed all the same
            if chunk:
                key.data["data"] += chunk
                continue
            status = key.data["data"][:12].decode(errors="replace") or "closed silently"
            answers[status] = answers.get(status, 0) + 1
            closed_after.append(time.monotonic() - opened)
            selector.unregister(key.fileobj)
            key.fileobj.close()
    still_open = len(selector.get_map())
    for key in list(selector.get_map().values()):
        key.fileobj.close()
    return {
        "opened": len(sockets),
        "closed_by_server": len(closed_after),
        "still_open_after_s": round(timeout, 1) if still_open else None,
        "still_open": still_open,
        "closed_after_s_min": round(min(closed_after), 2) if closed_after else None,
        "closed_after_s_max": round(max(closed_after), 2) if closed_after else None,
        "answers": answers,
    }


def fire_mentions(url: str, fake, n: int, tag: str) -> dict:
    """`n` signed mentions released at once; ack and answer latency."""
    from tests.fakes.slack_api import SlackSender, post_raw
    from tests.test_slack_app import BOT, SECRET, envelope, mention

    sender = SlackSender(f"{url}/slack/events", SECRET)
    gate = threading.Barrier(n)
    roots = [f"17{int(time.time()) % 10**8:08d}.{tag}{i:04d}" for i in range(n)]

    def one(i: int) -> tuple[int, float, float]:
        body = json.dumps(
            envelope(mention(f"<@{BOT}> {QUESTIONS[i % len(QUESTIONS)]}", roots[i]), f"Ev{tag}{i}")
        )
        headers = sender.signed_headers(body)
        gate.wait()
        t0 = time.monotonic()
        status = post_raw(sender.url, body.encode(), headers, timeout=30).status
        return status, t0, time.monotonic()

    with ThreadPoolExecutor(max_workers=n) as pool:
        sent = list(pool.map(one, range(n)))
    answered = wait_for_answers(fake, roots, timeout=180)
    return {
        "sent": n,
        "acked_200": sum(1 for status, _, _ in sent if status == 200),
        "statuses": sorted({status for status, _, _ in sent}),
        "ack": latency_summary([t1 - t0 for _, t0, t1 in sent]),
        "answer": latency_summary(
            [answered[r] - sent[i][1] for i, r in enumerate(roots) if r in answered]
        ),
        "answered": len(answered),
    }


def wait_for_answers(fake, roots: list[str], timeout: float) -> dict[str, float]:
    """Root ts -> arrival time (monotonic) of the answer posted in its thread."""
    wanted = set(roots)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = {
            c.params.get("thread_ts"): fake.received[id(c)]
            for c in fake.posted()
            if c.params.get("thread_ts") in wanted
        }
        if len(found) == len(wanted):
            return found
        time.sleep(0.2)
    return found


# --------------------------------------------------------------------------- rounds


def run_round(
    server: Server, fake, observer: Observer, *, half_open: int, mentions: int, tag: str
) -> dict:
    """One round: half-open connections (maybe), then the mentions; what the server did."""
    start = time.monotonic()
    sockets = open_half_open(server.port, half_open) if half_open else []
    watcher: dict = {}
    watch = threading.Thread(
        target=lambda: watcher.update(watch_half_open(sockets, start, 60)), daemon=True
    )
    watch.start()
    time.sleep(0.5)
    load = fire_mentions(server.url, fake, mentions, tag)
    watch.join()
    end = time.monotonic()
    return {
        "half_open": half_open,
        "mentions": load,
        "half_open_connections": watcher if half_open else None,
        "seconds": round(end - start, 1),
        **observer.window(start, end),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--half-open", type=int, default=200)
    parser.add_argument("--mentions", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2, help="rounds with half-open connections")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    from tests.test_quiz_slack import QuizFakeSlack

    db_url, schema = None, None
    if args.db == "postgresql":
        from tests.pg import temporary_schema

        schema = temporary_schema("http_load")
        db_url = schema.__enter__()
    data_dir = Path(tempfile.mkdtemp(prefix="studybot-bench-http-"))
    with QuizFakeSlack() as fake:
        server = start_server(data_dir, fake, db_url)
        observer = Observer(server)
        observer.start()
        try:
            time.sleep(1)
            baseline = server.threads_and_fds()
            rounds = [
                run_round(server, fake, observer, half_open=0, mentions=args.mentions, tag="0")
            ]
            for n in range(1, args.rounds + 1):
                rounds.append(
                    run_round(
                        server,
                        fake,
                        observer,
                        half_open=args.half_open,
                        mentions=args.mentions,
                        tag=str(n),
                    )
                )
            time.sleep(6)  # keep-alive and worker threads settle
            after = server.threads_and_fds()
        finally:
            observer.stop()
            server.proc.terminate()
            server.proc.wait(60)
    if schema is not None:
        schema.__exit__(None, None, None)
    report(args, rounds, baseline, after, server.proc.returncode)


def report(
    args, rounds: list[dict], baseline: tuple[int, int], after: tuple[int, int], code: int
) -> None:
    loaded = [r for r in rounds if r["half_open"]]
    summary = {
        "every_signed_mention_acked": all(
            r["mentions"]["acked_200"] == r["mentions"]["sent"] for r in rounds
        ),
        "ack_p99_ms_under_half_open": max(r["mentions"]["ack"]["p99_ms"] for r in loaded),
        "ack_p99_ms_undisturbed": rounds[0]["mentions"]["ack"]["p99_ms"],
        "healthz_max_ms": max(r["healthz"]["max_ms"] for r in rounds),
        "healthz_failed_or_over_1s": sum(r["healthz"]["failed_or_over_1s"] for r in rounds),
        "threads": {
            "baseline": baseline[0],
            "max": max(r["threads_max"] for r in rounds),
            "after": after[0],
        },
        "fds": {
            "baseline": baseline[1],
            "max": max(r["fds_max"] for r in rounds),
            "after": after[1],
        },
        "half_open_all_closed_by_server": all(
            r["half_open_connections"]["still_open"] == 0 for r in loaded
        ),
        "serve_exit_code_on_sigterm": code,
    }
    print_table(
        "HTTP mode under load (per round)",
        [
            "half-open",
            "acked",
            "ack p50 ms",
            "ack p99 ms",
            "answer p50 ms",
            "healthz max ms",
            "threads max",
            "fds max",
        ],
        [
            (
                r["half_open"],
                f"{r['mentions']['acked_200']}/{r['mentions']['sent']}",
                r["mentions"]["ack"]["p50_ms"],
                r["mentions"]["ack"]["p99_ms"],
                r["mentions"]["answer"]["p50_ms"],
                r["healthz"]["max_ms"],
                r["threads_max"],
                r["fds_max"],
            )
            for r in rounds
        ],
    )
    print(json.dumps(summary, indent=1))
    write_results(
        "http_load" if args.db == "sqlite" else f"http_load_{args.db}",
        {
            "db": args.db,
            "half_open": args.half_open,
            "mentions": args.mentions,
            "summary": summary,
            "rounds": rounds,
        },
    )


if __name__ == "__main__":
    main()
