"""Prometheus metrics of the Kafka worker (served on ``--metrics-port``)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

CONSUMED = Counter("modstream_stream_consumed_records", "Records consumed", ["topic"])
PRODUCED = Counter("modstream_stream_produced_records", "Predictions produced", ["topic"])
DEAD_LETTERED = Counter(
    "modstream_stream_dead_lettered_records", "Records sent to the dead-letter topic", ["reason"]
)
COMMITTED = Gauge(
    "modstream_stream_committed_offset", "Last committed offset", ["topic", "partition"]
)
LAG = Gauge(
    "modstream_stream_consumer_lag", "Consumer lag as the client reports it", ["topic", "partition"]
)
BATCH_SIZE = Histogram(
    "modstream_stream_batch_size",
    "Records per consumed micro-batch",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
)
PROCESSING = Histogram(
    "modstream_stream_batch_seconds",
    "Time from consuming a batch to committing it",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
END_TO_END = Histogram(
    "modstream_stream_end_to_end_seconds",
    "Input record timestamp to its output being acknowledged",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
FAILURES = Counter(
    "modstream_stream_batch_failures", "Batches not committed (rewound and retried)", ["reason"]
)


def serve(port: int, host: str = "127.0.0.1") -> None:
    """Expose the metrics over HTTP on ``host:port`` (0.0.0.0 in containers)."""
    start_http_server(port, addr=host)
    log.info("metrics on http://%s:%d/metrics", host, port)


def observe_committed(offsets: dict[tuple[str, int], int]) -> None:
    for (topic, partition), offset in offsets.items():
        COMMITTED.labels(topic, str(partition)).set(offset)


def observe_latency(timestamps_ms: Iterable[int]) -> None:
    """End-to-end latency of records whose outputs were just acknowledged."""
    now_ms = time.time() * 1000.0
    for ts in timestamps_ms:
        if ts > 0:
            END_TO_END.observe(max(0.0, now_ms - ts) / 1000.0)


def on_stats(stats_json: str) -> None:
    """librdkafka statistics callback: per-partition consumer lag (best effort).

    Brokers that report wrong high watermarks give a wrong lag; it is skipped when
    the client reports it as unknown (-1).
    """
    try:
        stats: dict[str, Any] = json.loads(stats_json)
    except ValueError:
        return
    for topic, tstats in (stats.get("topics") or {}).items():
        for pid, pstats in (tstats.get("partitions") or {}).items():
            lag = pstats.get("consumer_lag", -1)
            if pid != "-1" and isinstance(lag, int) and lag >= 0:
                LAG.labels(topic, pid).set(lag)
