"""Console producer and consumer (like kafka-console-producer/-consumer), for any broker."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer

from modstream.errors import ModstreamError
from modstream.stream.config import GROUP_TUNING


def seldon_request(text: str) -> bytes:
    """The Seldon REST request for one text: ``{"data": {"ndarray": [text]}}``."""
    return json.dumps({"data": {"ndarray": [text]}}).encode("utf-8")


def produce_values(
    config: Mapping[str, str | int],
    topic: str,
    values: Iterable[bytes],
    *,
    key: bytes | None = None,
    timeout: float = 30.0,
) -> int:
    """Produce every value and wait for the broker to acknowledge them; returns the count."""
    producer = Producer({"linger.ms": 5, **config})
    failures: list[KafkaError] = []

    def on_delivery(error: KafkaError | None, _message: object) -> None:
        if error is not None:
            failures.append(error)

    count = 0
    for value in values:
        while True:
            try:
                producer.produce(topic, value=value, key=key, on_delivery=on_delivery)
                break
            except BufferError:  # local queue full: let deliveries drain
                producer.poll(0.1)
        count += 1
        producer.poll(0)
    if producer.flush(timeout) > 0:
        raise ModstreamError(f"the broker did not acknowledge every record within {timeout:.0f}s")
    if failures:
        raise ModstreamError(f"{len(failures)} record(s) were not delivered: {failures[0].str()}")
    return count


@dataclass
class Record:
    key: str | bytes | None
    value: str | bytes | None
    headers: list[tuple[str, bytes | None]]
    partition: int
    offset: int


def consume_records(
    config: Mapping[str, str | int],
    topic: str,
    *,
    from_beginning: bool = False,
    timeout: float | None = None,
    max_records: int | None = None,
    group: str | None = None,
) -> Iterator[Record]:
    """Records of ``topic`` until ``max_records`` or ``timeout`` seconds without a new one."""
    consumer = Consumer(
        {
            **GROUP_TUNING,
            **config,
            "group.id": group or f"modstream-console-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": "false",
            # Brokers with a wrong "latest" lookup still give a correct "earliest".
            "auto.offset.reset": "earliest",
        }
    )
    if from_beginning:
        consumer.subscribe([topic])
    else:
        consumer.subscribe([topic], on_assign=_skip_to_end)
    seen = 0
    last = time.monotonic()
    try:
        while max_records is None or seen < max_records:
            if timeout is not None and time.monotonic() - last > timeout:
                return
            message = consumer.poll(0.2)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                raise KafkaException(error)
            last = time.monotonic()
            seen += 1
            raw_headers = message.headers() or []
            headers = raw_headers.items() if isinstance(raw_headers, dict) else raw_headers
            yield Record(
                message.key(),
                message.value(),
                [(str(k), v if isinstance(v, bytes | None) else v.encode()) for k, v in headers],
                message.partition() or 0,
                message.offset() or 0,
            )
    finally:
        consumer.close()


def _skip_to_end(consumer: Consumer, partitions: list) -> None:
    """Start at the end of each partition (new records only), like the console consumer."""
    for tp in partitions:
        try:
            _low, high = consumer.get_watermark_offsets(tp, timeout=5)
            tp.offset = high
        except KafkaException:
            pass
    consumer.assign(partitions)
