"""The Kafka worker on the embedded broker: the reference flow, every request shape,
keys and headers, ordering within a partition, and the console tools."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from prometheus_client import REGISTRY

from modstream.broker import EmbeddedBroker
from modstream.dataplane import DataPlane
from modstream.kafka_tools import reader_config
from modstream.model import TextModel
from modstream.registry.table import TableFollower, append
from modstream.stream.config import LONG_FETCH_WAIT_MS
from modstream.stream.metrics import STAGES
from tests.integration.conftest import APACHE_KAFKA, EMBEDDED
from tests.integration.stream_fixtures import (
    Topics,
    committed,
    header_map,
    produce,
    read,
    running_worker,
    seldon,
    unique,
    wait_for,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def dataplane(model: TextModel) -> DataPlane:
    return DataPlane(model)


@pytest.fixture(scope="module")
def topics(broker: EmbeddedBroker, dataplane: DataPlane) -> Iterator[Topics]:
    """One worker shared by the module's tests (each test uses its own keys)."""
    created = Topics(broker, partitions=2).create()
    with running_worker(created.settings(), dataplane):
        yield created


def _answers(broker: EmbeddedBroker, topic: str, key: bytes, count: int) -> list[Any]:
    def done(messages: list[Any]) -> bool:
        return sum(m.key() == key for m in messages) >= count

    return [m for m in read(broker, topic, 10**9, until=done, timeout=60) if m.key() == key]


def test_reference_request_gets_the_reference_response(
    broker: EmbeddedBroker, topics: Topics, model: TextModel
) -> None:
    produce(
        broker,
        topics.input,
        [json.dumps({"data": {"ndarray": ["This is an input"]}}).encode()],
        key=b"ref-1",
        headers=[("trace-id", b"abc123")],
    )
    [out] = _answers(broker, topics.output, b"ref-1", 1)
    body = json.loads(out.value())
    assert body["data"]["names"] == ["t:0", "t:1"]
    expected = model.predict_proba(["This is an input"])
    np.testing.assert_allclose(body["data"]["ndarray"], expected, rtol=1e-9)
    assert body["meta"]["puid"]
    assert body["meta"]["tags"]["model_name"] == model.name
    headers = header_map(out)
    assert headers["trace-id"] == "abc123"
    assert headers["modstream.source.topic"] == topics.input
    assert int(headers["modstream.source.offset"]) >= 0
    assert headers["modstream.model.name"] == model.name
    assert headers["modstream.model.version"] == model.version


def test_idle_fetches_wait_long_only_on_a_broker_that_answers_them_early(
    broker_kind: str, broker: EmbeddedBroker, dataplane: DataPlane
) -> None:
    """Apache Kafka answers a waiting fetch as soon as a record arrives: there the worker's
    idle fetches wait up to 500 ms instead of asking the broker every 5 ms. The embedded
    broker answers only when the wait is over: there it stays 5 ms. Either way a request
    sent to the idle worker is answered."""
    fresh = Topics(broker, partitions=2).create()
    with running_worker(fresh.settings(), dataplane) as worker:
        assert wait_for(lambda: worker.ready)
        long_wait = LONG_FETCH_WAIT_MS if broker_kind == APACHE_KAFKA else None
        assert worker.clients.fetch_wait == long_wait
        produce(broker, fresh.input, [seldon("an idle worker's first comment")], key=b"idle-1")
        [answer] = _answers(broker, fresh.output, b"idle-1", 1)
        assert json.loads(answer.value())["data"]["names"] == ["t:0", "t:1"]


def test_long_lived_readers_fit_their_idle_wait_to_the_broker_and_see_new_records(
    broker_kind: str, broker: EmbeddedBroker
) -> None:
    """What reads for as long as it runs (the registry and policy followers in every
    worker, the monitor, the dashboard's feed, ``modstream consume``) waits up to 500 ms
    per idle fetch on Apache Kafka and keeps its short wait on the embedded broker; a wait
    the user set stands. A follower idling on either broker still applies a new record."""
    config = {"bootstrap.servers": broker.bootstrap_servers}
    expected = LONG_FETCH_WAIT_MS if broker_kind == APACHE_KAFKA else 50
    assert reader_config(config, 50, "test")["fetch.wait.max.ms"] == expected
    assert (
        reader_config({**config, "fetch.wait.max.ms": "7"}, 50, "test")["fetch.wait.max.ms"] == "7"
    )

    topic = unique("table")
    broker.create_topics({topic: 1})
    applied: list[bytes] = []
    follower = TableFollower(config, topic, lambda record: applied.append(record.value()))
    follower.start()
    try:
        assert follower.caught_up.wait(30)
        append(config, topic, "policy", b"written while the follower idled")
        assert wait_for(lambda: applied == [b"written while the follower idled"], timeout=30)
    finally:
        follower.stop()


