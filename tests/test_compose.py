"""compose.yaml, deploy/nginx.conf and the Dockerfile, checked against the code (no Docker here).

Every command is parsed by the real CLI (typer's click command), every environment name must be
a setting (or a documented compose variable), every port and path must be the one the code
serves, and the Chroma image must be the server of the pinned client.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import click
import pytest
import typer.main
import yaml
from pydantic import AliasChoices, SecretStr

from bot.cli import app as cli
from bot.records import normalize_url
from bot.slack.app import check_settings
from bot.slack.asgi import EVENTS_PATH, HEALTH_PATH
from knowledge.settings import Settings

REPO = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((REPO / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
NGINX = (REPO / "deploy" / "nginx.conf").read_text()
DOCKERFILE = (REPO / "Dockerfile").read_text()
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
# Variables compose itself reads from .env (interpolation), not the app.
COMPOSE_VARIABLES = {"POSTGRES_PASSWORD", "STUDYBOT_PUBLIC_PORT", "STUDYBOT_INGEST_ARGS"}
OURS = [name for name, s in SERVICES.items() if s.get("build") == "."]
_VAR = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


def interpolate(text: str, env: dict[str, str] | None = None) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} with `env` (a required one: "x")."""
    env = env or {}

    def one(m: re.Match[str]) -> str:
        name, kind, arg = m.groups()
        if name in env:
            return env[name]
        return arg if kind == "-" else "placeholder-secret"

    return _VAR.sub(one, text)


def setting_names() -> set[str]:
    """Every environment name `Settings` reads."""
    names = set()
    for field, info in Settings.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice).upper() for choice in alias.choices)
        else:
            names.add(f"STUDYBOT_{field.upper()}")
    return names


def argv(service: dict) -> list[str]:
    command = service["command"]
    return (
        [interpolate(a) for a in command]
        if isinstance(command, list)
        else shlex.split(interpolate(command))
    )


def parse_cli(args: list[str]) -> click.Context:
    """The context the studybot CLI builds for `args` (UsageError when it would refuse them)."""
    assert args[0] == "studybot", args
    group = typer.main.get_command(cli)
    parent = group.make_context("studybot", args[1:2])
    command = group.get_command(parent, args[1])
    assert command is not None, f"studybot has no command {args[1]!r}"
    return command.make_context(args[1], args[2:], parent=parent)


def environment(name: str) -> dict[str, str]:
    return {k: interpolate(str(v)) for k, v in SERVICES[name].get("environment", {}).items()}


def settings_of(name: str, monkeypatch) -> Settings:
    for key, value in environment(name).items():
        monkeypatch.setenv(key, value)
    return Settings(_env_file=None)


def duration(text: str) -> float:
    return float(text.removesuffix("s"))


# --------------------------------------------------------------------------- services


def test_the_services_a_team_runs():
    assert set(SERVICES) == {"postgres", "chroma", "ingest", "bot", "proxy", "bot-socket"}
    assert SERVICES["bot"]["deploy"]["replicas"] == 2
    assert SERVICES["ingest"]["profiles"] == ["ingest"]
    assert SERVICES["bot-socket"]["profiles"] == ["socket"]
    assert set(OURS) == {"ingest", "bot", "bot-socket"}
    assert all(SERVICES[s]["env_file"] == ".env" for s in OURS)  # secrets come from .env


def test_the_chroma_image_is_the_server_of_the_pinned_client():
    pins = dict(d.split("==") for d in PYPROJECT["project"]["dependencies"])
    image, tag = SERVICES["chroma"]["image"].split(":")
    assert image == "chromadb/chroma" and tag == pins["chromadb"]


@pytest.mark.parametrize("name", OURS)
def test_every_command_is_one_the_cli_accepts(name):
    context = parse_cli(argv(SERVICES[name]))
    assert context.command.name in {"ingest", "serve"}


def test_ingest_with_a_teams_own_sources_parses_too():
    args = shlex.split(
        interpolate(
            SERVICES["ingest"]["command"],
            {"STUDYBOT_INGEST_ARGS": "/corpus/guide.md --follow-links --mirror https://x/=/c/x"},
        )
    )
    context = parse_cli(args)
    assert context.params["follow_links"] and context.params["sources"] == ["/corpus/guide.md"]


