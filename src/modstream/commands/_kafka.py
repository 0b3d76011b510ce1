"""The ``--kafka-config`` flag, the same in every command that talks to Kafka."""

from __future__ import annotations

from typing import Any

KAFKA_CONFIG_HELP = (
    "any librdkafka property (SASL, TLS, timeouts), repeatable; @FILE reads a properties "
    "file, which keeps passwords off the command line"
)


def add_kafka_config_arg(group: Any, help: str = KAFKA_CONFIG_HELP) -> None:
    """``--kafka-config KEY=VALUE|@FILE`` (read with ``stream.config.parse_properties``)."""
    group.add_argument(
        "--kafka-config", action="append", default=[], metavar="KEY=VALUE|@FILE", help=help
    )