def test_every_request_shape_is_answered(broker: EmbeddedBroker, topics: Topics) -> None:
    v2 = {
        "id": "req-7",
        "inputs": [{"name": "text", "datatype": "BYTES", "shape": [2], "data": ["a", "b c"]}],
    }
    values = [
        seldon("first", meta={"puid": "my-puid"}),
        json.dumps({"strData": "one text"}).encode(),
        json.dumps({"jsonData": {"text": ["two", "texts"]}}).encode(),
        json.dumps({"data": {"ndarray": ["x", "y", "z"]}}).encode(),
        json.dumps(v2).encode(),
    ]
    produce(broker, topics.input, values, key=b"shapes", partition=0)
    outputs = [json.loads(m.value()) for m in _answers(broker, topics.output, b"shapes", 5)]
    assert outputs[0]["meta"]["puid"] == "my-puid"
    assert [len(o["data"]["ndarray"]) for o in outputs[:4]] == [1, 1, 2, 3]
    assert outputs[4]["id"] == "req-7"
    assert outputs[4]["outputs"][0]["shape"] == [2, 2]


def _stage_counts() -> list[float]:
    return [
        REGISTRY.get_sample_value("modstream_stream_stage_seconds_count", {"stage": stage}) or 0.0
        for stage in STAGES
    ]


def test_order_is_kept_within_a_partition_and_offsets_are_committed(
    broker: EmbeddedBroker, topics: Topics
) -> None:
    stages_before = _stage_counts()
    texts = [f"comment number {i}" for i in range(300)]
    produce(broker, topics.input, [seldon(t, meta={"puid": t}) for t in texts],
            key=b"order", partition=1)  # fmt: skip
    outputs = _answers(broker, topics.output, b"order", len(texts))
    assert [json.loads(m.value())["meta"]["puid"] for m in outputs] == texts
    offsets = [int(header_map(m)["modstream.source.offset"]) for m in outputs]
    assert offsets == sorted(offsets)
    assert committed(broker, topics.group, topics.input, 2)[1] >= offsets[-1] + 1
    # Every committed batch timed each of its stages, from the batch fill to the commit.
    assert all(after > before for after, before in zip(_stage_counts(), stages_before, strict=True))


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modstream", *args],
        input=stdin, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_console_producer_and_consumer(broker: EmbeddedBroker, topics: Topics) -> None:
    servers = ["--bootstrap-servers", broker.bootstrap_servers]
    sent = _cli(
        "produce", *servers, "--topic", topics.input, "--key", "cli", stdin="hello\nworld\n"
    )
    assert sent.returncode == 0, sent.stderr
    _answers(broker, topics.output, b"cli", 2)
    got = _cli("consume", *servers, "--topic", topics.output, "--from-beginning",
               "--timeout", "5", "--headers")  # fmt: skip
    assert got.returncode == 0, got.stderr
    lines = got.stdout.splitlines()
    metas = [json.loads(line) for line in lines[0::2]]
    values = [json.loads(line) for line in lines[1::2]]
    cli_rows = [v for m, v in zip(metas, values, strict=True) if m["key"] == "cli"]
    assert len(cli_rows) == 2
    assert all(v["data"]["names"] == ["t:0", "t:1"] for v in cli_rows)


def test_exactly_once_mode_runs_and_answers(
    broker: EmbeddedBroker, broker_kind: str, dataplane: DataPlane, caplog: pytest.LogCaptureFixture
) -> None:
    # The embedded broker cannot prove exactly-once (it shows aborted records to
    # read_committed consumers), and the worker says so; this checks the transactional
    # path works end to end (test_stream_eos proves it on Apache Kafka).
    eos = Topics(broker, partitions=1).create()
    with (
        caplog.at_level(logging.WARNING, logger="modstream.stream.clients"),
        running_worker(eos.settings(exactly_once=True), dataplane),
    ):
        produce(broker, eos.input, [seldon(f"text {i}") for i in range(20)], key=b"eos")
        outputs = _answers(broker, eos.output, b"eos", 20)
    assert len(outputs) >= 20
    assert committed(broker, eos.group, eos.input, 1)[0] == 20
    warned = [
        r.getMessage() for r in caplog.records if "--exactly-once on the embedded" in r.getMessage()
    ]
    assert len(warned) == (1 if broker_kind == EMBEDDED else 0), warned
