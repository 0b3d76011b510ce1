"""Prometheus metrics of the registry follower: roles in use, swaps and refusals."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from modstream.registry.modelset import ModelSet

ROLE = Gauge(
    "modstream_model_role_info",
    "The version in each role this instance scores with (value 1; canary: its percent)",
    ["role", "version"],
)
SWAPS = Counter("modstream_model_swaps", "Times this instance switched to a new model set")
REFUSED = Counter(
    "modstream_model_refused",
    "Versions this instance refused to load (checksum, incompatible, failed warm-up)",
    ["version"],
)


def observe_set(models: ModelSet) -> None:
    """Record the roles of the set now in use."""
    ROLE.clear()
    for role, version in models.versions().items():
        ROLE.labels(role, version).set(models.canary_percent if role == "canary" else 1)
