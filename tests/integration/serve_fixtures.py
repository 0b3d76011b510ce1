"""Helpers for the serving tests: a real ``modstream serve`` process on free ports, and the
virtual environment that holds the ``seldon-core`` package (its pins clash with ours).

The server runs in a subprocess: its generated gRPC modules define the same protobuf
symbols as ``tritonclient`` and ``seldon-core``, which the tests import.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

SELDON_CORE = "seldon-core==1.18.2"
SELDON_VENV = Path(
    os.environ.get("MODSTREAM_SELDON_VENV", Path.home() / ".cache" / "modstream" / "venv-seldon")
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[str]
    http_port: int
    grpc_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def log(self) -> str:
        if self.process.stdout is None:
            return ""
        return self.process.stdout.read() if self.process.poll() is not None else ""


def start_server(
    model_dir: Path, *extra: str, module: str = "modstream", timeout: float = 60.0
) -> Server:
    """Start ``modstream serve`` (or ``python -m module serve ...``, which takes the same
    arguments) and wait until ``/v2/health/ready`` answers 200."""
    http_port, grpc_port = free_port(), free_port()
    command = [
        sys.executable,
        "-m",
        module,
        "serve",
        "--model",
        str(model_dir),
        "--http-port",
        str(http_port),
        "--grpc-port",
        str(grpc_port),
        *extra,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    server = Server(process, http_port, grpc_port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"modstream serve exited early:\n{server.log()}")
        try:
            if httpx.get(f"{server.url}/v2/health/ready", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise RuntimeError("modstream serve did not become ready in time")


def stop_server(server: Server, timeout: float = 30.0) -> int:
    """SIGTERM, then wait for the exit code."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
    try:
        return server.process.wait(timeout)
    except subprocess.TimeoutExpired:
        server.process.kill()
        return server.process.wait()


def running_server(model_dir: Path, *extra: str) -> Iterator[Server]:
    server = start_server(model_dir, *extra)
    try:
        yield server
    finally:
        stop_server(server)


def seldon_python() -> Path:
    """The venv's interpreter with ``seldon-core`` importable; created on first use."""
    python = SELDON_VENV / "bin" / "python"
    check = [str(python), "-c", "import seldon_core.seldon_client"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(SELDON_VENV)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", SELDON_CORE],
            check=True,
            capture_output=True,
            timeout=900,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"{SELDON_CORE} could not be installed into {SELDON_VENV}: {exc}")
    if subprocess.run(check, capture_output=True).returncode != 0:
        pytest.skip(f"{SELDON_CORE} is not importable from {SELDON_VENV}")
    return python
