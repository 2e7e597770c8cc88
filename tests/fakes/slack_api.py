"""A fake Slack: the Web API the bot calls, and the signed requests Slack sends the bot.

`FakeSlackAPI` is a real HTTP server on 127.0.0.1 (random port) that records every call and
answers like Slack. Point a WebClient at `fake.base_url` (or set SLACK_API_URL to it).

    with FakeSlackAPI() as fake:
        client = WebClient(token=fake.token, base_url=fake.base_url)
        client.chat_postMessage(channel="C1", text="hi")
        fake.wait_for("chat.postMessage")[0].params["text"]  # "hi"
        fake.rate_limit("chat.postMessage")            # next call answers 429, Retry-After: 1
        fake.fail("chat.postMessage", "invalid_auth")  # next call answers ok=false
        fake.channel("C9", is_member=False)            # the bot is not in C9 (not_in_channel)

It also answers the AI-app methods (`assistant.threads.setStatus`, `setTitle`,
`setSuggestedPrompts`) and the streaming methods (`chat.startStream`, `chat.appendStream`,
`chat.stopStream`); `fake.streams[ts]` holds what a stream received.

`SlackSender` plays Slack's side of the Events API: it signs bodies like Slack and posts them to
the bot's HTTP endpoint.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict, deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from slack_sdk.signature import SignatureVerifier


@dataclass
class Call:
    """One request the fake received."""

    method: str  # "chat.postMessage"; "response_url" for response_url posts; "upload" for files
    params: dict[str, Any]  # JSON body, or form/query fields (single values unwrapped)
    headers: dict[str, str]  # lower-case names
    body: bytes
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    hook: str = ""  # for "response_url" calls: the name given to `response_url(name)`

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def blocks(self) -> list[dict]:
        """The `blocks` param as dicts (form posts carry it as a JSON string)."""
        value = self.params.get("blocks") or []
        return json.loads(value) if isinstance(value, str) else value

    def json_param(self, name: str) -> Any:
        value = self.params.get(name)
        return json.loads(value) if isinstance(value, str) else value


@dataclass
class Channel:
    """What the fake knows of a conversation: whether the bot is in it, whether it is private."""

    is_member: bool = True
    is_private: bool = False
    visible: bool = True  # False: conversations.info answers channel_not_found (private, not in)


@dataclass
class Stream:
    """A streamed message: its channel, thread, recipient, the text so far, and whether it ended."""

    channel: str
    thread_ts: str | None
    recipient_user_id: str | None
    text: str = ""
    stopped: bool = False
    final: dict[str, Any] = field(default_factory=dict)  # chat.stopStream's params


@dataclass
class _Failure:
    status: int
    error: str | None
    retry_after: int | None


class FakeSlackAPI:
    def __init__(
        self,
        *,
        token: str = "xoxb-test-token",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        team_id: str = "T111",
    ) -> None:
        self.token = token
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.team_id = team_id
        self.uploads: dict[str, dict[str, Any]] = {}  # file id -> bytes, filename, title, channel
        self.channels: dict[str, Channel] = {}  # conversations the tests configured
        self.streams: dict[str, Stream] = {}  # chat.startStream ts -> the stream
        self._arrived: dict[int, float] = {}  # id(call) -> time.monotonic() when it arrived
        self._calls: list[Call] = []
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._cond = threading.Condition()
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str = "hook") -> str:
        """A response_url for slash command / action payloads; posts are recorded."""
        return f"{self.url}/respond/{name}"

    def start(self) -> FakeSlackAPI:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeSlackAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- inspection and failure injection

    def calls(self, method: str | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def methods(self) -> list[str]:
        return [c.method for c in self.calls()]

    def posted(self, method: str = "chat.postMessage") -> list[Call]:
        """Calls of `method` that succeeded."""
        return [c for c in self.calls(method) if c.ok]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until `count` calls of `method` arrived; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self._calls if c.method == method]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} {method} call(s) within {timeout}s, got {len(found)}; "
                        f"calls so far: {[c.method for c in self._calls]}"
                    )
                self._cond.wait(left)

    def reset(self) -> None:
        with self._cond:
            self._calls.clear()
            self._failures.clear()

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` calls of `method` answer HTTP 429 with Retry-After."""
        with self._cond:
            for _ in range(times):
                self._failures[method].append(_Failure(429, "ratelimited", retry_after))

    def fail(self, method: str, error: str = "invalid_auth", *, times: int = 1) -> None:
        """The next `times` calls of `method` answer `{"ok": false, "error": error}`."""
        with self._cond:
            for _ in range(times):
                self._failures[method].append(_Failure(200, error, None))

    def channel(
        self,
        channel_id: str,
        *,
        is_member: bool = True,
        is_private: bool = False,
        visible: bool = True,
    ) -> Channel:
        """Configure a conversation (default: a public channel the bot is in)."""
        with self._cond:
            self.channels[channel_id] = Channel(is_member, is_private, visible)
            return self.channels[channel_id]

    def streamed_text(self, ts: str) -> str:
        return self.streams[ts].text

    # -- Slack's answers

    def _next_ts(self) -> str:
        n = next(self._ts)
        return f"{1_700_000_000 + n // 1_000_000}.{n % 1_000_000:06d}"

    def _answer(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://studybot-test.slack.com/",
                "team": "Study Group",
                "user": "studybot",
                "team_id": self.team_id,
                "user_id": self.bot_user_id,
                "bot_id": self.bot_id,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            if not p.get("channel"):
                return {"ok": False, "error": "channel_not_found"}
            refused = self._not_there(p["channel"])
            if refused:
                return {"ok": False, "error": refused}
            if not (p.get("text") or p.get("blocks") or p.get("attachments")):
                return {"ok": False, "error": "no_text"}
            ts = self._next_ts()
            message = {
                "type": "message",
                "user": self.bot_user_id,
                "bot_id": self.bot_id,
                "text": p.get("text", ""),
                "ts": ts,
            }
            if p.get("thread_ts"):
                message["thread_ts"] = p["thread_ts"]
            if p.get("blocks"):
                message["blocks"] = p["blocks"]
            return {"ok": True, "channel": p["channel"], "ts": ts, "message": message}
        if method == "chat.update":
            return {
                "ok": True,
                "channel": p.get("channel"),
                "ts": p.get("ts"),
                "text": p.get("text", ""),
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method in ("reactions.add", "reactions.remove"):
            return {"ok": True}
        if method == "views.publish":
            view = p.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            return {"ok": True, "view": {"id": f"V{next(self._ids):06d}", **(view or {})}}
        if method == "users.info":
            user = p.get("user", "")
            return {
                "ok": True,
                "user": {
                    "id": user,
                    "name": f"user-{user.lower()}",
                    "real_name": f"User {user}",
                    "tz": "Europe/Berlin",
                    "is_bot": user == self.bot_user_id,
                    "profile": {"display_name": f"user-{user.lower()}"},
                },
            }
        if method == "conversations.info":
            channel = p.get("channel", "")
            known = self.channels.get(channel, Channel())
            if not known.visible:
                return {"ok": False, "error": "channel_not_found"}
            return {
                "ok": True,
                "channel": {
                    "id": channel,
                    "name": f"channel-{channel.lower()}",
                    "is_channel": channel.startswith("C"),
                    "is_group": channel.startswith("G"),
                    "is_im": channel.startswith("D"),
                    "is_private": known.is_private or channel.startswith("G"),
                    "is_member": known.is_member,
                },
            }
        if method == "conversations.join":
            channel = p.get("channel", "")
            known = self.channels.setdefault(channel, Channel())
            if known.is_private or not known.visible:
                return {"ok": False, "error": "method_not_supported_for_channel_type"}
            known.is_member = True
            return {"ok": True, "channel": {"id": channel, "is_member": True}}
        if method == "conversations.open":
            users = str(p.get("users") or "")
            if not users:
                return {"ok": False, "error": "users_list_not_supplied"}
            return {"ok": True, "channel": {"id": "D" + users.split(",")[0].lstrip("U")}}
        if method.startswith("assistant.threads."):
            return self._assistant(method, p)
        if method in ("chat.startStream", "chat.appendStream", "chat.stopStream"):
            return self._stream(method, p)
        if method == "chat.delete":
            return {"ok": True, "channel": p.get("channel"), "ts": p.get("ts")}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ids):06d}"
            self.uploads[file_id] = {"filename": p.get("filename"), "length": p.get("length")}
            return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = p.get("files")
            files = json.loads(files) if isinstance(files, str) else files or []
            done = []
            for f in files:
                meta = self.uploads.setdefault(f["id"], {})
                meta.update(
                    title=f.get("title"),
                    channel_id=p.get("channel_id"),
                    thread_ts=p.get("thread_ts"),
                    initial_comment=p.get("initial_comment"),
                    completed=True,
                )
                done.append({"id": f["id"], "title": f.get("title"), "name": meta.get("filename")})
            return {"ok": True, "files": done}
        return {"ok": False, "error": "unknown_method"}

    def _not_there(self, channel_id: str) -> str | None:
        """Slack's error for posting where the bot is not a member, else None."""
        known = self.channels.get(channel_id)
        if known is None or known.is_member:
            return None
        return "not_in_channel" if known.visible else "channel_not_found"

    @staticmethod
    def _assistant(method: str, p: dict[str, Any]) -> dict[str, Any]:
        required = {
            "assistant.threads.setStatus": ("channel_id", "thread_ts", "status"),
            "assistant.threads.setTitle": ("channel_id", "thread_ts", "title"),
            "assistant.threads.setSuggestedPrompts": ("channel_id", "prompts"),
        }.get(method)
        if required is None:
            return {"ok": False, "error": "unknown_method"}
        if any(p.get(k) is None for k in required):
            return {"ok": False, "error": "invalid_arguments"}
        if method.endswith("setSuggestedPrompts"):
            prompts = p["prompts"]
            prompts = json.loads(prompts) if isinstance(prompts, str) else prompts
            if (
                not prompts
                or len(prompts) > 4
                or any(not (x.get("title") and x.get("message")) for x in prompts)
            ):
                return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True}

    def _stream(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        """chat.startStream / appendStream / stopStream, like Slack: a stream is a message whose
        text grows until it is stopped; a channel stream needs its recipient."""
        text = _chunk_text(p)
        if method == "chat.startStream":
            channel = p.get("channel") or ""
            refused = self._not_there(channel) if channel else "channel_not_found"
            if refused:
                return {"ok": False, "error": refused}
            if not channel.startswith("D") and not (
                p.get("recipient_user_id") and p.get("recipient_team_id")
            ):
                return {"ok": False, "error": "missing_recipient_user_id"}
            ts = self._next_ts()
            self.streams[ts] = Stream(channel, p.get("thread_ts"), p.get("recipient_user_id"))
            self.streams[ts].text = text
            return {"ok": True, "channel": channel, "ts": ts}
        stream = self.streams.get(str(p.get("ts") or ""))
        if stream is None or stream.channel != p.get("channel"):
            return {"ok": False, "error": "message_not_found"}
        if stream.stopped:
            return {"ok": False, "error": "message_not_in_streaming_state"}
        stream.text += text
        if method == "chat.stopStream":
            stream.stopped = True
            stream.final = dict(p)
            message = {"ts": p["ts"], "text": stream.text, "user": self.bot_user_id}
            return {"ok": True, "channel": stream.channel, "ts": p["ts"], "message": message}
        return {"ok": True, "channel": stream.channel, "ts": p["ts"]}

    # -- HTTP plumbing

    def received_at(self, call: Call) -> float:
        """When `call` arrived (time.monotonic())."""
        return self._arrived[id(call)]

    def _record(self, call: Call) -> None:
        with self._cond:
            self._arrived[id(call)] = time.monotonic()
            self._calls.append(call)
            self._cond.notify_all()

    def _take_failure(self, method: str) -> _Failure | None:
        with self._cond:
            queue = self._failures.get(method)
            return queue.popleft() if queue else None

    def _authorized(self, headers: dict[str, str], params: dict[str, Any]) -> bool:
        auth = headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth else params.get("token", "")
        return token == self.token

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                self._handle(b"")

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                self._handle(self.rfile.read(length))

            def _handle(self, body: bytes) -> None:
                parsed = urlparse(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                parts = parsed.path.strip("/").split("/")
                if parts[0] == "upload" and len(parts) == 2:  # raw file bytes, not a form
                    fake.uploads.setdefault(parts[1], {})["bytes"] = _file_bytes(body, headers)
                    call = Call("upload", {"file_id": parts[1]}, headers, body, 200, {"ok": True})
                    fake._record(call)
                    self._send(200, "OK", "text/plain")
                    return
                params = _parse(body, headers.get("content-type", ""), parsed.query)
                if parts[0] == "respond":
                    name = parts[1] if len(parts) > 1 else ""
                    call = Call("response_url", params, headers, body, 200, {"ok": True}, name)
                    fake._record(call)
                    self._send(200, "ok", "text/plain")
                    return
                if parts[0] != "api" or len(parts) != 2:
                    self._send(404, json.dumps({"ok": False, "error": "not_found"}))
                    return
                method = parts[1]
                failure = fake._take_failure(method)
                extra: dict[str, str] = {}
                if failure is not None:
                    status, response = failure.status, {"ok": False, "error": failure.error}
                    if failure.retry_after is not None:
                        extra["Retry-After"] = str(failure.retry_after)
                elif not fake._authorized(headers, params):
                    status, response = 200, {"ok": False, "error": "invalid_auth"}
                else:
                    status, response = 200, fake._answer(method, params)
                fake._record(Call(method, params, headers, body, status, response))
                self._send(status, json.dumps(response), extra=extra)

            def _send(
                self,
                status: int,
                text: str,
                content_type: str = "application/json; charset=utf-8",
                extra: dict[str, str] | None = None,
            ) -> None:
                data = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _chunk_text(p: dict[str, Any]) -> str:
    """The markdown a streaming call carries: `markdown_text` and markdown_text chunks."""
    chunks = p.get("chunks") or []
    chunks = json.loads(chunks) if isinstance(chunks, str) else chunks
    parts = [str(p.get("markdown_text") or "")]
    parts += [str(c.get("text", "")) for c in chunks if c.get("type") == "markdown_text"]
    return "".join(parts)


def _parse(body: bytes, content_type: str, query: str) -> dict[str, Any]:
    params: dict[str, Any] = {k: v[0] for k, v in parse_qs(query).items()}
    if "application/json" in content_type and body:
        params.update(json.loads(body.decode("utf-8")))
    elif body and "multipart/" not in content_type:
        params.update({k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()})
    return params


def _file_bytes(body: bytes, headers: dict[str, str]) -> bytes:
    """The uploaded file: the raw body, or the file part of a multipart form."""
    content_type = headers.get("content-type", "")
    if "multipart/form-data" not in content_type:
        return body
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    for part in message.iter_parts():
        if part.get_filename() is not None or part.get_param("name", header="content-disposition"):
            return part.get_payload(decode=True) or b""
    return body


# --------------------------------------------------------------------------- Slack -> the bot


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


class SlackSender:
    """Sends requests to the bot the way Slack does: signed with the signing secret."""

    def __init__(self, url: str, signing_secret: str) -> None:
        self.url = url
        self.verifier = SignatureVerifier(signing_secret)

    def signed_headers(
        self, body: str, *, timestamp: int | None = None, content_type: str = "application/json"
    ) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": self.verifier.generate_signature(timestamp=ts, body=body) or "",
        }

    def post(
        self,
        body: str,
        *,
        content_type: str = "application/json",
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
        retry_num: int | None = None,
    ) -> Reply:
        """POST `body` signed (unless `headers` are given, which are sent as they are)."""
        sent = (
            headers
            if headers is not None
            else self.signed_headers(body, timestamp=timestamp, content_type=content_type)
        )
        if retry_num is not None:
            sent = {**sent, "X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "timeout"}
        return post_raw(self.url, body.encode("utf-8"), sent)

    def event(self, payload: dict, **kwargs: Any) -> Reply:
        return self.post(json.dumps(payload), **kwargs)

    def form(self, body: str, **kwargs: Any) -> Reply:
        return self.post(body, content_type="application/x-www-form-urlencoded", **kwargs)


def post_raw(url: str, data: bytes, headers: dict[str, str], timeout: float = 10.0) -> Reply:
    req = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Reply(resp.status, dict(resp.headers), resp.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        return Reply(e.code, dict(e.headers), e.read().decode("utf-8"))
