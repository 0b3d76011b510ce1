"""A SASL_SSL listener for the Apache Kafka harness: SCRAM-SHA-512 over TLS, ACLs on.

Each node then has three listeners: PLAINTEXT (the harness's own door: topic setup,
readiness, inter-broker traffic; its clients are ``User:ANONYMOUS``, a super user),
CONTROLLER (KRaft) and SASL_SSL, the one the code under test is pointed at. The CA and
the broker certificate (valid for 127.0.0.1 and localhost) are generated per cluster
with ``openssl``; SCRAM users are written at format time; ACLs go through the AdminClient.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    ResourcePatternType,
    ResourceType,
)

from tests.kafka.resolve import KafkaUnavailable

LISTENER = "SASL_SSL"
MECHANISM = "SCRAM-SHA-512"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"


@dataclass
class SaslSsl:
    """Options of the secured listener; pass one as ``KafkaCluster(security=...)``.

    ``users`` maps SCRAM user names to passwords (created at format time); every name in
    ``super_users`` gets a random password unless ``users`` gives one.
    """

    users: dict[str, str] = field(default_factory=dict)
    super_users: tuple[str, ...] = ("admin",)
    ca_file: Path | None = None  # the generated CA certificate (PEM), set by prepare()
    _store: Path | None = None
    _store_password: str = field(default_factory=lambda: secrets.token_hex(12))

    def prepare(self, directory: Path) -> None:
        """Generate the CA and the broker's certificate under ``directory`` (once)."""
        for name in self.super_users:
            self.users.setdefault(name, secrets.token_urlsafe(16))
        if self._store is not None:
            return
        if shutil.which("openssl") is None:
            raise KafkaUnavailable("a SASL_SSL Kafka listener needs `openssl` to make its CA")
        directory.mkdir(parents=True, exist_ok=True)
        self.ca_file, self._store = _certificates(directory, self._store_password)

    def broker_properties(self) -> dict[str, str]:
        assert self._store is not None, "prepare() first"
        supers = ";".join(f"User:{u}" for u in ("ANONYMOUS", *self.super_users))
        prefix = f"listener.name.{LISTENER.lower()}.{MECHANISM.lower()}"
        return {
            "sasl.enabled.mechanisms": MECHANISM,
            f"{prefix}.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            ),
            "ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": str(self._store),
            "ssl.keystore.password": self._store_password,
            "ssl.key.password": self._store_password,
            "authorizer.class.name": AUTHORIZER,
            "super.users": supers,
            "allow.everyone.if.no.acl.found": "false",
        }

    def format_arguments(self) -> list[str]:
        """``--add-scram`` arguments of the storage tool: every user exists from the start."""
        arguments: list[str] = []
        for name, password in self.users.items():
            arguments += ["--add-scram", f"{MECHANISM}=[name={name},password={password}]"]
        return arguments

    def client_config(self, user: str, password: str | None = None) -> dict[str, str]:
        """librdkafka settings of a client logging in as ``user`` over the SASL_SSL listener."""
        assert self.ca_file is not None, "prepare() first"
        return {
            "security.protocol": LISTENER,
            "sasl.mechanism": MECHANISM,
            "sasl.username": user,
            "sasl.password": self.users[user] if password is None else password,
            "ssl.ca.location": str(self.ca_file),
        }


def allow(
    user: str,
    *,
    read: Iterable[str] = (),
    write: Iterable[str] = (),
    groups: Iterable[str] = (),
    transactional_ids: Iterable[str] = (),
) -> list[AclBinding]:
    """ACLs letting ``user`` read/describe some topics, write others, join some groups."""
    principal = f"User:{user}"

    def binding(kind: ResourceType, name: str, operation: AclOperation) -> AclBinding:
        return AclBinding(
            kind, name, ResourcePatternType.LITERAL, principal, "*",
            operation, AclPermissionType.ALLOW,
        )  # fmt: skip

    bindings: list[AclBinding] = []
    for topic in read:
        bindings += [binding(ResourceType.TOPIC, topic, op) for op in _READ]
    for topic in write:
        bindings += [binding(ResourceType.TOPIC, topic, op) for op in _WRITE]
    bindings += [binding(ResourceType.GROUP, g, AclOperation.READ) for g in groups]
    for tid in transactional_ids:
        bindings += [binding(ResourceType.TRANSACTIONAL_ID, tid, op) for op in _WRITE]
    return bindings


_READ = (AclOperation.READ, AclOperation.DESCRIBE)
_WRITE = (AclOperation.WRITE, AclOperation.DESCRIBE)


def _certificates(directory: Path, password: str) -> tuple[Path, Path]:
    """A CA (PEM) and a PKCS12 keystore with the broker's key and CA-signed certificate."""
    ca_key, ca = directory / "ca.key", directory / "ca.pem"
    key, request, cert = (
        directory / "broker.key",
        directory / "broker.csr",
        directory / "broker.pem",
    )
    extensions = directory / "broker.ext"
    extensions.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
    )
    store = directory / "broker.p12"
    steps = [
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "7", "-keyout", ca_key,
         "-out", ca, "-subj", "/CN=modstream test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", request,
         "-subj", "/CN=localhost"],
        ["x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-days", "7", "-out", cert, "-extfile", extensions],
        ["pkcs12", "-export", "-in", cert, "-inkey", key, "-certfile", ca, "-name", "broker",
         "-out", store, "-passout", f"pass:{password}"],
    ]  # fmt: skip
    for step in steps:
        done = subprocess.run(
            ["openssl", *map(str, step)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise KafkaUnavailable(f"openssl {step[0]} failed: {done.stderr.strip()[-500:]}")
    return ca, store
