"""A small OpenAI-compatible HTTP server on 127.0.0.1 for tests (no internet, no key).

It speaks just enough of the OpenAI REST API for `langchain-openai` and the `openai` client:

- ``POST /v1/chat/completions``: the reply text comes from ``responder``; with ``"stream":
  true`` it is sent as server-sent events, a few words per chunk (``stream_delay`` apart), then
  ``data: [DONE]``, as OpenAI streams.
- ``POST /v1/embeddings``: deterministic unit vectors derived from a hash of each input
  (``float`` lists, or ``base64`` float32 when the client asks for it, as the ``openai``
  client does by default).

Every request is recorded (path and parsed JSON body) so tests can assert on what was sent.
``delay`` makes each reply wait (to exercise client timeouts) and ``status`` makes every
reply an HTTP error (e.g. 500).

Use it as a context manager::

    with FakeOpenAI(responder=lambda body: "Polly [1]") as server:
        llm = ChatOpenAI(base_url=server.base_url, api_key="test", max_retries=0)

or through the ``fake_openai`` pytest fixture below (import it into a test module).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

Responder = Callable[[dict[str, Any]], str]


def default_responder(body: dict[str, Any]) -> str:
    """Echo the last user message (handy when a test does not care about the reply)."""
    messages = body.get("messages") or []
    last = messages[-1].get("content", "") if messages else ""
    return f"echo: {last}" if isinstance(last, str) else "echo"


def hash_embedding(item: Any, dim: int) -> list[float]:
    """A deterministic unit vector of length ``dim`` for any JSON-able input."""
    key = item if isinstance(item, str) else json.dumps(item, sort_keys=True)
    values: list[float] = []
    counter = 0
    while len(values) < dim:
        digest = hashlib.sha256(f"{counter}:{key}".encode()).digest()
        values.extend((b - 127.5) / 127.5 for b in digest)
        counter += 1
    values = values[:dim]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


class _Handler(BaseHTTPRequestHandler):
    server: _Server  # narrowed for type checkers
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        """Keep test output quiet."""

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        if self.path.rstrip("/").endswith("/models"):
            model = {"id": self.server.fake.model, "object": "model"}
            self._send_json(200, {"object": "list", "data": [model]})
        else:
            self._send_error(404, f"no route GET {self.path}")

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send_error(400, "request body is not JSON")
            return
        fake._record(self.path, body, dict(self.headers))

        if fake.delay and fake._stopping.wait(fake.delay):
            return  # the server is shutting down
        if fake.status >= 400:
            self._send_error(fake.status, "the fake server was told to fail")
            return
        path = self.path.split("?", 1)[0].rstrip("/")
        if path.endswith("/chat/completions"):
            self._chat(body)
        elif path.endswith("/embeddings"):
            self._embeddings(body)
        else:
            self._send_error(404, f"no route POST {self.path}")

    def _chat(self, body: dict[str, Any]) -> None:
        fake = self.server.fake
        content = fake.responder(body)
        if body.get("stream"):
            self._stream(body, content)
            return
        prompt_tokens = sum(
            len(str(m.get("content", "")).split()) for m in body.get("messages") or []
        )
        completion_tokens = len(content.split())
        self._send_json(
            200,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model") or fake.model,
                "system_fingerprint": "fp_fake",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": None},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
        )

    def _stream(self, body: dict[str, Any], content: str) -> None:
        """The reply as chat.completion.chunk events, three words at a time."""
        fake = self.server.fake
        words = content.split(" ")
        pieces = [" ".join(words[i : i + 3]) + " " for i in range(0, len(words), 3)]
        pieces[-1] = pieces[-1].rstrip(" ")
        base = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model") or fake.model,
            "system_fingerprint": "fp_fake",
        }
        deltas = [{"role": "assistant", "content": ""}] + [{"content": p} for p in pieces]
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            for i, delta in enumerate(deltas):
                choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
                self._event({**base, "choices": [choice]})
                if i and fake.stream_delay and fake._stopping.wait(fake.stream_delay):
                    return
            last = {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
            self._event({**base, "choices": [last]})
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def _event(self, payload: dict[str, Any]) -> None:
        self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
        self.wfile.flush()

    def _embeddings(self, body: dict[str, Any]) -> None:
        fake = self.server.fake
        inputs = body.get("input")
        # A string, a list of strings, a token list, or a list of token lists.
        if isinstance(inputs, str) or (
            isinstance(inputs, list) and inputs and isinstance(inputs[0], int)
        ):
            inputs = [inputs]
        inputs = inputs or []
        dim = int(body.get("dimensions") or fake.embedding_dim)
        data = []
        for i, item in enumerate(inputs):
            vector = hash_embedding(item, dim)
            if body.get("encoding_format") == "base64":
                encoded: Any = base64.b64encode(struct.pack(f"<{dim}f", *vector)).decode()
            else:
                encoded = vector
            data.append({"object": "embedding", "index": i, "embedding": encoded})
        tokens = sum(len(x) if isinstance(x, list) else len(str(x).split()) for x in inputs)
        self._send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model") or "fake-embedding",
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    def _send_error(self, status: int, message: str) -> None:
        kind = "server_error" if status >= 500 else "invalid_request_error"
        self._send_json(status, {"error": {"message": message, "type": kind, "code": None}})

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:12]}")
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. it timed out); nothing to do


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeOpenAI


class FakeOpenAI:
    """An OpenAI-compatible server on 127.0.0.1 (an ephemeral port), recording each request.

    Attributes tests may change while it runs: ``responder`` (request JSON -> reply text),
    ``delay`` (seconds to wait before replying), ``status`` (HTTP status; >= 400 fails every
    request), ``embedding_dim``, ``stream_delay`` (seconds between streamed chunks).
    """

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        delay: float = 0.0,
        status: int = 200,
        embedding_dim: int = 16,
        model: str = "fake-gpt",
    ) -> None:
        self.responder: Responder = responder or default_responder
        self.delay = delay
        self.status = status
        self.embedding_dim = embedding_dim
        self.model = model
        self.stream_delay = 0.0
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeOpenAI:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (sleeping handlers are woken up)."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- addresses and records ----------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake OpenAI server is not running")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """What to pass as ``base_url`` / ``OPENAI_BASE_URL`` (ends in ``/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def _record(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append({"path": path, "body": body, "headers": headers})

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """Bodies of the chat-completion requests received so far, oldest first."""
        with self._lock:
            return [r["body"] for r in self.requests if r["path"].endswith("/chat/completions")]

    @property
    def embedding_requests(self) -> list[dict[str, Any]]:
        """Bodies of the embedding requests received so far, oldest first."""
        with self._lock:
            return [r["body"] for r in self.requests if r["path"].endswith("/embeddings")]


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A running `FakeOpenAI`, stopped after the test."""
    with FakeOpenAI() as server:
        yield server
