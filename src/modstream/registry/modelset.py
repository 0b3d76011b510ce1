"""The models an instance scores with at one moment, and which comment goes to which.

A ``ModelSet`` is immutable: an instance replaces the whole set in one assignment, and a
batch keeps the set it started with, so no batch ever mixes versions.

Canary routing hashes the comment id (the record key, or the request's own id): the
first 8 bytes of its SHA-256, read as a number in [0, 100), go to the canary when below
its percent. The same id lands in the same place on every worker, process and restart,
and raising the percent keeps every comment already on the canary there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modstream.registry.events import CANARY, CHAMPION, SHADOW

if TYPE_CHECKING:  # the data plane imports this module; keep it free of the model stack
    from modstream.model import TextModel

_SCALE = 100.0 / 2**64

__all__ = ["ModelSet", "canary_point"]


def canary_point(comment_id: str) -> float:
    """Where ``comment_id`` falls in [0, 100): stable across processes and machines."""
    digest = hashlib.sha256(comment_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") * _SCALE


@dataclass(frozen=True)
class ModelSet:
    """A champion, and optionally a canary (answering ``canary_percent`` %) and a shadow."""

    champion: TextModel
    canary: TextModel | None = None
    canary_percent: float = 0.0
    shadow: TextModel | None = None

    def role_of(self, comment_id: str | None) -> str:
        """``canary`` or ``champion``: who answers this comment (no id: the champion)."""
        if self.canary is None or comment_id is None or self.canary_percent <= 0:
            return CHAMPION
        return CANARY if canary_point(comment_id) < self.canary_percent else CHAMPION

    def route(self, comment_ids: Sequence[str | None]) -> list[str]:
        return [self.role_of(comment_id) for comment_id in comment_ids]

    def model(self, role: str) -> TextModel:
        """The model in ``role``; ``KeyError`` when that role is empty."""
        chosen = {CHAMPION: self.champion, CANARY: self.canary, SHADOW: self.shadow}.get(role)
        if chosen is None:
            raise KeyError(role)
        return chosen

    def versions(self) -> dict[str, str]:
        """``{role: version}`` for each role that is filled."""
        roles = {CHAMPION: self.champion, CANARY: self.canary, SHADOW: self.shadow}
        return {role: model.version for role, model in roles.items() if model is not None}

    def describe(self) -> str:
        parts = [f"champion {self.champion.version}"]
        if self.canary is not None:
            parts.append(f"canary {self.canary.version} ({self.canary_percent:g}%)")
        if self.shadow is not None:
            parts.append(f"shadow {self.shadow.version}")
        return ", ".join(parts)
