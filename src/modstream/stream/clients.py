"""The worker's Kafka clients: creating them, replacing a broken producer, client errors."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

from modstream.kafka_tools import LIBRDKAFKA_LOG, RateLimitedLog
from modstream.settings import StreamSettings
from modstream.stream import metrics
from modstream.stream.config import (
    EMBEDDED_CLUSTER_ID,
    consumer_config,
    fetch_wait_ms,
    group_instance_id,
    producer_config,
    transactional_id,
)
from modstream.stream.refusals import Refusals
from modstream.stream.sizes import SizeCap

log = logging.getLogger(__name__)


class ClientFactory:
    """Creates the consumer and producers of worker ``index`` from its settings."""

    def __init__(self, settings: StreamSettings, index: int, errors: RateLimitedLog) -> None:
        self.settings = settings
        self.index = index
        self.errors = errors
        names = {"group": settings.group}
        if settings.exactly_once:
            names["transactional id"] = transactional_id(settings, index)
        instance_id = group_instance_id(settings, index)
        if instance_id is not None:
            names["group.instance.id"] = instance_id
        # Errors no retry fixes (a refused login, an ACL), reported by any of the clients.
        self.refusals = Refusals(names)
        # What the broker's size refusals taught: the largest record to send.
        self.size_cap = SizeCap(settings.client_config())
        # The consumer's fetch wait, once the broker is known (see ``fit_to_broker``).
        self.fetch_wait: int | None = None

    def fit_to_broker(self, cluster_id: object) -> None:
        """Let the consumers made from now on wait as long as this broker allows; warn that
        exactly-once does not hold on the embedded broker."""
        self.fetch_wait = fetch_wait_ms(cluster_id, self.settings.client_config())
        if self.index != 0:
            return
        if self.fetch_wait is not None:
            log.info("the broker answers fetches as records arrive: an idle fetch waits "
                     "up to %d ms", self.fetch_wait)  # fmt: skip
        if self.settings.exactly_once and cluster_id == EMBEDDED_CLUSTER_ID:
            log.warning("--exactly-once on the embedded broker: its read_committed readers "
                        "also see the records of aborted transactions, so an answer can be "
                        "read twice; exactly-once holds on Apache Kafka")  # fmt: skip

    def consumer(self) -> Consumer:
        hooks: dict[str, Any] = {"error_cb": self._on_client_error, "logger": LIBRDKAFKA_LOG}
        if self.settings.metrics_port is not None:
            hooks.update({"stats_cb": metrics.on_stats, "statistics.interval.ms": 5000})
        config = consumer_config(self.settings, self.fetch_wait, self.index)
        return Consumer({**config, **hooks})

    def producer(self) -> Producer:
        config = {**producer_config(self.settings, self.index), **self.size_cap.overrides()}
        return Producer({**config, "error_cb": self._on_client_error, "logger": LIBRDKAFKA_LOG})

    def _on_client_error(self, error: KafkaError) -> None:
        if self.refusals.note(error):
            return  # the worker stops on it with one clear error
        self.errors.warning(f"client-{error.code()}", f"kafka client: {error.str()}")


def kafka_error(exc: KafkaException) -> KafkaError | None:
    """The ``KafkaError`` a ``KafkaException`` carries, if any."""
    error = exc.args[0] if exc.args else None
    return error if isinstance(error, KafkaError) else None


def client_failure(exc: BaseException) -> KafkaException | None:
    """The client error ``exc`` is, or carries. confluent-kafka raises a producer's fatal
    error (fenced, for one) from the call that serves its callbacks, ``flush`` or ``poll``;
    when a delivery callback runs in the same call, Python reports a ``SystemError``
    instead, caused by that error (or not even that)."""
    if isinstance(exc, KafkaException):
        return exc
    cause = exc.__cause__
    return cause if isinstance(cause, KafkaException) else None


def describe(exc: KafkaException) -> str:
    error = kafka_error(exc)
    return error.str() if error is not None else str(exc)


def too_large(exc: KafkaException) -> bool:
    """Whether the producer refused a record for its size (``message.max.bytes``)."""
    error = kafka_error(exc)
    return error is not None and error.code() == KafkaError.MSG_SIZE_TOO_LARGE


def discard(producer: Producer) -> None:
    """Drop a producer's queued records: they belong to a rewound batch, produced again later."""
    producer.purge()
    last_flush(producer, 0)


def last_flush(producer: Producer, timeout: float) -> None:
    """Flush a producer that is being dropped or closed; its fatal error, raised once more
    by the call (see ``client_failure``), is logged, not raised."""
    try:
        producer.flush(timeout)
    except (KafkaException, SystemError) as exc:
        log.info("the producer was not flushed: %s", exc)


def transaction_log_shortfall(client_config: Mapping[str, str]) -> str | None:
    """Why transactions cannot start, when the cluster shows it (see ``_shortfall``)."""
    return _shortfall(
        client_config, "__transaction_state", "transaction log", "transactions cannot start",
        ("transaction.state.log.replication.factor", "transaction.state.log.min.isr"),
    )  # fmt: skip


def offsets_topic_shortfall(client_config: Mapping[str, str]) -> str | None:
    """Why no consumer group can form, when the cluster shows it (see ``_shortfall``)."""
    return _shortfall(
        client_config, "__consumer_offsets", "consumer offsets topic", "no group can form",
        ("offsets.topic.replication.factor",),
    )  # fmt: skip


def _shortfall(
    client_config: Mapping[str, str],
    topic: str,
    what: str,
    blocked: str,
    settings: tuple[str, ...],
    timeout: float = 2.0,
) -> str | None:
    """What an internal ``topic`` the cluster has not created yet needs: more brokers up
    than there are, for its replication factor (``settings[0]``; Kafka's default is 3),
    which clients see only as timeouts or silence. ``None`` when that is not so, or cannot
    be told (the cluster not answering, an ACL on its configuration), and on the embedded
    broker, which keeps no such topics."""
    admin = AdminClient({**client_config, "log_level": 0})
    try:
        metadata = admin.list_topics(timeout=timeout)
        if metadata.cluster_id == EMBEDDED_CLUSTER_ID or topic in metadata.topics:
            return None
        resource = ConfigResource(ResourceType.BROKER, str(min(metadata.brokers)))
        [future] = admin.describe_configs([resource]).values()
        factor = int(future.result(timeout)[settings[0]].value)
    except Exception:  # cannot tell: the caller reports what the client said, if anything
        return None
    brokers = len(metadata.brokers)
    if factor <= brokers:
        return None
    return (
        f"the cluster has {brokers} broker(s) up and creates its {what} ({topic}) with "
        f"{settings[0]}={factor}, so {blocked} until {factor} brokers are up; on a smaller "
        f"cluster set {' and '.join(settings)} on the brokers to at most its broker count"
    )
