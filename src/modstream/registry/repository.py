"""The V2 model repository extension over the registry: index, load, unload.

``index`` lists every published version of the followed model with its state here
(``READY`` when this server scores with it, else ``UNAVAILABLE``) and why. ``load`` and
``unload`` drive the registry, so every worker and server follows the change, then wait
until this server has switched (or refused): a load that returns 200 is being served.

``load`` parameters: ``version`` (omitted: only check that the champion is ready),
``role`` (``champion`` by default, ``canary`` with ``percent``, or ``shadow``).
``unload`` parameters: ``role`` (``canary`` or ``shadow``; the champion cannot be unloaded,
promote or roll back instead). A server without a registry serves its one model: it is
always loaded and cannot be changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from modstream.errors import ArtifactError, InvalidInput, ModstreamError, NotFound
from modstream.registry import events as ev
from modstream.registry.modelset import ModelSet

log = logging.getLogger(__name__)

READY = "READY"
UNAVAILABLE = "UNAVAILABLE"
SWITCH_TIMEOUT_S = 60.0

__all__ = ["ModelRepository", "RegistryLink"]


@dataclass
class RegistryLink:
    """What the repository needs from a followed registry (see ``follow.FollowedModels``)."""

    followed: Any  # FollowedModels: state, wishes, refusals
    admin: Any  # RegistryAdmin: the writes


class ModelRepository:
    """Index, load and unload for the model ``name`` that ``models`` (a getter) serves."""

    def __init__(
        self, name: str, models: Callable[[], ModelSet], link: RegistryLink | None = None
    ) -> None:
        self.name = name
        self.models = models
        self.link = link

    def index(self) -> list[dict[str, str]]:
        """One entry per version: ``name``, ``version``, ``state``, ``reason``."""
        loaded = {version: role for role, version in self.models().versions().items()}
        if self.link is None:
            return [_entry(self.name, v, READY, role) for v, role in loaded.items()]
        state = self.link.followed.follower.state.model(self.name)
        entries = []
        for version, entry in sorted(state.versions.items()):
            refusal = self.link.followed.manager.refusal(version)
            if version in loaded:
                entries.append(_entry(self.name, version, READY, loaded[version]))
            elif refusal is not None:
                entries.append(_entry(self.name, version, UNAVAILABLE, f"refused: {refusal}"))
            else:
                reason = "retired" if entry.retired else "published"
                entries.append(_entry(self.name, version, UNAVAILABLE, reason))
        return entries

    def load(self, name: str, parameters: dict[str, Any]) -> None:
        """Give ``parameters['version']`` its role in the registry and wait until it serves here."""
        self._check_name(name)
        version, role = parameters.get("version"), parameters.get("role", ev.CHAMPION)
        if role not in ev.ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ev.ROLES)}, not {role!r}")
        if version is None or self.models().versions().get(role) == version:
            return
        if self.link is None:
            raise InvalidInput("this server has no registry: it serves only its own model")
        admin, since = self.link.admin, time.monotonic()  # a refusal may beat our return
        if role == ev.CHAMPION:
            admin.promote(str(version))
        elif role == ev.CANARY:
            admin.canary(str(version), _percent(parameters.get("percent")))
        else:
            admin.shadow(str(version))
        self._wait(lambda models: models.versions().get(role) == version, str(version), since)

    def unload(self, name: str, parameters: dict[str, Any]) -> None:
        """End the canary or shadow role in the registry and wait until it is gone here."""
        self._check_name(name)
        role = parameters.get("role")
        if role not in (ev.CANARY, ev.SHADOW):
            raise InvalidInput(
                "unload takes parameters.role canary or shadow; the champion is replaced "
                "by loading another version or by a rollback"
            )
        if self.link is None:
            raise InvalidInput("this server has no registry: it serves only its own model")
        since = time.monotonic()
        if role == ev.CANARY:
            self.link.admin.canary(None, None)
        else:
            self.link.admin.shadow(None)
        self._wait(lambda models: role not in models.versions(), None, since)

    def _check_name(self, name: str) -> None:
        if name != self.name:
            raise NotFound(f"model {name!r} is not in this repository (it holds {self.name!r})")

    def _wait(self, done: Callable[[ModelSet], bool], version: str | None, since: float) -> None:
        """Until this server's models satisfy ``done``, or ``version`` was refused here
        after ``since``."""
        assert self.link is not None
        manager = self.link.followed.manager
        deadline = since + SWITCH_TIMEOUT_S
        while time.monotonic() < deadline:
            if done(self.models()):
                return
            refused = manager.refusal(version, since) if version is not None else None
            if refused is not None:
                raise ArtifactError(f"version {version!r} was refused here: {refused}")
            time.sleep(0.02)
        raise ModstreamError(
            f"the registry changed but this server has not switched in {SWITCH_TIMEOUT_S:g}s",
            status=504,
            reason="TIMEOUT",
        )


def _entry(name: str, version: str, state: str, reason: str) -> dict[str, str]:
    return {"name": name, "version": version, "state": state, "reason": reason}


def _percent(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidInput("a canary needs parameters.percent, a number in (0, 100]")
    try:
        return float(value)
    except ValueError as exc:
        raise InvalidInput(f"percent must be a number, not {value!r}") from exc
