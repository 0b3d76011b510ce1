"""Commits: the only place offsets are committed, in one fixed order.

1. flush the producer until every output and dead-letter record of the batch is
   acknowledged by the broker (or the delivery deadline passes);
2. check the delivery reports: if anything failed, do NOT commit (the batch is
   rewound and processed again: at-least-once);
3. commit ``last offset + 1`` per partition - or, under exactly-once, send those
   offsets inside the producer's transaction and commit the transaction.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from confluent_kafka import KafkaError, KafkaException, TopicPartition

from modstream.errors import ModstreamError

log = logging.getLogger(__name__)

Partition = tuple[str, int]


class DeliveryFailed(ModstreamError):
    """Some outputs of a batch were not acknowledged, so its offsets are not committed."""

    status = 503
    reason = "DELIVERY_FAILED"


class Checkpoint:
    """Offsets consumed since the last commit, and the delivery reports of their outputs."""

    def __init__(
        self,
        consumer: Any,
        producer: Any,
        *,
        exactly_once: bool = False,
        delivery_timeout: float = 30.0,
    ) -> None:
        self.consumer = consumer
        self.producer = producer
        self.exactly_once = exactly_once
        self.delivery_timeout = delivery_timeout
        self._first: dict[Partition, int] = {}
        self._next: dict[Partition, int] = {}
        self._failures: list[KafkaError] = []
        self._in_transaction = False

    @property
    def empty(self) -> bool:
        return not self._next

    def begin(self) -> None:
        """Start a transaction (exactly-once) before the batch's first produce."""
        if self.exactly_once and not self._in_transaction:
            self.producer.begin_transaction()
            self._in_transaction = True

    def track(self, message: Any) -> None:
        """Remember that ``message`` was consumed and its output produced."""
        key = (message.topic(), message.partition())
        self._first.setdefault(key, message.offset())
        self._next[key] = message.offset() + 1

    def on_delivery(self, error: KafkaError | None, _message: Any) -> None:
        """Delivery-report callback for every record produced in the batch."""
        if error is not None:
            self._failures.append(error)

    def commit(self) -> dict[Partition, int]:
        """Flush, verify deliveries, then commit; raises ``DeliveryFailed`` (nothing committed)."""
        if self.empty:
            return {}
        self._flush()
        if self._failures:
            first = self._failures[0]
            raise DeliveryFailed(f"{len(self._failures)} record(s) were not delivered: {first}")
        offsets = [TopicPartition(t, p, o) for (t, p), o in self._next.items()]
        if self.exactly_once:
            self._commit_transaction(offsets)
        else:
            self._commit_offsets(offsets)
        committed = dict(self._next)
        self._reset()
        return committed

    def _flush(self) -> None:
        deadline = time.monotonic() + self.delivery_timeout
        while True:
            remaining = self.producer.flush(min(1.0, max(0.0, deadline - time.monotonic())))
            if remaining == 0:
                return
            if time.monotonic() >= deadline:
                raise DeliveryFailed(
                    f"{remaining} record(s) not acknowledged within {self.delivery_timeout:.0f}s"
                )
            log.warning("waiting for the broker to acknowledge %d record(s)", remaining)

    def _commit_offsets(self, offsets: list[TopicPartition]) -> None:
        try:
            results = self.consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            raise DeliveryFailed(f"committing offsets failed: {exc}") from exc
        for tp in results or []:
            if tp.error is not None:
                raise DeliveryFailed(f"committing {tp.topic}[{tp.partition}] failed: {tp.error}")

    def _commit_transaction(self, offsets: list[TopicPartition]) -> None:
        try:
            metadata = self.consumer.consumer_group_metadata()
            self.producer.send_offsets_to_transaction(offsets, metadata, self.delivery_timeout)
            self.producer.commit_transaction(self.delivery_timeout)
        except KafkaException as exc:
            raise DeliveryFailed(f"committing the transaction failed: {exc}") from exc
        self._in_transaction = False

    def rewind(self) -> None:
        """After a failure: abort (exactly-once) and seek back to the batch's first offsets."""
        if self._in_transaction:
            try:
                self.producer.abort_transaction(self.delivery_timeout)
            except KafkaException as exc:
                log.warning("aborting the transaction failed: %s", exc)
            self._in_transaction = False
        for (topic, partition), offset in self._first.items():
            try:
                self.consumer.seek(TopicPartition(topic, partition, offset))
            except KafkaException as exc:  # revoked meanwhile: its new owner re-reads it
                log.info("not rewinding %s[%d]: %s", topic, partition, exc)
        self._reset()

    def _reset(self) -> None:
        self._first.clear()
        self._next.clear()
        self._failures.clear()
