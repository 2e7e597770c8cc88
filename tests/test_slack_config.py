"""Start-up: Slack settings checked with one clear sentence; the runner the settings ask for."""

from __future__ import annotations

import logging

import pytest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.records import Records
from bot.service import StudyService
from bot.slack.app import ConfigError, build_client, create_app
from bot.slack.runner import HttpRunner, SocketModeRunner, build_runner
from knowledge.settings import Settings
from tests.fakes.slack_api import FakeSlackAPI


class NeverAsked(StudyService):
    """TEST DOUBLE for `StudyService`: start-up must not ask anything."""

    def __init__(self, records: Records) -> None:
        super().__init__(Settings(_env_file=None), records=records)

    def ask(self, question, who, where, thread=None):
        raise AssertionError("not expected")


@pytest.fixture
def fake():
    with FakeSlackAPI() as api:
        yield api


@pytest.fixture
def records(tmp_path):
    r = Records.from_url(f"sqlite:///{tmp_path / 'r.db'}")  # never touched by these tests
    yield r
    r.close()


def _settings(fake: FakeSlackAPI, **overrides) -> Settings:
    values = dict(
        slack_bot_token=fake.token,
        slack_signing_secret="secret",
        slack_app_token=None,
        slack_api_url=fake.base_url,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


def _one_sentence(message: str) -> None:
    assert message.endswith(".") and "\n" not in message
    assert "xoxb-test-token" not in message and "xoxp-secret" not in message


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (dict(slack_bot_token=None), "SLACK_BOT_TOKEN is not set"),
        (dict(slack_bot_token="  "), "SLACK_BOT_TOKEN is not set"),
        (dict(slack_bot_token="xoxp-secret-user-token"), "must be a bot token starting with xoxb-"),
        (dict(slack_bot_token="xoxb-with space"), "must be a bot token"),
        (dict(slack_app_token="xoxb-not-an-app-token"), "SLACK_APP_TOKEN must be an app-level"),
        (dict(slack_signing_secret=None), "SLACK_SIGNING_SECRET is required in HTTP mode"),
        (dict(slack_signing_secret="two words"), "must not contain spaces"),
    ],
)
def test_missing_or_malformed_settings_raise_config_error(fake, records, overrides, match):
    with pytest.raises(ConfigError, match=match) as info:
        create_app(_settings(fake, **overrides), NeverAsked(records), records)
    _one_sentence(str(info.value))
    assert fake.calls() == []  # checked before any network call


def test_a_token_slack_rejects_is_a_config_error(fake, records):
    fake.fail("auth.test", "invalid_auth")
    with pytest.raises(ConfigError, match=r"auth\.test: invalid_auth") as info:
        create_app(_settings(fake), NeverAsked(records), records)
    _one_sentence(str(info.value))


def test_an_unreachable_slack_api_is_a_config_error(records, tmp_path):
    settings = Settings(
        _env_file=None,
        slack_bot_token="xoxb-1-2-abc",
        slack_signing_secret="secret",
        slack_app_token=None,
    )
    client = WebClient(token="xoxb-1-2-abc", base_url="http://127.0.0.1:1/api/", retry_handlers=[])
    with pytest.raises(ConfigError, match="Cannot reach the Slack Web API") as info:
        create_app(settings, NeverAsked(records), records, client=client)
    _one_sentence(str(info.value))


def test_socket_mode_needs_no_signing_secret_and_skips_http(fake, records):
    settings = _settings(fake, slack_app_token="xapp-1-A111-1-abc", slack_signing_secret=None)
    app = create_app(settings, NeverAsked(records), records)
    assert app.process_before_response is False  # Socket Mode acks as soon as ack() is called
    runner = build_runner(settings, NeverAsked(records), records)
    assert isinstance(runner, SocketModeRunner)  # built, not connected


def test_http_mode_builds_an_http_runner_that_processes_before_responding(fake, records):
    settings = _settings(fake, port=0)
    runner = build_runner(settings, NeverAsked(records), records, host="127.0.0.1")
    try:
        assert isinstance(runner, HttpRunner) and runner.port > 0
        assert runner.app.process_before_response is True
    finally:
        runner.stop()


def test_client_uses_the_api_url_and_retries_429_and_connection_errors(fake):
    client = build_client(_settings(fake, slack_api_url=fake.base_url.rstrip("/")), "xoxb-1")
    assert client.base_url == fake.base_url
    for kind in (RateLimitErrorRetryHandler, ConnectionErrorRetryHandler):
        assert any(isinstance(h, kind) for h in client.retry_handlers)
    default = build_client(Settings(_env_file=None, slack_api_url=None), "xoxb-1")
    assert default.base_url == "https://slack.com/api/"


def test_no_misleading_token_warning_when_the_token_is_in_the_environment(
    fake, records, monkeypatch, caplog
):
    monkeypatch.setenv("SLACK_BOT_TOKEN", fake.token)
    with caplog.at_level(logging.WARNING):
        create_app(_settings(fake), NeverAsked(records), records)
    assert not [r for r in caplog.records if "will be unused" in r.getMessage()]
