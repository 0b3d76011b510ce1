"""The registry's current state, folded from its events in topic order.

``RegistryState.apply`` is the only place that interprets events; the commands, the
followers in workers and servers, and the dashboard all read the state it builds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from modstream.errors import NotFound
from modstream.registry import events as ev
from modstream.registry.events import ModelEvent

__all__ = ["Desired", "ModelState", "RegistryState", "VersionEntry"]


@dataclass(frozen=True)
class VersionEntry:
    """A published (or retired) version and where its artifact is."""

    version: str
    uri: str
    sha256: str
    preset: str | None
    threshold: float | None
    created_at: str | None
    published_at: str
    retired: bool = False

    @classmethod
    def from_event(cls, event: ModelEvent) -> VersionEntry:
        assert event.version and event.uri and event.sha256
        return cls(
            version=event.version,
            uri=event.uri,
            sha256=event.sha256,
            preset=event.preset,
            threshold=event.threshold,
            created_at=event.created_at,
            published_at=event.at,
            retired=event.type == ev.RETIRED,
        )


@dataclass(frozen=True)
class Desired:
    """What an instance should run now; ``issued`` says which role events asked for it."""

    champion: VersionEntry | None
    canary: VersionEntry | None = None
    canary_percent: float = 0.0
    shadow: VersionEntry | None = None
    issued: tuple[str, ...] = ()


@dataclass
class ModelState:
    """Everything the registry knows about one model name."""

    name: str
    versions: dict[str, VersionEntry] = field(default_factory=dict)
    roles: dict[str, ModelEvent] = field(default_factory=dict)
    refusals: dict[str, dict[str, ModelEvent]] = field(default_factory=dict)

    def version(self, version: str) -> VersionEntry:
        """The entry of ``version``; ``NotFound`` when it was never published."""
        entry = self.versions.get(version)
        if entry is None:
            known = ", ".join(sorted(self.versions)) or "none"
            raise NotFound(
                f"version {version!r} of model {self.name!r} is not published (published: {known})"
            )
        return entry

    def role_version(self, role: str) -> str | None:
        event = self.roles.get(role)
        return event.version if event is not None else None

    @property
    def champion(self) -> str | None:
        return self.role_version(ev.CHAMPION)

    @property
    def lineage(self) -> list[str]:
        event = self.roles.get(ev.CHAMPION)
        return list(event.lineage) if event is not None else []

    def roles_of(self, version: str) -> list[str]:
        """The roles ``version`` holds now (champion, canary, shadow), in that order."""
        return [role for role in ev.ROLES if self.effective(role) == version]

    def effective(self, role: str) -> str | None:
        """The version in ``role``; a canary or shadow equal to the champion is no role."""
        version = self.role_version(role)
        if role != ev.CHAMPION and version == self.champion:
            return None
        return version

    def desired(self) -> Desired:
        """What an instance should run, from the role events (missing versions are skipped)."""
        canary = self.roles.get(ev.CANARY)
        return Desired(
            champion=self._entry(ev.CHAMPION),
            canary=self._entry(ev.CANARY),
            canary_percent=float(canary.percent or 0.0) if canary else 0.0,
            shadow=self._entry(ev.SHADOW),
            issued=tuple(self.roles[role].at for role in ev.ROLES if role in self.roles),
        )

    def _entry(self, role: str) -> VersionEntry | None:
        version = self.effective(role)
        return self.versions.get(version) if version else None

    def apply(self, event: ModelEvent) -> None:
        if event.type in (ev.PUBLISHED, ev.RETIRED):
            self.versions[str(event.version)] = VersionEntry.from_event(event)
        elif event.type in ev.ROLES:
            self.roles[event.type] = event
        elif event.type == ev.REFUSED:
            self.refusals.setdefault(str(event.version), {})[str(event.instance)] = event


class RegistryState:
    """The state of every model name in one registry topic."""

    def __init__(self, events: Iterable[ModelEvent] = ()) -> None:
        self.models: dict[str, ModelState] = {}
        self.offset = -1  # the last topic offset folded in (-1: nothing yet)
        for event in events:
            self.apply(event)

    def apply(self, event: ModelEvent, offset: int | None = None) -> None:
        """Fold one event in; events must arrive in topic order."""
        self.model(event.model).apply(event)
        if offset is not None:
            self.offset = offset

    def model(self, name: str) -> ModelState:
        """The state of ``name`` (empty when the registry has never heard of it)."""
        state = self.models.get(name)
        if state is None:
            state = self.models[name] = ModelState(name)
        return state
