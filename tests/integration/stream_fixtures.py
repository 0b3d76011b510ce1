"""Shared helpers of the Kafka tests: the embedded broker, random topics, workers, readers."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from modstream.broker import EmbeddedBroker
from modstream.settings import StreamSettings
from modstream.settings.defaults import READY_PATH, dead_letter_topic
from modstream.stream.config import GROUP_TUNING
from modstream.stream.worker import StreamWorker

# A shorter group session than the 6 s modstream sets, for the tests that start and kill
# worker processes: a SIGKILLed worker keeps its partitions until the group expires it
# after the session timeout, and the embedded broker holds a new member's first join for
# about half of it. The Apache Kafka harness allows sessions down to 1 s.
SHORT_SESSION = ("--kafka-config", "session.timeout.ms=3000")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Topics:
    """A random input/output/dead-letter topic triple on ``broker``."""

    broker: EmbeddedBroker
    partitions: int = 2
    input: str = field(default_factory=lambda: unique("in"))
    output: str = field(default_factory=lambda: unique("out"))
    group: str = field(default_factory=lambda: unique("group"))

    @property
    def dead_letter(self) -> str:
        return dead_letter_topic(self.input)

    def create(self) -> Topics:
        self.broker.create_topics(
            {self.input: self.partitions, self.output: self.partitions, self.dead_letter: 1}
        )
        return self

    def settings(self, **overrides: Any) -> StreamSettings:
        values: dict[str, Any] = {
            "bootstrap_servers": self.broker.bootstrap_servers,
            "input_topic": self.input,
            "output_topic": self.output,
            "group": self.group,
            "max_wait_ms": 20,
        }
        values.update(overrides)
        return StreamSettings(**values)


@contextmanager
def running_worker(settings: StreamSettings, dataplane: Any) -> Iterator[Any]:
    """A worker in a thread of this process; stopped (batch finished, group left) on exit."""
    worker = StreamWorker(settings, dataplane)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    worker.thread = thread
    try:
        yield worker
    finally:
        stop.set()
        thread.join(60)


def produce(
    broker: EmbeddedBroker,
    topic: str,
    values: list[bytes | None],
    *,
    key: bytes | None = None,
    headers: list[tuple[str, bytes]] | None = None,
    partition: int | None = None,
    spread_over: int | None = None,
) -> None:
    """Produce ``values`` to one ``partition``, round-robin over ``spread_over`` partitions,
    or (neither given) where the client's partitioner puts them.

    Keyless records without a partition go where librdkafka's sticky partitioner sends
    them: one random partition per ~10 ms, so a fast loop can fill a single partition.
    Tests that need every partition fed use ``spread_over``.
    """
    producer = Producer({"bootstrap.servers": broker.bootstrap_servers, "linger.ms": 5})
    for i, value in enumerate(values):
        extra: dict[str, Any] = {}
        if spread_over is not None:
            extra["partition"] = i % spread_over
        elif partition is not None:
            extra["partition"] = partition
        producer.produce(topic, value=value, key=key, headers=headers, **extra)
        producer.poll(0)
    assert producer.flush(30) == 0


def seldon(text: str, **extra: Any) -> bytes:
    return json.dumps({"data": {"ndarray": [text]}, **extra}).encode()


def read(
    broker: EmbeddedBroker,
    topic: str,
    count: int,
    *,
    timeout: float = 60.0,
    until: Callable[[list[Any]], bool] | None = None,
) -> list[Any]:
    """Messages of ``topic`` from the beginning until ``count`` arrived (or ``timeout``)."""
    consumer = Consumer(
        {
            **GROUP_TUNING,
            "bootstrap.servers": broker.bootstrap_servers,
            "group.id": unique("reader"),
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    messages: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(messages) < count and time.monotonic() < deadline:
            if until is not None and until(messages):
                break
            batch = consumer.consume(1000, 0.2)
            messages.extend(m for m in batch if m.error() is None)
    finally:
        consumer.close()
    return messages


_COORDINATOR_MOVING = {
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
}


def committed(broker: EmbeddedBroker, group: str, topic: str, partitions: int) -> dict[int, int]:
    """The group's committed offset per partition (-1001 when nothing is committed).

    A retriable answer (the group's coordinator is moving or still loading, as Apache
    Kafka says for a while after a group's first commit) is asked again, for up to 30 s.
    """
    consumer = Consumer({"bootstrap.servers": broker.bootstrap_servers, "group.id": group})
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                return {tp.partition: tp.offset for tp in consumer.committed(tps, timeout=10)}
            except KafkaException as exc:
                error = exc.args[0]
                passing = error.retriable() or error.code() in _COORDINATOR_MOVING
                if not passing or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    finally:
        consumer.close()


def wait_for(condition: Callable[[], bool], timeout: float = 60.0, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def header_map(message: Any) -> dict[str, str]:
    return {k: (v or b"").decode("utf-8", "replace") for k, v in message.headers() or []}


def scrape(port: int, name: str) -> float:
    """Sum of a metric's samples on a worker's /metrics page."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


def holding_partitions(port: int) -> list[bool]:
    """Per worker (metrics on PORT + index): ready and holding at least one partition."""
    holding = []
    for index in (0, 1):
        try:
            ready = httpx.get(f"http://127.0.0.1:{port + index}{READY_PATH}", timeout=5).status_code
            held = scrape(port + index, "modstream_stream_assigned_partitions")
        except httpx.HTTPError:  # not listening yet
            return [False, False]
        holding.append(ready == 200 and held > 0)
    return holding


def stop_worker(worker: subprocess.Popen[bytes], log: Path) -> None:
    """SIGTERM a ``modstream stream`` process; it must finish its batch and exit 0."""
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(60) == 0, log.read_text()[-3000:]


def kill_running(workers: Iterable[subprocess.Popen[bytes]]) -> None:
    """After a test, whatever it left running (a failed assertion, a frozen process)."""
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
            worker.wait(30)
