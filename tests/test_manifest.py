"""`slack/manifest.yml`: valid by the rules of Slack's app manifest schema, and exactly what the
code uses (the events it listens to, the scopes of the Web API methods it calls).

The schema rules below are written from Slack's published manifest schema
(github.com/slackapi/manifest-schema, `schemas/manifest.schema.1.0.0.json`: allowed keys,
required keys, types, lengths, patterns, list sizes) for the parts a bot app uses. The scope
of each event and Web API method is from Slack's reference pages (docs.slack.dev/reference).
"""

from __future__ import annotations

import ast
import copy
import logging
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_sdk import WebClient

from tests import test_slack_app
from tests.test_slack_app import BOT, message

fake = test_slack_app.fake
make_harness = test_slack_app.make_harness
harness = test_slack_app.harness

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "slack" / "manifest.yml"


# --------------------------------------------------------------------------- schema rules

Rule = dict[str, Any]  # type, keys (allowed), required, min/max length, pattern, items, …

URL = {"type": str, "pattern": r"^https?://", "max": 3500}
SCOPES = {"type": list, "items": {"type": str, "max": 50}, "max_items": 255}
BOOL = {"type": bool}
SCHEMA: Rule = {
    "type": dict,
    "required": ["display_information"],
    "keys": {
        "$schema": {"type": str},
        "_metadata": {"type": dict},
        "app_directory": {"type": dict},
        "display_information": {
            "type": dict,
            "required": ["name"],
            "keys": {
                "name": {"type": str, "min": 1, "max": 35},
                "description": {"type": str, "min": 1, "max": 140},
                "background_color": {
                    "type": str,
                    "pattern": r"^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$",
                },
                "long_description": {"type": str, "min": 175, "max": 4000},
            },
        },
        "features": {
            "type": dict,
            "keys": {
                "app_home": {
                    "type": dict,
                    "keys": {
                        "home_tab_enabled": BOOL,
                        "messages_tab_enabled": BOOL,
                        "messages_tab_read_only_enabled": BOOL,
                    },
                },
                "bot_user": {
                    "type": dict,
                    "required": ["display_name"],
                    "keys": {
                        "display_name": {"type": str, "min": 1, "max": 80},
                        "always_online": BOOL,
                    },
                },
                "slash_commands": {
                    "type": list,
                    "min_items": 1,
                    "max_items": 50,
                    "items": {
                        "type": dict,
                        "required": ["command", "description"],
                        "keys": {
                            "command": {"type": str, "min": 2, "max": 32, "pattern": r"^/"},
                            "url": URL,
                            "description": {"type": str, "min": 1, "max": 2000},
                            "usage_hint": {"type": str, "min": 1, "max": 1000},
                            "should_escape": BOOL,
                        },
                    },
                },
                "assistant_view": {
                    "type": dict,
                    "required": ["assistant_description"],
                    "keys": {
                        "assistant_description": {"type": str},
                        "suggested_prompts": {
                            "type": list,
                            "items": {
                                "type": dict,
                                "required": ["title", "message"],
                                "keys": {"title": {"type": str}, "message": {"type": str}},
                            },
                        },
                    },
                },
                "shortcuts": {"type": list, "min_items": 1, "max_items": 10},
                "functions": {"type": list},
                "workflow_steps": {"type": list, "min_items": 1, "max_items": 10},
                "unfurl_domains": {"type": list, "min_items": 1, "max_items": 5, "unique": True},
            },
        },
        "oauth_config": {
            "type": dict,
            "keys": {
                "redirect_urls": {"type": list, "unique": True, "max_items": 1000},
                "scopes": {
                    "type": dict,
                    "keys": {
                        "bot": SCOPES,
                        "user": SCOPES,
                        "bot_optional": SCOPES,
                        "user_optional": SCOPES,
                    },
                },
                "token_management_enabled": BOOL,
                "pkce_enabled": BOOL,
            },
        },
        "settings": {
            "type": dict,
            "keys": {
                "allowed_ip_address_ranges": {"type": list, "min_items": 1, "max_items": 50},
                "event_subscriptions": {
                    "type": dict,
                    "keys": {
                        "request_url": URL,
                        "bot_events": {
                            "type": list,
                            "items": {"type": str, "max": 50},
                            "max_items": 100,
                            "unique": True,
                        },
                        "user_events": {
                            "type": list,
                            "items": {"type": str, "max": 50},
                            "max_items": 100,
                            "unique": True,
                        },
                        "metadata_subscriptions": {"type": list, "min_items": 1, "max_items": 20},
                    },
                },
                "incoming_webhooks": {"type": dict, "keys": {"incoming_webhooks_enabled": BOOL}},
                "interactivity": {
                    "type": dict,
                    "required": ["is_enabled"],
                    "keys": {
                        "is_enabled": BOOL,
                        "request_url": URL,
                        "message_menu_options_url": URL,
                    },
                },
                "org_deploy_enabled": BOOL,
                "socket_mode_enabled": BOOL,
                "is_hosted": BOOL,
                "token_rotation_enabled": BOOL,
                "siws_links": {"type": dict},
                "hermes_app_type": {"type": str},
                "function_runtime": {"type": str},
                "is_mcp_enabled": BOOL,
            },
        },
        "functions": {"type": dict},
        "workflows": {"type": dict},
        "datastores": {"type": dict},
        "outgoing_domains": {"type": list},
        "types": {"type": dict},
        "external_auth_providers": {"type": dict},
    },
}


