"""Static group membership (``group.instance.id``) on Apache Kafka.

Kubernetes users set ``group.instance.id`` (through ``--kafka-config``) so that a restarted
pod takes its partitions back without a rebalance. Two consumers with one such id cannot
both be members: the broker fences the older one, whose every commit then fails. So the
worker processes of ``--workers N`` each get the id suffixed with their index, and a
worker whose id another consumer took stops with one line instead of answering batches
it can never commit, over and over.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from modstream.broker import free_ports
from tests.integration.answer_log import AnswerLog
from tests.integration.stream_fixtures import (
    Topics,
    holding_partitions,
    kill_running,
    produce,
    seldon,
    stop_worker,
    wait_for,
)
from tests.integration.test_stream_processes import start_stream
from tests.kafka import KafkaCluster

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.kafka]

STATIC = ("--kafka-config", "group.instance.id=pod-0")


def _members(cluster: KafkaCluster, group: str) -> dict[str, int]:
    """The group's members as the broker describes them: static id -> partitions held."""
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap_servers})
    [description] = [f.result(10) for f in admin.describe_consumer_groups([group]).values()]
    return {m.group_instance_id: len(m.assignment.topic_partitions) for m in description.members}


def _inputs(cluster: KafkaCluster, topics: Topics, tag: str, per_partition: int) -> None:
    for partition in range(4):
        values = [seldon(f"{tag} {partition}-{n}") for n in range(per_partition)]
        produce(cluster, topics.input, values, partition=partition)


def test_the_workers_of_one_command_each_get_their_own_static_membership_id(
    kafka: KafkaCluster, model_dir: Path, tmp_path: Path
) -> None:
    topics = Topics(kafka, partitions=4).create()
    port = free_ports(2)
    log = tmp_path / "workers.log"
    answers = AnswerLog(kafka.bootstrap_servers, {topics.output: 4}, "read_committed")
    workers = start_stream(model_dir, topics, log, "--workers", "2", "--metrics-port", str(port),
                           *STATIC)  # fmt: skip
    try:
        assert wait_for(lambda: holding_partitions(port) == [True, True], timeout=120), (
            log.read_text()[-3000:]
        )
        # Two members, each with its own id and its own half of the partitions.
        assert wait_for(lambda: _members(kafka, topics.group) == {"pod-0-0": 2, "pod-0-1": 2})
        _inputs(kafka, topics, "comment", 500)
        assert wait_for(lambda: answers.poll() == 2_000, timeout=120), log.read_text()[-3000:]
        stop_worker(workers, log)
        answers.drain()
    finally:
        answers.close()
        kill_running([workers])
    assert answers.duplicates() == 0
    assert "fenced" not in log.read_text()


def test_a_worker_whose_static_membership_id_another_took_stops_with_one_line(
    kafka: KafkaCluster, model_dir: Path, tmp_path: Path
) -> None:
    # Two commands given one group.instance.id: the second one's consumer takes the id
    # (and the first one's partitions); the first must stop, not answer batches it can
    # no longer commit.
    topics = Topics(kafka, partitions=4).create()
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    answers = AnswerLog(kafka.bootstrap_servers, {topics.output: 4}, "read_committed")
    workers = [start_stream(model_dir, topics, logs[0], *STATIC)]
    try:
        _inputs(kafka, topics, "before", 250)
        assert wait_for(lambda: answers.poll() == 1_000, timeout=120), logs[0].read_text()[-3000:]
        workers.append(start_stream(model_dir, topics, logs[1], *STATIC))
        first = workers[0].wait(60)
        _inputs(kafka, topics, "after", 250)
        assert wait_for(lambda: answers.poll() == 2_000, timeout=120), logs[1].read_text()[-3000:]
        stop_worker(workers[1], logs[1])
        answers.drain()
    finally:
        answers.close()
        kill_running(workers)
    output = logs[0].read_text()
    assert first == 2, output[-3000:]  # an error no restart fixes
    assert "Traceback" not in output
    # librdkafka's own lines ("%0|...|FATAL|...") come as the worker's log records.
    assert not [line for line in output.splitlines() if line.startswith("%")], output[-3000:]
    errors = [line for line in output.splitlines() if line.startswith("modstream stream: error")]
    assert errors == [
        f"modstream stream: error: fenced: another consumer joined group {topics.group!r} with "
        "group.instance.id 'pod-0', so this one stops; the other reads its partitions. If the "
        "other is not this worker restarted, give each worker its own group.instance.id"
    ], output[-3000:]
    assert answers.duplicates() == 0
