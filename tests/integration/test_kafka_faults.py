"""Faults only a real broker shows, on Apache Kafka with topic auto-creation off: an answer
larger than the output topic takes goes to the dead-letter topic (at-least-once and
exactly-once), partitions added to the input topic while the worker runs are read with
no loss, and a missing topic stops the worker with an error that names it. And on a node
left at Kafka's defaults for its internal topics, which need three brokers, workers say
why they wait (no transaction, no group) instead of timing out or saying nothing."""

from __future__ import annotations

import json
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer
from confluent_kafka.admin import NewPartitions

from modstream.broker import free_ports
from modstream.dataplane import DataPlane
from modstream.errors import TopicMissing
from modstream.model import TextModel
from modstream.settings import StreamSettings
from modstream.settings.defaults import READY_PATH
from modstream.stream.config import GROUP_TUNING
from tests.integration.security_fixtures import lines, run, worker_thread
from tests.integration.stream_fixtures import (
    Topics,
    committed,
    header_map,
    kill_running,
    produce,
    read,
    running_worker,
    seldon,
    unique,
    wait_for,
)
from tests.integration.test_stream_processes import start_stream
from tests.kafka import KafkaCluster
from tests.kafka.fixtures import running

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.kafka]

OUTPUT_LIMIT = 4000  # the output topic's max.message.bytes; one answer is well under it
NOTHING_COMMITTED = -1001


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """One Apache Kafka node that creates no topic on its own."""
    workdir = tmp_path_factory.mktemp("strict-kafka")
    with running(KafkaCluster(1, workdir=workdir, auto_create_topics=False)) as cluster:
        yield cluster


def _read_committed(cluster: KafkaCluster, topic: str, count: int) -> list[Any]:
    consumer = Consumer({
        **GROUP_TUNING, "bootstrap.servers": cluster.bootstrap_servers,
        "group.id": unique("reader"), "auto.offset.reset": "earliest",
        "isolation.level": "read_committed", "enable.auto.commit": False,
    })  # fmt: skip
    consumer.subscribe([topic])
    found: list[Any] = []

    def enough() -> bool:
        found.extend(m for m in consumer.consume(500, 0.5) if m.error() is None)
        return len(found) >= count

    wait_for(enough, timeout=90)
    consumer.close()
    return found


@pytest.mark.parametrize("exactly_once", [False, True], ids=["at-least-once", "exactly-once"])
def test_an_answer_too_large_for_the_output_topic_is_dead_lettered(
    strict: KafkaCluster, model: TextModel, exactly_once: bool
) -> None:
    topics = Topics(strict, partitions=1)
    strict.create_topics({topics.input: 1, topics.dead_letter: 1})
    strict.create_topics({topics.output: 1}, config={"max.message.bytes": str(OUTPUT_LIMIT)})
    # One request of 150 texts: its answer (a row and a length per text) is over the limit.
    many = json.dumps({"data": {"ndarray": [f"text {i}" for i in range(150)]}}).encode()
    values = [seldon(f"small {i}") for i in range(5)] + [many] + [seldon("small after")]
    produce(strict, topics.input, values)
    settings = topics.settings(exactly_once=exactly_once, max_batch_records=64)
    with running_worker(settings, DataPlane(model)):
        assert wait_for(lambda: committed(strict, topics.group, topics.input, 1)[0] == 7)
    answers = _read_committed(strict, topics.output, 6)
    answered = Counter(header_map(m)["modstream.source.offset"] for m in answers)
    assert set(answered) == {"0", "1", "2", "3", "4", "6"}
    if exactly_once:  # the refused attempt was aborted: nothing of it is visible
        assert set(answered.values()) == {1}
    [dead] = _read_committed(strict, topics.dead_letter, 1)
    headers = header_map(dead)
    assert headers["modstream.source.offset"] == "5" and dead.value() == many
    assert headers["modstream.error.reason"] == "RECORD_TOO_LARGE"
    assert topics.output in headers["modstream.error.message"]


def test_partitions_added_while_the_worker_runs_are_read_with_no_loss(
    strict: KafkaCluster, model: TextModel
) -> None:
    topics = Topics(strict, partitions=1).create()
    settings = topics.settings()
    with running_worker(settings, DataPlane(model)) as worker:
        produce(strict, topics.input, [seldon("before")], partition=0)
        assert len(read(strict, topics.output, 1)) == 1
        admin = strict.admin()
        [future] = admin.create_partitions([NewPartitions(topics.input, 3)]).values()
        future.result(30)
        # Sent before the worker knows the new partitions exist: read from their start.
        produce(strict, topics.input, [seldon(f"new {i}") for i in range(6)], spread_over=3)
        assert wait_for(lambda: len(worker.assigned) == 3, timeout=90)
        answers = read(strict, topics.output, 7, timeout=90)
    sources = {(header_map(m)["modstream.source.partition"], header_map(m)["modstream.source.offset"])
               for m in answers}  # fmt: skip
    assert sources == {("0", "0"), ("0", "1"), ("0", "2"), ("1", "0"), ("1", "1"),
                       ("2", "0"), ("2", "1")}  # fmt: skip


