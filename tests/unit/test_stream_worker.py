"""One batch of the worker against ``spec_set`` mocks of the Kafka clients and a real model:
answers and dead letters in input order, which failures replace the producer, readiness."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from confluent_kafka import KafkaError, Message, Producer, TopicPartition
from prometheus_client import REGISTRY

from modstream.dataplane import DataPlane
from modstream.errors import Fenced
from modstream.model import TextModel
from modstream.settings import StreamSettings
from modstream.stream import headers as h
from modstream.stream.clients import ClientFactory
from modstream.stream.codec import Decoded
from modstream.stream.worker import StreamWorker
from tests.unit.test_stream_checkpoint import Clients, kafka_exception

IN, OUT = "comments", "predictions"


def seldon(text: str) -> bytes:
    return json.dumps({"data": {"ndarray": [text]}}).encode()


def record(offset: int, value: bytes | None, partition: int = 0) -> Message:
    return Message(topic=IN, partition=partition, offset=offset, key=b"k%d" % offset, value=value)


@pytest.fixture
def clients() -> Clients:
    return Clients()


@pytest.fixture(params=[False], ids=["at-least-once"])
def worker(
    request: pytest.FixtureRequest, model: TextModel, clients: Clients
) -> Iterator[StreamWorker]:
    settings = StreamSettings(
        input_topic=IN,
        output_topic=OUT,
        delivery_timeout_s=0.001,
        max_wait_ms=0,
        exactly_once=request.param,
        instance="host-a",
    )
    replacement = mock.create_autospec(Producer, instance=True, spec_set=True)
    with (
        mock.patch.object(ClientFactory, "consumer", return_value=clients.consumer),
        mock.patch.object(ClientFactory, "producer", side_effect=[clients.producer, replacement]),
    ):
        created = StreamWorker(settings, DataPlane(model))
        created.connect()
        yield created


def feed(clients: Clients, *batches: list[Message]) -> None:
    clients.consumer.consume.side_effect = [*batches, *[[]] * 10]


def failures(reason: str) -> float:
    value = REGISTRY.get_sample_value("modstream_stream_batch_failures_total", {"reason": reason})
    return value or 0.0


def produced(clients: Clients) -> list[tuple[str, dict[str, Any]]]:
    return [(c.args[0], c.kwargs) for c in clients.producer.produce.call_args_list]


def test_each_record_gets_its_answer_or_its_dead_letter_in_input_order(
    worker: StreamWorker, clients: Clients, model: TextModel
) -> None:
    feed(clients, [record(5, seldon("first")), record(6, b"{broken"), record(7, seldon("last"))])
    assert worker.step() == 3
    outputs = produced(clients)
    assert [topic for topic, _ in outputs] == [OUT, f"{IN}.dlq", OUT]
    assert [kwargs["key"] for _, kwargs in outputs] == [b"k5", b"k6", b"k7"]
    answer = h.as_dict(outputs[0][1]["headers"])
    assert answer[h.MODEL_NAME] == model.name and answer[h.SOURCE_OFFSET] == "5"
    body = json.loads(outputs[2][1]["value"])
    assert body["data"]["ndarray"][0] == pytest.approx(model.predict_proba(["last"])[0].tolist())
    assert h.as_dict(outputs[1][1]["headers"])[h.ERROR_REASON] == "BAD_REQUEST"
    assert body["meta"]["puid"] == "k7"  # no puid in the request: the record key
    offsets = clients.consumer.commit.call_args.kwargs["offsets"]
    assert [(tp.topic, tp.partition, tp.offset) for tp in offsets] == [(IN, 0, 8)]
    assert worker.processed == 3


def test_a_failed_commit_rewinds_the_batch_and_keeps_the_healthy_producer(
    worker: StreamWorker, clients: Clients
) -> None:
    clients.consumer.commit.side_effect = kafka_exception(KafkaError.REBALANCE_IN_PROGRESS)
    feed(clients, [record(5, seldon("a")), record(6, seldon("b"))])
    before = failures("COMMIT_FAILED")
    assert worker.step() == 0
    assert failures("COMMIT_FAILED") == before + 1
    assert worker.producer is clients.producer
    clients.producer.purge.assert_not_called()
    [seek] = clients.consumer.seek.call_args_list
    assert (seek.args[0].partition, seek.args[0].offset) == (0, 5)
    assert worker.processed == 0


def test_undelivered_outputs_rewind_the_batch_and_replace_the_producer(
    worker: StreamWorker, clients: Clients
) -> None:
    clients.unacknowledged = 2
    feed(clients, [record(5, seldon("a")), record(6, seldon("b"))])
    before = failures("DELIVERY_FAILED")
    assert worker.step() == 0
    assert failures("DELIVERY_FAILED") == before + 1
    clients.consumer.commit.assert_not_called()
    clients.producer.purge.assert_called_once()  # its queued records belong to the rewound batch
    assert worker.producer is not clients.producer
    [seek] = clients.consumer.seek.call_args_list
    assert seek.args[0].offset == 5


@pytest.mark.parametrize("worker", [True], ids=["exactly-once"], indirect=True)
def test_a_fenced_producer_stops_the_worker_with_one_error_instead_of_replacing_it(
    worker: StreamWorker, clients: Clients
) -> None:
    # Fenced while flushing, as confluent-kafka reports it (a SystemError caused by the
    # fatal error); aborting the transaction then raises the fatal error again.
    fenced = kafka_exception(KafkaError._FENCED, fatal=True)
    flushed = SystemError("<method 'flush'> returned a result with an exception set")
    flushed.__cause__ = fenced
    clients.producer.flush.side_effect = flushed
    clients.producer.abort_transaction.side_effect = fenced
    feed(clients, [record(5, seldon("a")), record(6, seldon("b"))])
    with pytest.raises(Fenced, match="transactional id 'modstream-modstream-comments-host-a-0'"):
        worker.step()
    assert worker.producer is clients.producer  # a new one would fence its successor
    clients.producer.commit_transaction.assert_not_called()
    clients.producer.send_offsets_to_transaction.assert_not_called()


def test_readiness_follows_warm_up_group_membership_and_stop(
    worker: StreamWorker, clients: Clients
) -> None:
    subscribe = clients.consumer.subscribe.call_args
    assert subscribe.args[0] == [IN]
    on_assign, on_lost = subscribe.kwargs["on_assign"], subscribe.kwargs["on_lost"]
    assert not worker.ready
    worker.warm_up()
    assert not worker.ready  # not in the group yet
    on_assign(clients.consumer, [TopicPartition(IN, 0), TopicPartition(IN, 1)])
    assert worker.ready
    assert REGISTRY.get_sample_value("modstream_stream_assigned_partitions") == 2
    on_lost(clients.consumer, [TopicPartition(IN, 0), TopicPartition(IN, 1)])
    assert not worker.ready
    on_assign(clients.consumer, [])  # a member with no partition is in its group too
    assert worker.ready
    stop = threading.Event()
    stop.set()
    worker.run(stop)  # stops at once: leaves the group, no longer ready
    assert not worker.ready
    clients.consumer.close.assert_called_once()


def test_the_metric_counts_a_dead_letter_under_the_reason_its_header_gives(
    worker: StreamWorker, clients: Clients
) -> None:
    feed(clients, [record(5, b"{broken"), record(6, seldon("x" * 2_000_000))])
    before = {r: dead_lettered(r) for r in ("BAD_REQUEST", "PAYLOAD_TOO_LARGE")}
    assert worker.step() == 2
    reasons = [h.as_dict(kwargs["headers"])[h.ERROR_REASON] for _, kwargs in produced(clients)]
    assert reasons == ["BAD_REQUEST", "PAYLOAD_TOO_LARGE"]
    assert {r: dead_lettered(r) - before[r] for r in before} == {
        "BAD_REQUEST": 1,
        "PAYLOAD_TOO_LARGE": 1,
    }


def test_an_unexpected_error_is_internal_in_the_header_and_the_metric(
    worker: StreamWorker, clients: Clients
) -> None:
    feed(clients, [record(5, seldon("fine"))])
    before = dead_lettered("INTERNAL_ERROR")
    with mock.patch.object(
        Decoded, "encode", autospec=True, side_effect=RuntimeError("an encoding bug")
    ):
        assert worker.step() == 1
    [(topic, kwargs)] = produced(clients)
    headers = h.as_dict(kwargs["headers"])
    assert topic == f"{IN}.dlq" and headers[h.ERROR_CLASS] == "RuntimeError"
    assert headers[h.ERROR_REASON] == "INTERNAL_ERROR"
    assert dead_lettered("INTERNAL_ERROR") == before + 1


def dead_lettered(reason: str) -> float:
    value = REGISTRY.get_sample_value(
        "modstream_stream_dead_lettered_records_total", {"reason": reason}
    )
    return value or 0.0


def test_records_gathered_before_their_partition_is_revoked_are_left_to_its_next_owner(
    model: TextModel, clients: Clients
) -> None:
    """A rebalance served while a batch is being gathered: the records already gathered
    from the revoked partition are neither answered nor committed (the partition's next
    owner reads them again), those of the partition kept are."""
    settings = StreamSettings(input_topic=IN, output_topic=OUT, max_wait_ms=50)
    with (
        mock.patch.object(ClientFactory, "consumer", return_value=clients.consumer),
        mock.patch.object(ClientFactory, "producer", return_value=clients.producer),
    ):
        worker = StreamWorker(settings, DataPlane(model))
        worker.connect()
    on_revoke = clients.consumer.subscribe.call_args.kwargs["on_revoke"]

    gathered = [record(5, seldon("revoked"), partition=0), record(3, seldon("a"), partition=1)]
    calls = iter([[], gathered, [record(9, seldon("kept"), partition=1)]])

    def consume(**_: Any) -> list[Message]:
        batch = next(calls)
        if batch and batch[0].offset() == 9:  # the third call serves a rebalance first
            on_revoke(clients.consumer, [TopicPartition(IN, 0)])
        return batch

    clients.consumer.consume.side_effect = consume
    assert worker.step() == 2
    assert [kwargs["key"] for _, kwargs in produced(clients)] == [b"k3", b"k9"]
    offsets = clients.consumer.commit.call_args.kwargs["offsets"]
    assert [(tp.topic, tp.partition, tp.offset) for tp in offsets] == [(IN, 1, 10)]
