"""Registry operations: give a version a role, roll back, retire (publishing: ``publish``).

Each operation reads the current state, checks the request against it (unknown version,
retired version, nothing to roll back to, ...) and records one or more events. A refused
request raises a ``ModstreamError`` with a one-line message and records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from modstream.errors import InvalidInput, NotFound
from modstream.registry import events as ev
from modstream.registry.client import Registry
from modstream.registry.events import ModelEvent
from modstream.registry.state import ModelState, VersionEntry

__all__ = ["RegistryAdmin"]


@dataclass
class RegistryAdmin:
    """The operations behind ``modstream models``, on one registry and one model name."""

    registry: Registry
    name: str | None = None

    def model_state(self, name: str | None = None) -> ModelState:
        name = name or self.name
        if name is None:
            raise InvalidInput("which model? pass --model-name")
        state = self.registry.state().model(name)
        if not state.versions:
            raise NotFound(f"model {name!r} has no published version in {self.registry.topic}")
        return state

    def retire(self, version: str) -> ModelEvent:
        state = self.model_state()
        entry = state.version(version)
        roles = state.roles_of(version)
        if roles:
            raise InvalidInput(f"version {version!r} is the {roles[0]}; give the role away first")
        event = ModelEvent(
            ev.RETIRED, state.name, version, uri=entry.uri, sha256=entry.sha256,
            preset=entry.preset, threshold=entry.threshold, created_at=entry.created_at,
        )  # fmt: skip
        self.registry.record(event)
        return event

    # -- roles ----------------------------------------------------------------------------
    def promote(self, version: str, *, unless_champion: bool = False) -> list[ModelEvent]:
        """Make ``version`` the champion; a canary or shadow of the same version ends.

        A version that already is the champion is refused, or, with ``unless_champion``,
        left so (no events returned).
        """
        state = self.model_state()
        _usable(state, version)
        if state.champion == version:
            if unless_champion:
                return []
            raise InvalidInput(f"version {version!r} is already the champion")
        lineage = [*state.lineage, state.champion] if state.champion else []
        return self._set_champion(state, version, lineage)

    def rollback(self, to: str | None = None) -> list[ModelEvent]:
        """Return to the previous champion (or to ``to``, which must be published)."""
        state = self.model_state()
        lineage = state.lineage
        if to is None:
            if not lineage:
                raise InvalidInput(f"model {state.name!r} has no earlier champion to roll back to")
            to = lineage[-1]
        _usable(state, to)
        if state.champion == to:
            raise InvalidInput(f"version {to!r} is already the champion")
        if to in lineage:
            lineage = lineage[: len(lineage) - 1 - lineage[::-1].index(to)]
        elif state.champion:
            lineage = [*lineage, state.champion]
        return self._set_champion(state, to, lineage)

    def _set_champion(
        self, state: ModelState, version: str, lineage: list[str]
    ) -> list[ModelEvent]:
        recorded = [ModelEvent(ev.CHAMPION, state.name, version).with_lineage(lineage)]
        for role in (ev.CANARY, ev.SHADOW):
            if state.role_version(role) == version:  # the role ends with the promotion
                recorded.append(ModelEvent(role, state.name, None))
        for event in recorded:
            self.registry.record(event)
        return recorded

    def canary(self, version: str | None, percent: float | None) -> ModelEvent:
        """Send ``percent`` % of comments to ``version``; ``None`` ends the canary."""
        state = self.model_state()
        if version is not None:
            _usable(state, version)
            _not_champion(state, version, ev.CANARY)
            if percent is None or not 0 < percent <= 100:
                raise InvalidInput(f"--percent must be in (0, 100], not {percent}")
        event = ModelEvent(ev.CANARY, state.name, version, percent=percent if version else None)
        self.registry.record(event)
        return event

    def shadow(self, version: str | None) -> ModelEvent:
        """Score every batch with ``version`` too (answers to the shadow topic); ``None`` ends it."""
        state = self.model_state()
        if version is not None:
            _usable(state, version)
            _not_champion(state, version, ev.SHADOW)
        event = ModelEvent(ev.SHADOW, state.name, version)
        self.registry.record(event)
        return event


def _usable(state: ModelState, version: str) -> VersionEntry:
    entry = state.version(version)
    if entry.retired:
        raise InvalidInput(f"version {version!r} is retired; publish it again to use it")
    return entry


def _not_champion(state: ModelState, version: str, role: str) -> None:
    if state.champion == version:
        raise InvalidInput(f"version {version!r} is the champion; it cannot also be the {role}")