def _stopped_on(settings: StreamSettings, model: TextModel) -> BaseException:
    """Run a worker until it stops by itself; what it stopped on."""
    worker, errors, stop, thread = worker_thread(settings, model)
    thread.join(120)
    stop.set()
    thread.join(30)
    assert errors, "the worker did not stop"
    assert not worker.ready
    return errors[0]


@pytest.mark.parametrize("missing", ["output", "dead letter"])
def test_a_topic_missing_at_the_first_produce_stops_the_worker_naming_it(
    strict: KafkaCluster, model: TextModel, missing: str
) -> None:
    topics = Topics(strict, partitions=1)
    absent = topics.output if missing == "output" else topics.dead_letter
    present = {topics.input, topics.output, topics.dead_letter} - {absent}
    strict.create_topics(dict.fromkeys(present, 1))
    produce(strict, topics.input, [seldon("an answer") if missing == "output" else b"not json"])
    error = _stopped_on(topics.settings(topic_wait_s=2), model)
    assert isinstance(error, TopicMissing) and f"topic {absent!r} does not exist" in str(error)
    assert committed(strict, topics.group, topics.input, 1) == {0: NOTHING_COMMITTED}


def test_a_missing_input_topic_stops_the_command_with_one_line(
    strict: KafkaCluster, model_dir: Path
) -> None:
    topics = Topics(strict, partitions=1)
    strict.create_topics({topics.output: 1, topics.dead_letter: 1})
    code, output = run(
        "stream", "--model", str(model_dir), "--bootstrap-servers", strict.bootstrap_servers,
        "--input-topic", topics.input, "--output-topic", topics.output, "--topic-wait-s", "3",
    )  # fmt: skip
    assert code == 2 and "Traceback" not in output, output
    assert lines(output)[-1] == (
        f"modstream stream: error: topic {topics.input!r} does not exist (waited 3s): create "
        "it, or let the cluster create topics (auto.create.topics.enable)"
    )


def test_on_a_cluster_too_small_for_its_internal_topics_workers_say_why_they_wait(
    model_dir: Path, tmp_path: Path
) -> None:
    # Kafka's defaults replicate its consumer offsets topic and its transaction log three
    # times; a one-node cluster left at them forms no group and starts no transaction,
    # which librdkafka shows as silence (the group) or "Timed out" (transactions).
    defaults = {"offsets.topic.replication.factor": "3",
                "transaction.state.log.replication.factor": "3",
                "transaction.state.log.min.isr": "2"}  # fmt: skip
    logs = [tmp_path / "exactly-once.log", tmp_path / "at-least-once.log"]
    port = free_ports(2)
    with running(KafkaCluster(1, workdir=tmp_path / "kafka", config=defaults)) as cluster:
        topics = Topics(cluster, partitions=1).create()
        workers = [
            start_stream(model_dir, topics, logs[0], "--exactly-once", "--metrics-port", str(port)),
            start_stream(model_dir, topics, logs[1], "--metrics-port", str(port + 1)),
        ]
        try:
            said = [
                wait_for(lambda: "transactions cannot start" in logs[0].read_text(), timeout=90),
                wait_for(lambda: "no group can form" in logs[1].read_text(), timeout=90),
            ]
            ready = [httpx.get(f"http://127.0.0.1:{port + i}{READY_PATH}", timeout=10).status_code
                     for i in (0, 1)]  # fmt: skip
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            codes = [worker.wait(60) for worker in workers]
        finally:
            kill_running(workers)
    outputs = [log.read_text() for log in logs]
    assert said == [True, True], "\n".join(output[-2000:] for output in outputs)
    assert (
        "cannot initialise transactions yet: the cluster has 1 broker(s) up and creates its "
        "transaction log (__transaction_state) with transaction.state.log.replication.factor=3, "
        "so transactions cannot start until 3 brokers are up; on a smaller cluster set "
        "transaction.state.log.replication.factor and transaction.state.log.min.isr on the "
        "brokers to at most its broker count"
    ) in outputs[0]
    assert (
        f"worker 0 is not in group {topics.group}: the cluster has 1 broker(s) up and creates "
        "its consumer offsets topic (__consumer_offsets) with offsets.topic.replication.factor=3, "
        "so no group can form until 3 brokers are up"
    ) in outputs[1]
    assert ready == [503, 503]  # they wait, not ready, and say why
    assert codes == [0, 0] and not any("Traceback" in output for output in outputs)
    assert "dead letters:" not in outputs[0]  # stopped while waiting: never announced as started
