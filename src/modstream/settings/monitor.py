"""Settings of ``modstream monitor`` (the moderation loop's quality and drift monitor).

Every field has a ``MODSTREAM_MONITOR_*`` variable (``MODSTREAM_MONITOR_DECISIONS_TOPIC``,
``MODSTREAM_MONITOR_STATE_DIR``, ...); the broker address is shared with the worker
(``MODSTREAM_BOOTSTRAP_SERVERS`` or ``KAFKA_BROKER``), and security settings
(``KAFKA_SECURITY_PROTOCOL``, ``KAFKA_SSL_*``, ``MODSTREAM_KAFKA_CONFIG``) are read by the
worker's settings and reused, so both connect the same way.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from modstream.settings import defaults
from modstream.settings.stream import StreamSettings

DEFAULT_MONITOR_PORT = defaults.MONITOR_PORT


class MonitorSettings(BaseSettings):
    """Where the monitor reads and writes, how long it remembers, when it alerts."""

    model_config = SettingsConfigDict(
        env_prefix="MODSTREAM_MONITOR_", extra="ignore", populate_by_name=True
    )

    bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices(
            "MODSTREAM_BOOTSTRAP_SERVERS", "KAFKA_BROKER", "bootstrap_servers"
        ),
    )
    predictions_topic: str | None = None
    shadow_topic: str | None = None
    decisions_topic: str | None = None
    dead_letter_topic: str | None = None
    metrics_topic: str | None = None
    alerts_topic: str | None = None
    models: list[str] = Field(default_factory=list)
    state_dir: str | None = None
    host: str = "127.0.0.1"
    port: int | None = Field(default=DEFAULT_MONITOR_PORT, ge=0, le=65535)
    tick_s: float = Field(default=10.0, gt=0)
    snapshot_s: float = Field(default=30.0, gt=0)
    records_per_poll: int = Field(default=5_000, ge=1)
    retention_s: float = Field(default=7 * 86_400.0, gt=0)
    max_rows: int = Field(default=5_000_000, ge=1)
    last_n: int = Field(default=1_000, ge=1)
    community_min_labels: int = Field(default=30, ge=1)
    max_skew_s: float = Field(default=86_400.0, gt=0)
    drift_window: int = Field(default=1_000, ge=10)
    drift_every: int = Field(default=100, ge=1)
    psi_raise: float = Field(default=0.25, gt=0)
    psi_clear: float = Field(default=0.15, gt=0)
    share_raise: float = Field(default=0.15, gt=0)
    share_clear: float = Field(default=0.10, gt=0)
    kafka_config: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _clear_below_raise(self) -> MonitorSettings:
        if self.psi_clear > self.psi_raise or self.share_clear > self.share_raise:
            raise ValueError("a drift alert's clear level must not be above its raise level")
        return self

    @property
    def dead_letter(self) -> str:
        """Bad decisions go here: the configured topic, or ``<decisions-topic>.dlq``."""
        return self.dead_letter_topic or f"{self.decisions_topic}.dlq"

    @property
    def prediction_topics(self) -> list[str]:
        """The output topic and, when given, the shadow topic."""
        return [t for t in (self.predictions_topic, self.shadow_topic) if t]

    def client_config(self) -> dict[str, str]:
        """librdkafka properties: the worker's security settings, this broker, extra ones."""
        stream = StreamSettings(bootstrap_servers=self.bootstrap_servers)
        return {**stream.client_config(), **self.kafka_config}
