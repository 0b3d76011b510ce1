"""Settings of ``modstream serve`` (REST + gRPC)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServeSettings(BaseSettings):
    """REST/gRPC server settings; ``MODSTREAM_*`` or Seldon's ``PREDICTIVE_UNIT_*`` names."""

    model_config = SettingsConfigDict(
        env_prefix="MODSTREAM_", extra="ignore", populate_by_name=True
    )

    model: str | None = Field(
        default=None, validation_alias=AliasChoices("MODSTREAM_MODEL", "model")
    )
    host: str = "127.0.0.1"
    http_port: int = Field(
        default=9000,
        validation_alias=AliasChoices(
            "MODSTREAM_HTTP_PORT", "PREDICTIVE_UNIT_HTTP_SERVICE_PORT", "http_port"
        ),
    )
    grpc_port: int = Field(
        default=5000,
        validation_alias=AliasChoices(
            "MODSTREAM_GRPC_PORT", "PREDICTIVE_UNIT_GRPC_SERVICE_PORT", "grpc_port"
        ),
    )
    max_batch: int = 64
    max_wait_ms: float = 2.0
    max_body_bytes: int = 1_048_576
    grpc_max_message_bytes: int = 4_194_304
