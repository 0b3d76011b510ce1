"""The image's command and health check work against a real ``modstream serve``.

No container engine is needed: the test runs the Dockerfile's ENTRYPOINT + CMD with the
Dockerfile's environment (model path and port pointed at the test's), then runs its
HEALTHCHECK command the way the engine would.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from modstream.deploy.common import env_name
from modstream.settings import ServeSettings
from tests.unit.test_deploy_dockerfile import env, exec_form, healthcheck_command

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def image_env(model_dir: Path, http_port: int) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MODSTREAM_", "PREDICTIVE_UNIT_", "KAFKA_"))
    }
    return {
        **base,
        **{k: v for k, v in env().items() if k.startswith("MODSTREAM_")},
        env_name(ServeSettings, "model"): str(model_dir),
        env_name(ServeSettings, "http_port"): str(http_port),
        env_name(ServeSettings, "grpc_port"): str(free_port()),
    }


def healthcheck(environment: dict[str, str]) -> int:
    command = healthcheck_command()
    assert command[0] == "python"
    return subprocess.run(
        [sys.executable, *command[1:]], env=environment, capture_output=True, timeout=30
    ).returncode


@pytest.fixture
def served(model_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], dict[str, str]]]:
    environment = image_env(model_dir, free_port())
    entry = exec_form("ENTRYPOINT")
    assert entry == ["modstream"]
    process = subprocess.Popen(
        [sys.executable, "-m", "modstream", *exec_form("CMD")],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield process, environment
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_healthcheck_passes_once_the_image_command_is_serving(
    served: tuple[subprocess.Popen[bytes], dict[str, str]],
) -> None:
    process, environment = served
    deadline = time.monotonic() + 120  # a bound on the wait, not an assertion about speed
    while healthcheck(environment) != 0:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        assert time.monotonic() < deadline, "the server never became healthy"
        time.sleep(0.5)


def test_healthcheck_fails_when_nothing_serves(model_dir: Path) -> None:
    assert healthcheck(image_env(model_dir, free_port())) != 0
