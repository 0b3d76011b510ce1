"""Settings of ``modstream serve`` (REST + gRPC) and of the seldon-core wrapper class."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from modstream.settings import defaults

__all__ = ["ServeSettings"]


class ServeSettings(BaseSettings):
    """REST/gRPC server settings; ``MODSTREAM_*`` or Seldon's ``PREDICTIVE_UNIT_*`` names.

    ``MODSTREAM_MODEL`` (the artifact directory), ``MODSTREAM_HOST``,
    ``MODSTREAM_HTTP_PORT`` / ``PREDICTIVE_UNIT_HTTP_SERVICE_PORT``,
    ``MODSTREAM_GRPC_PORT`` / ``PREDICTIVE_UNIT_GRPC_SERVICE_PORT`` (0 disables gRPC),
    ``MODSTREAM_MAX_BATCH_TEXTS`` (texts per model call; ``MODSTREAM_MAX_BATCH`` is the
    old name), ``MODSTREAM_MAX_WAIT_MS``, ``MODSTREAM_MAX_BODY_BYTES``,
    ``MODSTREAM_GRPC_MAX_MESSAGE_BYTES``, ``MODSTREAM_MAX_TEXT_CHARS``,
    ``MODSTREAM_SHUTDOWN_GRACE_S``. Defaults are in ``modstream.settings.defaults``.
    """

    model_config = SettingsConfigDict(
        env_prefix="MODSTREAM_", extra="ignore", populate_by_name=True
    )

    model: str | None = Field(
        default=None, validation_alias=AliasChoices("MODSTREAM_MODEL", "model")
    )
    host: str = defaults.HOST
    http_port: int = Field(
        default=defaults.HTTP_PORT,
        ge=0,
        le=65535,
        validation_alias=AliasChoices(
            "MODSTREAM_HTTP_PORT", "PREDICTIVE_UNIT_HTTP_SERVICE_PORT", "http_port"
        ),
    )
    grpc_port: int = Field(
        default=defaults.GRPC_PORT,
        ge=0,
        le=65535,
        validation_alias=AliasChoices(
            "MODSTREAM_GRPC_PORT", "PREDICTIVE_UNIT_GRPC_SERVICE_PORT", "grpc_port"
        ),
    )
    max_batch_texts: int = Field(
        default=defaults.MAX_BATCH_TEXTS,
        ge=1,
        validation_alias=AliasChoices(
            "MODSTREAM_MAX_BATCH_TEXTS", "MODSTREAM_MAX_BATCH", "max_batch_texts"
        ),
    )
    max_wait_ms: float = Field(default=defaults.MAX_WAIT_MS, ge=0)
    max_body_bytes: int = Field(default=defaults.MAX_BODY_BYTES, ge=1)
    grpc_max_message_bytes: int = Field(default=defaults.GRPC_MAX_MESSAGE_BYTES, ge=1)
    max_text_chars: int = Field(default=defaults.MAX_TEXT_CHARS, ge=1, le=1_000_000)
    shutdown_grace_s: float = Field(default=defaults.SHUTDOWN_GRACE_S, ge=0)
