"""``modstream up --bootstrap-servers``: an existing Kafka instead of the embedded broker.

Before a model is loaded, ``up`` checks that the Kafka answers and accepts the login (if
not, it ends with one line), looks up the topics it needs and creates the missing ones with
the cluster's default replication factor, saying which; if the principal may not create
them, ``up`` stops and names them. The children get the login through the environment
(``MODSTREAM_KAFKA_CONFIG``), never on their command lines, and the commands ``up`` shows
point at a properties file in its private directory instead of quoting a password.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from modstream.errors import ModstreamError, NotAuthorized
from modstream.settings import UpSettings
from modstream.stream.refusals import check_login, refusal

PROPERTIES_FILE = "kafka.properties"


def prepare_topics(settings: UpSettings, say: Callable[[str], None]) -> None:
    """Check the login, then create the topics that do not exist yet (or stop, naming them)."""
    config = settings.client_config()
    timeout = settings.connect_timeout_s
    check_login(config, timeout=timeout)  # a refusal ends here, within about a second
    admin = AdminClient({**config, "log_level": 0})
    where = settings.bootstrap_servers
    existing = _list_topics(admin, where, timeout)
    missing = [t for t in settings.topics if t not in existing]
    present = [t for t in settings.topics if t in existing]
    if present:
        say(f"using the existing Kafka at {where}: {', '.join(present)} exist")
    if not missing:
        return
    _create(admin, missing, settings.partitions, where, timeout)
    say(f"created {', '.join(missing)} on {where} ({settings.partitions} partition(s) each)")


def _list_topics(admin: AdminClient, where: str | None, timeout: float) -> set[str]:
    try:
        return set(admin.list_topics(timeout=timeout).topics)
    except KafkaException as exc:
        error = exc.args[0] if exc.args else None
        reason = error.str() if isinstance(error, KafkaError) else str(exc)
        raise ModstreamError(
            f"the Kafka at {where} did not answer within {timeout:g}s ({reason}): check "
            "--bootstrap-servers, that it runs and that this machine reaches it",
            status=503,
            reason="KAFKA_UNREACHABLE",
        ) from exc


def _create(
    admin: AdminClient, topics: list[str], partitions: int, where: str | None, timeout: float
) -> None:
    # replication_factor -1: the cluster's default.replication.factor.
    new = [NewTopic(t, partitions, replication_factor=-1) for t in topics]
    denied: dict[str, str] = {}  # topic -> the error's name
    for topic, future in admin.create_topics(new, request_timeout=timeout).items():
        try:
            future.result(timeout)
        except TimeoutError as exc:
            raise ModstreamError(
                f"{where} did not create topic {topic!r} within {timeout:g}s"
            ) from exc
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            if not isinstance(error, KafkaError):
                raise ModstreamError(f"cannot create topic {topic!r} on {where}: {exc}") from exc
            if error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue  # made meanwhile, or hidden from this principal's listing
            if isinstance(refusal(error), NotAuthorized):
                denied[topic] = error.name()
                continue
            raise ModstreamError(
                f"cannot create topic {topic!r} on {where}: {error.str()}"
            ) from exc
    if denied:
        raise NotAuthorized(
            f"{', '.join(denied)} do not exist on {where} and this principal may not create "
            f"them ({', '.join(sorted(set(denied.values())))}): create them, then run up again"
        )


def child_environment(settings: UpSettings) -> dict[str, str]:
    """The login for the server, the worker and the monitor, as an environment variable
    (``ps`` shows command lines to everyone on the machine, not environments)."""
    if not settings.kafka_config:
        return {}
    return {"MODSTREAM_KAFKA_CONFIG": json.dumps(settings.kafka_config)}


def write_properties(settings: UpSettings, directory: Path) -> Path | None:
    """The login as a properties file only its owner can read, for ``--kafka-config @FILE``."""
    if not settings.kafka_config:
        return None
    path = directory / PROPERTIES_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("".join(f"{k}={v}\n" for k, v in settings.kafka_config.items()))
    return path
