"""Small replies to one person: through the response_url of a slash command or a click, or
chat.postEphemeral.

Failures are logged with the request id, never raised: by the time these run Slack has had its
ack, and nothing may raise into Bolt.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackClientError

from bot.slack.blocks import error_blocks

if TYPE_CHECKING:
    from slack_bolt.context.respond import Respond
    from slack_sdk import WebClient
    from slack_sdk.models.blocks import Block

log = logging.getLogger(__name__)


def respond_to(
    respond: Respond,
    request_id: str | None,
    *,
    text: str,
    blocks: Sequence[Block | dict] | None = None,
    in_channel: bool = False,
    replace: bool = False,
) -> bool:
    """Reply through the response_url of a slash command or a click: ephemeral (only that
    person sees it) unless `in_channel`; `replace` puts it in place of the message that was
    clicked. True when Slack took it."""
    try:
        resp = respond(
            response_type="in_channel" if in_channel else "ephemeral",
            replace_original=replace,
            text=text,
            blocks=blocks or None,
        )
    except Exception as e:  # the webhook client raises plain exceptions
        log.error("Request %s: response_url reply failed: %s", request_id, e)
        return False
    status = getattr(resp, "status_code", 200)
    if status != 200:
        body = getattr(resp, "body", "")
        log.error("Request %s: response_url reply refused (%s): %s", request_id, status, body)
        return False
    return True


def can_respond(respond: Respond | None) -> bool:
    """Whether `respond` has a response_url to reply through."""
    return respond is not None and getattr(respond, "response_url", None) is not None


def post_ephemeral(
    client: WebClient,
    channel_id: str | None,
    user_id: str | None,
    text: str,
    *,
    request_id: str | None,
    blocks: Sequence[Block | dict] | None = None,
    thread_ts: str | None = None,
) -> None:
    """chat.postEphemeral: a message only `user_id` sees in the channel (or its thread)."""
    if not channel_id or not user_id:
        return
    try:
        client.chat_postEphemeral(
            channel=channel_id, user=user_id, text=text, blocks=blocks, thread_ts=thread_ts
        )
    except (SlackClientError, OSError) as e:
        log.error("Request %s: ephemeral reply to %s failed: %s", request_id, user_id, e)


def open_dm(client: WebClient, user_id: str) -> str:
    """The DM channel id between the bot and `user_id` (conversations.open)."""
    return client.conversations_open(users=user_id)["channel"]["id"]


class ToClicker:
    """Replies to the person who clicked a button: through the click's response URL (works
    wherever the button was, even in a channel the bot is not in), else chat.postEphemeral."""

    def __init__(
        self,
        client: WebClient,
        respond: Respond | None,
        *,
        channel_id: str | None,
        user_id: str | None,
        request_id: str | None,
        thread_ts: str | None = None,
    ) -> None:
        self.client = client
        self.respond = respond
        self.channel_id = channel_id
        self.user_id = user_id
        self.request_id = request_id
        self.thread_ts = thread_ts

    @classmethod
    def of(cls, body: dict, client: WebClient, respond: Respond | None) -> ToClicker:
        """The clicker of a block_actions payload (its channel, thread and trigger id)."""
        container = body.get("container") or {}
        return cls(
            client,
            respond,
            channel_id=(body.get("channel") or {}).get("id") or container.get("channel_id"),
            user_id=(body.get("user") or {}).get("id"),
            request_id=body.get("trigger_id"),
            thread_ts=(body.get("message") or {}).get("thread_ts"),
        )

    def warn(self, text: str) -> None:
        """A warning line only the clicker sees (plain text, shown with ⚠️)."""
        self.tell(text, error_blocks(text))

    def tell(self, text: str, blocks: Sequence[Block | dict] | None = None) -> None:
        """A new message only the clicker sees."""
        if can_respond(self.respond) and respond_to(
            self.respond, self.request_id, text=text, blocks=blocks
        ):
            return
        post_ephemeral(
            self.client,
            self.channel_id,
            self.user_id,
            text,
            request_id=self.request_id,
            blocks=blocks,
            thread_ts=self.thread_ts,
        )

    def replace(
        self, text: str, blocks: Sequence[Block | dict], *, in_channel: bool = False
    ) -> bool:
        """Put `blocks` in place of the clicked message (a public one: `in_channel`); False
        when there is no response URL or Slack refused (the caller falls back)."""
        return can_respond(self.respond) and respond_to(
            self.respond,
            self.request_id,
            text=text,
            blocks=blocks,
            replace=True,
            in_channel=in_channel,
        )

    def delete(self) -> bool:
        """Delete the clicked message (a private one that was just shared)."""
        if not can_respond(self.respond):
            return False
        try:
            self.respond(delete_original=True)
        except Exception as e:  # the webhook client raises plain exceptions
            log.error("Request %s: deleting the original failed: %s", self.request_id, e)
            return False
        return True
