"""Moderation policy: keep, review or remove, from two thresholds on P(removed).

A comment is **removed** when P(removed) ≥ the removal threshold, sent to **review** when
it is ≥ the review threshold (and below removal), and **kept** otherwise. Each threshold
may be set for all communities (``*``) and overridden per community; a threshold left
unset falls back to the default, and the removal threshold finally to the answering
model's own (the one stored in its artifact), so without any policy the decision is
exactly the model's. A review threshold above the removal threshold means no review band.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from modstream.errors import InvalidInput

KEEP = "keep"
REVIEW = "review"
REMOVE = "remove"
DECISIONS = (KEEP, REVIEW, REMOVE)
DEFAULT = "*"  # the community name of the policy for every community

__all__ = ["DECISIONS", "DEFAULT", "KEEP", "REMOVE", "REVIEW", "Policy", "Thresholds", "severest"]


@dataclass(frozen=True)
class Thresholds:
    """The removal and review thresholds on P(removed); ``None`` inherits."""

    remove: float | None = None
    review: float | None = None

    @classmethod
    def parse(cls, body: Any, where: str) -> Thresholds:
        """From ``{"remove": 0.8, "review": 0.5}``; ``InvalidInput`` names ``where``."""
        if not isinstance(body, dict) or set(body) - {"remove", "review"}:
            raise InvalidInput(f"{where}: expected an object with 'remove' and/or 'review'")
        values = {}
        for name in ("remove", "review"):
            value = body.get(name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1
            ):
                raise InvalidInput(
                    f"{where}: {name} must be a probability in [0, 1], not {value!r}"
                )
            values[name] = None if value is None else float(value)
        return cls(**values)

    @classmethod
    def from_json(cls, raw: bytes | str, where: str) -> Thresholds:
        return cls.parse(_json(raw, where), where)

    def to_dict(self) -> dict[str, float]:
        return {
            k: v for k, v in (("remove", self.remove), ("review", self.review)) if v is not None
        }

    def over(self, base: Thresholds) -> Thresholds:
        """These thresholds, with the unset ones taken from ``base``."""
        return Thresholds(
            self.remove if self.remove is not None else base.remove,
            self.review if self.review is not None else base.review,
        )


@dataclass(frozen=True)
class Decision:
    """A decision and the thresholds that made it."""

    decision: str
    remove_at: float
    review_at: float


@dataclass(frozen=True)
class Policy:
    """Thresholds for every community (``*``) and per community."""

    rules: Mapping[str, Thresholds] = field(default_factory=dict)

    @classmethod
    def from_json(cls, raw: bytes | str, where: str = "policy") -> Policy:
        """A policy document ``{"*": {...}, "<community>": {...}}``."""
        body = _json(raw, where)
        if not isinstance(body, dict):
            raise InvalidInput(f"{where}: expected an object of community -> thresholds")
        return cls({str(k): Thresholds.parse(v, f"{where} [{k}]") for k, v in body.items()})

    def to_dict(self) -> dict[str, dict[str, float]]:
        return {name: rule.to_dict() for name, rule in sorted(self.rules.items())}

    def thresholds(self, community: str | None) -> Thresholds:
        """The thresholds that apply in ``community`` (its own, then the default's)."""
        default = self.rules.get(DEFAULT, _UNSET)
        own = self.rules.get(community) if community else None
        return own.over(default) if own is not None else default

    def decide(self, p_removed: float, model_threshold: float, community: str | None) -> Decision:
        """Keep, review or remove one comment."""
        return self.decide_each((p_removed,), model_threshold, community)[0]

    def decide_each(
        self, p_removed: Iterable[float], model_threshold: float, community: str | None
    ) -> tuple[Decision, ...]:
        """Keep, review or remove each comment of one community scored by one model (the
        thresholds are looked up once, not per comment)."""
        rule = self.thresholds(community)
        remove_at = rule.remove if rule.remove is not None else model_threshold
        review_at = min(rule.review, remove_at) if rule.review is not None else remove_at
        return tuple(
            Decision(
                REMOVE if p >= remove_at else REVIEW if p >= review_at else KEEP,
                remove_at,
                review_at,
            )
            for p in p_removed
        )


_UNSET = Thresholds()  # a community without rules of its own, and no default rules


def severest(decisions: list[str]) -> str:
    """The strongest of several decisions (remove > review > keep); keep when empty."""
    return max(decisions, key=DECISIONS.index, default=KEEP)


def _json(raw: bytes | str, where: str) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{where} is not JSON: {exc}") from exc
