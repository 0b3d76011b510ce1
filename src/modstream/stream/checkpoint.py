"""Commits: one ``Checkpoint`` per micro-batch, the only place offsets are committed.

Every record of a batch (answers and dead letters) is produced through its checkpoint,
which then commits in one fixed order:

1. ``begin``: under exactly-once, open the producer's transaction;
2. ``produce`` each output and ``track`` each consumed record;
3. ``flush``: wait until the broker has acknowledged every output (or the deadline passes);
4. ``verify``: every delivery report arrived and none is an error;
5. ``commit``: ``last offset + 1`` per partition through the consumer - or, under
   exactly-once, those offsets sent inside the transaction, then the transaction committed.

A failure raises a ``BatchNotCommitted``: nothing of the batch is committed, ``rewind``
aborts the transaction and seeks back, and the batch is processed again (at-least-once).
Only a delivery failure or a fatal producer error makes the producer unusable; a failed
offset commit leaves a healthy producer in place.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import ClassVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from modstream.errors import ModstreamError, RecordTooLarge
from modstream.stream import headers as h
from modstream.stream.clients import client_failure, describe, kafka_error, too_large

log = logging.getLogger(__name__)

Partition = tuple[str, int]
# Longest single flush() call, so a slow broker is reported while the deadline runs.
_FLUSH_SLICE_S = 1.0
# How long a produce() that finds the local queue full lets deliveries drain before retrying.
_QUEUE_FULL_WAIT_S = 0.05
# How much longer than their own timeouts the transaction's two commit calls may take before
# the producer is given up: librdkafka's send_offsets_to_transaction can wait past its
# timeout, for good, when the broker that coordinated the group is gone (librdkafka issues
# 5456 and 5511), and a worker stuck there answers nothing while looking alive.
_HUNG_MARGIN_S = 5.0


class BatchNotCommitted(ModstreamError):
    """A batch's offsets were not committed; it is rewound and processed again."""

    status = 503
    reason = "NOT_COMMITTED"
    #: Whether the producer must be replaced before the batch is retried.
    producer_unusable: ClassVar[bool] = False


class DeliveryFailed(BatchNotCommitted):
    """Some outputs of the batch were not acknowledged by the broker (or not produced)."""

    reason = "DELIVERY_FAILED"
    producer_unusable = True


class ProducerFailed(BatchNotCommitted):
    """The producer reported a fatal error (fenced, or its idempotent state was lost)."""

    reason = "PRODUCER_FAILED"
    producer_unusable = True


class ProducerHung(ProducerFailed):
    """A transaction call did not return in time; the producer is replaced (the new one
    takes over its transactional id, which aborts the open transaction)."""

    reason = "PRODUCER_HUNG"


class CommitFailed(BatchNotCommitted):
    """Every output was acknowledged, but the offsets or the transaction were not committed."""

    reason = "COMMIT_FAILED"


