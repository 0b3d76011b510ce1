"""What the downstream of a worker sees, input by input, and kills at a chosen moment.

``AnswerLog`` reads the output and dead-letter topics from the beginning (without joining
a group) at one isolation level and counts answers per source input, from the
``modstream.source.*`` headers. ``kill_with_answers_in_flight`` SIGKILLs a worker at a
moment when the broker holds answers to inputs the worker has not committed yet: the
worst moment for duplicates, since those inputs will be processed again;
``freeze_with_answers_in_flight`` stops it there and leaves it frozen.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from tests.integration.stream_fixtures import header_map

Source = tuple[int, int]  # (input partition, input offset)


class AnswerLog:
    """Answers per source input on ``topics``, read at ``isolation`` level."""

    def __init__(self, servers: str, topics: dict[str, int], isolation: str) -> None:
        self.consumer = Consumer(
            {
                "bootstrap.servers": servers,
                "group.id": "unused-no-commits",
                "enable.auto.commit": False,
                "isolation.level": isolation,
                "fetch.wait.max.ms": 10,
            }
        )
        self.partitions = [
            TopicPartition(topic, p, OFFSET_BEGINNING)
            for topic, count in topics.items()
            for p in range(count)
        ]
        self.consumer.assign(self.partitions)
        self.answers: dict[str, Counter[Source]] = {topic: Counter() for topic in topics}
        self.arrivals: list[tuple[float, Source]] = []  # (time.monotonic() read, input)
        self.seen: set[Source] = set()  # inputs answered at least once

    def poll(self, timeout: float = 0.2) -> int:
        """Read what arrived; returns the number of distinct inputs answered so far."""
        for message in self.consumer.consume(5000, timeout):
            now = time.monotonic()
            if message.error() is None:
                headers = header_map(message)
                source = (
                    int(headers["modstream.source.partition"]),
                    int(headers["modstream.source.offset"]),
                )
                self.answers[message.topic()][source] += 1
                self.arrivals.append((now, source))
                self.seen.add(source)
        return len(self.seen)

    def drain(self, timeout: float = 60.0) -> None:
        """Read until every partition's position reaches its end offset now."""
        deadline = time.monotonic() + timeout
        ends = {(tp.topic, tp.partition): self._end(tp) for tp in self.partitions}
        while time.monotonic() < deadline:
            self.poll(0.05)
            positions = self.consumer.position(self.consumer.assignment())
            if all(_reached(tp.offset, *ends[(tp.topic, tp.partition)]) for tp in positions):
                return
        raise AssertionError(f"the answers could not be read up to {ends} in {timeout:.0f}s")

    def _end(self, tp: TopicPartition) -> tuple[int, int]:
        low, high = self.consumer.get_watermark_offsets(tp, timeout=10, cached=False)
        return int(low), int(high)

    def sources(self) -> Counter[Source]:
        """Answers per input, output and dead-letter topics together."""
        total: Counter[Source] = Counter()
        for counts in self.answers.values():
            total.update(counts)
        return total

    def duplicates(self) -> int:
        return sum(n - 1 for n in self.sources().values())

    def close(self) -> None:
        self.consumer.close()


def _reached(position: int, low: int, high: int) -> bool:
    # An empty partition has no position to reach (it stays OFFSET_INVALID).
    return high <= low or position >= high


def freeze_with_answers_in_flight(
    worker: subprocess.Popen[bytes],
    uncommitted: AnswerLog,
    committed: Callable[[], dict[int, int]],
    timeout: float = 120.0,
) -> None:
    """Freeze the worker (SIGSTOP) at a moment the broker holds an answer to an input
    beyond the group's committed offset, and leave it frozen. ``uncommitted`` must read
    ``read_uncommitted`` so it sees answers of an open transaction too."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker.send_signal(signal.SIGSTOP)
        uncommitted.drain()
        offsets = committed()
        if any(offset >= offsets.get(p, 0) for p, offset in uncommitted.sources()):
            return
        worker.send_signal(signal.SIGCONT)
        time.sleep(0.02)
    raise AssertionError("the worker never had answers in flight to freeze it with")


def kill_with_answers_in_flight(
    worker: subprocess.Popen[bytes],
    uncommitted: AnswerLog,
    committed: Callable[[], dict[int, int]],
    timeout: float = 120.0,
) -> None:
    """SIGKILL the worker at a moment the broker holds answers it has not committed."""
    freeze_with_answers_in_flight(worker, uncommitted, committed, timeout)
    worker.send_signal(signal.SIGKILL)
    worker.wait(30)


def stable_committed(servers: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    """The group's committed offsets that are stable (an exactly-once worker's offsets
    become visible when its transaction commits). A ``read_committed`` client would
    instead wait on a pending transactional commit, and time out on a frozen worker."""
    consumer = Consumer(
        {"bootstrap.servers": servers, "group.id": group, "isolation.level": "read_uncommitted"}
    )
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        return {tp.partition: tp.offset for tp in consumer.committed(tps, timeout=10)}
    finally:
        consumer.close()


def wait_answered(
    answers: AnswerLog, count: int, worker: subprocess.Popen[bytes], log: Path, timeout: float = 300
) -> None:
    """Until ``count`` distinct inputs are answered; fails with the worker's log if the
    worker exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while answers.poll() < count:
        if worker.poll() is not None or time.monotonic() > deadline:
            seen = len(answers.seen)
            raise AssertionError(f"{seen} of {count} answered; log:\n{log.read_text()[-3000:]}")
