"""The producer's size cap after the broker refused records for their size: below the
topic's max.message.bytes when it can be read, below the largest refused record when not;
only lowered, never below librdkafka's minimum; other errors teach nothing."""

from __future__ import annotations

from unittest import mock

from confluent_kafka import KafkaError, Message
from confluent_kafka.admin import AdminClient

from modstream.stream import sizes
from modstream.stream.sizes import FRAMING_BYTES, SMALLEST_CAP, SizeCap, record_size

TOO_LARGE = KafkaError(KafkaError.MSG_SIZE_TOO_LARGE)


def refused(topic: str, value_bytes: int) -> tuple[KafkaError, Message]:
    return TOO_LARGE, Message(topic=topic, value=b"x" * value_bytes, key=b"k")


def cap_with_limits(
    limits: dict[str, int | None], failures: list[tuple[KafkaError, Message]]
) -> SizeCap:
    cap = SizeCap({"bootstrap.servers": "127.0.0.1:1"})
    with mock.patch.object(SizeCap, "_limit_of", autospec=True) as limit_of:
        limit_of.side_effect = lambda _self, topic: limits[topic]
        cap.learn(failures)
    return cap


def test_nothing_refused_for_size_leaves_the_producer_as_it_is() -> None:
    cap = SizeCap({"bootstrap.servers": "127.0.0.1:1"})
    other = (KafkaError(KafkaError._MSG_TIMED_OUT), Message(topic="out", value=b"x"))
    assert cap.learn([other]) is False
    assert cap.overrides() == {}


def test_a_readable_limit_caps_records_and_batches_below_it() -> None:
    # A whole batch was refused: small records too; the limit, not their sizes, decides.
    cap = cap_with_limits({"out": 4000}, [refused("out", 300), refused("out", 9000)])
    assert cap.overrides() == {
        "message.max.bytes": 4000 - FRAMING_BYTES,
        "batch.size": 4000 - FRAMING_BYTES,
    }


def test_without_the_limit_the_largest_refused_record_is_taken_as_too_large() -> None:
    cap = cap_with_limits({"out": None}, [refused("out", 300), refused("out", 9000)])
    assert cap.cap == record_size(refused("out", 9000)[1]) - 1


def test_the_cap_only_goes_down_and_stays_above_librdkafkas_minimum() -> None:
    cap = cap_with_limits({"out": 4000, "out.dlq": 100_000}, [refused("out", 5000)])
    with mock.patch.object(SizeCap, "_limit_of", autospec=True, return_value=100_000):
        cap.learn([refused("out.dlq", 200_000)])
    assert cap.cap == 4000 - FRAMING_BYTES
    tiny = cap_with_limits({"out": 600}, [refused("out", 700)])
    assert tiny.cap == SMALLEST_CAP


def test_an_unreadable_limit_is_a_fallback_not_a_failure() -> None:
    admin = mock.Mock(spec_set=AdminClient)
    admin.describe_configs.side_effect = RuntimeError("DESCRIBE_CONFIGS denied")
    with mock.patch.object(sizes, "AdminClient", return_value=admin):
        assert SizeCap({"bootstrap.servers": "127.0.0.1:1"})._limit_of("out") is None
