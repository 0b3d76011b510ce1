"""The moderation loop's monitor: moderators' decisions joined to predictions, live.

``Monitor`` is the Kafka-free core (feed it ``PredictionBatch`` and ``DecisionBatch``,
read ``report()``); ``modstream monitor`` runs it on Kafka with snapshots, Prometheus
metrics, a metrics topic, an alerts topic and REST endpoints.
"""

from __future__ import annotations

from modstream.monitor.contract import (
    DECISION_SCHEMA,
    BadDecision,
    Decision,
    DecisionBatch,
    parse_decision,
)
from modstream.monitor.core import Monitor
from modstream.monitor.drift import DriftThresholds
from modstream.monitor.predictions import PredictionBatch
from modstream.monitor.report import Windows
from modstream.monitor.state import Retention

__all__ = [
    "DECISION_SCHEMA",
    "BadDecision",
    "Decision",
    "DecisionBatch",
    "DriftThresholds",
    "Monitor",
    "PredictionBatch",
    "Retention",
    "Windows",
    "parse_decision",
]
