"""Prometheus metrics of the Kafka worker and its HTTP server (``--metrics-port``).

The server answers ``GET /metrics`` (Prometheus text) and ``GET /ready`` (200 once the
worker is warmed up and in its group, 503 before and while it stops).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from confluent_kafka import TopicPartition
from prometheus_client import Counter, Gauge, Histogram, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from modstream.settings.defaults import READY_PATH

log = logging.getLogger(__name__)

CONSUMED = Counter("modstream_stream_consumed_records", "Records consumed", ["topic"])
PRODUCED = Counter("modstream_stream_produced_records", "Predictions produced", ["topic"])
DEAD_LETTERED = Counter(
    "modstream_stream_dead_lettered_records", "Records sent to the dead-letter topic", ["reason"]
)
COMMITTED = Gauge(
    "modstream_stream_committed_offset", "Last committed offset", ["topic", "partition"]
)
ASSIGNED = Gauge("modstream_stream_assigned_partitions", "Input partitions this worker holds")
LAG = Gauge(
    "modstream_stream_consumer_lag", "Consumer lag as the client reports it", ["topic", "partition"]
)
BATCH_RECORDS = Histogram(
    "modstream_stream_batch_records",
    "Records per consumed micro-batch",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
)
_SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
PROCESSING = Histogram(
    "modstream_stream_batch_seconds",
    "Time from consuming a batch to committing it",
    buckets=_SECONDS,
)
STAGE = Histogram(
    "modstream_stream_stage_seconds",
    "Time per committed batch in each stage: fill (waiting for the batch to fill), decode, "
    "score (the model), produce, deliver (until the broker acknowledges), commit",
    ["stage"],
    buckets=_SECONDS,
)
STAGES = ("fill", "decode", "score", "produce", "deliver", "commit")
END_TO_END = Histogram(
    "modstream_stream_end_to_end_seconds",
    "Input record timestamp to its output being acknowledged",
    buckets=(*_SECONDS, 30),
)
FAILURES = Counter(
    "modstream_stream_batch_failures", "Batches not committed (rewound and retried)", ["reason"]
)


class StageClock:
    """Times the consecutive stages of one batch into ``modstream_stream_stage_seconds``."""

    _children: ClassVar[dict[str, Histogram]] = {stage: STAGE.labels(stage) for stage in STAGES}

    def __init__(self) -> None:
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        """``stage`` ended now; it began when the previous stage ended (or the clock started)."""
        now = time.perf_counter()
        self._children[stage].observe(now - self._last)
        self._last = now

    @classmethod
    def record(cls, stage: str, seconds: float) -> None:
        """A stage timed elsewhere (the batch fill, measured while consuming)."""
        cls._children[stage].observe(seconds)


def observe_committed(offsets: dict[tuple[str, int], int], consumer: Any = None) -> None:
    """Committed offsets, and the lag they leave: the partition's end offset as of the
    consumer's latest fetch (no broker round trip) minus the committed offset, which is
    what ``kafka-consumer-groups`` and KEDA compute. Updated on every commit, so it is
    never more than one batch behind; the 5 s statistics keep it current while idle."""
    for (topic, partition), offset in offsets.items():
        COMMITTED.labels(topic, str(partition)).set(offset)
        marks = consumer and consumer.get_watermark_offsets(
            TopicPartition(topic, partition), cached=True
        )
        if marks and marks[1] >= 0:
            LAG.labels(topic, str(partition)).set(max(0, marks[1] - offset))


def observe_latency(timestamps_ms: Iterable[int]) -> None:
    """End-to-end latency of records whose outputs were just acknowledged."""
    now_ms = time.time() * 1000.0
    for ts in timestamps_ms:
        if ts > 0:
            END_TO_END.observe(max(0.0, now_ms - ts) / 1000.0)


def on_stats(stats_json: str) -> None:
    """librdkafka statistics callback: per-partition consumer lag every 5 s, which keeps
    the lag current while no batch commits (idle, or stuck on a broker problem).

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


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes every few seconds would flood the log."""


def metrics_app(ready: Callable[[], bool]) -> Callable[..., Iterator[bytes]]:
    """The WSGI app of the worker's HTTP server: ``/ready`` here, the rest Prometheus."""
    prometheus = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        if environ.get("PATH_INFO") == READY_PATH:
            ok = ready()
            body = b"ready\n" if ok else b"not ready\n"
            status = "200 OK" if ok else "503 Service Unavailable"
            start_response(status, [("Content-Type", "text/plain"), ("Cache-Control", "no-store")])
            return iter([body])
        return iter(prometheus(environ, start_response))

    return app


def serve(port: int, host: str, ready: Callable[[], bool]) -> WSGIServer:
    """Serve ``/metrics`` and ``/ready`` on ``host:port`` in a daemon thread (0.0.0.0 in pods)."""
    server = make_server(
        host, port, metrics_app(ready), ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="modstream-metrics", daemon=True)
    thread.start()
    log.info("metrics on http://%s:%d/metrics, readiness on /ready", host, port)
    return server
