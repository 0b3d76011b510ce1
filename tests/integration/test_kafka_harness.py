"""The Apache Kafka harness itself: a single node serves and runs Kafka's own tools, the
three-node cluster keeps acknowledged records through a leader's death and heals when it
comes back, and the SASL_SSL listener authenticates and enforces ACLs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer

from tests.integration.stream_fixtures import read, unique, wait_for
from tests.kafka import KafkaCluster, SaslSsl, allow
from tests.kafka.fixtures import running

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.kafka]


def _send(
    servers: str,
    topic: str,
    values: list[bytes],
    config: dict[str, Any] | None = None,
    client_errors: list[Any] | None = None,
) -> list[Any]:
    """Produce with acks=all; the delivery errors (None for each success). The client's
    own errors (such as a failed login) are appended to ``client_errors``."""
    errors: list[Any] = []
    sink = client_errors if client_errors is not None else []
    producer = Producer({
        "bootstrap.servers": servers, "acks": "all", "message.timeout.ms": 20_000,
        "error_cb": sink.append, **(config or {}),
    })  # fmt: skip
    for value in values:
        producer.produce(topic, value, on_delivery=lambda error, _m: errors.append(error))
    producer.flush(30)
    return errors


def test_single_node_serves_clients_and_kafkas_own_tools(kafka: KafkaCluster) -> None:
    topic = unique("harness")
    kafka.create_topics({topic: 3})
    assert _send(kafka.bootstrap_servers, topic, [b"one", b"two"]) == [None, None]
    assert sorted(m.value() for m in read(kafka, topic, 2)) == [b"one", b"two"]
    described = kafka.run_tool(
        "kafka-topics", "--bootstrap-server", kafka.bootstrap_servers, "--describe",
        "--topic", topic,
    )  # fmt: skip
    assert f"Topic: {topic}" in described and "PartitionCount: 3" in described


def test_three_nodes_survive_a_leader_kill_and_heal(kafka_cluster: KafkaCluster) -> None:
    topic = unique("replicated")
    kafka_cluster.create_topics({topic: 1})
    assert kafka_cluster.in_sync_replicas(topic) == [3]
    assert _send(kafka_cluster.bootstrap_servers, topic, [b"before"]) == [None]

    leader = kafka_cluster.leader_of(topic, 0)
    kafka_cluster.kill(leader)
    assert wait_for(lambda: kafka_cluster.leader_of(topic, 0) not in (-1, leader), timeout=60)
    # Two replicas left meet min.insync.replicas=2: acks=all writes still succeed.
    assert _send(kafka_cluster.bootstrap_servers, topic, [b"during"]) == [None]

    kafka_cluster.restart(leader)
    assert wait_for(lambda: kafka_cluster.in_sync_replicas(topic) == [3], timeout=90)
    assert [m.value() for m in read(kafka_cluster, topic, 2)] == [b"before", b"during"]


def test_sasl_ssl_listener_authenticates_and_enforces_acls(tmp_path: Path) -> None:
    security = SaslSsl(users={"worker": "worker-secret"})
    with running(KafkaCluster(1, security=security, workdir=tmp_path)) as secured:
        allowed, denied = unique("allowed"), unique("denied")
        secured.create_topics({allowed: 1, denied: 1})
        secured.create_acls(allow("worker", write=[allowed]))
        servers = secured.secure_bootstrap_servers
        worker = security.client_config("worker")
        assert _send(servers, allowed, [b"x"], worker) == [None]
        [refused] = _send(servers, denied, [b"x"], worker)
        assert "TOPIC_AUTHORIZATION_FAILED" in str(refused)
        wrong = {**security.client_config("worker", password="wrong"), "message.timeout.ms": 5000}
        login_errors: list[Any] = []
        [undelivered] = _send(servers, allowed, [b"x"], wrong, login_errors)
        assert undelivered is not None
        assert any("Authentication failed" in str(e) for e in login_errors), login_errors
        assert _send(servers, denied, [b"y"], security.client_config("admin")) == [None]
