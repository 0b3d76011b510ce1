"""Single-partition Kafka topics read as tables: to their end once, or followed live.

The registry's models topic and the policies topic are both read this way: every reader
starts at the beginning of partition 0 and applies each record in offset order, so all
readers see the same sequence. Writers always write to partition 0, so a topic that a
broker auto-created with several partitions still keeps one order.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer
from confluent_kafka import TopicPartition as Partition
from confluent_kafka.admin import NewTopic

from modstream.errors import AuthenticationFailed, ModstreamError, NotAuthorized, NotFound
from modstream.kafka_tools import long_lived, reader_config
from modstream.stream.refusals import NOMINAL_GROUP, Refusals, refusal

log = logging.getLogger(__name__)

PARTITION = 0
_WHO = "registry"  # how the followers' clients are named in the log
Config = Mapping[str, str]
OnRecord = Callable[[Any], None]

__all__ = ["TableFollower", "TableWriter", "append", "create_topic", "read_table"]


def create_topic(config: Config, topic: str, topic_config: dict[str, str]) -> bool:
    """Create ``topic`` with one partition and ``topic_config``; False if it already existed."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(dict(config))
    futures = admin.create_topics(
        [NewTopic(topic, num_partitions=1, replication_factor=-1, config=topic_config)],
        operation_timeout=10,
        request_timeout=10,
    )
    try:
        futures[topic].result(timeout=15)
    except KafkaException as exc:
        if exc.args and exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
            return False
        raise ModstreamError(f"cannot create topic {topic!r}: {exc}") from exc
    _wait_for_leader(admin, topic)
    return True


def _wait_for_leader(admin: Any, topic: str, timeout: float = 30.0) -> None:
    """Until partition 0 of a new topic has a leader (a cluster announces it a bit later)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            partitions = admin.list_topics(topic, timeout=5).topics[topic].partitions
        except (KafkaException, KeyError):
            partitions = {}
        if PARTITION in partitions and partitions[PARTITION].leader >= 0:
            return
        time.sleep(0.1)
    raise ModstreamError(f"topic {topic!r} was created but has no leader after {timeout:g}s")


# A one-off read's idle fetch wait; a follower's, on a broker that allows it, is longer.
FETCH_WAIT_MS = 50


def _consumer(config: Config) -> Consumer:
    return Consumer(
        {
            "fetch.wait.max.ms": FETCH_WAIT_MS,
            **config,
            "group.id": f"modstream-table-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": "false",
            "enable.partition.eof": "false",
        }
    )


def _end_offset(consumer: Consumer, topic: str, timeout: float) -> int:
    try:
        _low, high = consumer.get_watermark_offsets(Partition(topic, PARTITION), timeout=timeout)
    except KafkaException as exc:
        error = exc.args[0]
        if error.code() in (KafkaError._UNKNOWN_PARTITION, KafkaError.UNKNOWN_TOPIC_OR_PART):
            # A topic this principal may not describe looks missing here; its metadata says.
            described = _metadata_error(consumer, topic)
            if described is not None and (refused := _refused(described, topic)) is not None:
                raise refused from exc
            raise NotFound(f"topic {topic!r} does not exist") from exc
        raise _refused(error, topic) or ModstreamError(
            f"cannot read topic {topic!r}: {error.str()}"
        ) from exc
    return int(high)


def _refused(error: KafkaError, topic: str) -> ModstreamError | None:
    return refusal(error, action="read", names={"topic": topic})


def _metadata_error(consumer: Consumer, topic: str, timeout: float = 5.0) -> KafkaError | None:
    """The error the cluster gives with ``topic``'s metadata, if any."""
    try:
        error = consumer.list_topics(topic, timeout=timeout).topics[topic].error
    except (KafkaException, KeyError):
        return None
    return error if isinstance(error, KafkaError) else None


def _reached(consumer: Consumer, topic: str, end: int) -> bool:
    """Whether the consumer's next offset is at or past ``end`` (compaction leaves gaps)."""
    [position] = consumer.position([Partition(topic, PARTITION)])
    return int(position.offset) >= end


def read_table(config: Config, topic: str, on_record: OnRecord, timeout: float = 15.0) -> int:
    """Apply every record of ``topic`` now present, in order; returns the count read."""
    consumer = _consumer(config)
    try:
        end = _end_offset(consumer, topic, timeout)
        consumer.assign([Partition(topic, PARTITION, OFFSET_BEGINNING)])
        count = 0
        deadline = time.monotonic() + timeout
        while end > 0 and not _reached(consumer, topic, end):
            if time.monotonic() > deadline:
                raise ModstreamError(f"timed out reading topic {topic!r} to its end")
            for message in consumer.consume(500, 0.2):
                error = message.error()
                if error is not None:
                    raise ModstreamError(f"cannot read topic {topic!r}: {error.str()}")
                on_record(message)
                count += 1
        return count
    finally:
        consumer.close()


