"""``modstream up``'s model registry: the starting model published and promoted, so the
worker and the server follow the registry from the start and the dashboard can roll out
and roll back versions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from modstream.registry.admin import RegistryAdmin
from modstream.registry.client import Registry
from modstream.settings import DataSettings, RegistrySettings, UpSettings
from modstream.up.models import ModelChoice


def registry_store(settings: UpSettings, workdir: Path) -> Path:
    """Where ``up`` copies the model it publishes.

    The embedded broker's registry ends with ``up``, and so may the copy: ``<workdir>/registry``.
    An existing Kafka's registry outlives ``up``, and instances load a version from the
    path its entry names, so there the copy must outlive it too: ``MODSTREAM_REGISTRY_STORE``
    or ``<cache dir>/registry`` (``~/.cache/modstream/registry``). A later ``up`` can then
    roll back to a version an earlier one published.
    """
    if not settings.bootstrap_servers:
        return workdir / "registry"
    return RegistrySettings().registry_store or DataSettings().cache_dir / "registry"


def publish_champion(
    settings: UpSettings,
    client_config: dict[str, str],
    choice: ModelChoice,
    workdir: Path,
    say: Callable[[str], None],
) -> None:
    """Publish ``choice`` (copied into ``registry_store``) and make it the champion.

    On an existing Kafka a registry may already name it champion (an earlier ``up`` with
    the same model): it is published again, and stays champion.
    """
    from modstream.registry.publish import publish  # the model stack: after the broker starts

    registry = Registry(client_config, settings.models_topic)
    store = registry_store(settings, workdir)
    event = publish(registry, str(choice.path), cache=workdir / "cache", store=store)
    version, where = str(event.version), settings.models_topic
    if RegistryAdmin(registry, event.model).promote(version, unless_champion=True):
        say(f"model {event.model} {version} is the champion in {where}")
    else:
        say(f"model {event.model} {version} is already the champion in {where}")