class Checkpoint:
    """The records of one micro-batch: produced outputs, consumed offsets, delivery reports."""

    def __init__(
        self,
        consumer: Consumer,
        producer: Producer,
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
        self._produced = 0
        self._reported = 0
        self._failures: list[tuple[KafkaError, Message]] = []
        self._refused: list[tuple[KafkaError, str]] = []  # produce() calls that raised
        self._raised: list[KafkaError] = []  # the other client calls that raised
        self._in_transaction = False

    @property
    def empty(self) -> bool:
        """Nothing consumed yet."""
        return not self._next

    @property
    def undelivered(self) -> list[tuple[KafkaError, Message]]:
        """The error reports so far, with the records they are about (their headers name
        the input record, see ``headers.source_headers``)."""
        return list(self._failures)

    @property
    def failed_writes(self) -> list[tuple[KafkaError, str]]:
        """Every error of the batch's outputs with its topic: refused ``produce`` calls and
        error delivery reports."""
        reports = [(error, str(message.topic())) for error, message in self._failures]
        return self._refused + reports

    @property
    def client_errors(self) -> list[KafkaError]:
        """What the batch's other client calls raised: the transaction's, flushes, commits
        (a fenced producer is known from these)."""
        return list(self._raised)

    def _note(self, exc: KafkaException) -> None:
        error = kafka_error(exc)
        if error is not None:
            self._raised.append(error)

    @property
    def offsets(self) -> dict[Partition, int]:
        """What ``commit`` commits: the next offset to read, per partition."""
        return dict(self._next)

    def begin(self) -> None:
        """Under exactly-once, open the transaction the batch's outputs are produced in."""
        if self.exactly_once and not self._in_transaction:
            try:
                self.producer.begin_transaction()
            except KafkaException as exc:
                self._note(exc)
                raise ProducerFailed(f"cannot begin a transaction: {describe(exc)}") from exc
            self._in_transaction = True

    def produce(
        self, topic: str, *, key: bytes | None, value: bytes | None, headers: h.Headers
    ) -> None:
        """Produce one output of the batch; its delivery report is checked by ``verify``.

        A full local queue is waited out (deliveries drain it) until the delivery deadline.
        Raises ``RecordTooLarge`` for a record this producer refuses for its size (that
        record alone fails) and ``DeliveryFailed`` for any other refusal (the batch fails).
        """
        deadline = time.monotonic() + self.delivery_timeout
        while True:
            try:
                self.producer.produce(
                    topic, key=key, value=value, headers=headers, on_delivery=self._on_delivery
                )
                break
            except BufferError as exc:
                if time.monotonic() >= deadline:
                    raise DeliveryFailed(f"the producer's queue stayed full: {exc}") from exc
                self._serve(self.producer.poll, _QUEUE_FULL_WAIT_S)
            except KafkaException as exc:
                if too_large(exc):
                    size = len(key or b"") + len(value or b"")
                    raise RecordTooLarge(
                        f"a record of {size:,} bytes is larger than {topic} takes: {describe(exc)}"
                    ) from exc
                error = kafka_error(exc)
                if error is not None:
                    self._refused.append((error, topic))
                raise DeliveryFailed(f"cannot produce to {topic}: {describe(exc)}") from exc
        self._produced += 1

    def track(self, message: Message) -> None:
        """Remember that ``message`` was consumed and its output (or dead letter) produced."""
        key = (str(message.topic()), int(message.partition() or 0))
        offset = int(message.offset() or 0)
        self._first.setdefault(key, offset)
        self._next[key] = offset + 1

    def _on_delivery(self, error: KafkaError | None, message: Message) -> None:
        self._reported += 1
        if error is not None:
            self._failures.append((error, message))

    def flush(self) -> None:
        """Wait for every output to be acknowledged; ``DeliveryFailed`` at the deadline."""
        deadline = time.monotonic() + self.delivery_timeout
        while True:
            left = max(0.0, deadline - time.monotonic())
            remaining = self._serve(self.producer.flush, min(_FLUSH_SLICE_S, left))
            if remaining == 0:
                return
            if time.monotonic() >= deadline:
                raise DeliveryFailed(
                    f"{remaining} record(s) not acknowledged within {self.delivery_timeout:g}s"
                )
            log.warning("waiting for the broker to acknowledge %d record(s)", remaining)

    def _serve(self, call: Callable[[float], int], timeout: float) -> int:
        """``flush`` or ``poll`` the producer; ``ProducerFailed`` on its fatal error."""
        try:
            return call(timeout)
        except (KafkaException, SystemError) as exc:
            # A SystemError too: what confluent-kafka raises when a delivery callback runs
            # in the call that raises the fatal error (with it as the cause, or without it).
            failure = client_failure(exc)
            if failure is not None:
                self._note(failure)
            what = describe(failure) if failure is not None else str(exc)
            raise ProducerFailed(f"the producer failed: {what}") from exc

    def verify(self) -> None:
        """``DeliveryFailed`` unless every output has a delivery report without error."""
        if self._failures:
            first, _ = self._failures[0]
            raise DeliveryFailed(
                f"{len(self._failures)} record(s) were not delivered: {first.str()}"
            )
        if self._reported < self._produced:
            missing = self._produced - self._reported
            raise DeliveryFailed(f"{missing} record(s) have no delivery report")

    def commit(self) -> dict[Partition, int]:
        """Verify, then commit the batch's offsets; returns them. Never commits after a failure."""
        if self.empty:
            return {}
        self.verify()
        offsets = [TopicPartition(t, p, o) for (t, p), o in self._next.items()]
        if self.exactly_once:
            self._commit_transaction(offsets)
        else:
            self._commit_offsets(offsets)
        return self.offsets

    def _commit_offsets(self, offsets: list[TopicPartition]) -> None:
        try:
            results = self.consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            self._note(exc)
            raise CommitFailed(f"committing offsets failed: {describe(exc)}") from exc
        for tp in results or []:
            if tp.error is not None:
                raise CommitFailed(f"committing {tp.topic}[{tp.partition}] failed: {tp.error}")

    def _commit_transaction(self, offsets: list[TopicPartition]) -> None:
        def send_and_commit() -> None:
            metadata = self.consumer.consumer_group_metadata()
            self.producer.send_offsets_to_transaction(offsets, metadata, self.delivery_timeout)
            self.producer.commit_transaction(self.delivery_timeout)

        limit = 2 * self.delivery_timeout + _HUNG_MARGIN_S
        try:
            _within(send_and_commit, limit)
        except TimeoutError:
            # Not aborted here: an abort would conflict with the call still running. The
            # replacing producer's initialisation aborts the transaction instead.
            self._in_transaction = False
            raise ProducerHung(
                f"committing the transaction did not return within {limit:g}s; "
                "the producer is replaced"
            ) from None
        except KafkaException as exc:
            self._note(exc)
            error = kafka_error(exc)
            failure = ProducerFailed if error is not None and error.fatal() else CommitFailed
            raise failure(f"committing the transaction failed: {describe(exc)}") from exc
        self._in_transaction = False

    def rewind(self) -> bool:
        """After a failure: abort the transaction and seek back to the batch's first offsets.

        Returns whether the producer is still usable (``False`` when aborting failed).
        A partition revoked meanwhile cannot be sought; its new owner re-reads it from
        the last committed offset.
        """
        producer_usable = True
        if self._in_transaction:
            try:
                self.producer.abort_transaction(self.delivery_timeout)
            except KafkaException as exc:
                self._note(exc)
                log.warning("aborting the transaction failed: %s", describe(exc))
                producer_usable = False
            self._in_transaction = False
        for (topic, partition), offset in self._first.items():
            try:
                self.consumer.seek(TopicPartition(topic, partition, offset))
            except KafkaException as exc:
                log.info("not rewinding %s[%d]: %s", topic, partition, describe(exc))
        return producer_usable


def _within(call: Callable[[], None], limit: float) -> None:
    """``call()`` in a thread of its own: its exception if it raised one, ``TimeoutError``
    if it has not returned after ``limit`` seconds (it is left running; the thread holds
    the client it uses, so that client is not destroyed under it)."""
    failure: list[BaseException] = []
    done = threading.Event()

    def run() -> None:
        try:
            call()
        except BaseException as exc:
            failure.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name="modstream-transaction-commit", daemon=True).start()
    if not done.wait(limit):
        raise TimeoutError
    if failure:
        raise failure[0]
