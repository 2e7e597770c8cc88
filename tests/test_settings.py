"""Settings from the environment: our names, third-party names, lists in two spellings."""

from __future__ import annotations

from knowledge.settings import Settings


def test_lists_accept_json_or_commas(monkeypatch):
    monkeypatch.setenv("STUDYBOT_LEAD_USER_IDS", "U01, U02")
    monkeypatch.setenv("STUDYBOT_ALLOWED_HOSTS", '["docs.example.com"]')
    s = Settings(_env_file=None)
    assert s.lead_user_ids == ["U01", "U02"]
    assert s.allowed_hosts == ["docs.example.com"]


def test_third_party_names_and_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("STUDYBOT_DATA_DIR", str(tmp_path))
    s = Settings(_env_file=None)
    assert s.llm_enabled and s.slack_bot_token.get_secret_value() == "xoxb-1"
    assert "sk-x" not in repr(s)  # secrets never print
    assert s.database_url == f"sqlite:///{(tmp_path / 'studybot.db').resolve()}"
    assert s.chroma_dir == tmp_path / "chroma"
