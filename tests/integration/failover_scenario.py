"""A broker failover under a steady paced load, for the failover test and its benchmark.

The input, output and dead-letter topics are led by one node. A producer sends
``rate`` requests a second; once answers flow, that node is SIGKILLed, later restarted,
and the load goes on throughout. Every input the producer got acknowledged is then
looked for in the output (``read_committed``), by its source partition and offset.
"""

from __future__ import annotations

import itertools
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from tests.integration.answer_log import AnswerLog, Source
from tests.integration.stream_fixtures import Topics, seldon, wait_for
from tests.integration.test_stream_processes import start_stream
from tests.kafka import KafkaCluster


class PacedProducer(threading.Thread):
    """Sends ``rate`` requests a second until stopped; remembers when each acknowledged
    input (partition, offset) was sent."""

    def __init__(self, servers: str, topic: str, rate: float) -> None:
        super().__init__(daemon=True)
        self.topic, self.rate = topic, rate
        self.producer = Producer({
            "bootstrap.servers": servers, "acks": "all", "enable.idempotence": True,
            "linger.ms": 1, "message.timeout.ms": 120_000,
        })  # fmt: skip
        self.sent: dict[Source, float] = {}
        self.failed: list[str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        start, count = time.monotonic(), 0
        while not self.stopping.is_set():
            sent_at = time.monotonic()
            self.producer.produce(
                self.topic, seldon(f"comment {count}"), on_delivery=self._delivered(sent_at)
            )
            self.producer.poll(0)
            count += 1
            self.stopping.wait(max(0.0, start + count / self.rate - time.monotonic()))
        if self.producer.flush(120) != 0:
            self.failed.append("inputs still unacknowledged after 120 s")

    def _delivered(self, sent_at: float) -> Callable[[Any, Any], None]:
        def record(error: Any, message: Any) -> None:
            if error is not None:
                self.failed.append(str(error))
            else:
                self.sent[(message.partition(), message.offset())] = sent_at

        return record


@dataclass
class Failover:
    """What one failover did: inputs, answers per input, and the timings around the kill."""

    inputs: set[Source]
    answers: Counter[Source]
    killed_node: int
    resume_s: float  # kill -> first answer to an input sent after the kill
    longest_gap_s: float  # the longest silence of the output while the load went on
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
    down_s: float = 15.0,
) -> Failover:
    """Paced load, SIGKILL of the node leading every topic, restart, drain; see the module."""
    victim = cluster.nodes[-1].node_id
    topics = Topics(cluster, partitions=1)
    cluster.create_topics({topics.input: 1, topics.output: 1, topics.dead_letter: 1}, leader=victim)
    log = workdir / "stream.log"
    answers = AnswerLog(
        cluster.bootstrap_servers, {topics.output: 1, topics.dead_letter: 1}, "read_committed"
    )
    worker = start_stream(model_dir, topics, log, *(["--exactly-once"] if exactly_once else []))
    load = PacedProducer(cluster.bootstrap_servers, topics.input, rate)
    reader = _Reader(answers)
    try:
        load.start()
        reader.start()
        reader.wait(int(rate * steady_s), worker, log)
        killed_at = time.monotonic()
        cluster.kill(victim)
        time.sleep(down_s)  # the load goes on; the reader notes every answer's arrival
        cluster.restart(victim)
        time.sleep(steady_s)
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
        healed=healed,
        log=log,
    )


class _Reader(threading.Thread):
    """Reads the answers continuously, so each arrival time is when it was readable."""

    def __init__(self, answers: AnswerLog) -> None:
        super().__init__(daemon=True)
        self.answers = answers
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.answers.poll(0.05)

    def wait(self, count: int, worker: subprocess.Popen[bytes], log: Path) -> None:
        ok = wait_for(lambda: len(self.answers.seen) >= count or worker.poll() is not None,
                      timeout=300)  # fmt: skip
        seen = len(self.answers.seen)
        if not ok or seen < count:
            raise AssertionError(f"{seen} of {count} answered; log:\n{log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.stopping.set()
        self.join(30)
