"""A secured Apache Kafka for one test module: SASL_SSL (SCRAM-SHA-512 over TLS), ACLs on,
principals that may use only their own topics and group, and their passwords and a
client key kept as files and as the secret strings every output is searched for."""

from __future__ import annotations

import json
import os
import secrets
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    ResourcePatternType,
    ResourceType,
)

from modstream.dataplane import DataPlane
from modstream.model import TextModel
from modstream.settings import StreamSettings
from modstream.stream.worker import StreamWorker
from tests.integration.stream_fixtures import unique
from tests.integration.test_up import descendants
from tests.kafka import KafkaCluster, SaslSsl

USERS = ("worker", "app", "nowrite", "rotating", "turned", "stack", "policed")


@dataclass
class Principal:
    """A SCRAM user: its name, password, and a properties file to log in with."""

    name: str
    password: str
    properties: Path


@dataclass
class Secured:
    """The running cluster, its principals, a client key and every secret string."""

    cluster: KafkaCluster
    security: SaslSsl
    users: dict[str, Principal]
    client_cert: str  # PEM
    client_key: str  # encrypted PEM
    client_key_password: str
    workdir: Path
    extra_secrets: list[str] = field(default_factory=list)

    @property
    def servers(self) -> str:
        return self.cluster.secure_bootstrap_servers

    def login(self, user: str, password: str | None = None) -> dict[str, str]:
        """librdkafka properties of ``user`` on the SASL_SSL listener."""
        return self.security.client_config(user, password)

    def secrets(self) -> list[str]:
        """Every string that must never be shown: passwords, the key, its password."""
        key_lines = [ln for ln in self.client_key.splitlines() if len(ln) > 40]
        passwords = [p.password for p in self.users.values()]
        return [*passwords, self.client_key_password, *key_lines, *self.extra_secrets]

    def assert_hidden(self, *outputs: str) -> None:
        for text in outputs:
            for secret in self.secrets():
                assert secret not in text, f"a secret appears in: {text[-500:]}"


def secured_cluster(workdir: Path) -> tuple[KafkaCluster, SaslSsl, dict[str, Principal]]:
    """A one-node cluster with SASL_SSL, no topic auto-creation and short re-logins."""
    passwords = {name: f"{name}-{secrets.token_urlsafe(15)}" for name in USERS}
    security = SaslSsl(users=dict(passwords))
    # Clients log in again every few seconds, so a rotated password is noticed quickly.
    config = {"connections.max.reauth.ms": "4000"}
    cluster = KafkaCluster(
        1, security=security, workdir=workdir, auto_create_topics=False, config=config
    )
    users = {
        name: Principal(name, password, workdir / f"{name}.properties")
        for name, password in passwords.items()
    }
    return cluster, security, users


def write_properties(secured: Secured) -> None:
    """One ``client.properties`` per user, like Kafka's own tools take."""
    for user in secured.users.values():
        lines = [f"{k}={v}" for k, v in secured.login(user.name).items()]
        user.properties.write_text("\n".join(["# test login", *lines, ""]))


def client_key(directory: Path) -> tuple[str, str, str]:
    """A self-signed client certificate and its encrypted key (PEM) and key password."""
    password = f"keypass-{secrets.token_urlsafe(12)}"
    key, cert = directory / "client.key", directory / "client.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-days", "1", "-subj", "/CN=worker",
         "-keyout", str(key), "-out", str(cert), "-passout", f"pass:{password}"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert.read_text(), key.read_text(), password


@dataclass
class StreamTopics:
    """A worker's input, output and dead-letter topics and group on the secured cluster."""

    input: str = field(default_factory=lambda: unique("in"))
    output: str = field(default_factory=lambda: unique("out"))
    group: str = field(default_factory=lambda: unique("group"))

    @property
    def dead_letter(self) -> str:
        return f"{self.input}.dlq"

    def create(self, cluster: KafkaCluster) -> StreamTopics:
        cluster.create_topics({self.input: 1, self.output: 1, self.dead_letter: 1})
        return self


def modstream(
    *args: str, env: dict[str, str] | None = None, log: Path | None = None
) -> subprocess.Popen[str]:
    """``modstream ARGS`` in a child process (output to ``log``, or captured)."""
    out = log.open("a") if log is not None else subprocess.PIPE
    return subprocess.Popen(
        [sys.executable, "-m", "modstream", *args],
        env={**os.environ, **(env or {})},
        stdout=out,
        stderr=subprocess.STDOUT if log is not None else subprocess.PIPE,
        text=True,
    )


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> tuple[int, str]:
    """Run ``modstream ARGS`` to its end; its exit code and its stdout + stderr. One that
    runs past ``timeout`` is killed (the test fails on the timeout, leaving nothing behind)."""
    process = modstream(*args, env=env)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return process.returncode, out + err


