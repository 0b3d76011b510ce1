"""Settings of the model registry: its topic, the model followed, the artifact store.

``MODSTREAM_REGISTRY`` (``true``: workers and servers follow the registry),
``MODSTREAM_SHADOW_TOPIC`` (where a worker writes the shadow's answers; default
``<output-topic>.shadow``),
``MODSTREAM_MODELS_TOPIC`` (default ``modstream-models``; its history is
``<topic>.history``), ``MODSTREAM_MODEL_NAME`` (the model a worker or server follows,
default ``moderation``), ``MODSTREAM_REGISTRY_STORE`` (directory ``publish`` copies
artifacts into; unset: artifacts are referenced where they are),
``MODSTREAM_REGISTRY_STARTUP_TIMEOUT_S`` (how long an instance waits for the registry and
its first model at start-up) and ``MODSTREAM_INSTANCE`` (the name an instance reports
refusals under; default ``<host>:<command>-<index>``). Downloads of artifacts published
at URLs go to ``<MODSTREAM_CACHE_DIR>/models``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from modstream.settings import defaults


class RegistrySettings(BaseSettings):
    """Where the registry lives and what an instance follows in it."""

    model_config = SettingsConfigDict(
        env_prefix="MODSTREAM_", extra="ignore", populate_by_name=True
    )

    follow: bool = Field(
        default=False, validation_alias=AliasChoices("MODSTREAM_REGISTRY", "follow")
    )
    shadow_topic: str | None = None
    models_topic: str = Field(default=defaults.MODELS_TOPIC, min_length=1)
    model_name: str = Field(default=defaults.MODEL_NAME, min_length=1)
    registry_store: Path | None = None
    registry_startup_timeout_s: float = Field(default=60.0, gt=0)
    instance: str | None = None
