"""The dead-letter topic: records that could not be answered, with the reason in headers.

This is the one place a failure of one record is mapped to the wire: ``failure_of``
decides its reason and status once, and both the headers of the dead-letter record and
the worker's ``modstream_stream_dead_lettered_records_total`` metric use that decision.
The original key and value are kept; headers say what failed, where the record came from
and when.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from modstream.errors import ModstreamError, PayloadTooLarge
from modstream.stream import headers as h
from modstream.stream.clients import describe, too_large

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000


class RecordSink(Protocol):
    """Where a dead letter is produced: the worker's batch ``Checkpoint``, or a ``ProducerSink``.

    ``produce`` raises ``PayloadTooLarge`` when the record is too large to be produced.
    """

    def produce(
        self, topic: str, *, key: bytes | None, value: bytes | None, headers: h.Headers
    ) -> None: ...


class ProducerSink:
    """A plain producer as a ``RecordSink``, for dead letters outside the worker's batches."""

    def __init__(
        self,
        producer: Producer,
        on_delivery: Callable[[KafkaError | None, Message], None] | None = None,
    ) -> None:
        self.producer = producer
        self.on_delivery = on_delivery

    def produce(
        self, topic: str, *, key: bytes | None, value: bytes | None, headers: h.Headers
    ) -> None:
        try:
            self.producer.produce(
                topic, key=key, value=value, headers=headers, on_delivery=self.on_delivery
            )
        except KafkaException as exc:
            if too_large(exc):
                raise PayloadTooLarge(f"{topic} refuses the record: {describe(exc)}") from exc
            raise


@dataclass(frozen=True)
class Failure:
    """Why one record was not answered, as the dead-letter headers and metrics say it."""

    error_class: str
    reason: str
    status: int
    message: str


def failure_of(error: BaseException) -> Failure:
    """The reason and status of ``error``: its own for modstream errors, else an internal error."""
    text = str(error)[:MAX_MESSAGE_CHARS] or type(error).__name__
    if isinstance(error, ModstreamError):
        return Failure(type(error).__name__, error.reason, error.status, text)
    # Anything outside modstream's error tree (a bug, a library failure) is internal.
    return Failure(type(error).__name__, ModstreamError.reason, ModstreamError.status, text)


def error_headers(failure: Failure) -> h.Headers:
    """Headers describing ``failure``: class, reason, status, message and time."""
    return [
        (h.ERROR_CLASS, failure.error_class.encode()),
        (h.ERROR_REASON, failure.reason.encode()),
        (h.ERROR_STATUS, str(failure.status).encode()),
        (h.ERROR_MESSAGE, failure.message.encode("utf-8", "replace")),
        (h.ERROR_TIME, datetime.now(UTC).isoformat().encode()),
    ]


class DeadLetter:
    """Sends the records that failed to ``topic`` through ``sink``, with the failure in headers."""

    def __init__(self, sink: RecordSink, topic: str) -> None:
        self.sink = sink
        self.topic = topic

    def send(self, message: Message, error: BaseException) -> Failure:
        """Produce the original record with the error in headers; returns the failure."""
        failure = failure_of(error)
        headers = h.source_headers(message) + error_headers(failure)
        log.warning(
            "dead-letter %s[%s]@%s: %s: %s",
            message.topic(),
            message.partition(),
            message.offset(),
            failure.error_class,
            failure.message[:200],
        )
        key = h.raw(message.key())
        try:
            self.sink.produce(self.topic, key=key, value=h.raw(message.value()), headers=headers)
        except PayloadTooLarge as exc:
            # The value itself cannot be produced (too large for this producer): keep the
            # reason and the source coordinates so the record can still be found upstream.
            headers.append((h.VALUE_DROPPED, str(exc).encode()))
            self.sink.produce(self.topic, key=key, value=None, headers=headers)
        return failure
