"""A steady paced load into a topic, and the answers read continuously as they arrive:
what the failover and rebalance tests run while they disturb the worker or the broker."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from tests.integration.answer_log import AnswerLog, Source
from tests.integration.stream_fixtures import seldon, wait_for


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


class BackgroundReader(threading.Thread):
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
