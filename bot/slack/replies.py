"""Small replies to one person: through a slash command's response_url, or chat.postEphemeral.

Failures are logged with the request id, never raised: by the time these run Slack has had its
ack, and nothing may raise into Bolt.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackClientError

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
) -> None:
    """Reply through the slash command's response_url: ephemeral (only the person who typed
    the command sees it) unless `in_channel`; it never replaces the original message."""
    try:
        respond(
            response_type="in_channel" if in_channel else "ephemeral",
            replace_original=False,
            text=text,
            blocks=blocks or None,
        )
    except Exception as e:  # the webhook client raises plain exceptions
        log.error("Request %s: response_url reply failed: %s", request_id, e)


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
