"""Prometheus metrics of serving: requests, latency, batches, in-flight requests, feedback.

All series live in the default registry under ``modstream_``; label children are cached
so recording a request costs a dictionary lookup and an observation.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)

REQUESTS = Counter(
    "modstream_requests",
    "Requests served, by protocol, route and status",
    ["protocol", "route", "status"],
)
LATENCY = Histogram(
    "modstream_request_duration_seconds",
    "Request latency in seconds, by protocol, route and status",
    ["protocol", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
IN_FLIGHT = Gauge("modstream_requests_in_flight", "Requests being served", ["protocol"])
MODEL_BATCH_TEXTS = Histogram(
    "modstream_model_batch_texts", "Texts per vectorised model call", buckets=BATCH_BUCKETS
)
MODEL_LATENCY = Histogram(
    "modstream_model_duration_seconds", "Seconds per vectorised model call", buckets=LATENCY_BUCKETS
)
TEXTS = Counter("modstream_texts", "Texts scored by the model")
TRUNCATED = Counter("modstream_texts_truncated", "Texts cut at the maximum length before scoring")
MODEL_ERRORS = Counter("modstream_model_errors", "Model calls that raised")
MODEL_INFO = Gauge(
    "modstream_model_info", "The model being served (value 1)", ["name", "version", "preset"]
)
FEEDBACK = Counter("modstream_feedback", "Feedback messages received", ["protocol"])
FEEDBACK_REWARD = Gauge("modstream_feedback_reward_sum", "Sum of feedback rewards")
FEEDBACK_TRUTH = Counter(
    "modstream_feedback_truth_rows", "Rows of ground truth received in feedback"
)


@lru_cache(maxsize=1024)
def _request_series(protocol: str, route: str, status: str) -> tuple[Any, Any]:
    return REQUESTS.labels(protocol, route, status), LATENCY.labels(protocol, route, status)


@lru_cache(maxsize=16)
def in_flight(protocol: str) -> Any:
    return IN_FLIGHT.labels(protocol)


def observe_request(protocol: str, route: str, status: int | str, seconds: float) -> None:
    """Count one finished request and its latency."""
    counter, histogram = _request_series(protocol, route, str(status))
    counter.inc()
    histogram.observe(seconds)


def set_model_info(name: str, version: str, preset: str) -> None:
    if hasattr(MODEL_INFO, "clear"):  # prometheus-client < 0.10 (seldon-core's pin) lacks it
        MODEL_INFO.clear()
    MODEL_INFO.labels(name, version, preset).set(1)


def exposition() -> tuple[bytes, str]:
    """The text exposition format and its content type, for ``GET /metrics``."""
    return generate_latest(), CONTENT_TYPE_LATEST
