"""Faults: outputs that are never acknowledged must not move the committed offset;
a broker that is down at start or restarts mid-run is waited for, not crashed on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from confluent_kafka import Producer
from prometheus_client import REGISTRY

from modstream.broker import EmbeddedBroker
from modstream.dataplane import DataPlane
from modstream.model import TextModel
from tests.integration.stream_fixtures import (
    Topics,
    committed,
    produce,
    read,
    running_worker,
    seldon,
    wait_for,
)

pytestmark = pytest.mark.integration

NOTHING_COMMITTED = -1001  # librdkafka's OFFSET_INVALID


def _failed_batches() -> float:
    return (
        REGISTRY.get_sample_value(
            "modstream_stream_batch_failures_total", {"reason": "DELIVERY_FAILED"}
        )
        or 0.0
    )


def test_unacknowledged_outputs_leave_the_committed_offset_where_it_was(
    broker: EmbeddedBroker, model: TextModel
) -> None:
    topics = Topics(broker, partitions=1).create()
    produce(broker, topics.input, [seldon(f"text {i}") for i in range(5)])
    # A producer whose records are never acknowledged, like a broker that stopped answering.
    silent = mock.Mock(spec_set=Producer)
    silent.flush.return_value = 5
    failures = _failed_batches()
    settings = topics.settings(delivery_timeout_s=0.5)
    replace = mock.patch("modstream.stream.clients.Producer", return_value=silent)
    with replace, running_worker(settings, DataPlane(model)) as worker:
        assert wait_for(lambda: _failed_batches() >= failures + 2)
        assert worker.thread.is_alive()
        assert silent.produce.call_count >= 10  # the batch was rewound and retried
    assert committed(broker, topics.group, topics.input, 1)[0] == NOTHING_COMMITTED
    assert read(broker, topics.output, 1, timeout=2) == []

    with running_worker(topics.settings(), DataPlane(model)):
        assert len(read(broker, topics.output, 5, timeout=60)) == 5
    assert committed(broker, topics.group, topics.input, 1)[0] == 5


def _has_key(key: bytes) -> Callable[[list[Any]], bool]:
    return lambda messages: any(m.key() == key for m in messages)


def test_worker_waits_for_the_broker_and_survives_its_restart(
    model: TextModel, new_broker: Callable[[], EmbeddedBroker]
) -> None:
    broker = new_broker()
    topics = Topics(broker, partitions=1)
    try:
        settings = topics.settings(delivery_timeout_s=5)
        with running_worker(settings, DataPlane(model)) as worker:
            assert not wait_for(lambda: not worker.thread.is_alive(), timeout=2)
            broker.start()
            topics.create()
            produce(broker, topics.input, [seldon("before the restart")], key=b"a")
            assert len(read(broker, topics.output, 1, timeout=60)) == 1

            broker.stop()  # the embedded broker loses topics and offsets, Kafka keeps them
            assert not wait_for(lambda: not worker.thread.is_alive(), timeout=2)
            broker.start()
            topics.create()
            produce(broker, topics.input, [seldon("after the restart")], key=b"b")
            answered = read(broker, topics.output, 2, timeout=90, until=_has_key(b"b"))
            assert [m.key() for m in answered][-1:] == [b"b"]
            assert worker.thread.is_alive()
    finally:
        broker.stop()
