"""Explanations in words a moderator reads: which words pushed a score, and which way.

Shared by the review queue and the dashboard. A leaf module: the model stack is not
imported (contributions only need ``feature`` and ``weight``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

__all__ = ["plain_reasons"]


class _Push(Protocol):
    @property
    def feature(self) -> str: ...

    @property
    def weight(self) -> float: ...


def plain_reasons(contributions: Iterable[_Push], top: int) -> list[dict[str, Any]]:
    """Merge pushes of the same words (as n-gram and by spelling); strongest first."""
    merged: dict[str, float] = {}
    for c in contributions:
        merged[c.feature] = merged.get(c.feature, 0.0) + c.weight
    strongest = sorted(merged.items(), key=lambda item: -abs(item[1]))[:top]
    return [
        {"text": text, "push": round(weight, 4), "towards": "removal" if weight > 0 else "keeping"}
        for text, weight in strongest
        if weight != 0.0
    ]
