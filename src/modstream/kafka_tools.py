"""Console producer and consumer (like kafka-console-producer/-consumer), for any broker;
what every long-lived client (the worker's, the monitor's, the registry follower's, the
dashboard's) does with librdkafka's logs and errors; and the idle fetch wait every
long-lived reader fits to the broker it finds."""

from __future__ import annotations

import functools
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient

from modstream.errors import ModstreamError, TopicMissing
from modstream.stream.config import GROUP_TUNING, fetch_wait_ms
from modstream.stream.refusals import MISSING_TOPIC, Refusals, refusal


def seldon_request(text: str) -> bytes:
    """The Seldon REST request for one text: ``{"data": {"ndarray": [text]}}``."""
    return json.dumps({"data": {"ndarray": [text]}}).encode("utf-8")


# What librdkafka itself logs, as log records like modstream's own (the same format, level
# and masking of secrets) instead of raw "%3|...|FAIL|..." lines on stderr.
LIBRDKAFKA_LOG = logging.getLogger("modstream.librdkafka")
# Long-lived clients let librdkafka log only its critical lines (a FATAL error); the errors
# it reports through ``error_cb`` (a broker down, a refused connection) are logged there,
# once per kind and interval.
LONG_LIVED_LOG_LEVEL = 2


class RateLimitedLog:
    """Logs a repeated warning once per ``interval`` seconds, with how often it happened."""

    def __init__(self, interval: float = 10.0, logger: logging.Logger | None = None) -> None:
        self.interval = interval
        self.logger = logger or logging.getLogger(__name__)
        self._last: dict[str, tuple[float, int]] = {}

    def warning(self, key: str, text: str) -> None:
        now = time.monotonic()
        last, count = self._last.get(key, (0.0, 0))
        if now - last >= self.interval:
            suffix = f" (x{count + 1} since last report)" if count else ""
            self.logger.warning("%s%s", text, suffix)
            self._last[key] = (now, 0)
        else:
            self._last[key] = (last, count + 1)


class LoggedClientErrors:
    """A long-lived client's ``error_cb``: each kind of error logged once per interval,
    naming the client (librdkafka reports a broker that is down at every reconnect)."""

    def __init__(self, who: str) -> None:
        self.who = who
        self.log = RateLimitedLog()

    def __call__(self, error: KafkaError) -> None:
        self.log.warning(str(error.code()), f"{self.who}: kafka client: {error.str()}")


@functools.cache
def _client_errors(who: str) -> LoggedClientErrors:
    """One ``error_cb`` for all the clients of ``who`` (a consumer, its producer, one that
    replaces it): a broker that is down is reported once per interval, not once per client."""
    return LoggedClientErrors(who)


def long_lived(
    config: Mapping[str, Any], who: str, refusals: Refusals | None = None
) -> dict[str, Any]:
    """``config`` for a client that runs as long as its process (the monitor, a registry
    follower, the dashboard): librdkafka's lines as log records, its errors once per kind
    and interval (see ``LoggedClientErrors``). Settings in ``config`` win.

    ``refusals`` also gets every error, for an owner that stops on one (a login the cluster
    no longer accepts, say after a password rotation) instead of retrying for ever.
    """
    logged = _client_errors(who)
    error_cb = logged if refusals is None else _noting(refusals, logged)
    return {"log_level": LONG_LIVED_LOG_LEVEL, "logger": LIBRDKAFKA_LOG, "error_cb": error_cb,
            **config}  # fmt: skip


def _noting(refusals: Refusals, logged: LoggedClientErrors) -> Callable[[KafkaError], None]:
    def error_cb(error: KafkaError) -> None:
        refusals.note(error)
        logged(error)

    return error_cb


class ClientErrors:
    """A console client's ``error_cb``: refusals stop it, the last other error is kept to
    explain a timeout (librdkafka's own log lines are off: one clear line instead)."""

    def __init__(self) -> None:
        self.refusals = Refusals()
        self.last: KafkaError | None = None

    def __call__(self, error: KafkaError) -> None:
        if not self.refusals.note(error):
            self.last = error

    def config(self) -> dict[str, Any]:
        return {"log_level": 0, "error_cb": self}

    def timed_out(self, what: str) -> ModstreamError:
        cause = f" (last client error: {self.last.str()})" if self.last is not None else ""
        return ModstreamError(f"{what}{cause}")


def cluster_id(config: Mapping[str, Any], timeout: float = 5.0) -> str | None:
    """The id of the cluster ``config`` reaches; None when it does not answer in time or
    refuses the login (at once: the caller's own client then reports the refusal)."""
    errors = ClientErrors()
    admin = AdminClient({**config, **errors.config()})
    answer = admin.describe_cluster(request_timeout=timeout)
    deadline = time.monotonic() + timeout
    while errors.refusals.first is None and time.monotonic() < deadline:
        try:
            return str(answer.result(0.005).cluster_id)
        except FutureTimeout:
            admin.poll(0)  # serves error_cb
        except KafkaException:
            return None
    return None


