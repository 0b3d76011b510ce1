"""librdkafka configurations of the worker's consumer and producer.

Defaults here are chosen for a low-latency, at-least-once worker; anything the user
passes through ``--kafka-config`` wins, except the settings the commit protocol relies
on (manual commits, manual offset store), which are forced.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from modstream.errors import InvalidInput
from modstream.settings import StreamSettings

# How every modstream consumer (worker, console consumer, dashboard, tests) joins a group.
# Without these a consumer takes ~20 s to join a group on small brokers and fetches wait
# up to 500 ms for data, which dominates end-to-end latency.
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


def consumer_config(settings: StreamSettings) -> dict[str, str | int]:
    config: dict[str, str | int] = {**CONSUMER_DEFAULTS, **settings.client_config()}
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
        # One stable id per worker slot, so a restarted worker fences its predecessor.
        config["transactional.id"] = (
            f"modstream-{settings.group}-{settings.input_topic}-{worker_index}"
        )
    return config