@pytest.mark.parametrize("name", OURS)
def test_every_environment_name_is_a_setting_and_every_value_validates(name, monkeypatch):
    assert set(environment(name)) <= setting_names()
    settings = settings_of(name, monkeypatch)
    assert settings.chroma_url == "http://chroma:8000"
    url = normalize_url(settings.database_url)
    assert (url.host, url.port, url.database, url.username) == (
        "postgres",
        5432,
        SERVICES["postgres"]["environment"]["POSTGRES_DB"],
        SERVICES["postgres"]["environment"]["POSTGRES_USER"],
    )
    assert settings.log_format == "json"


def test_compose_variables_are_documented_in_env_example():
    used = set(_VAR.findall((REPO / "compose.yaml").read_text()))
    assert {name for name, _, _ in used} == COMPOSE_VARIABLES
    example = (REPO / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M))
    assert documented >= COMPOSE_VARIABLES
    assert documented - COMPOSE_VARIABLES <= setting_names()


def test_the_bot_replicas_serve_http_on_the_port_the_probes_and_the_proxy_use(monkeypatch):
    bot = SERVICES["bot"]
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A1-1-abc")  # as if .env had one
    settings = settings_of("bot", monkeypatch)
    secrets = {"slack_bot_token": SecretStr("xoxb-1"), "slack_signing_secret": SecretStr("s")}
    _, app_token, _ = check_settings(settings.model_copy(update=secrets))
    assert app_token is None  # HTTP mode even when .env holds an app token
    port = settings.port
    assert bot["expose"] == [str(port)]
    assert f"http://127.0.0.1:{port}{HEALTH_PATH}" in " ".join(bot["healthcheck"]["test"])
    assert re.search(rf"server bot:{port}\b", NGINX)
    shutdown = settings.shutdown_timeout
    assert duration(bot["stop_grace_period"]) > shutdown  # the drain finishes before SIGKILL


def test_the_proxy_publishes_slacks_endpoint_and_the_liveness_probe_only():
    proxy = SERVICES["proxy"]
    published = interpolate(proxy["ports"][0])
    host_port, container_port = published.split(":")
    assert re.search(rf"listen {container_port};", NGINX)
    assert host_port == "8080"
    locations = re.findall(r"location (=?\s*\S+) \{", NGINX)
    assert locations == [f"= {EVENTS_PATH}", f"= {HEALTH_PATH}", "/"]
    assert "return 404" in NGINX.split("location / {")[1]
    assert f"http://127.0.0.1:{container_port}{HEALTH_PATH}" in proxy["healthcheck"]["test"]
    source, target, mode = proxy["volumes"][0].split(":")
    assert (REPO / source).is_file() and target == "/etc/nginx/nginx.conf" and mode == "ro"


def test_depends_on_waits_for_health_checks_that_exist():
    for name, service in SERVICES.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert condition == {"condition": "service_healthy"}, (name, dependency)
            assert "healthcheck" in SERVICES[dependency], dependency
    chroma_probe = " ".join(SERVICES["chroma"]["healthcheck"]["test"])
    assert "localhost:8000/api/v2/heartbeat" in chroma_probe  # the port STUDYBOT_CHROMA_URL uses


def test_named_volumes_are_declared():
    declared = set(COMPOSE["volumes"])
    used = {
        v.split(":")[0]
        for s in SERVICES.values()
        for v in s.get("volumes", [])
        if not v.startswith(".")
    }
    assert used == declared


def test_readme_gives_the_two_commands():
    readme = (REPO / "README.md").read_text()
    assert "docker compose --profile ingest run --rm ingest" in readme
    assert "docker compose up -d" in readme


# --------------------------------------------------------------------------- Dockerfile


def test_the_dockerfile_installs_what_make_install_does():
    makefile = (REPO / "Makefile").read_text()
    torch_pin = next(d for d in PYPROJECT["project"]["dependencies"] if d.startswith("torch=="))
    assert torch_pin in makefile and torch_pin in DOCKERFILE
    packages = {
        p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    copied = set(re.findall(r"^COPY (\w+) \./\1$", DOCKERFILE, re.M))
    assert copied == packages
    exported = set(re.findall(r"^export (\w+) := (\S+)$", makefile, re.M))
    env = set(re.findall(r"^\s+(\w+)=(\S+?)(?: \\)?$", DOCKERFILE, re.M))
    assert exported <= env  # the same offline and telemetry switches


def test_the_dockerfile_serves_on_the_default_port_with_the_health_path():
    port = Settings(_env_file=None).port
    assert re.search(rf"^EXPOSE {port}$", DOCKERFILE, re.M)
    assert HEALTH_PATH in DOCKERFILE.split("HEALTHCHECK", 1)[1].splitlines()[0]
    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.M).group(1)
    parse_cli(yaml.safe_load(cmd))
