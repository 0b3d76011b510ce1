"""``modstream up`` runs on the registry: its model is the champion, the dashboard lists
the versions, and a version promoted from the dashboard answers the next comments on the
stream and over REST, until it is rolled back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.integration.registry_fixtures import Version
from tests.integration.rollout_fixtures import reading
from tests.integration.test_up import Up, start_up, stop_up, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def models_cli(up: Up, *args: str) -> str:
    command = [sys.executable, "-m", "modstream", "models", *args, "--bootstrap-servers",
               up.bootstrap]  # fmt: skip
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def rest_version(up: Up) -> str:
    body = {"data": {"ndarray": ["the sample size seems small"]}}
    answer = httpx.post(f"http://127.0.0.1:{up.ports['http-port']}/api/v1.0/predictions",
                        json=body, timeout=30).json()  # fmt: skip
    return str(answer["meta"]["tags"]["model_version"])


def test_up_promotes_from_the_dashboard_and_rolls_back(
    model_dir: Path, versions: tuple[Version, Version]
) -> None:
    other = versions[1]
    up = start_up("--model", str(model_dir))
    try:
        assert "Registry   modstream-models" in up.output
        first = httpx.get(f"{up.url}/api/models", timeout=30).json()["versions"]
        [(champion, role)] = [(v["version"], v["role"]) for v in first]
        assert role == "champion" and rest_version(up) == champion
        models_cli(up, "publish", str(other.path))
        promoted = httpx.post(f"{up.url}/api/models/promote", json={"version": other.version},
                              timeout=30)  # fmt: skip
        assert promoted.status_code == 200
        wait_for(lambda: rest_version(up) == other.version, 60, "the server to switch")

        with reading(up.bootstrap, "predictions") as reader:

            def stream_answers_with(version: str) -> bool:
                key = f"k-{len(reader.answers())}"
                subprocess.run(
                    [sys.executable, "-m", "modstream", "produce", "--bootstrap-servers",
                     up.bootstrap, "--topic", "comments", "--key", key, "hello there"],
                    check=True, capture_output=True,
                )  # fmt: skip
                wait_for(lambda: key in reader.answered(), 60, "the answer")
                return {a.key: a.version for a in reader.answers()}[key] == version

            wait_for(lambda: stream_answers_with(other.version), 90, "the worker to switch")
            httpx.post(f"{up.url}/api/models/rollback", json={}, timeout=30)
            wait_for(lambda: rest_version(up) == champion, 60, "the server to roll back")
            wait_for(lambda: stream_answers_with(champion), 90, "the worker to roll back")
        listing = models_cli(up, "list")
        assert f"{champion}  champion" in listing
    finally:
        assert stop_up(up) == 0
