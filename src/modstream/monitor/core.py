"""The monitor without Kafka: join, totals, drift and a short history, fed batch by batch.

``Monitor`` is what ``modstream monitor`` runs and what a snapshot restores; it never
reads a clock of its own (event time only), so feeding it the same records gives the
same numbers whether or not it was stopped and restored in between.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict
from typing import Any

import numpy as np

from modstream.monitor.contract import DecisionBatch
from modstream.monitor.drift import DriftAlert, DriftDetector, DriftThresholds
from modstream.monitor.predictions import PredictionBatch
from modstream.monitor.report import Windows, build_report
from modstream.monitor.state import MonitorState, Retention

__all__ = ["HISTORY_POINTS", "Monitor"]

HISTORY_POINTS = 720  # a day of one-minute ticks, or two hours of ten-second ones


class Monitor:
    """Predictions and decisions in, quality and drift per model version out."""

    def __init__(
        self,
        references: dict[str, dict[str, Any]] | None = None,
        *,
        retention: Retention | None = None,
        windows: Windows | None = None,
        drift: DriftThresholds | None = None,
    ) -> None:
        self.references = dict(references or {})
        self.state = MonitorState(retention)
        self.state.thresholds = {
            version: float(ref["threshold"])
            for version, ref in self.references.items()
            if "threshold" in ref
        }
        self.windows = windows or Windows()
        self.drift = DriftDetector(self.references, drift)
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY_POINTS)
        self.alerts: deque[dict[str, Any]] = deque(maxlen=100)

    def add_predictions(self, batch: PredictionBatch) -> list[DriftAlert]:
        """Join new predictions; returns the drift alerts they raised or cleared."""
        new = self.state.add_predictions(batch)
        if new.size == 0:
            return []
        versions = np.asarray(batch.versions, dtype=object)[new]
        columns = [np.asarray(v, dtype=np.float64)[new] for v in (batch.p, batch.chars, batch.oov)]
        changes: list[DriftAlert] = []
        for version in dict.fromkeys(versions.tolist()):
            mine = versions == version
            score, chars, oov = (c[mine] for c in columns)
            changes += self.drift.observe(version, score, chars, oov, self.state.now)
        for change in changes:
            self.alerts.appendleft(alert_record(change, self.drift.thresholds))
        return changes

    def add_decisions(self, batch: DecisionBatch) -> None:
        """Apply moderators' decisions (in record order)."""
        self.state.add_decisions(batch)

    def report(self) -> dict[str, Any]:
        """Every number, the drift state per version and the recent alerts."""
        report = build_report(self.state, self.windows)
        report["drift"] = self.drift.status()
        report["alerts"] = list(self.alerts)
        report["history"] = list(self.history)
        return report

    def tick(self, wall: float) -> dict[str, Any]:
        """A window tick: drop what retention no longer keeps, record a history point."""
        self.state.evict()
        report = self.report()
        point = {"clock": report["clock"], "wall": wall, "versions": {}}
        for version, body in report["versions"].items():
            recent = body["windows"]["last_n"]
            point["versions"][version] = {
                k: recent[k] for k in ("labelled", "precision", "recall", "f1")
            }
        self.history.append(point)
        report["history"] = list(self.history)
        return report


def alert_record(change: DriftAlert, thresholds: DriftThresholds) -> dict[str, Any]:
    """The JSON record of a drift alert change (alerts topic, log, dashboard)."""
    return {
        "type": "drift",
        "state": "raised" if change.raised else "cleared",
        "version": change.version,
        "clock": change.clock,
        "breached": change.breached,
        "statistics": change.statistics,
        "thresholds": asdict(thresholds),
    }
