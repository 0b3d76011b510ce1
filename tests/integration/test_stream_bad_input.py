"""Bad records never stop the worker nor poison a batch: each one goes to the
dead-letter topic with its reason, the good records of the same batch are answered,
and the committed offsets move past all of them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from unittest import mock

import numpy as np
import pytest
from prometheus_client import REGISTRY

from modstream.broker import EmbeddedBroker
from modstream.dataplane import DataPlane
from modstream.model import TextModel
from tests.integration.stream_fixtures import (
    Topics,
    committed,
    header_map,
    produce,
    read,
    running_worker,
    seldon,
    wait_for,
)

pytestmark = pytest.mark.integration

MAX_VALUE_BYTES = 100_000
POISON = "this text makes the model fail"

BAD: dict[str, bytes | None] = {
    "not-json": b"this is not json",
    "wrong-shape": json.dumps({"data": {"tensor": {"values": [1.0]}}}).encode(),
    "non-text": json.dumps({"data": {"ndarray": [1, 2, 3]}}).encode(),
    "null": None,
    "json-null": b"null",
    "empty-list": json.dumps({"data": {"ndarray": []}}).encode(),
    "invalid-utf8": b'{"data": {"ndarray": ["\xff\xfe"]}}',
    "oversized": seldon("x" * (MAX_VALUE_BYTES + 10)),
    "v2-no-inputs": json.dumps({"inputs": []}).encode(),
    "model-error": seldon(POISON),
}
REASONS = {"oversized": "PAYLOAD_TOO_LARGE", "model-error": "MODEL_ERROR"}


def _failing_on_poison(original: Any) -> Any:
    def predict_proba(self: TextModel, texts: Sequence[str]) -> np.ndarray:
        if POISON in texts:
            raise RuntimeError("injected model failure")
        return original(self, texts)

    return predict_proba


def _dead_lettered(reason: str) -> float:
    value = REGISTRY.get_sample_value(
        "modstream_stream_dead_lettered_records_total", {"reason": reason}
    )
    return value or 0.0


def test_bad_records_go_to_the_dead_letter_topic_and_good_ones_are_answered(
    broker: EmbeddedBroker, model: TextModel
) -> None:
    topics = Topics(broker, partitions=1).create()
    before = _dead_lettered("BAD_REQUEST")
    values: list[bytes | None] = []
    keys: list[bytes] = []
    for name, value in BAD.items():
        values += [seldon(f"good before {name}"), value]
        keys += [b"good", name.encode()]
    patched = _failing_on_poison(TextModel.predict_proba)
    settings = topics.settings(max_value_bytes=MAX_VALUE_BYTES, max_batch_records=256)
    inject = mock.patch.object(TextModel, "predict_proba", autospec=True, side_effect=patched)
    with inject, running_worker(settings, DataPlane(model)) as worker:
        _produce_keyed(broker, topics.input, keys, values)
        dead = read(broker, topics.dead_letter, len(BAD), timeout=60)
        outputs = read(broker, topics.output, len(BAD), timeout=60)
        assert wait_for(lambda: worker.processed == len(values))
        assert worker.thread.is_alive()

    assert sorted(m.key().decode() for m in dead) == sorted(BAD)
    for message in dead:
        name = message.key().decode()
        headers = header_map(message)
        assert headers["modstream.error.reason"] == REASONS.get(name, "BAD_REQUEST"), name
        assert headers["modstream.error.message"]
        assert headers["modstream.error.time"]
        assert headers["modstream.source.topic"] == topics.input
        assert message.value() == BAD[name]  # the original record, untouched
    assert len(outputs) == len(BAD) and all(m.key() == b"good" for m in outputs)
    assert committed(broker, topics.group, topics.input, 1)[0] == len(values)
    assert _dead_lettered("BAD_REQUEST") - before == len(BAD) - 2


def _produce_keyed(
    broker: EmbeddedBroker, topic: str, keys: list[bytes], values: list[bytes | None]
) -> None:
    # One batch in one partition, so the bad records share batches with good ones.
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": broker.bootstrap_servers, "linger.ms": 50})
    for key, value in zip(keys, values, strict=True):
        producer.produce(topic, key=key, value=value, partition=0)
    assert producer.flush(30) == 0


def test_dead_letter_topic_can_be_named(broker: EmbeddedBroker, model: TextModel) -> None:
    topics = Topics(broker, partitions=1).create()
    broker.create_topics({"custom-dlq-" + topics.group: 1})
    settings = topics.settings(dead_letter_topic="custom-dlq-" + topics.group)
    with running_worker(settings, DataPlane(model)):
        produce(broker, topics.input, [b"{broken"], key=b"k")
        [dead] = read(broker, "custom-dlq-" + topics.group, 1, timeout=60)
    assert dead.value() == b"{broken"
    assert header_map(dead)["modstream.error.class"] == "InvalidInput"
