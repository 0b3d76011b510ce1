"""The live dashboard of ``modstream up``: throughput, latency, dead letters and verdicts."""

from __future__ import annotations