def command_lines(pid: int) -> Iterator[str]:
    """The command line (``ps`` shows it) of ``pid`` and of each of its descendants."""
    for process in {pid, *descendants(pid)}:
        try:
            raw = Path(f"/proc/{process}/cmdline").read_bytes()
        except OSError:  # it ended meanwhile
            continue
        yield raw.replace(b"\0", b" ").decode(errors="replace")


def stop(process: subprocess.Popen[str], timeout: float = 60) -> int:
    """SIGTERM and wait; SIGKILL if it does not end."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def kafka_config_env(config: dict[str, str]) -> dict[str, str]:
    return {"MODSTREAM_KAFKA_CONFIG": json.dumps(config)}


def seldon_env(secured: Secured, topics: StreamTopics, user: str) -> dict[str, str]:
    """Seldon Core's variables: broker, topics, security protocol, TLS as PEM values; the
    SASL login (which Seldon has no variables for) as ``MODSTREAM_KAFKA_CONFIG``."""
    login = secured.login(user)
    assert secured.security.ca_file is not None
    return {
        "KAFKA_BROKER": secured.servers,
        "KAFKA_INPUT_TOPIC": topics.input,
        "KAFKA_OUTPUT_TOPIC": topics.output,
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SSL_CA_CERT": secured.security.ca_file.read_text(),
        "KAFKA_SSL_CLIENT_CERT": secured.client_cert,
        "KAFKA_SSL_CLIENT_KEY": secured.client_key,
        "KAFKA_SSL_CLIENT_KEY_PASS": secured.client_key_password,
        **kafka_config_env(
            {k: login[k] for k in ("sasl.mechanism", "sasl.username", "sasl.password")}
        ),
    }


def lines(text: str) -> Sequence[str]:
    return [line for line in text.splitlines() if line.strip()]


def worker_thread(
    settings: StreamSettings, model: TextModel
) -> tuple[StreamWorker, list[BaseException], threading.Event, threading.Thread]:
    """A worker running in a thread; the list receives what it stopped on, if anything."""
    worker = StreamWorker(settings, DataPlane(model))
    errors: list[BaseException] = []
    stop_event = threading.Event()

    def target() -> None:
        try:
            worker.run(stop_event)
        except BaseException as exc:  # what the worker stopped on
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return worker, errors, stop_event, thread


def up_topics(prefix: str) -> tuple[list[str], dict[str, str]]:
    """Flags naming the topics of ``modstream up`` after ``prefix``, and (no flag for them)
    the monitor's and the registry's as environment variables."""
    flags = [
        "--input-topic", f"{prefix}-comments", "--output-topic", f"{prefix}-predictions",
        "--decisions-topic", f"{prefix}-decisions",
    ]  # fmt: skip
    env = {
        "MODSTREAM_UP_MONITOR_METRICS_TOPIC": f"{prefix}-monitor.metrics",
        "MODSTREAM_UP_ALERTS_TOPIC": f"{prefix}-monitor.alerts",
        "MODSTREAM_UP_MODELS_TOPIC": f"{prefix}-models",
        "MODSTREAM_UP_POLICIES_TOPIC": f"{prefix}-policies",
    }
    return flags, env


def allow_up(secured: Secured, user: str, prefix: str, *, create: bool) -> None:
    """``user`` may read, write and describe every topic named ``prefix*`` (and create them
    with ``create``) and join every ``modstream-*`` group (the worker's, the monitor's, the
    dashboard's, the registry readers'): what ``modstream up`` needs."""
    operations = [AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE]
    operations += [AclOperation.CREATE] if create else []
    rules = [(ResourceType.TOPIC, prefix, op) for op in operations]
    rules.append((ResourceType.GROUP, "modstream-", AclOperation.READ))
    secured.cluster.create_acls([
        AclBinding(kind, name, ResourcePatternType.PREFIXED, f"User:{user}", "*", op,
                   AclPermissionType.ALLOW)
        for kind, name, op in rules
    ])  # fmt: skip


def banner_command(output: str, verb: str) -> list[str]:
    """The ``modstream <verb>`` command that ``up``'s banner tells the user to run."""
    lines = [line.strip() for line in output.splitlines()]
    [command] = [line for line in lines if line.startswith(f"modstream {verb} ")]
    return shlex.split(command)


def send_with_banner_command(output: str, text: str) -> None:
    """Send ``text`` with the ``modstream produce`` command printed by ``up``'s banner."""
    command = [*banner_command(output, "produce")[:-1], text]
    done = subprocess.run(
        [sys.executable, "-m", *command], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
