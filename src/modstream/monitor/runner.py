"""``modstream monitor`` on Kafka: read predictions and decisions, tick, snapshot, publish.

One process reads every partition of the prediction topics (output, and shadow when
given) and of the decisions topic by assignment, not by consumer group: the offsets it
has read live in its snapshot, next to the state they produced, so a restart after
``kill -9`` seeks to exactly where the snapshot left off. Before each snapshot the
producer is flushed (dead letters, metrics and alerts of the records before it are
acknowledged); if anything was not, the monitor goes back to its last snapshot and reads
those records again instead of writing a snapshot that would skip them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)

from modstream.kafka_tools import RateLimitedLog, long_lived, reader_config
from modstream.monitor.contract import BadDecision, DecisionBatch, parse_decision
from modstream.monitor.core import Monitor, alert_record
from modstream.monitor.drift import DriftAlert
from modstream.monitor.predictions import PredictionBatch, UnreadablePrediction
from modstream.monitor.prometheus import MonitorMetrics
from modstream.monitor.snapshot import Offsets, load_snapshot, save_snapshot
from modstream.settings.monitor import MonitorSettings
from modstream.stream.clients import describe, kafka_error
from modstream.stream.deadletter import DeadLetter, ProducerSink
from modstream.stream.refusals import NOMINAL_GROUP, Refusals

__all__ = ["MonitorRunner"]

log = logging.getLogger(__name__)
_POLL_S = 0.2
_LIST_TIMEOUT_S = 2.0  # how long one look at the cluster's topics may take
_RETRY_S = 1.0  # between looks while the cluster does not answer
# The consumer's idle fetch wait where the broker answers only when it is over (the
# embedded broker); longer on Apache Kafka (see ``reader_config``).
FETCH_WAIT_MS = 50


class MonitorRunner:
    """The Kafka loop around a ``Monitor``; ``report()`` may be called from other threads."""

    def __init__(self, settings: MonitorSettings, new_monitor: Callable[[], Monitor]) -> None:
        self.settings = settings
        self.new_monitor = new_monitor
        self.monitor = new_monitor()
        self.metrics = MonitorMetrics()
        self.lock = threading.RLock()
        self.offsets: Offsets = {}
        self.ready = threading.Event()
        self.state_dir = Path(settings.state_dir) if settings.state_dir else None
        self._assigned: set[tuple[str, int]] = set()
        self._failures: list[str] = []
        self._waiting = RateLimitedLog(logger=log)
        self.refusals = Refusals(ignored=NOMINAL_GROUP)  # what stops it (see ``_loop``)
        self.last_report: dict[str, Any] | None = None
        self.consumer: Any = None
        self.producer: Any = None

    # -- lifecycle ------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Read, tick and snapshot until ``stop`` is set; then tick and snapshot once more."""
        self._restore()
        config = self.settings.client_config()
        self.consumer = Consumer(
            {
                **reader_config(config, FETCH_WAIT_MS, "monitor", self.refusals),
                "group.id": "modstream-monitor",  # required by the client; nothing is committed
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
            }
        )
        self.producer = self._new_producer()
        try:
            while not self._assign() and not stop.wait(_RETRY_S):
                self.refusals.check()  # the cluster does not answer yet: not ready, said why
            if not stop.is_set():
                self.ready.set()
                log.info("monitor reading %s", ", ".join(self._topics()))
                self._loop(stop)
        finally:
            self.ready.clear()
            self._tick()
            self._checkpoint()
            self.consumer.close()
            self._flush(10.0)  # a refused login delivers nothing more: the snapshot stands
            self.consumer = self.producer = None  # let the clients go before the broker does

    def _loop(self, stop: threading.Event) -> None:
        """Read, tick and snapshot; a refusal (a login the cluster no longer accepts after a
        password rotation, a topic the ACLs do not allow) ends it, as it ends the worker."""
        s = self.settings
        next_tick = time.monotonic() + s.tick_s
        next_snapshot = time.monotonic() + s.snapshot_s
        while not stop.is_set():
            self.refusals.check()
            messages = self.consumer.consume(s.records_per_poll, _POLL_S)
            if messages:
                self.apply(messages)
            now = time.monotonic()
            if now >= next_tick:
                self._tick()
                next_tick = now + s.tick_s
            if now >= next_snapshot:
                self._checkpoint()
                self._assign()
                next_snapshot = now + s.snapshot_s

    def _new_producer(self) -> Producer:
        config = {**self.settings.client_config(), "linger.ms": 20}
        return Producer(long_lived(config, "monitor", self.refusals))

    def _topics(self) -> list[str]:
        s = self.settings
        return [*s.prediction_topics, *([s.decisions_topic] if s.decisions_topic else [])]

    # -- partitions and offsets -----------------------------------------------------
    def _assign(self) -> bool:
        """Read every partition of every topic, new ones as they appear; ``False`` when the
        cluster did not answer (logged once per interval: the monitor tries again)."""
        found: list[TopicPartition] = []
        try:
            metadata = self.consumer.list_topics(timeout=_LIST_TIMEOUT_S)
        except KafkaException as exc:
            self._waiting.warning(
                "topics", f"cannot list the topics to read ({describe(exc)}); retrying"
            )
            return False
        for topic in self._topics():
            meta = metadata.topics.get(topic)
            if meta is None or meta.error is not None:
                log.info(
                    "topic %s does not exist yet; the monitor will read it once it does", topic
                )
                continue
            for partition in meta.partitions:
                if (topic, partition) not in self._assigned:
                    offset = self.offsets.get(topic, {}).get(partition, OFFSET_BEGINNING)
                    found.append(TopicPartition(topic, partition, offset))
        if found:
            self.consumer.incremental_assign(found)
            self._assigned.update((tp.topic, tp.partition) for tp in found)
        return True

    def _restore(self) -> None:
        """Start from the snapshot (state and offsets together), or from scratch."""
        monitor = self.new_monitor()
        offsets = load_snapshot(self.state_dir, monitor) if self.state_dir else None
        with self.lock:
            self.monitor = monitor
            self.offsets = offsets or {}
            self.last_report = None
        if offsets is not None:
            log.info("monitor restored from %s (clock %s)", self.state_dir, monitor.state.now)

    def _rewind(self) -> None:
        """Back to the last snapshot: its state, and its offsets for every partition."""
        log.warning(
            "outputs not acknowledged (%s); reading again from the last snapshot",
            self._failures[:3],
        )
        self._failures.clear()
        self.producer.purge()
        self.producer = self._new_producer()
        self._restore()
        self.consumer.assign(
            [
                TopicPartition(t, p, self.offsets.get(t, {}).get(p, OFFSET_BEGINNING))
                for t, p in sorted(self._assigned)
            ]
        )

    def _checkpoint(self) -> None:
        undelivered = self._flush(self.settings.snapshot_s)
        if self.refusals.first is not None:
            return  # the loop stops on it; the last snapshot stands
        if undelivered or self._failures:
            self._failures.append(f"{undelivered} undelivered")
            self._rewind()
            return
        if self.state_dir is not None:
            with self.lock:
                save_snapshot(self.state_dir, self.monitor, self.offsets)

    def _flush(self, timeout: float) -> int:
        """``producer.flush``, cut short by a refusal; returns the count undelivered."""
        deadline = time.monotonic() + timeout
        while True:
            left = max(0.0, deadline - time.monotonic())  # a negative wait has no end
            undelivered = int(self.producer.flush(min(_RETRY_S, left)))
            if not undelivered or self.refusals.first or time.monotonic() >= deadline:
                return undelivered

    # -- records --------------------------------------------------------------------
    def apply(self, messages: list[Any]) -> None:
        """Join one polled batch of records into the monitor."""
        predictions, decisions = PredictionBatch(), DecisionBatch.empty()
        outcomes: Counter[tuple[str, str]] = Counter()
        decisions_topic = self.settings.decisions_topic
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    log.warning("consumer: %s", error.str())
                    self.refusals.note(error, "read", message.topic())  # an ACL stops it
                continue
            topic = message.topic()
            if topic == decisions_topic:
                outcome = self._read_decision(message, decisions)
            else:
                outcome = self._read_prediction(message, predictions)
            outcomes[(topic, outcome)] += 1
            self.offsets.setdefault(topic, {})[message.partition()] = message.offset() + 1
        with self.lock:
            alerts = self.monitor.add_predictions(predictions)
            self.monitor.add_decisions(decisions)
        for (topic, outcome), count in outcomes.items():  # one update per batch, not per record
            self.metrics.records.labels(topic, outcome).inc(count)
        for alert in alerts:
            self._publish_alert(alert)

    def _read_decision(self, message: Any, batch: DecisionBatch) -> str:
        try:
            decision = parse_decision(
                message.value(),
                message.key(),
                _timestamp_s(message),
                max_skew_s=self.settings.max_skew_s,
            )
        except BadDecision as exc:
            sink = ProducerSink(self.producer, self._delivered)
            with self._sending(self.settings.dead_letter):
                DeadLetter(sink, self.settings.dead_letter).send(message, exc)
            return "dead_lettered"
        batch.add(decision)
        return "read"

    def _read_prediction(self, message: Any, batch: PredictionBatch) -> str:
        try:
            batch.add(
                message.key(), message.value(), message.headers(), int(_timestamp_s(message) * 1000)
            )
        except UnreadablePrediction as exc:
            log.warning(
                "unreadable prediction %s[%d]@%d: %s",
                message.topic(),
                message.partition(),
                message.offset(),
                exc,
            )
            return "unreadable"
        return "read"

    def _delivered(self, error: KafkaError | None, message: Any) -> None:
        if error is not None:
            self._undelivered(error, message.topic())

    def _undelivered(self, error: KafkaError, topic: str) -> None:
        self._failures.append(error.str())
        # An output the ACLs refuse would be refused again after every rewind: it stops.
        self.refusals.note(error, "write to", topic)

    # -- outputs --------------------------------------------------------------------
    def report(self) -> dict[str, Any]:
        """The report of the latest tick (safe to call from the REST thread).

        Reports are computed once per tick, not per request: at a million labelled rows
        one takes about a second, which readers polling a dashboard must not multiply.
        """
        with self.lock:
            if self.last_report is None:
                self._publish(self.monitor.report())
            assert self.last_report is not None
            return self.last_report

    def _publish(self, report: dict[str, Any]) -> None:
        """Make ``report`` the latest: the gauges first, so whoever reads this report
        from the REST API and then scrapes ``/metrics`` finds the same numbers there."""
        self.metrics.update(report)
        self.last_report = report

    def _tick(self) -> None:
        with self.lock:
            report = self.monitor.tick(time.time())
            self._publish(report)
        topic = self.settings.metrics_topic
        if topic:
            record = {
                key: report[key] for key in ("clock", "windows", "versions", "drift", "totals")
            }
            record["wall"] = time.time()
            with self._sending(topic):
                self.producer.produce(
                    topic, key=b"tick", value=orjson.dumps(record), on_delivery=self._delivered
                )
            self.producer.poll(0)

    def _publish_alert(self, alert: DriftAlert) -> None:
        record = alert_record(alert, self.monitor.drift.thresholds)
        verb = "RAISED" if alert.raised else "cleared"
        log.warning(
            "drift alert %s for version %s: %s %s",
            verb,
            alert.version,
            alert.breached,
            alert.statistics,
        )
        topic = self.settings.alerts_topic
        if topic:
            with self._sending(topic):
                self.producer.produce(
                    topic,
                    key=alert.version.encode(),
                    value=orjson.dumps(record),
                    on_delivery=self._delivered,
                )

    @contextlib.contextmanager
    def _sending(self, topic: str) -> Iterator[None]:
        """Around one send to ``topic``: a record the client refuses at once (a topic the
        ACLs do not let it write) is undelivered, like one the cluster refuses later."""
        try:
            yield
        except KafkaException as exc:
            error = kafka_error(exc)
            if error is None:
                raise
            self._undelivered(error, topic)


def _timestamp_s(message: Any) -> float:
    kind, ms = message.timestamp()
    return ms / 1000.0 if kind != 0 and ms > 0 else time.time()