def reader_config(
    config: Mapping[str, Any], short_wait_ms: int, who: str, refusals: Refusals | None = None
) -> dict[str, Any]:
    """``config`` for a consumer that reads for as long as its process runs (a monitor, a
    table follower, the dashboard's feed), ``long_lived``: an idle fetch waits
    ``short_wait_ms``, or as long as a broker that answers fetches as records arrive allows
    (see ``fetch_wait_ms``: Apache Kafka, not the embedded broker); a wait the user set
    stands. Costs one request to the cluster."""
    wait = fetch_wait_ms(cluster_id(config), config)
    fetch_wait = short_wait_ms if wait is None else wait
    return long_lived({"fetch.wait.max.ms": fetch_wait, **config}, who, refusals)


def produce_values(
    config: Mapping[str, str | int],
    topic: str,
    values: Iterable[bytes],
    *,
    key: bytes | None = None,
    timeout: float = 30.0,
) -> int:
    """Produce every value and wait for the broker to acknowledge them; returns the count.

    A refused login or ACL, or a missing topic, ends it with one clear error at once.
    """
    errors = ClientErrors()
    producer = Producer({"linger.ms": 5, **config, **errors.config()})
    failures: list[KafkaError] = []

    def on_delivery(error: KafkaError | None, _message: object) -> None:
        if error is not None:
            failures.append(error)

    count = 0
    for value in values:
        while True:
            try:
                producer.produce(topic, value=value, key=key, on_delivery=on_delivery)
                break
            except BufferError:  # local queue full: let deliveries drain
                producer.poll(0.1)
                errors.refusals.check()
        count += 1
        producer.poll(0)
    deadline = time.monotonic() + timeout
    while producer.flush(0.5) > 0:
        errors.refusals.check()
        if time.monotonic() >= deadline:
            raise errors.timed_out(
                f"the broker did not acknowledge every record within {timeout:.0f}s"
            )
    for error in failures:
        _raise_refusal(error, "write to", topic)
    if failures:
        raise ModstreamError(f"{len(failures)} record(s) were not delivered: {failures[0].str()}")
    return count


def _raise_refusal(error: KafkaError, action: str, topic: str) -> None:
    """Raise ``error`` as a refusal or a missing topic, if it is one of them."""
    found = refusal(error, action=action, names={"topic": topic})
    if found is not None:
        raise found
    if error.code() in MISSING_TOPIC:
        raise TopicMissing(f"topic {topic!r} does not exist")


@dataclass
class Record:
    key: str | bytes | None
    value: str | bytes | None
    headers: list[tuple[str, bytes | None]]
    partition: int
    offset: int


def consume_records(
    config: Mapping[str, str | int],
    topic: str,
    *,
    from_beginning: bool = False,
    timeout: float | None = None,
    max_records: int | None = None,
    group: str | None = None,
) -> Iterator[Record]:
    """Records of ``topic`` until ``max_records`` or ``timeout`` seconds without a new one."""
    errors = ClientErrors()
    consumer = Consumer(
        {
            **GROUP_TUNING,
            **reader_config(config, int(GROUP_TUNING["fetch.wait.max.ms"]), "consume"),
            **errors.config(),
            "group.id": group or f"modstream-console-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": "false",
            # Brokers with a wrong "latest" lookup still give a correct "earliest".
            "auto.offset.reset": "earliest",
        }
    )
    if from_beginning:
        consumer.subscribe([topic])
    else:
        consumer.subscribe([topic], on_assign=_skip_to_end)
    seen = 0
    last = time.monotonic()
    try:
        while max_records is None or seen < max_records:
            if timeout is not None and time.monotonic() - last > timeout:
                return
            message = consumer.poll(0.2)
            errors.refusals.check()
            if message is None:
                continue
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                _raise_refusal(error, "read", topic)
                raise ModstreamError(f"cannot read {topic!r}: {error.str()}")
            last = time.monotonic()
            seen += 1
            raw_headers = message.headers() or []
            headers = raw_headers.items() if isinstance(raw_headers, dict) else raw_headers
            yield Record(
                message.key(),
                message.value(),
                [(str(k), v if isinstance(v, bytes | None) else v.encode()) for k, v in headers],
                message.partition() or 0,
                message.offset() or 0,
            )
    finally:
        consumer.close()


def _skip_to_end(consumer: Consumer, partitions: list) -> None:
    """Start at the end of each partition (new records only), like the console consumer."""
    for tp in partitions:
        try:
            _low, high = consumer.get_watermark_offsets(tp, timeout=5)
            tp.offset = high
        except KafkaException:
            pass
    consumer.assign(partitions)
