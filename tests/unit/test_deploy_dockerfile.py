"""The Dockerfile matches the CLI, the settings and the deployment manifests.

There is no container engine in CI, so the Dockerfile is parsed and each promise it
makes (command, ports, paths, user, health check) is checked against the code.
The health check itself is run against a real server in
tests/integration/test_deploy_image.py.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from modstream.cli import build_parser
from modstream.deploy.common import GRPC_PORT, HTTP_PORT, METRICS_PORT, MODEL_PATH, env_name
from modstream.settings import ServeSettings, StreamSettings

ROOT = Path(__file__).resolve().parents[2]
HEALTH_ROUTES = {"/health/ping", "/health/status", "/v2/health/live", "/v2/health/ready"}


def instructions(path: Path = ROOT / "Dockerfile") -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuations joined."""
    lines, current = [], ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.lstrip().startswith("#") or not raw.strip():
            continue
        current += raw.rstrip().removesuffix("\\") + " "
        if not raw.rstrip().endswith("\\"):
            lines.append(current.strip())
            current = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def final_stage() -> list[tuple[str, str]]:
    parsed = instructions()
    last_from = max(i for i, (op, _) in enumerate(parsed) if op == "FROM")
    return parsed[last_from:]


def values(op: str, stage: list[tuple[str, str]] | None = None) -> list[str]:
    return [args for name, args in (stage or final_stage()) if name == op]


def exec_form(op: str) -> list[str]:
    (args,) = values(op)
    value = json.loads(args[args.index("[") :])
    assert isinstance(value, list), f"{op} should use the exec (JSON) form"
    return value


def env() -> dict[str, str]:
    result: dict[str, str] = {}
    for args in values("ENV"):
        for token in shlex.split(args):
            key, _, value = token.partition("=")
            result[key] = value
    return result


def settings_env_names() -> set[str]:
    return {
        env_name(cls, field)
        for cls in (ServeSettings, StreamSettings)
        for field in cls.model_fields
    }


def test_it_is_multi_stage_and_runs_as_a_non_root_user() -> None:
    assert len(values("FROM", instructions())) >= 2
    (user,) = values("USER")
    assert user.split(":")[0] not in {"root", "0"}
    assert all("slim" in base or base.startswith("${") for base in values("FROM", instructions()))


def test_entrypoint_is_the_installed_console_script_and_cmd_a_valid_command() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert exec_form("ENTRYPOINT") == ["modstream"]
    assert scripts["modstream"] == "modstream.cli:main"
    args = build_parser().parse_args(exec_form("CMD"))
    assert args.command == "serve"


def test_exposed_ports_are_the_defaults_of_the_settings_and_manifests() -> None:
    exposed = {int(port.split("/")[0]) for args in values("EXPOSE") for port in args.split()}
    serve_defaults = {
        ServeSettings.model_fields["http_port"].default,
        ServeSettings.model_fields["grpc_port"].default,
    }
    assert serve_defaults == {HTTP_PORT, GRPC_PORT}
    assert exposed == serve_defaults | {METRICS_PORT}


def test_env_names_are_ones_the_settings_read_and_point_at_the_baked_model() -> None:
    variables = {k: v for k, v in env().items() if k.startswith("MODSTREAM_")}
    assert variables, "the image should configure modstream through its settings"
    assert set(variables) <= settings_env_names()
    assert variables[env_name(ServeSettings, "model")] == MODEL_PATH
    assert variables[env_name(ServeSettings, "host")] == "0.0.0.0"
    copies = " ".join(values("COPY"))
    assert MODEL_PATH in copies


def test_model_can_be_baked_in_with_a_build_arg() -> None:
    build = instructions()
    assert any(op == "ARG" and args.startswith("MODEL_DIR") for op, args in build)
    assert any(op == "RUN" and "${MODEL_DIR}" in args for op, args in build)


def healthcheck_command() -> list[str]:
    (args,) = values("HEALTHCHECK")
    return json.loads(args[args.index("CMD") + 3 :].strip())


def test_healthcheck_targets_a_health_route_on_the_http_port() -> None:
    command = " ".join(healthcheck_command())
    (path,) = re.findall(r"https?://[^/'\"]+(/[\w/.-]*)", command)
    assert path in HEALTH_ROUTES
    assert env_name(ServeSettings, "http_port") in command
    assert f"'{HTTP_PORT}'" in command


@pytest.mark.parametrize("needed", ["pyproject.toml", "src/", "models/"])
def test_dockerignore_keeps_only_what_the_build_needs(needed: str) -> None:
    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*", "exclude everything, then re-include"
    assert f"!{needed}" in rules
