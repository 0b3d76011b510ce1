"""``modstream up``'s model registry: the starting model published and promoted, so the
worker and the server follow the registry from the start and the dashboard can roll out
and roll back versions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from modstream.registry.admin import RegistryAdmin
from modstream.registry.client import Registry
from modstream.registry.publish import publish
from modstream.settings import UpSettings
from modstream.up.models import ModelChoice


def publish_champion(
    settings: UpSettings,
    client_config: dict[str, str],
    choice: ModelChoice,
    workdir: Path,
    say: Callable[[str], None],
) -> None:
    """Publish ``choice`` (copied into ``<workdir>/registry``) and make it the champion.

    On an existing Kafka a registry may already name it champion (an earlier ``up`` with
    the same model): it is published again, so its entry points at this run's copy, and
    stays champion.
    """
    registry = Registry(client_config, settings.models_topic)
    event = publish(registry, str(choice.path), cache=workdir / "cache", store=workdir / "registry")
    version, where = str(event.version), settings.models_topic
    if RegistryAdmin(registry, event.model).promote(version, unless_champion=True):
        say(f"model {event.model} {version} is the champion in {where}")
    else:
        say(f"model {event.model} {version} is already the champion in {where}")
