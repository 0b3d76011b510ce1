"""Drift without labels: live traffic of each model version against its training reference.

For each version the monitor keeps the last ``window`` predictions (score, text length,
out-of-vocabulary share) and, every ``every`` new predictions once the window is full,
compares them with the reference stored in the artifact:

- the population stability index (PSI) of each of the three, over the reference's
  quantile bins: ``sum((live - ref) * ln(live / ref))`` with shares floored at 1e-4;
- the share the model predicts removed against the share it predicted removed on
  held-out training rows (the training base rate is reported beside it; the threshold
  is not chosen to match the base rate, so the model's own held-out share is the fair
  baseline).

An alert is raised when any PSI reaches ``psi_raise`` or the share moves by
``share_raise`` or more, and cleared when every statistic is back under its ``*_clear``
level (hysteresis, so a window on the edge does not flap).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["DriftAlert", "DriftDetector", "DriftThresholds"]

FEATURES = ("score", "chars", "oov")
FLOOR = 1e-4


@dataclass(frozen=True)
class DriftThresholds:
    """When an alert is raised and cleared (see the module docstring)."""

    window: int = 1_000
    every: int = 100
    psi_raise: float = 0.25
    psi_clear: float = 0.15
    share_raise: float = 0.15
    share_clear: float = 0.10


@dataclass(frozen=True)
class DriftAlert:
    """A change of alert state of one version, with the statistics that caused it."""

    version: str
    raised: bool
    clock: float
    statistics: dict[str, float | None]
    breached: list[str]


def psi(reference: np.ndarray, live: np.ndarray) -> float:
    """Population stability index of two vectors of bin shares."""
    a = np.maximum(live, FLOOR)
    b = np.maximum(reference, FLOOR)
    return float(np.sum((a - b) * np.log(a / b)))


@dataclass
class DriftWindow:
    """The live window and alert state of one model version."""

    values: np.ndarray  # (window, 3): score, chars, oov (NaN when a record lacked it)
    seen: int = 0
    active: bool = False
    statistics: dict[str, float | None] = field(default_factory=dict)
    changed_at: float | None = None


class DriftDetector:
    """Windows and alert states of every version, against ``references`` (by version)."""

    def __init__(
        self, references: dict[str, dict[str, Any]], thresholds: DriftThresholds | None = None
    ) -> None:
        self.references = {v: ref for v, ref in references.items() if "score" in ref}
        self.thresholds = thresholds or DriftThresholds()
        self.versions: dict[str, DriftWindow] = {}

    def observe(
        self, version: str, score: np.ndarray, chars: np.ndarray, oov: np.ndarray, clock: float
    ) -> list[DriftAlert]:
        """Add one version's new predictions (in arrival order); returns state changes."""
        if version not in self.references:
            return []
        state = self.versions.get(version)
        if state is None:
            state = self.versions[version] = DriftWindow(
                np.full((self.thresholds.window, 3), np.nan)
            )
        rows = np.column_stack([score, chars, oov])
        alerts: list[DriftAlert] = []
        every = self.thresholds.every
        start = 0
        while start < rows.shape[0]:
            step = every - state.seen % every
            chunk = rows[start : start + step]
            self._push(state, chunk)
            start += chunk.shape[0]
            if state.seen % every == 0 and state.seen >= self.thresholds.window:
                alert = self._evaluate(version, state, clock)
                if alert is not None:
                    alerts.append(alert)
        return alerts

    def _push(self, state: DriftWindow, chunk: np.ndarray) -> None:
        window = self.thresholds.window
        positions = (state.seen + np.arange(chunk.shape[0])) % window
        state.values[positions] = chunk
        state.seen += chunk.shape[0]

    def statistics(self, version: str, values: np.ndarray) -> dict[str, float | None]:
        """PSI per feature and the predicted-removed shares of a window of ``values``."""
        reference = self.references[version]
        stats: dict[str, float | None] = {}
        for i, name in enumerate(FEATURES):
            column = values[:, i][np.isfinite(values[:, i])]
            bins = reference.get(name)
            if bins is None or column.size < values.shape[0] // 2:
                stats[f"{name}_psi"] = None  # the worker did not send this input
                continue
            edges = np.asarray(bins["edges"], dtype=np.float64)
            counts = np.bincount(
                np.searchsorted(edges, column, side="right"), minlength=edges.size + 1
            )
            stats[f"{name}_psi"] = psi(np.asarray(bins["shares"]), counts / column.size)
        threshold = reference.get("threshold", 0.5)
        stats["predicted_removed_share"] = float(np.mean(values[:, 0] >= threshold))
        stats["reference_predicted_removed_share"] = reference.get("predicted_removed_rate")
        stats["training_removed_rate"] = reference.get("removed_rate")
        return stats

    def _breaches(self, stats: dict[str, float | None], raising: bool) -> list[str]:
        t = self.thresholds
        psi_limit, share_limit = (
            (t.psi_raise, t.share_raise) if raising else (t.psi_clear, t.share_clear)
        )
        over = [f"{n}_psi" for n in FEATURES if (stats.get(f"{n}_psi") or 0.0) >= psi_limit]
        live, ref = stats["predicted_removed_share"], stats["reference_predicted_removed_share"]
        if live is not None and ref is not None and abs(live - ref) >= share_limit:
            over.append("predicted_removed_share")
        return over

    def _evaluate(self, version: str, state: DriftWindow, clock: float) -> DriftAlert | None:
        stats = self.statistics(version, state.values)
        state.statistics = stats
        if not state.active and (breached := self._breaches(stats, raising=True)):
            state.active, state.changed_at = True, clock
            return DriftAlert(version, True, clock, stats, breached)
        if state.active and not (still := self._breaches(stats, raising=False)):
            state.active, state.changed_at = False, clock
            return DriftAlert(version, False, clock, stats, still)
        return None

    def status(self) -> dict[str, Any]:
        """Per version: alert state, when it last changed, the latest statistics."""
        return {
            version: {
                "alert": state.active,
                "since": state.changed_at,
                "seen": state.seen,
                "statistics": state.statistics,
                "reference": version in self.references,
            }
            for version, state in self.versions.items()
        }
