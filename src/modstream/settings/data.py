"""Settings of dataset reading (download cache)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class DataSettings(BaseSettings):
    """``MODSTREAM_CACHE_DIR``: where downloaded datasets are kept."""

    model_config = SettingsConfigDict(env_prefix="MODSTREAM_", extra="ignore")

    cache_dir: Path = Path.home() / ".cache" / "modstream"
