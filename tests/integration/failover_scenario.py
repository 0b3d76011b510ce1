"""A broker failover under a steady paced load, for the failover test and its benchmark.

The input, output and dead-letter topics are led by one node. A producer sends
``rate`` requests a second; once answers flow, that node is SIGKILLed, restarted after
``down_s`` seconds (the benchmark) or as soon as an input sent after the kill has been
answered while it is down (the test), and the load goes on throughout. Every input the
producer got acknowledged is then looked for in the output (``read_committed``), by its
source partition and offset.
"""

from __future__ import annotations

import itertools
import signal
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import KafkaException

from tests.integration.answer_log import AnswerLog, Source
from tests.integration.steady_load import BackgroundReader, PacedProducer
from tests.integration.stream_fixtures import Topics, wait_for
from tests.integration.test_stream_processes import start_stream
from tests.kafka import KafkaCluster


@dataclass
class Failover:
    """What one failover did: inputs, answers per input, and the timings around the kill."""

    inputs: set[Source]
    answers: Counter[Source]
    killed_node: int
    resume_s: float  # kill -> first answer to an input sent after the kill
    longest_gap_s: float  # the longest silence of the output while the load went on
    resumed_while_down: bool  # answers to inputs sent after the kill came before the restart
    healed: bool
    log: Path


def run_failover(
    cluster: KafkaCluster,
    model_dir: Path,
    workdir: Path,
    *,
    exactly_once: bool,
    rate: float = 100.0,
    steady_s: float = 5.0,
    down_s: float | None = None,
    after_restart_s: float = 5.0,
    group_on_victim: bool = False,
) -> Failover:
    """Paced load, SIGKILL of the node leading every topic, restart, drain; see the module.

    ``group_on_victim``: the node killed is also the worker's group coordinator, the case
    in which librdkafka's ``send_offsets_to_transaction`` can wait for good.
    """
    topics = Topics(cluster, partitions=1)
    victim = _coordinator(cluster, topics.group) if group_on_victim else cluster.nodes[-1].node_id
    cluster.create_topics({topics.input: 1, topics.output: 1, topics.dead_letter: 1}, leader=victim)
    log = workdir / "stream.log"
    answers = AnswerLog(
        cluster.bootstrap_servers, {topics.output: 1, topics.dead_letter: 1}, "read_committed"
    )
    worker = start_stream(model_dir, topics, log, *(["--exactly-once"] if exactly_once else []))
    load = PacedProducer(cluster.bootstrap_servers, topics.input, rate)
    reader = BackgroundReader(answers)
    try:
        load.start()
        reader.start()
        reader.wait(int(rate * steady_s), worker, log)
        killed_at = time.monotonic()
        cluster.kill(victim)
        # The load goes on; the reader notes every answer's arrival.
        if down_s is None:
            wait_for(lambda: _resumed(answers, load, killed_at), timeout=120)
        else:
            time.sleep(down_s)
        resumed_while_down = _resumed(answers, load, killed_at)
        cluster.restart(victim)  # in this thread: the node dies with the thread that started it
        time.sleep(after_restart_s)
        load.stopping.set()
        load.join(150)
        assert not load.failed, load.failed[:3]
        reader.wait(len(load.sent), worker, log)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0, log.read_text()[-3000:]
    finally:
        load.stopping.set()
        reader.stop()
        if worker.poll() is None:
            worker.kill()
    answers.drain()
    answers.close()
    healed = wait_for(
        lambda: all(cluster.in_sync_replicas(t) == [3] for t in (topics.input, topics.output)),
        timeout=120,
    )
    after = [t for t, source in answers.arrivals if load.sent.get(source, 0) > killed_at]
    times = [t for t, _source in answers.arrivals]
    return Failover(
        inputs=set(load.sent),
        answers=answers.sources(),
        killed_node=victim,
        resume_s=min(after) - killed_at,
        longest_gap_s=max(b - a for a, b in itertools.pairwise(times)),
        resumed_while_down=resumed_while_down,
        healed=healed,
        log=log,
    )


def _resumed(answers: AnswerLog, load: PacedProducer, killed_at: float) -> bool:
    """Whether an input sent after the kill has been answered."""
    return any(load.sent.get(source, 0.0) > killed_at for _t, source in list(answers.arrivals))


def _coordinator(cluster: KafkaCluster, group: str) -> int:
    """The node id coordinating ``group`` (the leader of the offsets topic's partition its
    name hashes to; the topic is created on the first request, hence the retries)."""
    admin = cluster.admin()
    for _ in range(60):
        try:
            [future] = admin.describe_consumer_groups([group]).values()
            return int(future.result(timeout=10).coordinator.id)
        except KafkaException:
            time.sleep(0.5)
    raise AssertionError(f"no coordinator found for group {group}")
