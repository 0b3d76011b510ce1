"""Settings of ``modstream up`` (the one-command local demo) and its dashboard.

``MODSTREAM_UP_PORT`` (dashboard, default 8080), ``MODSTREAM_UP_HTTP_PORT`` (REST, 9000),
``MODSTREAM_UP_GRPC_PORT`` (gRPC, 5000), ``MODSTREAM_UP_BROKER_PORT`` (Kafka, 9092),
``MODSTREAM_UP_METRICS_PORT`` (the stream worker's metrics and readiness, 9100),
``MODSTREAM_UP_MONITOR_PORT`` (the quality and drift monitor, 9500),
``MODSTREAM_UP_DECISIONS_TOPIC``, ``MODSTREAM_UP_MONITOR_METRICS_TOPIC``, ``MODSTREAM_UP_ALERTS_TOPIC``,
``MODSTREAM_UP_MODELS_TOPIC`` (the model registry), ``MODSTREAM_UP_POLICIES_TOPIC``,
``MODSTREAM_UP_INPUT_TOPIC``, ``MODSTREAM_UP_OUTPUT_TOPIC``, ``MODSTREAM_UP_DEAD_LETTER_TOPIC``,
``MODSTREAM_UP_PARTITIONS`` and ``MODSTREAM_UP_STOP_TIMEOUT_S``;
``MODSTREAM_UP_BOOTSTRAP_SERVERS`` (an existing Kafka instead of the embedded broker),
``MODSTREAM_UP_KAFKA_CONFIG`` (a JSON object of librdkafka properties to log in to it) and
``MODSTREAM_UP_CONNECT_TIMEOUT_S`` (how long to wait for it to answer). A port set here or
by a flag must be free; a default port that is taken is replaced by a free one.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from modstream import credentials
from modstream.settings import defaults

PORT_FIELDS = ("port", "http_port", "grpc_port", "broker_port", "metrics_port", "monitor_port")


class UpSettings(BaseSettings):
    """Where ``modstream up`` listens (always 127.0.0.1) and which topics it creates."""

    model_config = SettingsConfigDict(
        env_prefix="MODSTREAM_UP_", extra="ignore", populate_by_name=True
    )

    port: int = Field(default=defaults.UP_PORT, ge=1, le=65535)
    http_port: int = Field(default=defaults.HTTP_PORT, ge=1, le=65535)
    grpc_port: int = Field(default=defaults.GRPC_PORT, ge=1, le=65535)
    broker_port: int = Field(default=defaults.BROKER_PORT, ge=1, le=65535)
    metrics_port: int = Field(default=defaults.METRICS_PORT, ge=1, le=65535)
    monitor_port: int = Field(default=defaults.MONITOR_PORT, ge=1, le=65535)
    input_topic: str = Field(default=defaults.UP_INPUT_TOPIC, min_length=1)
    output_topic: str = Field(default=defaults.UP_OUTPUT_TOPIC, min_length=1)
    dead_letter_topic: str | None = None
    decisions_topic: str = Field(default=defaults.UP_DECISIONS_TOPIC, min_length=1)
    monitor_metrics_topic: str = Field(default=defaults.UP_MONITOR_METRICS_TOPIC, min_length=1)
    alerts_topic: str = Field(default=defaults.UP_ALERTS_TOPIC, min_length=1)
    models_topic: str = Field(default=defaults.MODELS_TOPIC, min_length=1)
    policies_topic: str = Field(default=defaults.POLICIES_TOPIC, min_length=1)
    partitions: int = Field(default=defaults.UP_PARTITIONS, ge=1, le=64)
    stop_timeout_s: float = Field(default=15.0, gt=0)
    # An existing Kafka instead of the embedded broker, and how to log in to it.
    bootstrap_servers: str | None = None
    kafka_config: dict[str, str] = Field(default_factory=dict, repr=False)
    connect_timeout_s: float = Field(default=15.0, gt=0)

    def client_config(self) -> dict[str, str]:
        """librdkafka properties of the existing Kafka (``bootstrap_servers`` must be set)."""
        assert self.bootstrap_servers, "only with an existing Kafka"
        config = {"bootstrap.servers": self.bootstrap_servers, **self.kafka_config}
        credentials.remember(config)  # masked in logs and errors from now on
        return config

    @property
    def dead_letter(self) -> str:
        """The dead-letter topic: the configured one, or ``<input-topic>.dlq`` like the worker."""
        return self.dead_letter_topic or defaults.dead_letter_topic(self.input_topic)

    @property
    def topics(self) -> list[str]:
        """Every topic ``up`` creates: the stream's, and the moderation loop's (the registry
        creates its own compacted ones)."""
        names = [self.input_topic, self.output_topic, self.dead_letter, self.decisions_topic]
        names += [defaults.dead_letter_topic(self.decisions_topic)]
        names += [self.monitor_metrics_topic, self.alerts_topic]
        # Where the worker sends review-band comments and the shadow's answers.
        suffixes = (defaults.REVIEW_SUFFIX, defaults.SHADOW_SUFFIX)
        names += [self.output_topic + suffix for suffix in suffixes]
        return list(dict.fromkeys(names))

    def explicit_ports(self) -> set[str]:
        """Port fields the user chose (flag or environment) rather than left at the default."""
        return {name for name in PORT_FIELDS if name in self.model_fields_set}
