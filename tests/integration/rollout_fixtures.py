"""Helpers of the hot-swap, canary and shadow tests: ``modstream stream --registry``
processes, a steady producer of keyed comments, and readers that keep every answer."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import Consumer, Producer

from modstream.broker import free_ports
from modstream.stream import headers as h
from modstream.stream.config import GROUP_TUNING
from tests.integration.stream_fixtures import SHORT_SESSION, Topics, unique, wait_for

MAX_BATCH = 64


@dataclass
class Workers:
    """``modstream stream --registry --workers N`` and where its readiness is served."""

    process: subprocess.Popen[bytes]
    metrics_port: int
    count: int
    log: Path

    def ready(self) -> bool:
        urls = [f"http://127.0.0.1:{self.metrics_port + i}/ready" for i in range(self.count)]
        try:
            return all(httpx.get(url, timeout=2).status_code == 200 for url in urls)
        except httpx.HTTPError:
            return False

    def stop(self, timeout: float = 60) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def start_workers(
    topics: Topics, models_topic: str, log: Path, *extra: str, count: int = 2
) -> Workers:
    """Start the workers and wait until each one is warmed up and in its group."""
    port = free_ports(count)  # worker i serves readiness on port + i
    command = [
        sys.executable, "-m", "modstream", "stream", "--registry",
        "--models-topic", models_topic, "--bootstrap-servers", topics.broker.bootstrap_servers,
        "--input-topic", topics.input, "--output-topic", topics.output, "--group", topics.group,
        "--workers", str(count), "--max-batch-records", str(MAX_BATCH),
        "--metrics-port", str(port), *SHORT_SESSION, *extra,
    ]  # fmt: skip
    with log.open("ab") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    workers = Workers(process, port, count, log)
    if not wait_for(lambda: workers.ready() or process.poll() is not None, timeout=180):
        workers.stop()
        raise AssertionError(f"the workers did not become ready:\n{log.read_text()[-3000:]}")
    if process.poll() is not None:
        raise AssertionError(f"the workers exited:\n{log.read_text()[-3000:]}")
    return workers


def comment(text: str) -> bytes:
    return json.dumps({"data": {"ndarray": [text]}}).encode()


class Feeder:
    """Produces keyed comments ``c-<n>`` at a steady rate on a thread until stopped."""

    def __init__(self, bootstrap: str, topic: str, rate: float, prefix: str = "c") -> None:
        self.producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
        self.topic, self.rate, self.prefix = topic, rate, prefix
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        started = time.monotonic()
        while not self._stop.is_set():
            due = int((time.monotonic() - started) * self.rate)
            while self.sent < due:
                key = f"{self.prefix}-{self.sent}"
                self.producer.produce(self.topic, key=key.encode(), value=comment(f"comment {key}"))
                self.sent += 1
            self.producer.poll(0)
            time.sleep(0.005)
        assert self.producer.flush(30) == 0

    def __enter__(self) -> Feeder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(60)


@dataclass
class Answer:
    key: str
    partition: int
    offset: int
    headers: dict[str, str]
    value: dict[str, Any]
    timestamp_ms: int

    @property
    def version(self) -> str:
        return self.headers[h.MODEL_VERSION]


@dataclass
class Reader:
    """Every record of some topics, read on a thread, kept in arrival order per topic."""

    bootstrap: str
    topics: list[str]
    isolation: str = "read_committed"
    seen: dict[str, list[Answer]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.seen = {topic: [] for topic in self.topics}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        consumer = Consumer(
            {**GROUP_TUNING, "bootstrap.servers": self.bootstrap, "group.id": unique("reader"),
             "auto.offset.reset": "earliest", "enable.auto.commit": False,
             "isolation.level": self.isolation}
        )  # fmt: skip
        consumer.subscribe(self.topics)
        try:
            while not self._stop.is_set():
                for m in consumer.consume(2000, 0.2):
                    if m.error() is None:
                        self.seen[m.topic()].append(_answer(m))
        finally:
            consumer.close()

    def answers(self, topic: str | None = None) -> list[Answer]:
        return list(self.seen[topic or self.topics[0]])

    def answered(self, topic: str | None = None) -> set[str]:
        return {a.key for a in self.answers(topic)}


def _answer(m: Any) -> Answer:
    headers = {k: (v or b"").decode() for k, v in m.headers() or []}
    return Answer(
        (m.key() or b"").decode(),
        int(headers[h.SOURCE_PARTITION]),
        int(headers[h.SOURCE_OFFSET]),
        headers,
        json.loads(m.value()),
        m.timestamp()[1],
    )


@contextmanager
def reading(bootstrap: str, *topics: str, isolation: str = "read_committed") -> Iterator[Reader]:
    reader = Reader(bootstrap, list(topics), isolation)
    reader._thread.start()
    try:
        yield reader
    finally:
        reader._stop.set()
        reader._thread.join(30)


def runs(values: list[str]) -> list[str]:
    """Consecutive distinct values: ``[a, a, b, b, a] -> [a, b, a]``."""
    return [v for i, v in enumerate(values) if i == 0 or values[i - 1] != v]


def versions_by_partition(answers: list[Answer]) -> dict[int, list[str]]:
    """Per input partition, the answering versions in input-offset order (first answer)."""
    first: dict[tuple[int, int], str] = {}
    for a in answers:
        first.setdefault((a.partition, a.offset), a.version)
    result: dict[int, list[str]] = {}
    for (partition, _offset), version in sorted(first.items()):
        result.setdefault(partition, []).append(version)
    return result