def problems(value: Any, rule: Rule = SCHEMA, where: str = "manifest") -> list[str]:
    """Every way `value` breaks `rule` (empty when it is valid)."""
    kind = rule["type"]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        return [f"{where}: expected {kind.__name__}, got {type(value).__name__}"]
    found: list[str] = []
    if kind is str:
        if len(value) < rule.get("min", 0) or len(value) > rule.get("max", 10**9):
            found.append(
                f"{where}: {len(value)} characters, not {rule.get('min', 0)}–{rule.get('max')}"
            )
        if "pattern" in rule and not re.search(rule["pattern"], value):
            found.append(f"{where}: {value!r} does not match {rule['pattern']}")
    elif kind is list:
        if not rule.get("min_items", 0) <= len(value) <= rule.get("max_items", 10**9):
            found.append(f"{where}: {len(value)} items")
        if rule.get("unique") and len({repr(v) for v in value}) != len(value):
            found.append(f"{where}: items are not unique")
        for i, item in enumerate(value):
            if "items" in rule:
                found += problems(item, rule["items"], f"{where}[{i}]")
    elif kind is dict:
        found += [
            f"{where}: {key} is required" for key in rule.get("required", []) if key not in value
        ]
        allowed = rule.get("keys")
        for key, item in value.items():
            if allowed is None:
                continue
            if key not in allowed:
                found.append(f"{where}: unknown key {key!r}")
            else:
                found += problems(item, allowed[key], f"{where}.{key}")
    return found


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text())


def test_the_manifest_follows_slacks_manifest_schema(manifest):
    assert problems(manifest) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda m: m["features"].update(agent_view={}), "unknown key 'agent_view'"),
        (lambda m: m["display_information"].update(name="s" * 36), "36 characters"),
        (lambda m: m["features"]["slash_commands"][0].update(command="study"), "does not match"),
        (lambda m: m["features"]["assistant_view"].pop("assistant_description"), "is required"),
        (
            lambda m: m["features"]["assistant_view"]["suggested_prompts"][0].update(x="y"),
            "unknown key",
        ),
        (
            lambda m: m["settings"]["event_subscriptions"]["bot_events"].append("app_mention"),
            "unique",
        ),
        (lambda m: m["settings"]["interactivity"].update(is_enabled="yes"), "expected bool"),
        (lambda m: m["display_information"].update(background_color="#12345"), "does not match"),
    ],
)
def test_the_schema_rules_catch_what_slack_would_refuse(manifest, change, expected):
    broken = copy.deepcopy(manifest)
    change(broken)
    assert any(expected in p for p in problems(broken)), problems(broken)


# --------------------------------------------------------------------------- what the code uses

# The scope each event subscription needs (docs.slack.dev/reference/events).
EVENT_SCOPES = {
    "app_home_opened": set(),
    "app_mention": {"app_mentions:read"},
    "assistant_thread_context_changed": {"assistant:write"},
    "assistant_thread_started": {"assistant:write"},
    "message.channels": {"channels:history"},
    "message.groups": {"groups:history"},
    "message.im": {"im:history"},
    "message.mpim": {"mpim:history"},
}
# The bot scopes each Web API method needs (docs.slack.dev/reference/methods). setStatus takes
# chat:write since March 2026; conversations.info is called on public and private channels.
METHOD_SCOPES = {
    "assistant_threads_setStatus": {"chat:write"},
    "assistant_threads_setSuggestedPrompts": {"assistant:write"},
    "assistant_threads_setTitle": {"assistant:write"},
    "auth_test": set(),
    "chat_appendStream": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "chat_postMessage": {"chat:write"},
    "chat_startStream": {"chat:write"},
    "chat_stopStream": {"chat:write"},
    "chat_stream": {"chat:write"},
    "chat_update": {"chat:write"},
    "conversations_info": {"channels:read", "groups:read"},
    "conversations_join": {"channels:join"},
    "conversations_open": {"im:write"},
    "files_upload_v2": {"files:write"},
    "reactions_add": {"reactions:write"},
    "reactions_remove": {"reactions:write"},
    "users_info": {"users:read"},
    "views_publish": set(),
}
# Bolt helpers the code calls, and the Web API method behind each.
BOLT_HELPERS = {
    "SetStatus": "assistant_threads_setStatus",
    "set_suggested_prompts": "assistant_threads_setSuggestedPrompts",
    "set_title": "assistant_threads_setTitle",
    "say": "chat_postMessage",
}
# What the Assistant middleware's listeners receive.
ASSISTANT_EVENTS = {
    "thread_started": "assistant_thread_started",
    "thread_context_changed": "assistant_thread_context_changed",
    "user_message": "message",
}


