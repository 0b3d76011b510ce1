"""True lag on Apache Kafka: the worker's ``modstream_stream_consumer_lag`` agrees with
Kafka's own ``kafka-consumer-groups --describe`` within one batch while a backlog drains
and after it is gone, and so does the lag KEDA's Kafka scaler reads (committed offset vs
log-end offset) through the ScaledObject that ``modstream deploy k8s`` generates, whose
group and topic are the worker's own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from modstream.broker import free_port
from tests.integration.stream_fixtures import produce, seldon, unique, wait_for
from tests.kafka import KafkaCluster

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.kafka]

PARTITIONS = 2
BACKLOG = 20_000  # per partition
# Small batches make the worker commit often and drain slowly enough to outlast one run
# of the JVM tool; "within one batch" is then a tight bound.
MAX_BATCH = 8
Lags = dict[int, int]


def _manifests(kafka: KafkaCluster) -> tuple[dict[str, str], dict[str, str]]:
    """The worker's environment (ConfigMap) and the KEDA trigger of one deployment."""
    tag = unique("mod")
    done = subprocess.run(
        [sys.executable, "-m", "modstream", "deploy", "k8s", "--name", "moderation",
         "--image", "modstream:test", "--bootstrap-servers", kafka.bootstrap_servers,
         "--input-topic", f"in-{tag}", "--output-topic", f"out-{tag}",
         "--group", f"group-{tag}", "--max-replicas", str(PARTITIONS), "--out", "-"],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    objects = {doc["kind"]: doc for doc in yaml.safe_load_all(done.stdout) if doc}
    [trigger] = objects["ScaledObject"]["spec"]["triggers"]
    return objects["ConfigMap"]["data"], trigger["metadata"]


@pytest.fixture
def deployment(kafka: KafkaCluster, model_dir: Path, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A backlog, then ``modstream stream`` started with the generated ConfigMap as its
    environment, as the generated Deployment runs it."""
    env, trigger = _manifests(kafka)
    kafka.create_topics({env["MODSTREAM_INPUT_TOPIC"]: PARTITIONS,
                         env["MODSTREAM_OUTPUT_TOPIC"]: PARTITIONS,
                         env["MODSTREAM_DEAD_LETTER_TOPIC"]: 1})  # fmt: skip
    for partition in range(PARTITIONS):
        values = [seldon(f"comment {i}") for i in range(BACKLOG)]
        produce(kafka, env["MODSTREAM_INPUT_TOPIC"], values, partition=partition)
    port = free_port()
    log = tmp_path / "stream.log"
    worker_env = {**os.environ, **env, "MODSTREAM_MODEL": str(model_dir)}
    with log.open("wb") as sink:
        worker = subprocess.Popen(
            [sys.executable, "-m", "modstream", "stream", "--metrics-port", str(port),
             "--max-batch", str(MAX_BATCH)],
            env=worker_env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield {"env": env, "trigger": trigger, "port": port, "log": log}
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0, log.read_text()[-3000:]
    finally:
        if worker.poll() is None:
            worker.kill()


def _metric(port: int, topic: str) -> Lags:
    """modstream_stream_consumer_lag per partition of ``topic`` from the worker's /metrics."""
    lags: Lags = {}
    for line in httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text.splitlines():
        if line.startswith("modstream_stream_consumer_lag{") and f'topic="{topic}"' in line:
            partition = int(line.split('partition="')[1].split('"')[0])
            lags[partition] = int(float(line.split()[-1]))
    return lags


def _reports_lag(port: int, topic: str) -> bool:
    try:
        return len(_metric(port, topic)) == PARTITIONS
    except httpx.TransportError:  # the metrics server is not up yet
        return False


def _tool(kafka: KafkaCluster, group: str, topic: str) -> Lags:
    """LAG per partition of ``topic`` as ``kafka-consumer-groups --describe`` prints it."""
    text = kafka.run_tool(
        "kafka-consumer-groups", "--bootstrap-server", kafka.bootstrap_servers,
        "--describe", "--group", group,
    )  # fmt: skip
    rows = [line.split() for line in text.splitlines() if line.strip()]
    header = next(row for row in rows if "LAG" in row and "PARTITION" in row)
    column = {name: i for i, name in enumerate(header)}
    return {
        int(row[column["PARTITION"]]): int(row[column["LAG"]])
        for row in rows
        if len(row) > column["LAG"] and row[column["TOPIC"]] == topic
    }


def _keda(trigger: dict[str, str]) -> Lags:
    """Lag per partition as KEDA's kafka scaler computes it from the trigger's metadata:
    log-end offset minus the group's committed offset; with no commit yet, the whole
    partition under ``offsetResetPolicy: earliest``."""
    admin = AdminClient({"bootstrap.servers": trigger["bootstrapServers"]})
    topic, group = trigger["topic"], trigger["consumerGroup"]
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    request = [ConsumerGroupTopicPartitions(group, partitions)]
    [committed] = admin.list_consumer_group_offsets(request).values()
    offsets = {tp.partition: tp.offset for tp in committed.result(timeout=30).topic_partitions}
    latest = admin.list_offsets({tp: OffsetSpec.latest() for tp in partitions})
    ends = {tp.partition: future.result(timeout=30).offset for tp, future in latest.items()}
    policy = trigger.get("offsetResetPolicy", "latest")
    return {
        p: ends[p] - offsets[p] if offsets[p] >= 0 else (ends[p] if policy == "earliest" else 1)
        for p in ends
    }


def test_deploy_points_keda_at_the_workers_group_and_topic(kafka: KafkaCluster) -> None:
    env, trigger = _manifests(kafka)
    assert trigger["consumerGroup"] == env["MODSTREAM_GROUP"]
    assert trigger["topic"] == env["MODSTREAM_INPUT_TOPIC"]
    assert trigger["bootstrapServers"] == env["MODSTREAM_BOOTSTRAP_SERVERS"]


def test_lag_metric_and_keda_agree_with_kafka_during_a_backlog_and_after_the_drain(
    kafka: KafkaCluster, deployment: dict[str, Any]
) -> None:
    env, port, log = deployment["env"], deployment["port"], deployment["log"]
    group, topic = env["MODSTREAM_GROUP"], env["MODSTREAM_INPUT_TOPIC"]
    assert wait_for(lambda: _reports_lag(port, topic), timeout=120), log.read_text()[-3000:]

    # The backlog only shrinks, so a reading taken between two scrapes lies between them.
    before = _metric(port, topic)
    tool, keda = _tool(kafka, group, topic), _keda(deployment["trigger"])
    after = _metric(port, topic)
    assert sum(tool.values()) > 0, "the backlog drained before the tool answered"
    for partition in range(PARTITIONS):
        for reading in (tool[partition], keda[partition]):
            assert after[partition] - MAX_BATCH <= reading <= before[partition] + MAX_BATCH

    drained = {p: 0 for p in range(PARTITIONS)}
    assert wait_for(lambda: _keda(deployment["trigger"]) == drained, timeout=300)
    assert wait_for(lambda: _metric(port, topic) == drained, timeout=60)
    assert _tool(kafka, group, topic) == drained
