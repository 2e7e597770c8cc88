"""Signs of work while an answer is written, and the model's draft streamed as it is written.

- `WorkingSign`: Slack's AI status in the thread the answer goes to ("is searching the study
  guide…", `assistant.threads.setStatus` through Bolt's `SetStatus`; Slack lets channel apps
  use it with `chat:write`), cleared afterwards; where the answer has no thread (a top-level
  DM) or Slack refuses the status, the 👀 reaction on the learner's message instead.
- `AnswerStream`: the model's draft streamed into that thread (`chat.startStream` /
  `appendStream` / `stopStream` through slack_sdk's `ChatStream`), then replaced by the final
  answer (`chat.update`): the citation check decides what stays. Offline answers are not
  streamed.

Failures are logged, never raised: a sign of work is a courtesy.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_bolt import SetStatus
from slack_sdk.errors import SlackClientError

if TYPE_CHECKING:
    from slack_sdk import WebClient
    from slack_sdk.models.blocks import Block
    from slack_sdk.web.chat_stream import ChatStream

log = logging.getLogger(__name__)

STATUS = "is searching the study guide…"
LOADING_MESSAGES = [
    "Searching the study guide…",
    "Reading the best passages…",
    "Checking the citations…",
]
STREAM_BUFFER = 128  # characters of draft gathered before each streaming call


@dataclass(frozen=True)
class Where:
    """Where an answer goes: the channel, its thread (None: top level), the learner's message
    (for the reaction) and the learner (a channel stream names its recipient)."""

    channel_id: str
    thread_ts: str | None
    source_ts: str | None
    user_id: str
    team_id: str | None
    request_id: str


class WorkingSign:
    """Shows, then clears, that the bot is working on an answer."""

    def __init__(self, client: WebClient, where: Where, *, reaction: str = "eyes") -> None:
        self._client = client
        self._where = where
        self._reaction = reaction
        self._status: SetStatus | None = None
        self._reacted = False

    def show(self) -> None:
        w = self._where
        if w.thread_ts:
            status = SetStatus(self._client, w.channel_id, w.thread_ts)
            try:
                status(status=STATUS, loading_messages=LOADING_MESSAGES)
                self._status = status
                return
            except (SlackClientError, OSError) as e:
                log.info("Request %s: no AI status (%s); reacting instead", w.request_id, e)
        if w.source_ts:
            self._reacted = self._react(add=True)

    def clear(self) -> None:
        if self._status is not None:
            try:
                self._status(status="")
            except (SlackClientError, OSError) as e:
                log.info("Request %s: AI status not cleared: %s", self._where.request_id, e)
            self._status = None
        if self._reacted:
            self._react(add=False)
            self._reacted = False

    def _react(self, *, add: bool) -> bool:
        method = self._client.reactions_add if add else self._client.reactions_remove
        w = self._where
        try:
            method(channel=w.channel_id, timestamp=w.source_ts, name=self._reaction)
            return True
        except (SlackClientError, OSError) as e:
            verb = "added" if add else "removed"
            log.info("Request %s: progress reaction not %s: %s", w.request_id, verb, e)
            return False


class AnswerStream:
    """The model's draft, streamed into the answer's thread as it is written (`on_draft`),
    then replaced by the final answer (`finish`)."""

    def __init__(self, client: WebClient, where: Where, *, buffer_size: int = STREAM_BUFFER):
        if not where.thread_ts:
            raise ValueError("Slack streams replies into a thread")
        self._client = client
        self._where = where
        self._buffer_size = buffer_size
        self._stream: ChatStream | None = None
        self._broken = False
        self._lock = threading.Lock()

    @property
    def ts(self) -> str | None:
        """The streamed message's ts once Slack started it (None until then)."""
        return self._stream.ts if self._stream is not None else None

    def on_draft(self, piece: str) -> None:
        """The next piece of the draft (called by the service as the model writes)."""
        w = self._where
        with self._lock:
            if self._broken:
                return
            try:
                if self._stream is None:
                    self._stream = self._client.chat_stream(
                        channel=w.channel_id,
                        thread_ts=w.thread_ts,
                        recipient_team_id=w.team_id,
                        recipient_user_id=w.user_id,
                        buffer_size=self._buffer_size,
                    )
                self._stream.append(markdown_text=piece)
            except (SlackClientError, OSError) as e:
                log.info("Request %s: streaming the draft stopped: %s", w.request_id, e)
                self._broken = True

    def finish(self, text: str, blocks: list[Block]) -> str | None:
        """Stop the stream and put the final answer in its place; the message ts, or None when
        nothing was streamed (or it could not be replaced): then the caller posts the answer."""
        w = self._where
        with self._lock:
            ts = self.ts
            if ts is None:
                return None
            try:
                self._stream.stop()
            except (SlackClientError, OSError) as e:  # it may have expired: replace it anyway
                log.info("Request %s: stopping the stream: %s", w.request_id, e)
            try:
                self._client.chat_update(channel=w.channel_id, ts=ts, text=text, blocks=blocks)
            except (SlackClientError, OSError) as e:
                log.error("Request %s: the streamed draft was not replaced: %s", w.request_id, e)
                return None
            return ts
