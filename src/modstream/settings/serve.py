"""Settings of ``modstream serve`` (REST + gRPC) and of the seldon-core wrapper class."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServeSettings(BaseSettings):
    """REST/gRPC server settings; ``MODSTREAM_*`` or Seldon's ``PREDICTIVE_UNIT_*`` names.

    ``MODSTREAM_MODEL`` (the artifact directory), ``MODSTREAM_HOST``,
    ``MODSTREAM_HTTP_PORT`` / ``PREDICTIVE_UNIT_HTTP_SERVICE_PORT``,
    ``MODSTREAM_GRPC_PORT`` / ``PREDICTIVE_UNIT_GRPC_SERVICE_PORT`` (0 disables gRPC),
    ``MODSTREAM_MAX_BATCH_TEXTS`` (formerly ``MODSTREAM_MAX_BATCH``), ``MODSTREAM_MAX_WAIT_MS``, ``MODSTREAM_MAX_BODY_BYTES``,
    ``MODSTREAM_GRPC_MAX_MESSAGE_BYTES``, ``MODSTREAM_MAX_TEXT_CHARS``,
    ``MODSTREAM_SHUTDOWN_GRACE_S``.
    """

    model_config = SettingsConfigDict(
        env_prefix="MODSTREAM_", extra="ignore", populate_by_name=True
    )

    model: str | None = Field(
        default=None, validation_alias=AliasChoices("MODSTREAM_MODEL", "model")
    )
    host: str = "127.0.0.1"
    http_port: int = Field(
        default=9000,
        ge=0,
        le=65535,
        validation_alias=AliasChoices(
            "MODSTREAM_HTTP_PORT", "PREDICTIVE_UNIT_HTTP_SERVICE_PORT", "http_port"
        ),
    )
    grpc_port: int = Field(
        default=5000,
        ge=0,
        le=65535,
        validation_alias=AliasChoices(
            "MODSTREAM_GRPC_PORT", "PREDICTIVE_UNIT_GRPC_SERVICE_PORT", "grpc_port"
        ),
    )
    max_batch_texts: int = Field(
        default=64,
        ge=1,
        validation_alias=AliasChoices(
            "MODSTREAM_MAX_BATCH_TEXTS", "MODSTREAM_MAX_BATCH", "max_batch_texts"
        ),
    )
    max_wait_ms: float = Field(default=2.0, ge=0)
    max_body_bytes: int = Field(default=1_048_576, ge=1)
    grpc_max_message_bytes: int = Field(default=4_194_304, ge=1)
    max_text_chars: int = Field(default=100_000, ge=1, le=1_000_000)
    shutdown_grace_s: float = Field(default=10.0, ge=0)
