"""The dashboard's Kafka consumer: the input, output and dead-letter topics, in one thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError

from modstream.dashboard.feeds import Record
from modstream.stream import headers as h

log = logging.getLogger(__name__)


class KafkaFeed(threading.Thread):
    """Consumes the three topics with its own group and hands every record to ``on_record``."""

    def __init__(
        self, config: dict[str, Any], topics: list[str], on_record: Callable[[Record], None]
    ) -> None:
        super().__init__(name="modstream-dashboard-feed", daemon=True)
        self.config = config
        self.topics = topics
        self.on_record = on_record
        self._stopping = threading.Event()

    def run(self) -> None:
        consumer = Consumer(self.config)
        consumer.subscribe(self.topics)
        try:
            while not self._stopping.is_set():
                message = consumer.poll(0.2)
                if message is None:
                    continue
                error = message.error()
                if error is not None:
                    if error.code() != KafkaError._PARTITION_EOF:
                        log.warning("dashboard feed: %s", error.str())
                    continue
                self.on_record(_record(message))
        finally:
            consumer.close()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self.join(timeout)


def _record(message: Any) -> Record:
    return Record(
        topic=message.topic(),
        partition=message.partition(),
        offset=message.offset(),
        timestamp_ms=int(message.timestamp()[1]),
        value=message.value(),
        headers=h.as_dict(message.headers()),
        key=message.key(),
    )
