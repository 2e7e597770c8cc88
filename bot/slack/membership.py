"""Can the bot post in a channel? Checked before a schedule is saved for it.

`conversations.info` says whether the bot is a member; a public channel it is not in is joined
(`conversations.join`, scope `channels:join`); a private one needs an invitation, and the reply
says so. DMs with the bot always work.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError, SlackClientError

if TYPE_CHECKING:
    from slack_sdk import WebClient

log = logging.getLogger(__name__)

NOT_A_MEMBER = (
    "I'm not a member of this channel, so I can't post here. Invite me first with "
    "`/invite @studybot`, then run the command again."
)
JOINED = "I joined this channel to post here."


@dataclass(frozen=True)
class Membership:
    can_post: bool
    note: str | None = None  # what to tell the user (NOT_A_MEMBER, JOINED), if anything


def ensure_member(client: WebClient, channel_id: str, *, request_id: str) -> Membership:
    """Whether the bot can post in `channel_id`, joining it when it is public."""
    if channel_id.startswith("D"):
        return Membership(True)
    try:
        info = client.conversations_info(channel=channel_id)["channel"]
    except SlackApiError as e:
        code = e.response.get("error")
        if code == "channel_not_found":  # private and the bot is not in it (or gone)
            return Membership(False, NOT_A_MEMBER)
        log.info("Request %s: membership in %s unknown: %s", request_id, channel_id, code)
        return Membership(True)  # cannot tell: a failed post is reported to the subscriber
    except (SlackClientError, OSError, KeyError) as e:
        log.info("Request %s: membership in %s unknown: %s", request_id, channel_id, e)
        return Membership(True)
    if info.get("is_member"):
        return Membership(True)
    if info.get("is_private") or info.get("is_group"):
        return Membership(False, NOT_A_MEMBER)
    try:
        client.conversations_join(channel=channel_id)
    except (SlackClientError, OSError) as e:
        log.info("Request %s: could not join %s: %s", request_id, channel_id, e)
        return Membership(False, NOT_A_MEMBER)
    log.info("Request %s: joined %s", request_id, channel_id)
    return Membership(True, JOINED)
