"""librdkafka configurations of the worker's consumer and producer.

Defaults here are chosen for a low-latency, at-least-once worker; anything the user
passes through ``--kafka-config`` wins, except the settings the commit protocol relies
on (manual commits, manual offset store), which are forced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from modstream.broker import CLUSTER_ID as EMBEDDED_CLUSTER_ID
from modstream.errors import InvalidInput
from modstream.settings import StreamSettings

# How every modstream consumer (worker, console consumer, dashboard, tests) joins a group.
# Without these a consumer takes ~20 s to join a group on small brokers, and on the
# embedded broker fetches wait up to 500 ms for data, which dominates end-to-end latency
# (the worker lengthens the wait on Apache Kafka, see ``fetch_wait_ms``).
GROUP_TUNING: dict[str, str | int] = {
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 500,
    "fetch.wait.max.ms": 5,
}
CONSUMER_DEFAULTS: dict[str, str | int] = {
    **GROUP_TUNING,
    "socket.nagle.disable": "true",
    "auto.offset.reset": "earliest",
    "topic.metadata.refresh.interval.ms": 10_000,
    "reconnect.backoff.max.ms": 5000,
    # Connection failures are reported once per interval through error_cb instead of
    # librdkafka printing every reconnect attempt.
    "log_level": 2,
}
# Apache Kafka answers a waiting fetch as soon as a record arrives, so there a long wait
# costs no latency and spares the broker a fetch request every few milliseconds from each
# idle consumer (docs/streaming.md has the cost). The embedded broker answers a fetch only
# when its wait is over, so there the wait stays at 5 ms. Its cluster id tells it apart.
LONG_FETCH_WAIT_MS = 500
PRODUCER_DEFAULTS: dict[str, str | int] = {
    "linger.ms": 2,
    "socket.nagle.disable": "true",
    "enable.idempotence": "true",
    "message.max.bytes": 16 * 1_048_576,
    "topic.metadata.refresh.interval.ms": 10_000,
    "reconnect.backoff.max.ms": 5000,
    # Connection failures are reported once per interval through error_cb instead of
    # librdkafka printing every reconnect attempt.
    "log_level": 2,
}


def parse_properties(pairs: Iterable[str]) -> dict[str, str]:
    """``["key=value", "@client.properties", ...]`` (from ``--kafka-config``) as a dict.

    ``@PATH`` reads a properties file (``key=value`` lines, ``#`` comments), so passwords
    need not be on a command line, where ``ps`` shows them to everyone on the machine.
    A malformed item is reported by position, never by its text: it may be a password.
    """
    result: dict[str, str] = {}
    for number, pair in enumerate(pairs, 1):
        if pair.startswith("@"):
            result.update(_read_properties(Path(pair[1:])))
            continue
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"--kafka-config expects key=value or @file; item {number} is not")
        result[key.strip()] = value.strip()
    return result


def _read_properties(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError as exc:
        raise InvalidInput(f"--kafka-config @{path}: {exc.strerror or exc}") from exc
    result: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith(("#", "!")):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"--kafka-config @{path}: line {number} is not KEY=VALUE")
        result[key.strip()] = value.strip()
    return result


def fetch_wait_ms(cluster_id: object, client_config: Mapping[str, str]) -> int | None:
    """The worker consumer's ``fetch.wait.max.ms`` on the broker of ``cluster_id``.

    ``None`` leaves the configured wait alone (the 5 ms default, or the user's): on the
    embedded broker, on a broker whose cluster id is unknown, when the user set the wait,
    and when a fetch waits for more than its first record (``fetch.min.bytes``), since then
    the wait is what bounds a record's delay.
    """
    if "fetch.wait.max.ms" in client_config or "fetch.min.bytes" in client_config:
        return None
    if not isinstance(cluster_id, str) or cluster_id == EMBEDDED_CLUSTER_ID:
        return None
    return LONG_FETCH_WAIT_MS


def consumer_config(
    settings: StreamSettings, fetch_wait: int | None = None, worker_index: int = 0
) -> dict[str, str | int]:
    """The worker's consumer; ``fetch_wait`` (see ``fetch_wait_ms``) replaces the default wait."""
    config: dict[str, str | int] = {**CONSUMER_DEFAULTS, **settings.client_config()}
    if fetch_wait is not None:
        config["fetch.wait.max.ms"] = fetch_wait
    instance_id = group_instance_id(settings, worker_index)
    if instance_id is not None:
        config["group.instance.id"] = instance_id
    config.update(
        {
            "group.id": settings.group,
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
        }
    )
    if settings.exactly_once:
        config["isolation.level"] = "read_committed"
    return config


def producer_config(settings: StreamSettings, worker_index: int = 0) -> dict[str, str | int]:
    # A record for a topic that does not exist waits this long for it to appear, then fails
    # (and the worker stops naming it); under the delivery timeout, so the wait is the
    # reason reported, not a timeout.
    wait_s = min(settings.topic_wait_s, settings.delivery_timeout_s / 2)
    config: dict[str, str | int] = {
        **PRODUCER_DEFAULTS,
        "topic.metadata.propagation.max.ms": int(wait_s * 1000),
        **settings.client_config(),
    }
    if settings.exactly_once:
        config["transactional.id"] = transactional_id(settings, worker_index)
    return config


def group_instance_id(settings: StreamSettings, worker_index: int = 0) -> str | None:
    """The consumer's static group membership id, if one is configured: as given for one
    worker; with ``--workers N``, suffixed ``-<index>`` so the worker processes of one
    command do not fence each other (two consumers with one id cannot both be members)."""
    configured = settings.client_config().get("group.instance.id")
    if configured is None or settings.workers <= 1:
        return configured
    return f"{configured}-{worker_index}"


def transactional_id(settings: StreamSettings, worker_index: int = 0) -> str:
    """The exactly-once producer's id: one per worker slot on each host (``instance``, the
    host name unless ``MODSTREAM_INSTANCE`` says otherwise).

    A worker restarted on the same host (a restarted container keeps its pod's name) gets
    its predecessor's id and so fences it and aborts its open transaction at once; workers
    on other hosts in the same group (other machines, other pods) have ids of their own,
    so they never fence each other.
    """
    group, topic, instance = settings.group, settings.input_topic, settings.instance
    return f"modstream-{group}-{topic}-{instance}-{worker_index}"
