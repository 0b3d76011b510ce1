"""Child processes of ``modstream up`` and the ports they listen on.

Every child runs in its own session, so a Ctrl-C in the terminal reaches only
``modstream up``, which then stops the children one by one in a fixed order. Each child
starts through ``modstream.up.child``, which has Linux interrupt it if ``modstream up``
itself dies, so no process is left behind.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from modstream.errors import ModstreamError

log = logging.getLogger(__name__)

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Ports:
    """Where each part of the stack listens on 127.0.0.1."""

    dashboard: int
    http: int
    grpc: int
    broker: int
    metrics: int  # the stream worker's /metrics and /ready
    monitor: int  # the quality and drift monitor's REST, /metrics and /ready
    kafka: str = ""  # bootstrap servers: the embedded broker's, or an existing Kafka's

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka or f"{HOST}:{self.broker}"


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether ``host:port`` can be bound right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def any_free_port(taken: set[int], host: str = HOST) -> int:
    """A free port that is not in ``taken`` (ports already promised to another child)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port not in taken:
            return port


class ChildProcess:
    """``modstream <verb> ...`` in a child process, with its output in ``log_path``."""

    def __init__(
        self, name: str, args: list[str], log_path: Path, env: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.command = [sys.executable, "-m", "modstream.up.child", str(os.getpid()), *args]
        self.log_path = log_path
        self.env = {**os.environ, **env} if env else None  # credentials go here, not in argv
        self.process: subprocess.Popen[bytes] | None = None
        self.interrupted = False

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> ChildProcess:
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )
        log.debug("started %s (pid %d): %s", self.name, self.process.pid, self.command)
        return self

    def exit_code(self) -> int | None:
        """The exit code if the process has ended, else ``None``."""
        return None if self.process is None else self.process.poll()

    def interrupt(self) -> None:
        """Ask the process to stop (SIGINT), once: a second SIGINT would cut its graceful
        stop short.

        SIGINT, not SIGTERM: every verb stops gracefully on it (``modstream broker`` stops
        its broker on KeyboardInterrupt), and the child is in its own session, so only
        this call sends it.
        """
        process = self.process
        if process is not None and not self.interrupted and process.poll() is None:
            process.send_signal(signal.SIGINT)
            self.interrupted = True

    def stop(self, timeout: float) -> int | None:
        """``interrupt``, wait up to ``timeout`` seconds, then SIGKILL; returns the exit code."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            self.interrupt()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0fs; killing it", self.name, timeout)
                process.kill()
                process.wait()
        return process.returncode

    def log_tail(self, lines: int = 15) -> str:
        """The last lines the process wrote, to show why it failed."""
        try:
            text = self.log_path.read_text("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.rstrip().splitlines()[-lines:])

    def raise_if_exited(self) -> None:
        code = self.exit_code()
        if code is not None:
            raise ModstreamError(
                f"the {self.name} exited with code {code} while starting; its last lines:\n"
                f"{self.log_tail()}"
            )
