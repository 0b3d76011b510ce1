"""Helpers of the monitor's integration tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from confluent_kafka import Producer

from modstream.broker import EmbeddedBroker
from modstream.monitor.service import run_monitor
from modstream.settings.monitor import MonitorSettings


@contextmanager
def running_monitor(settings: MonitorSettings) -> Iterator[str]:
    """``modstream monitor``'s service in a thread; yields its base URL."""
    stop = threading.Event()
    thread = threading.Thread(target=run_monitor, args=(settings, stop), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        stop.set()
        thread.join(60)
        assert not thread.is_alive()


def produce_records(broker: EmbeddedBroker, topic: str | None, records: list[Any]) -> None:
    """Produce records in order and wait for every acknowledgement: ``(key, value, headers)``
    to ``topic``, or ``(topic, key, value, headers)`` when ``topic`` is ``None``."""
    producer = Producer({"bootstrap.servers": broker.bootstrap_servers, "linger.ms": 10})
    for record in records:
        where, key, value, headers = (topic, *record) if topic else record
        while True:
            try:
                producer.produce(where, key=key, value=value, headers=headers)
                break
            except BufferError:  # the local queue is full: let deliveries drain
                producer.poll(0.05)
        producer.poll(0)
    assert producer.flush(60) == 0
