"""An instance (stream worker or model server) following one model of a registry.

``follow_registry`` reads the models topic to its end, loads and verifies the champion
(and canary and shadow) it names, and keeps following it: each later event is folded in,
and the new wish is handed to the ``ModelManager``, which swaps in the background.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from modstream.errors import ArtifactError, InvalidInput, ModstreamError
from modstream.model import TextModel
from modstream.registry import events as ev
from modstream.registry.client import Registry
from modstream.registry.events import ModelEvent
from modstream.registry.loader import load_version
from modstream.registry.manager import ModelManager, OnSwap
from modstream.registry.modelset import ModelSet
from modstream.registry.state import Desired, RegistryState, VersionEntry
from modstream.registry.table import TableFollower

log = logging.getLogger(__name__)

__all__ = ["FollowedModels", "RegistryFollower", "follow_registry"]


class RegistryFollower:
    """Folds a models topic into a ``RegistryState`` and tells ``manager`` what ``name`` needs."""

    def __init__(self, registry: Registry, name: str, manager: ModelManager) -> None:
        self.name = name
        self.manager = manager
        self.state = RegistryState()
        self._last: Desired | None = None
        self._table = TableFollower(
            registry.config,
            registry.topic,
            self._fold,
            on_settled=self._settled,
            name="modstream-registry",
        )

    @property
    def caught_up(self) -> bool:
        return self._table.caught_up.is_set()

    def start(self) -> RegistryFollower:
        self._table.start()
        return self

    def wait_caught_up(self, timeout: float) -> bool:
        return self._table.wait_caught_up(timeout)

    def stop(self) -> None:
        self._table.stop()

    @property
    def refused(self) -> ModstreamError | None:
        """Why it no longer follows: the cluster refused its login (see ``TableFollower``)."""
        return self._table.refused

    def _fold(self, message: Any) -> None:
        try:
            event = ModelEvent.from_json(message.value())
        except InvalidInput as exc:
            log.warning("registry offset %s skipped: %s", message.offset(), exc)
            return
        self.state.apply(event, int(message.offset()))

    def _settled(self) -> None:
        desired = self.state.model(self.name).desired()
        if desired != self._last:
            self._last = desired
            self.manager.want(desired)


@dataclass
class FollowedModels:
    """The running follower and manager of one instance; ``current`` is its model set."""

    manager: ModelManager
    follower: RegistryFollower

    @property
    def current(self) -> ModelSet | None:
        return self.manager.current

    def stop(self) -> None:
        self.follower.stop()
        self.manager.stop()


def follow_registry(
    config: dict[str, str],
    topic: str,
    name: str,
    *,
    cache: Path,
    instance: str,
    initial: TextModel | None = None,
    on_swap: OnSwap | None = None,
    startup_timeout: float = 60.0,
) -> FollowedModels:
    """Start following ``name`` in ``topic``; returns once the first model set is ready.

    The registry's champion wins over ``initial`` (the ``--model`` of the command), which
    serves only while the registry has none. ``ArtifactError`` when neither gives a model.
    """
    registry = Registry(config, topic)

    def report(entry: VersionEntry, reason: str) -> None:
        registry.record(
            ModelEvent(ev.REFUSED, name, entry.version, instance=instance, reason=reason)
        )

    manager = ModelManager(
        partial(load_version, model_name=name, cache=cache),
        initial=ModelSet(initial) if initial is not None else None,
        on_refused=report,
        on_swap=on_swap,
    )
    follower = RegistryFollower(registry, name, manager).start()
    followed = FollowedModels(manager.start(), follower)
    if not (follower.wait_caught_up(startup_timeout) and manager.settle(startup_timeout)):
        followed.stop()
        if follower.refused is not None:
            raise follower.refused
        raise ArtifactError(f"could not read the registry topic {topic!r} in {startup_timeout:g}s")
    if manager.current is None:
        followed.stop()
        raise ArtifactError(
            f"no model to run: {topic!r} has no champion for {name!r} that loads, and no "
            "--model was given"
        )
    log.info("following %s in %s: %s", name, topic, manager.current.describe())
    return followed


def start_following(
    client_config: dict[str, str],
    *,
    kind: str,
    index: int = 0,
    initial: TextModel | None = None,
    models_topic: str | None = None,
    model_name: str | None = None,
) -> FollowedModels:
    """``follow_registry`` configured from the settings (``RegistrySettings``, cache dir).

    ``kind`` and ``index`` name the instance in refusal reports (``<host>:<kind>-<index>``)
    unless ``MODSTREAM_INSTANCE`` names it.
    """
    from modstream.settings import DataSettings, RegistrySettings

    settings = RegistrySettings()
    instance = settings.instance or f"{socket.gethostname()}:{kind}-{index}"
    return follow_registry(
        client_config,
        models_topic or settings.models_topic,
        model_name or settings.model_name,
        cache=DataSettings().cache_dir,
        instance=instance,
        initial=initial,
        startup_timeout=settings.registry_startup_timeout_s,
    )
