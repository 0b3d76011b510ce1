"""The dead-letter topic: records the worker could not answer, with the reason in headers.

This is the one place the stream transport maps a ``ModstreamError`` (or any other
failure of one record) to the wire: the original key and value are kept, and headers
say what failed, where the record came from and when.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import KafkaException

from modstream.errors import ModstreamError
from modstream.stream import headers as h

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000


def error_headers(error: BaseException) -> h.Headers:
    """Headers describing ``error``: class, reason, status, message and time."""
    status = error.status if isinstance(error, ModstreamError) else 500
    reason = error.reason if isinstance(error, ModstreamError) else "INTERNAL_ERROR"
    text = str(error)[:MAX_MESSAGE_CHARS] or type(error).__name__
    return [
        (h.ERROR_CLASS, type(error).__name__.encode()),
        (h.ERROR_REASON, reason.encode()),
        (h.ERROR_STATUS, str(status).encode()),
        (h.ERROR_MESSAGE, text.encode("utf-8", "replace")),
        (h.ERROR_TIME, datetime.now(UTC).isoformat().encode()),
    ]


class DeadLetter:
    """Sends failed records to ``topic`` through the worker's producer."""

    def __init__(self, producer: Any, topic: str) -> None:
        self.producer = producer
        self.topic = topic

    def send(self, message: Any, error: BaseException, on_delivery: Any = None) -> None:
        """Produce the original record to the dead-letter topic with the error in headers."""
        headers = h.source_headers(message) + error_headers(error)
        log.warning(
            "dead-letter %s[%d]@%d: %s: %s",
            message.topic(),
            message.partition(),
            message.offset(),
            type(error).__name__,
            str(error)[:200],
        )
        try:
            self._produce(message.key(), message.value(), headers, on_delivery)
        except KafkaException as exc:
            # The value itself cannot be produced (too large for this producer): keep the
            # reason and the source coordinates so the record can still be found upstream.
            headers.append((h.VALUE_DROPPED, str(exc).encode()))
            self._produce(message.key(), None, headers, on_delivery)

    def _produce(self, key: Any, value: Any, headers: h.Headers, on_delivery: Any) -> None:
        self.producer.produce(
            self.topic, key=key, value=value, headers=headers, on_delivery=on_delivery
        )
