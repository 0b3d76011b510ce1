"""Settings of the moderation policy and the review queue.

``MODSTREAM_POLICY_FILE`` (a JSON policy, re-read when it changes) or
``MODSTREAM_POLICIES_TOPIC`` (a compacted topic keyed by community), the file winning
when both are set; neither: every decision uses the answering model's threshold.
``MODSTREAM_REVIEW_TOPIC`` (where review-band comments go with their explanation; unset:
nowhere) and ``MODSTREAM_REVIEW_TOP`` (how many n-grams explain a comment, default 5).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PolicySettings(BaseSettings):
    """Where the policy is read from and where review-band comments are sent."""

    model_config = SettingsConfigDict(
        env_prefix="MODSTREAM_", extra="ignore", populate_by_name=True
    )

    policy_file: Path | None = None
    policies_topic: str | None = None
    review_topic: str | None = None
    review_top: int = Field(default=5, ge=1, le=50)