def _nodes() -> list[ast.AST]:
    return [
        node
        for path in sorted((ROOT / "bot").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
    ]


def web_api_methods() -> set[str]:
    """The WebClient methods (and Bolt helpers, as their methods) the bot's code uses: called
    or taken as a value (`client.reactions_add if add else client.reactions_remove`)."""
    client_methods = {m for m in dir(WebClient) if "_" in m and not m.startswith("_")}
    families = {
        "assistant",
        "auth",
        "chat",
        "conversations",
        "files",
        "reactions",
        "users",
        "views",
    }
    found = set()
    for node in _nodes():
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
        if name in client_methods and name.split("_")[0] in families:
            found.add(name)
        elif name in BOLT_HELPERS and isinstance(node, ast.Attribute | ast.Name):
            found.add(BOLT_HELPERS[name])
    return found


def registered_events() -> set[str]:
    """Event types the app listens to: `app.event("…")` and the Assistant's listeners."""
    found = set()
    for call in (n for n in _nodes() if isinstance(n, ast.Call)):
        if not isinstance(call.func, ast.Attribute):
            continue
        arg = call.args[0] if call.args else None
        if (
            call.func.attr == "event"
            and isinstance(arg, ast.Constant)
            and isinstance(arg.value, str)
        ):
            found.add(arg.value)
        elif call.func.attr in ASSISTANT_EVENTS:
            found.add(ASSISTANT_EVENTS[call.func.attr])
    return found


def test_the_scopes_are_exactly_what_the_events_and_methods_need(manifest):
    methods = web_api_methods()
    unknown = methods - set(METHOD_SCOPES)
    assert not unknown, f"give these Web API methods their scopes in METHOD_SCOPES: {unknown}"
    assert {"chat_postMessage", "chat_stream", "assistant_threads_setStatus"} <= methods
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    needed = set().union(*(METHOD_SCOPES[m] for m in methods), *(EVENT_SCOPES[e] for e in events))
    if manifest["features"].get("slash_commands"):
        needed.add("commands")
    declared = manifest["oauth_config"]["scopes"]["bot"]
    assert len(declared) == len(set(declared))
    assert set(declared) == needed, (set(declared) - needed, needed - set(declared))
    assert "im:read" not in declared  # nothing uses it


def test_the_event_subscriptions_are_exactly_what_the_code_listens_to(manifest):
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    as_types = {e.split(".")[0] for e in events}  # message.channels … are `message` events
    assert as_types == registered_events()
    # thread follow-ups in public and private channels, DMs and the agent panel
    assert {"message.channels", "message.groups", "message.im"} <= events


def _event_for(subscription: str) -> dict:
    thread = {"thread_ts": "1700000900.000100"}
    return {
        "app_home_opened": {
            "type": "app_home_opened",
            "user": "U1",
            "tab": "home",
            "channel": "D1",
        },
        "app_mention": {
            "type": "app_mention",
            "user": "U1",
            "text": f"<@{BOT}> hi",
            "channel": "C1",
        },
        "assistant_thread_started": {
            "type": "assistant_thread_started",
            "assistant_thread": {
                "user_id": "U1",
                "channel_id": "D1",
                "thread_ts": "1.0",
                "context": {},
            },
        },
        "assistant_thread_context_changed": {
            "type": "assistant_thread_context_changed",
            "assistant_thread": {
                "user_id": "U1",
                "channel_id": "D1",
                "thread_ts": "1.0",
                "context": {},
            },
        },
        "message.channels": message("hi", "1700000900.000200", **thread),
        "message.groups": message(
            "hi", "1700000900.000300", channel="G1", channel_type="group", **thread
        ),
        "message.im": message("hi", "1700000900.000400", channel="D1", channel_type="im"),
    }[subscription] | {"ts": "1700000900.000500", "event_ts": "1700000900.000500"}


def test_every_subscribed_event_reaches_a_listener(harness, manifest, caplog):
    """Each event Slack will send (per the manifest) is handled, none falls to the fallback."""
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    with caplog.at_level(logging.DEBUG, logger="bot.slack.listeners"):
        for i, subscription in enumerate(events):
            harness.send(_event_for(subscription), f"EvManifest{i}")
        harness.send({"type": "reaction_added", "user": "U1", "event_ts": "1.0"}, "EvNotMine")
        harness.settle()
    ignored = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Ignored")]
    assert ignored == ["Ignored a event_callback request"]  # only reaction_added


def test_the_panels_suggested_prompts_are_the_ones_the_greeting_sets(manifest):
    from bot.slack.listeners.events.assistant import suggested_prompts
    from knowledge.blueprint import load_blueprint

    prompts = manifest["features"]["assistant_view"]["suggested_prompts"]
    assert prompts == suggested_prompts(load_blueprint("mls-c01"))
