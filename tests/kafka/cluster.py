"""An Apache Kafka cluster in KRaft mode on loopback ports: one node or three.

Every node is a combined broker + controller, so three nodes are also a three-voter
KRaft quorum: any one of them can be killed and the cluster keeps serving.
"""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from confluent_kafka.admin import AdminClient

from tests.kafka.admin import ClusterAdmin, ClusterError
from tests.kafka.node import HOST, KafkaNode, jvm_command
from tests.kafka.resolve import KAFKA_VERSION, classpath, java
from tests.kafka.security import SaslSsl
from tests.kafka.tools import tool_class


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class KafkaCluster(ClusterAdmin):
    """``nodes`` Apache Kafka nodes; ``with KafkaCluster(3) as kafka: ...``.

    ``bootstrap_servers`` is the PLAINTEXT listener of every node. With
    ``security=SaslSsl(...)`` each node also has a SASL_SSL listener with ACLs enforced
    (``secure_bootstrap_servers``). Replicated topics default to replication factor
    ``min(3, nodes)``; on three nodes ``min.insync.replicas`` is 2, for the transaction
    state log too. Data lives in ``workdir`` and survives ``stop()``/``start()``; a
    temporary one (no ``workdir`` given) is removed when a ``with`` block ends cleanly.
    """

    def __init__(
        self,
        nodes: int = 1,
        *,
        security: SaslSsl | None = None,
        workdir: Path | None = None,
        auto_create_topics: bool = True,
        heap: str = "512m",
        config: Mapping[str, str] | None = None,
        version: str = KAFKA_VERSION,
        startup_timeout: float = 120.0,
    ) -> None:
        if nodes < 1:
            raise ValueError("a cluster needs at least one node")
        self._own_workdir = workdir is None  # removed after a clean `with` block
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="kafka-"))
        self.security = security
        self.heap = heap
        self.version = version
        self.startup_timeout = startup_timeout
        self.replication_factor = min(3, nodes)
        self.nodes = [
            KafkaNode(
                node_id=i,
                port=free_port(),
                controller_port=free_port(),
                directory=self.workdir / f"node-{i}",
                sasl_port=free_port() if security else None,
            )
            for i in range(1, nodes + 1)
        ]
        self._overrides = dict(config or {})
        self._overrides.setdefault("auto.create.topics.enable", str(auto_create_topics).lower())
        self._cluster_id = _cluster_id()

    # -- addresses -------------------------------------------------------------------
    @property
    def secure_bootstrap_servers(self) -> str:
        """The SASL_SSL listeners (``security`` must be set)."""
        if self.security is None:
            raise ClusterError("this cluster has no SASL_SSL listener (pass security=SaslSsl())")
        return ",".join(f"{HOST}:{node.sasl_port}" for node in self.nodes)

    def node(self, node_id: int) -> KafkaNode:
        return self.nodes[node_id - 1]

    def log_files(self) -> list[Path]:
        return [node.log_file for node in self.nodes]

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> KafkaCluster:
        """Format storage on first start, launch every stopped node, wait until all serve."""
        java()  # fail (or skip) early and clearly without a usable Java
        path = classpath(self.version)
        if self.security is not None:
            self.security.prepare(self.workdir / "tls")
        for node in self.nodes:
            node.write_config(self._properties())
        self._format([n for n in self.nodes if not (n.data_dir / "meta.properties").exists()])
        for node in self.nodes:
            if not node.running:
                node.launch(path, self.heap)
        try:
            self._wait_serving()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop every node (SIGTERM together, SIGKILL after ``timeout``); data is kept."""
        for node in self.nodes:
            node.terminate()
        for node in self.nodes:
            node.wait(timeout)

    def kill(self, node_id: int) -> None:
        """SIGKILL one node, as a machine that dies."""
        self.node(node_id).kill()

    def restart(self, node_id: int) -> None:
        """Start one node again (stopping it first if it runs); waits until it serves."""
        node = self.node(node_id)
        node.terminate()
        node.wait(30.0)
        node.launch(classpath(self.version), self.heap)
        self._wait_serving()

    def _properties(self) -> dict[str, str]:
        voters = ",".join(f"{n.node_id}@{HOST}:{n.controller_port}" for n in self.nodes)
        factor = str(self.replication_factor)
        min_isr = str(max(1, self.replication_factor - 1))
        protocols = "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL"
        properties = {
            "process.roles": "broker,controller",
            "controller.quorum.voters": voters,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": protocols,
            "default.replication.factor": factor,
            "min.insync.replicas": min_isr,
            "offsets.topic.replication.factor": factor,
            "transaction.state.log.replication.factor": factor,
            "transaction.state.log.min.isr": min_isr,
            "share.coordinator.state.topic.replication.factor": factor,
            "share.coordinator.state.topic.min.isr": min_isr,
            # Small internal topics and few threads: this runs on a 2-core machine.
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.num.partitions": "10",
            "num.network.threads": "2",
            "num.io.threads": "4",
            # Groups form at once, and tests that kill consumers may shorten their session
            # below the broker's usual 6 s minimum.
            "group.initial.rebalance.delay.ms": "0",
            "group.min.session.timeout.ms": "1000",
        }
        if self.security is not None:
            properties.update(self.security.broker_properties())
        return {**properties, **self._overrides}

    def _format(self, nodes: list[KafkaNode]) -> None:
        path = classpath(self.version)
        extra = self.security.format_arguments() if self.security else []
        running = [
            (node, subprocess.Popen(
                jvm_command(path, "kafka.tools.StorageTool", "format", "-t", self._cluster_id,
                            "-c", str(node.config_file), *extra, log_config=node.log_config),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            ))
            for node in nodes
        ]  # fmt: skip
        for node, process in running:
            output, _ = process.communicate(timeout=120)
            if process.returncode != 0:
                raise ClusterError(
                    f"formatting node {node.node_id} failed: {output.decode()[-2000:]}"
                )

    def _wait_serving(self) -> None:
        """Until every running node is registered as a broker (unfenced) in the metadata."""
        wanted = {n.node_id for n in self.nodes if n.running}
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            for node in self.nodes:
                if node.node_id in wanted and not node.running:
                    raise ClusterError(f"node {node.node_id} exited at start-up; {_tail(node)}")
            if wanted <= self._registered_brokers():
                return
            time.sleep(0.25)
        raise ClusterError(f"Kafka did not serve within {self.startup_timeout:.0f}s: {self}")

    def _registered_brokers(self) -> set[int]:
        reachable = [n for n in self.nodes if n.running and _accepts(n.port)]
        if not reachable:
            return set()
        admin = AdminClient({"bootstrap.servers": reachable[0].address, "log_level": 0})
        try:
            return set(admin.list_topics(timeout=2).brokers)
        except Exception:
            return set()

    def run_tool(
        self, name: str, *args: str, stdin: str | None = None, timeout: float = 120.0
    ) -> str:
        """Run one of Kafka's tools (``kafka-consumer-groups``, ``kafka-console-producer``,
        ... or a class name) from the resolved jars; returns its standard output."""
        done = subprocess.run(
            jvm_command(classpath(self.version), tool_class(name), *args),
            input=stdin, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise ClusterError(f"{name} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
        return done.stdout

    def __repr__(self) -> str:
        logs = ", ".join(str(path) for path in self.log_files())
        return f"KafkaCluster({self.bootstrap_servers}; logs: {logs})"

    def __enter__(self) -> KafkaCluster:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        if self._own_workdir and exc is None:  # after a failure its logs stay for reading
            shutil.rmtree(self.workdir, ignore_errors=True)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _tail(node: KafkaNode, lines: int = 30) -> str:
    text = node.log_file.read_text(errors="replace") if node.log_file.exists() else ""
    stdout = node.directory / "logs" / "stdout.log"
    if stdout.exists():
        text += stdout.read_text(errors="replace")
    return f"log {node.log_file}:\n" + "\n".join(text.splitlines()[-lines:])


def _cluster_id() -> str:
    """A random cluster id as Kafka writes them (URL-safe base64 of 16 bytes), never one
    starting with ``-``: the storage tool would read that as an option and refuse it."""
    while True:
        candidate = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not candidate.startswith("-"):
            return candidate