class TableWriter:
    """Writes records to partition 0 of table topics through one idempotent producer.

    An idempotent producer spends about half a second getting its producer id before its
    first write (on Apache Kafka as on the embedded broker); a command that writes several
    records (an event and its history entry, a publish and a promotion) pays that once.
    A write that fails is purged from the producer, which is then dropped, so the next
    write starts with a fresh one: an idempotent producer can stay wedged after the broker
    lost its producer state.
    """

    def __init__(self, config: Config) -> None:
        self.config = dict(config)
        self._producer: Producer | None = None
        self._lock = threading.Lock()

    def append(self, topic: str, key: str, value: bytes | None, timeout: float = 15.0) -> int:
        """Write one record (``None``: a tombstone) to partition 0; returns its offset."""
        with self._lock:
            if self._producer is None:
                settings = {**self.config, "enable.idempotence": True, "linger.ms": 0}
                self._producer = Producer(long_lived(settings, _WHO))
            producer = self._producer
        result: list[Any] = []
        try:
            producer.produce(
                topic,
                key=key.encode(),
                value=value,
                partition=PARTITION,
                on_delivery=lambda error, message: result.append(error or message),
            )
            producer.flush(timeout)
            if not result:
                raise ModstreamError(
                    f"the broker did not acknowledge the write to {topic!r} in time"
                )
            if isinstance(result[0], KafkaError):
                raise ModstreamError(f"cannot write to topic {topic!r}: {result[0].str()}")
        except (ModstreamError, KafkaException, BufferError):
            # A write reported as failed must not land later, behind the writes that
            # follow it (a promotion the user then retried or replaced).
            with contextlib.suppress(KafkaException):
                producer.purge()
                producer.poll(0)
            with self._lock:
                if self._producer is producer:
                    self._producer = None
            raise
        return int(result[0].offset())


def append(config: Config, topic: str, key: str, value: bytes | None, timeout: float = 15.0) -> int:
    """Write one record (``None``: a tombstone) to partition 0 with a producer of its own."""
    return TableWriter(config).append(topic, key, value, timeout)


class TableFollower:
    """Applies every record of a topic from its beginning, then new ones as they arrive.

    ``on_record`` runs on the follower's thread, in offset order. ``on_settled`` runs there
    too: once when everything that existed at start-up has been applied, then after each
    later round of new records, so a reader acts on a consistent state, never on the
    intermediate states of its catch-up. ``caught_up`` is set after the first ``on_settled``.
    A refusal its client meets (a login the cluster no longer accepts after a password
    rotation, an ACL that does not or no longer lets it read the topic) ends the follower:
    ``refused`` holds the error for its owner, who can no longer trust that it follows.
    """

    def __init__(
        self,
        config: Config,
        topic: str,
        on_record: OnRecord,
        *,
        on_settled: Callable[[], None] | None = None,
        name: str = "modstream-table",
    ) -> None:
        self.config = config
        self.topic = topic
        self.on_record = on_record
        self.on_settled = on_settled
        self.caught_up = threading.Event()
        self._refusals = Refusals(ignored=NOMINAL_GROUP)
        self._stop = threading.Event()
        self._answered = threading.Event()  # caught up, or ended without catching up
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> TableFollower:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def wait_caught_up(self, timeout: float) -> bool:
        """Whether it caught up within ``timeout``; False at once if it ended before."""
        self._answered.wait(timeout)
        return self.caught_up.is_set()

    @property
    def refused(self) -> ModstreamError | None:
        """What ended the follower, if the cluster refused it (see the class)."""
        return self._refusals.first

    def _following(self) -> bool:
        return self.refused is None and not self._stop.is_set()

    def _run(self) -> None:
        consumer = _consumer(reader_config(self.config, FETCH_WAIT_MS, _WHO, self._refusals))
        try:
            end = self._start(consumer)
            while self._following():
                applied = [m for m in consumer.consume(100, 0.1) if self._usable(m)]
                for message in applied:
                    self._apply(message)
                if self.caught_up.is_set():
                    if applied:
                        self._settle()
                elif end <= 0 or _reached(consumer, self.topic, end):
                    self._settle()
                    self._caught_up()
        finally:
            if self.refused is not None:
                log.error("topic %s is no longer followed: %s", self.topic, self.refused)
            consumer.close()
            self._answered.set()

    def _start(self, consumer: Consumer) -> int:
        """Assign partition 0 from the beginning; returns the end offset to catch up to.

        A topic that does not exist yet is an empty table: the reader settles on that and
        the follower waits for the topic to appear.
        """
        reported = False
        while self._following():
            try:
                end = _end_offset(consumer, self.topic, 5.0)
            except (AuthenticationFailed, NotAuthorized) as exc:
                self._refusals.keep(exc)  # ends the follower
                continue
            except ModstreamError as exc:
                if not reported:
                    log.warning("%s; waiting for it", exc)
                    reported = True
                if isinstance(exc, NotFound) and not self.caught_up.is_set():
                    self._settle()
                    self._caught_up()
                self._stop.wait(1.0)
                continue
            consumer.assign([Partition(self.topic, PARTITION, OFFSET_BEGINNING)])
            return end
        return 0

    def _caught_up(self) -> None:
        self.caught_up.set()
        self._answered.set()

    def _usable(self, message: Any) -> bool:
        error = message.error()
        if error is None:
            return True
        if not self._refusals.note(error, action="read", topic=self.topic):
            log.warning("topic %s: %s", self.topic, error.str())
        return False

    def _apply(self, message: Any) -> None:
        try:
            self.on_record(message)
        except Exception:  # one bad record must not stop a worker from following
            log.exception("topic %s offset %s not applied", self.topic, message.offset())

    def _settle(self) -> None:
        if self.on_settled is None:
            return
        try:
            self.on_settled()
        except Exception:
            log.exception("topic %s: acting on the new state failed", self.topic)
