"""The commit path of one micro-batch, against ``spec_set`` mocks of the Kafka clients.

Each test pins what was committed (or that nothing was) and the order of the client
calls: flush before commit, never a commit after a failure, the transaction's offsets
inside the transaction, rewinds to the first offset of the batch.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from unittest import mock

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from modstream.errors import PayloadTooLarge
from modstream.stream import headers as h
from modstream.stream.checkpoint import (
    Checkpoint,
    CommitFailed,
    DeliveryFailed,
    ProducerFailed,
    ProducerHung,
)

TOPIC = "comments"
OUT = "predictions"


def record(partition: int, offset: int) -> Message:
    return Message(topic=TOPIC, partition=partition, offset=offset, value=b"{}")


class Clients:
    """Autospecced consumer and producer; the producer acknowledges like librdkafka.

    ``produce`` keeps each delivery callback and ``flush`` calls them (with ``error``)
    and returns how many records are still unacknowledged (``unacknowledged``).
    """

    def __init__(self) -> None:
        self.calls = mock.Mock()
        self.consumer = mock.create_autospec(Consumer, instance=True, spec_set=True)
        self.producer = mock.create_autospec(Producer, instance=True, spec_set=True)
        self.calls.attach_mock(self.consumer, "consumer")
        self.calls.attach_mock(self.producer, "producer")
        self.consumer.commit.return_value = []
        # The end offset as of the last fetch (the worker's lag gauge reads it per commit).
        self.consumer.get_watermark_offsets.return_value = (0, 0)
        self.error: KafkaError | None = None
        self.unacknowledged = 0
        self.reports = True
        self._callbacks: list[tuple[Any, Message]] = []
        self.producer.produce.side_effect = self._produce
        self.producer.flush.side_effect = self._flush

    def _produce(self, topic: str, on_delivery: Any = None, **fields: Any) -> None:
        self._callbacks.append((on_delivery, Message(topic=topic, **fields)))

    def _flush(self, *_args: Any) -> int:
        if self.reports:
            for callback, produced in self._callbacks:
                callback(self.error, produced)
            self._callbacks.clear()
        return self.unacknowledged

    def checkpoint(self, exactly_once: bool = False, timeout: float = 30.0) -> Checkpoint:
        return Checkpoint(
            self.consumer, self.producer, exactly_once=exactly_once, delivery_timeout=timeout
        )

    def names(self) -> list[str]:
        """The client methods called, in order (``consumer.commit``, ``producer.flush``...)."""
        return [call[0] for call in self.calls.mock_calls if "." in call[0]]


def answer_batch(checkpoint: Checkpoint, records: list[Message]) -> None:
    """What the worker does for a batch: begin, one output per record, track it."""
    checkpoint.begin()
    for message in records:
        checkpoint.produce(OUT, key=None, value=b"answer", headers=h.source_headers(message))
        checkpoint.track(message)


def kafka_exception(code: int, *, fatal: bool = False, abortable: bool = False) -> KafkaException:
    return KafkaException(KafkaError(code, "injected", fatal=fatal, txn_requires_abort=abortable))


BATCH = [record(0, 10), record(0, 11), record(1, 7), record(0, 12)]
NEXT = {(TOPIC, 0): 13, (TOPIC, 1): 8}
FIRST = [(TOPIC, 0, 10), (TOPIC, 1, 7)]


def coordinates(partitions: list[TopicPartition]) -> list[tuple[str, int, int]]:
    """TopicPartitions compare equal whatever their offsets: compare these instead."""
    return [(tp.topic, tp.partition, tp.offset) for tp in partitions]


def committed_offsets(clients: Clients) -> list[tuple[str, int, int]]:
    return coordinates(clients.consumer.commit.call_args.kwargs["offsets"])


def sought(clients: Clients) -> list[tuple[str, int, int]]:
    return coordinates([call.args[0] for call in clients.consumer.seek.call_args_list])


# -- success -------------------------------------------------------------------------------
def test_an_empty_checkpoint_commits_nothing_and_calls_no_client() -> None:
    clients = Clients()
    assert clients.checkpoint().commit() == {}
    assert clients.calls.mock_calls == []


def test_outputs_are_flushed_before_the_next_offsets_are_committed() -> None:
    clients = Clients()
    checkpoint = clients.checkpoint()
    answer_batch(checkpoint, BATCH)
    checkpoint.flush()
    assert checkpoint.commit() == NEXT
    assert clients.names() == ["producer.produce"] * 4 + ["producer.flush", "consumer.commit"]
    assert committed_offsets(clients) == [(TOPIC, 0, 13), (TOPIC, 1, 8)]
    assert clients.consumer.commit.call_args.kwargs["asynchronous"] is False


def test_exactly_once_sends_the_offsets_inside_the_transaction() -> None:
    clients = Clients()
    checkpoint = clients.checkpoint(exactly_once=True)
    answer_batch(checkpoint, BATCH)
    checkpoint.begin()  # a second begin does not open a second transaction
    checkpoint.flush()
    assert checkpoint.commit() == NEXT
    assert clients.names() == [
        "producer.begin_transaction",
        *["producer.produce"] * 4,
        "producer.flush",
        "consumer.consumer_group_metadata",
        "producer.send_offsets_to_transaction",
        "producer.commit_transaction",
    ]
    offsets, metadata, _timeout = clients.producer.send_offsets_to_transaction.call_args.args
    assert coordinates(offsets) == [(TOPIC, 0, 13), (TOPIC, 1, 8)]
    assert metadata is clients.consumer.consumer_group_metadata.return_value
    clients.consumer.commit.assert_not_called()


def test_a_slow_broker_is_waited_for_until_every_output_is_acknowledged() -> None:
    clients = Clients()
    checkpoint = clients.checkpoint()
    answer_batch(checkpoint, BATCH[:1])
    clients.producer.flush.side_effect = [3, 1, 0]  # reports arrive over three calls
    clients.reports = False
    checkpoint._on_delivery(None, record(0, 10))  # the report librdkafka served meanwhile
    checkpoint.flush()
    assert clients.producer.flush.call_count == 3
    assert checkpoint.commit() == {(TOPIC, 0): 11}


def test_a_full_local_queue_is_drained_and_the_record_produced() -> None:
    clients = Clients()
    checkpoint = clients.checkpoint()
    produce = clients.producer.produce.side_effect
    clients.producer.produce.side_effect = [BufferError("queue full"), produce]
    checkpoint.produce(OUT, key=b"k", value=b"v", headers=[])
    assert clients.names() == ["producer.produce", "producer.poll", "producer.produce"]


# -- failures: nothing is committed ---------------------------------------------------------
@pytest.mark.parametrize("exactly_once", [False, True])
def test_outputs_not_acknowledged_by_the_deadline_commit_nothing(exactly_once: bool) -> None:
    clients = Clients()
    checkpoint = clients.checkpoint(exactly_once=exactly_once, timeout=0.0)
    answer_batch(checkpoint, BATCH)
    clients.unacknowledged = 4
    with pytest.raises(DeliveryFailed, match="4 record"):
        checkpoint.flush()
    assert DeliveryFailed.producer_unusable
    clients.consumer.commit.assert_not_called()
    clients.producer.commit_transaction.assert_not_called()


@pytest.mark.parametrize("exactly_once", [False, True])
def test_an_error_delivery_report_commits_nothing(exactly_once: bool) -> None:
    clients = Clients()
    clients.error = KafkaError(KafkaError._MSG_TIMED_OUT, "injected")
    checkpoint = clients.checkpoint(exactly_once=exactly_once)
    answer_batch(checkpoint, BATCH)
    checkpoint.flush()
    with pytest.raises(DeliveryFailed, match=r"4 record.*injected"):
        checkpoint.commit()
    # Each failed report comes with the record it is about, naming its input record.
    undelivered = [
        (error.code(), m.topic(), h.as_dict(m.headers())[h.SOURCE_OFFSET])
        for error, m in checkpoint.undelivered
    ]
    assert undelivered == [(KafkaError._MSG_TIMED_OUT, OUT, str(m.offset())) for m in BATCH]
    assert "consumer.commit" not in clients.names()
    assert "producer.send_offsets_to_transaction" not in clients.names()


def test_an_output_without_a_delivery_report_commits_nothing() -> None:
    clients = Clients()
    clients.reports = False  # flush says done, but one report never came
    checkpoint = clients.checkpoint()
    answer_batch(checkpoint, BATCH[:1])
    checkpoint.flush()
    with pytest.raises(DeliveryFailed, match="no delivery report"):
        checkpoint.verify()
    with pytest.raises(DeliveryFailed):
        checkpoint.commit()
    clients.consumer.commit.assert_not_called()


def test_a_commit_that_raises_is_a_commit_failure_that_keeps_the_producer() -> None:
    clients = Clients()
    clients.consumer.commit.side_effect = kafka_exception(KafkaError.REBALANCE_IN_PROGRESS)
    checkpoint = clients.checkpoint()
    answer_batch(checkpoint, BATCH)
    checkpoint.flush()
    with pytest.raises(CommitFailed, match="injected") as failure:
        checkpoint.commit()
    assert not failure.value.producer_unusable
    assert failure.value.reason == "COMMIT_FAILED"


def test_a_partition_the_commit_reports_as_failed_fails_the_commit() -> None:
    clients = Clients()
    # A TopicPartition's error is read-only: the broker's answer is built as a mock.
    refused = mock.Mock(spec_set=TopicPartition, topic=TOPIC, partition=1, offset=8)
    refused.error = KafkaError(KafkaError.ILLEGAL_GENERATION, "injected")
    clients.consumer.commit.return_value = [TopicPartition(TOPIC, 0, 13), refused]
    checkpoint = clients.checkpoint()
    answer_batch(checkpoint, BATCH)
    checkpoint.flush()
    with pytest.raises(CommitFailed, match=rf"{TOPIC}\[1\]"):
        checkpoint.commit()


@pytest.mark.parametrize("failing", ["send_offsets_to_transaction", "commit_transaction"])
def test_an_abortable_transaction_failure_is_a_commit_failure(failing: str) -> None:
    clients = Clients()
    error = kafka_exception(KafkaError._STATE, abortable=True)
    getattr(clients.producer, failing).side_effect = error
    checkpoint = clients.checkpoint(exactly_once=True)
    answer_batch(checkpoint, BATCH)
    checkpoint.flush()
    with pytest.raises(CommitFailed):
        checkpoint.commit()
    if failing == "send_offsets_to_transaction":
        clients.producer.commit_transaction.assert_not_called()
    assert checkpoint.rewind() is True  # aborted: the producer carries on
    assert clients.names()[-3:] == ["producer.abort_transaction", "consumer.seek", "consumer.seek"]


def test_a_fatal_transaction_error_makes_the_producer_unusable() -> None:
    clients = Clients()
    clients.producer.commit_transaction.side_effect = kafka_exception(
        KafkaError._FENCED, fatal=True
    )
    checkpoint = clients.checkpoint(exactly_once=True)
    answer_batch(checkpoint, BATCH)
    checkpoint.flush()
    with pytest.raises(ProducerFailed) as failure:
        checkpoint.commit()
    assert failure.value.producer_unusable


def test_a_fatal_error_raised_while_flushing_makes_the_producer_unusable() -> None:
    # confluent-kafka raises a fenced producer's error from flush(), as a SystemError
    # caused by it when a delivery callback runs in the same call.
    clients = Clients()
    fenced = kafka_exception(KafkaError._FENCED, fatal=True)
    system_error = SystemError("<function _on_delivery> returned a result with an exception set")
    system_error.__cause__ = fenced
    clients.producer.flush.side_effect = system_error
    checkpoint = clients.checkpoint(exactly_once=True)
    answer_batch(checkpoint, BATCH)
    with pytest.raises(ProducerFailed, match="the producer failed: injected") as failure:
        checkpoint.flush()
    assert failure.value.producer_unusable
    assert [e.code() for e in checkpoint.client_errors] == [KafkaError._FENCED]  # the worker's
    clients.producer.commit_transaction.assert_not_called()


def test_a_system_error_without_its_cause_from_flush_still_fails_the_batch() -> None:
    # The other form confluent-kafka gives a fatal error: "returned NULL without setting an
    # exception". The producer is replaced; the transaction's abort names the error.
    clients = Clients()
    clients.producer.flush.side_effect = SystemError("returned NULL without setting an exception")
    checkpoint = clients.checkpoint()
    answer_batch(checkpoint, BATCH[:1])
    with pytest.raises(ProducerFailed, match="returned NULL") as failure:
        checkpoint.flush()
    assert failure.value.producer_unusable
    assert checkpoint.client_errors == []
    clients.consumer.commit.assert_not_called()


def test_a_transaction_that_cannot_begin_makes_the_producer_unusable() -> None:
    clients = Clients()
    clients.producer.begin_transaction.side_effect = kafka_exception(KafkaError._STATE)
    with pytest.raises(ProducerFailed):
        clients.checkpoint(exactly_once=True).begin()


def test_a_record_too_large_for_the_producer_fails_alone() -> None:
    clients = Clients()
    clients.producer.produce.side_effect = kafka_exception(KafkaError.MSG_SIZE_TOO_LARGE)
    with pytest.raises(PayloadTooLarge, match=OUT):
        clients.checkpoint().produce(OUT, key=None, value=b"x", headers=[])


def test_any_other_produce_refusal_fails_the_batch() -> None:
    clients = Clients()
    clients.producer.produce.side_effect = kafka_exception(KafkaError._UNKNOWN_TOPIC)
    with pytest.raises(DeliveryFailed, match=OUT):
        clients.checkpoint().produce(OUT, key=None, value=b"x", headers=[])


def test_a_queue_that_stays_full_until_the_deadline_fails_the_batch() -> None:
    clients = Clients()
    clients.producer.produce.side_effect = BufferError("queue full")
    with pytest.raises(DeliveryFailed, match="queue"):
        clients.checkpoint(timeout=0.0).produce(OUT, key=None, value=b"x", headers=[])


# -- rewind ---------------------------------------------------------------------------------
def test_rewind_seeks_every_partition_back_to_the_first_offset_of_the_batch() -> None:
    clients = Clients()
    checkpoint = clients.checkpoint()
    answer_batch(checkpoint, BATCH)
    assert checkpoint.rewind() is True
    assert sought(clients) == FIRST
    clients.producer.abort_transaction.assert_not_called()


def test_rewind_aborts_the_transaction_before_seeking() -> None:
    clients = Clients()
    checkpoint = clients.checkpoint(exactly_once=True)
    answer_batch(checkpoint, BATCH)
    assert checkpoint.rewind() is True
    assert clients.names()[-3:] == ["producer.abort_transaction", "consumer.seek", "consumer.seek"]


def test_a_failed_abort_still_rewinds_and_says_the_producer_is_unusable() -> None:
    clients = Clients()
    clients.producer.abort_transaction.side_effect = kafka_exception(KafkaError._TIMED_OUT)
    checkpoint = clients.checkpoint(exactly_once=True)
    answer_batch(checkpoint, BATCH)
    assert checkpoint.rewind() is False
    assert sought(clients) == FIRST


def test_rewind_skips_partitions_revoked_meanwhile() -> None:
    clients = Clients()
    clients.consumer.seek.side_effect = [kafka_exception(KafkaError._STATE), None]
    checkpoint = clients.checkpoint()
    answer_batch(checkpoint, BATCH)
    assert checkpoint.rewind() is True
    assert sought(clients) == FIRST


def test_a_transaction_commit_that_never_returns_gives_the_producer_up_in_time() -> None:
    # librdkafka's send_offsets_to_transaction can wait past its timeout for good when the
    # group's coordinator died; the worker must not wait with it.
    clients = Clients()
    released = threading.Event()
    clients.producer.send_offsets_to_transaction.side_effect = lambda *_: released.wait(60)
    checkpoint = clients.checkpoint(exactly_once=True, timeout=0.2)
    answer_batch(checkpoint, BATCH)
    checkpoint.flush()
    started = time.monotonic()
    try:
        with pytest.raises(ProducerHung) as failure:
            checkpoint.commit()
        assert time.monotonic() - started < 30
        assert failure.value.producer_unusable
        # no abort on the hung producer (it would conflict with the call still running);
        # the batch is still sought back
        assert checkpoint.rewind() is True
        clients.producer.abort_transaction.assert_not_called()
        clients.producer.commit_transaction.assert_not_called()
        assert sought(clients) == FIRST
    finally:
        released.set()
