"""Settings of ``modstream stream`` (the Kafka worker) and the console tools.

Every field has a ``MODSTREAM_*`` variable; Seldon Core's names are honoured too:
``KAFKA_BROKER``, ``KAFKA_INPUT_TOPIC``, ``KAFKA_OUTPUT_TOPIC``, ``KAFKA_SECURITY_PROTOCOL``
and the ``KAFKA_SSL_*`` certificate settings (PEM values or file paths), which map to
librdkafka's ``ssl.*`` properties. Any other librdkafka property (SASL, TLS, timeouts)
goes through ``kafka_config`` (``--kafka-config key=value`` or ``MODSTREAM_KAFKA_CONFIG``
as a JSON object).
"""

from __future__ import annotations

import socket
from typing import Any

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from modstream import credentials
from modstream.settings import defaults
from modstream.settings.policy import PolicySettings
from modstream.settings.registry import RegistrySettings


def _alias(field: str, *seldon: str) -> AliasChoices:
    return AliasChoices(f"MODSTREAM_{field.upper()}", *seldon, field)


# Seldon Core's certificate variables and the librdkafka property each one sets.
SSL_PROPERTIES: dict[str, str] = {
    "ssl_ca_cert": "ssl.ca.pem",
    "ssl_client_cert": "ssl.certificate.pem",
    "ssl_client_key": "ssl.key.pem",
    "ssl_ca_cert_file": "ssl.ca.location",
    "ssl_client_cert_file": "ssl.certificate.location",
    "ssl_client_key_file": "ssl.key.location",
    "ssl_client_key_pass": "ssl.key.password",
}


class StreamSettings(BaseSettings):
    """Kafka worker settings; ``MODSTREAM_*`` or Seldon's ``KAFKA_*`` names."""

    model_config = SettingsConfigDict(
        env_prefix="MODSTREAM_", extra="ignore", populate_by_name=True
    )

    model: str | None = Field(default=None, validation_alias=_alias("model"))
    bootstrap_servers: str = Field(
        default=defaults.BOOTSTRAP_SERVERS,
        validation_alias=_alias("bootstrap_servers", "KAFKA_BROKER"),
    )
    input_topic: str | None = Field(
        default=None, validation_alias=_alias("input_topic", "KAFKA_INPUT_TOPIC")
    )
    output_topic: str | None = Field(
        default=None, validation_alias=_alias("output_topic", "KAFKA_OUTPUT_TOPIC")
    )
    group: str = defaults.GROUP
    dead_letter_topic: str | None = None
    workers: int = Field(default=1, ge=1)
    # Records per poll: the most records one micro-batch takes from the consumer.
    max_batch_records: int = Field(default=defaults.MAX_BATCH_RECORDS, ge=1)
    max_wait_ms: float = Field(default=defaults.STREAM_MAX_WAIT_MS, ge=0)
    max_value_bytes: int = Field(default=defaults.MAX_VALUE_BYTES, ge=1)
    delivery_timeout_s: float = Field(default=30.0, gt=0)
    metrics_port: int | None = None
    metrics_host: str = defaults.HOST
    exactly_once: bool = False
    # This host's name in the exactly-once transactional ids (modstream.stream.config).
    instance: str = Field(default_factory=socket.gethostname, min_length=1)
    # How long a missing input, output or dead-letter topic is waited for before stopping.
    topic_wait_s: float = Field(default=defaults.TOPIC_WAIT_S, gt=0)
    # Secrets may be in here: kept out of the settings' repr (logs, tracebacks).
    kafka_config: dict[str, str] = Field(default_factory=dict, repr=False)
    # Model roles from the registry, the keep/review/remove policy (docs/models.md).
    registry_settings: RegistrySettings = Field(default_factory=RegistrySettings)
    policy_settings: PolicySettings = Field(default_factory=PolicySettings)
    security_protocol: str | None = Field(
        default=None, validation_alias=_alias("security_protocol", "KAFKA_SECURITY_PROTOCOL")
    )
    ssl_ca_cert: str | None = Field(
        default=None, validation_alias=_alias("ssl_ca_cert", "KAFKA_SSL_CA_CERT")
    )
    ssl_client_cert: str | None = Field(
        default=None, validation_alias=_alias("ssl_client_cert", "KAFKA_SSL_CLIENT_CERT")
    )
    ssl_client_key: str | None = Field(
        default=None,
        validation_alias=_alias("ssl_client_key", "KAFKA_SSL_CLIENT_KEY"),
        repr=False,
    )
    ssl_ca_cert_file: str | None = Field(
        default=None, validation_alias=_alias("ssl_ca_cert_file", "KAFKA_SSL_CA_CERT_FILE")
    )
    ssl_client_cert_file: str | None = Field(
        default=None,
        validation_alias=_alias("ssl_client_cert_file", "KAFKA_SSL_CLIENT_CERT_FILE"),
    )
    ssl_client_key_file: str | None = Field(
        default=None, validation_alias=_alias("ssl_client_key_file", "KAFKA_SSL_CLIENT_KEY_FILE")
    )
    ssl_client_key_pass: str | None = Field(
        default=None,
        validation_alias=_alias("ssl_client_key_pass", "KAFKA_SSL_CLIENT_KEY_PASS"),
        repr=False,
    )

    @field_validator("kafka_config", mode="before")
    @classmethod
    def _properties_as_text(cls, value: Any) -> Any:
        # librdkafka takes every property as text; a number given in JSON is one too, and
        # converting it here keeps a numeric password out of a validation error's message.
        if isinstance(value, dict):
            return {str(k): v if isinstance(v, str) else str(v) for k, v in value.items()}
        return value

    @property
    def dead_letter(self) -> str:
        """The dead-letter topic: the configured one, or ``<input-topic>.dlq``."""
        return self.dead_letter_topic or defaults.dead_letter_topic(self.input_topic)

    def client_config(self) -> dict[str, str]:
        """librdkafka properties shared by every client: servers, security, pass-through."""
        config = {"bootstrap.servers": self.bootstrap_servers}
        if self.security_protocol:
            config["security.protocol"] = self.security_protocol
        for field, prop in SSL_PROPERTIES.items():
            value = getattr(self, field)
            if value:
                config[prop] = value
        config.update(self.kafka_config)
        credentials.remember(config)  # masked in logs and errors from now on
        return config
