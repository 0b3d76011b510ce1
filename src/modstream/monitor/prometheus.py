"""The monitor's numbers as Prometheus metrics (its own registry, served at ``/metrics``).

Gauges are per model version and window (``hour``, ``day``, ``last_n``, ``since_start``);
per-community numbers stay in the JSON report and the metrics topic, because the set of
communities is open-ended and would blow up a time-series database.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

__all__ = ["MonitorMetrics"]

QUALITY = ("precision", "recall", "f1", "roc_auc", "pr_auc", "brier")
FEATURES = ("score", "chars", "oov")


class MonitorMetrics:
    """Gauges set from each report; counters of the records read."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        by_window = ["version", "window"]
        self.quality = Gauge(
            "modstream_monitor_quality",
            "Quality of labelled predictions",
            [*by_window, "metric"],
            registry=r,
        )
        self.labelled = Gauge(
            "modstream_monitor_labelled",
            "Labelled predictions in the window",
            by_window,
            registry=r,
        )
        self.coverage = Gauge(
            "modstream_monitor_label_coverage",
            "Share of predictions labelled",
            by_window,
            registry=r,
        )
        self.delay = Gauge(
            "modstream_monitor_label_delay_seconds",
            "Prediction to first decision",
            [*by_window, "quantile"],
            registry=r,
        )
        self.psi = Gauge(
            "modstream_monitor_drift_psi",
            "PSI of live traffic against the training reference",
            ["version", "feature"],
            registry=r,
        )
        self.share = Gauge(
            "modstream_monitor_predicted_removed_share",
            "Predicted-removed share of the drift window",
            ["version"],
            registry=r,
        )
        self.alert = Gauge(
            "modstream_monitor_drift_alert",
            "1 while a drift alert is raised",
            ["version"],
            registry=r,
        )
        self.records = Counter(
            "modstream_monitor_records",
            "Records read, by topic and outcome",
            ["topic", "outcome"],
            registry=r,
        )
        self.pending = Gauge(
            "modstream_monitor_pending",
            "Predictions without a decision, decisions without a prediction",
            ["kind"],
            registry=r,
        )
        self.state_bytes = Gauge(
            "modstream_monitor_state_bytes", "Memory of the monitor's tables", registry=r
        )
        self.clock = Gauge(
            "modstream_monitor_clock_seconds", "Event time the monitor has reached", registry=r
        )

    def update(self, report: dict[str, Any]) -> None:
        """Set every gauge from a report (versions that disappeared are dropped)."""
        for gauge in (
            self.quality,
            self.labelled,
            self.coverage,
            self.delay,
            self.psi,
            self.share,
            self.alert,
        ):
            gauge.clear()
        for version, body in report["versions"].items():
            for window, numbers in body["windows"].items():
                self._window(version, window, numbers)
        for version, drift in report["drift"].items():
            self.alert.labels(version).set(1.0 if drift["alert"] else 0.0)
            stats = drift["statistics"]
            for feature in FEATURES:
                if stats.get(f"{feature}_psi") is not None:
                    self.psi.labels(version, feature).set(stats[f"{feature}_psi"])
            if stats.get("predicted_removed_share") is not None:
                self.share.labels(version).set(stats["predicted_removed_share"])
        totals = report["totals"]
        self.pending.labels("predictions").set(totals["pending_predictions"])
        self.pending.labels("decisions").set(totals["decisions_waiting_for_a_prediction"])
        self.state_bytes.set(totals["state_bytes"])
        if report["clock"] is not None:
            self.clock.set(report["clock"])

    def _window(self, version: str, window: str, numbers: dict[str, Any]) -> None:
        for metric in QUALITY:
            if numbers.get(metric) is not None:
                self.quality.labels(version, window, metric).set(numbers[metric])
        self.labelled.labels(version, window).set(numbers["labelled"])
        if numbers.get("coverage") is not None:
            self.coverage.labels(version, window).set(numbers["coverage"])
        for quantile, value in (numbers.get("label_delay_s") or {}).items():
            if value is not None:
                self.delay.labels(version, window, quantile).set(value)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)
