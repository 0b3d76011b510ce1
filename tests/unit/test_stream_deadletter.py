"""The dead-letter sender: the original record, the reason and status decided once, and the
fallback that drops a value the producer refuses (through a batch's checkpoint or a plain
producer)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from unittest import mock

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer

from modstream.errors import InvalidInput, ModelError, PayloadTooLarge
from modstream.stream import headers as h
from modstream.stream.checkpoint import Checkpoint
from modstream.stream.deadletter import MAX_MESSAGE_CHARS, DeadLetter, ProducerSink, failure_of

DLQ = "comments.dlq"


def record(value: bytes | None = b"{broken", key: bytes | None = b"comment-7") -> Message:
    return Message(
        topic="comments",
        partition=3,
        offset=41,
        key=key,
        value=value,
        headers=[("trace-id", b"abc"), ("empty", None)],
    )


def sink() -> tuple[Checkpoint, Any]:
    """A batch's checkpoint over an autospecced producer (the calls are what was sent)."""
    producer = mock.create_autospec(Producer, instance=True, spec_set=True)
    consumer = mock.create_autospec(Consumer, instance=True, spec_set=True)
    return Checkpoint(consumer, producer), producer


def sent(producer: Any, call: int = 0) -> tuple[str, dict[str, Any]]:
    args = producer.produce.call_args_list[call]
    return args.args[0], args.kwargs


def test_the_original_record_is_sent_with_where_it_came_from_and_why() -> None:
    checkpoint, producer = sink()
    failure = DeadLetter(checkpoint, DLQ).send(record(), InvalidInput("not JSON"))
    topic, kwargs = sent(producer)
    assert topic == DLQ
    assert (kwargs["key"], kwargs["value"]) == (b"comment-7", b"{broken")
    headers = h.as_dict(kwargs["headers"])
    assert headers["trace-id"] == "abc" and headers["empty"] == ""
    assert headers[h.SOURCE_TOPIC] == "comments"
    assert (headers[h.SOURCE_PARTITION], headers[h.SOURCE_OFFSET]) == ("3", "41")
    assert headers[h.ERROR_CLASS] == "InvalidInput"
    assert headers[h.ERROR_REASON] == failure.reason == "BAD_REQUEST"
    assert headers[h.ERROR_STATUS] == "400"
    assert headers[h.ERROR_MESSAGE] == "not JSON"
    assert datetime.fromisoformat(headers[h.ERROR_TIME]).tzinfo is not None
    assert h.VALUE_DROPPED not in headers


def test_every_error_has_a_reason_and_a_status_unexpected_ones_are_internal() -> None:
    for error, reason, status in [
        (ModelError("the model failed"), "MODEL_ERROR", "500"),
        (PayloadTooLarge("too big"), "PAYLOAD_TOO_LARGE", "413"),
        (RuntimeError("a bug"), "INTERNAL_ERROR", "500"),
    ]:
        checkpoint, producer = sink()
        failure = DeadLetter(checkpoint, DLQ).send(record(), error)
        headers = h.as_dict(sent(producer)[1]["headers"])
        assert (headers[h.ERROR_REASON], headers[h.ERROR_STATUS]) == (reason, status)
        assert (failure.reason, str(failure.status)) == (reason, status)
        assert headers[h.ERROR_CLASS] == type(error).__name__


def test_a_value_the_producer_refuses_is_dropped_and_the_record_still_sent() -> None:
    checkpoint, producer = sink()
    too_large = KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE, "Message size too large"))
    producer.produce.side_effect = [too_large, None]
    DeadLetter(checkpoint, DLQ).send(record(b"x" * 100), PayloadTooLarge("record too large"))
    assert producer.produce.call_count == 2
    consumer_calls = checkpoint.consumer.mock_calls  # type: ignore[attr-defined]
    assert consumer_calls == []
    topic, kwargs = sent(producer, 1)
    assert topic == DLQ and kwargs["value"] is None and kwargs["key"] == b"comment-7"
    headers = h.as_dict(kwargs["headers"])
    assert "too large" in headers[h.VALUE_DROPPED]
    assert headers[h.SOURCE_OFFSET] == "41" and headers[h.ERROR_REASON] == "PAYLOAD_TOO_LARGE"


def test_a_plain_producer_gets_the_delivery_callback_and_the_same_fallback() -> None:
    producer = mock.create_autospec(Producer, instance=True, spec_set=True)
    too_large = KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE, "Message size too large"))
    producer.produce.side_effect = [too_large, None]
    reports: list[Any] = []
    sink = ProducerSink(producer, lambda error, message: reports.append(error))
    DeadLetter(sink, DLQ).send(record(), InvalidInput("bad"))
    first, second = producer.produce.call_args_list
    assert first.kwargs["value"] == b"{broken" and second.kwargs["value"] is None
    assert second.kwargs["on_delivery"] is sink.on_delivery
    assert h.VALUE_DROPPED in h.as_dict(second.kwargs["headers"])


def test_a_plain_producer_refusing_for_another_reason_raises() -> None:
    producer = mock.create_autospec(Producer, instance=True, spec_set=True)
    producer.produce.side_effect = KafkaException(KafkaError(KafkaError._UNKNOWN_TOPIC, "gone"))
    with pytest.raises(KafkaException):
        DeadLetter(ProducerSink(producer), DLQ).send(record(), InvalidInput("bad"))
    assert producer.produce.call_count == 1


def test_long_messages_are_cut_and_empty_ones_named_by_their_class() -> None:
    assert len(failure_of(ValueError("x" * 10_000)).message) == MAX_MESSAGE_CHARS
    assert failure_of(KeyError()).message == "KeyError"


def test_a_tombstone_is_sent_as_a_tombstone() -> None:
    checkpoint, producer = sink()
    DeadLetter(checkpoint, DLQ).send(record(value=None, key=None), InvalidInput("null"))
    kwargs = sent(producer)[1]
    assert kwargs["value"] is None and kwargs["key"] is None
    assert h.VALUE_DROPPED not in h.as_dict(kwargs["headers"])
