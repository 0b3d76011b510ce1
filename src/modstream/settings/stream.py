"""Settings of ``modstream stream`` (the Kafka worker)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class StreamSettings(BaseSettings):
    """Kafka worker settings; ``MODSTREAM_*`` or Seldon's ``KAFKA_*`` names."""

    model_config = SettingsConfigDict(
        env_prefix="MODSTREAM_", extra="ignore", populate_by_name=True
    )

    model: str | None = Field(
        default=None, validation_alias=AliasChoices("MODSTREAM_MODEL", "model")
    )
    bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices(
            "MODSTREAM_BOOTSTRAP_SERVERS", "KAFKA_BROKER", "bootstrap_servers"
        ),
    )
    input_topic: str | None = Field(
        default=None,
        validation_alias=AliasChoices("MODSTREAM_INPUT_TOPIC", "KAFKA_INPUT_TOPIC", "input_topic"),
    )
    output_topic: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "MODSTREAM_OUTPUT_TOPIC", "KAFKA_OUTPUT_TOPIC", "output_topic"
        ),
    )
    group: str = "modstream"
    dead_letter_topic: str | None = None
    workers: int = 1
    max_batch: int = 256
    max_wait_ms: float = 5.0
    metrics_port: int | None = None
    security_protocol: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "MODSTREAM_SECURITY_PROTOCOL", "KAFKA_SECURITY_PROTOCOL", "security_protocol"
        ),
    )
    exactly_once: bool = False
