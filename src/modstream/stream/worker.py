"""The Kafka worker: consume a micro-batch, predict it in one call, produce, commit.

Per batch: decode every record (bad ones go to the dead-letter topic), predict all
texts of the good ones with one ``DataPlane.score`` call (if that fails, record by
record to isolate the culprit), produce one output per input in input order, then let
the ``Checkpoint`` flush, verify and commit. A batch whose outputs are not all
acknowledged is rewound and processed again (at-least-once).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from typing import Any

import numpy as np
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer

from modstream.errors import InvalidInput, ModstreamError
from modstream.facts import Scores
from modstream.settings import StreamSettings
from modstream.stream import headers as h
from modstream.stream import metrics
from modstream.stream.checkpoint import Checkpoint, DeliveryFailed
from modstream.stream.codec import Decoded, decode_value, record_id
from modstream.stream.config import consumer_config, producer_config
from modstream.stream.deadletter import DeadLetter

log = logging.getLogger(__name__)
# How long an idle worker blocks for the first record (also its reaction time to stop).
_IDLE_WAIT_S = 0.25

MAX_BACKOFF = 5.0
Outcome = Decoded | BaseException


class _RateLimitedLog:
    """Logs a repeated error once per ``interval`` seconds, with how often it happened."""

    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval
        self._last: dict[str, tuple[float, int]] = {}

    def warning(self, key: str, text: str) -> None:
        now = time.monotonic()
        last, count = self._last.get(key, (0.0, 0))
        if now - last >= self.interval:
            suffix = f" (x{count + 1} since last report)" if count else ""
            log.warning("%s%s", text, suffix)
            self._last[key] = (now, 0)
        else:
            self._last[key] = (last, count + 1)


class StreamWorker:
    """One consumer-group member: ``run(stop)`` processes until ``stop`` is set."""

    def __init__(self, settings: StreamSettings, dataplane: Any, *, index: int = 0) -> None:
        if not settings.input_topic or not settings.output_topic:
            raise InvalidInput("the worker needs an input topic and an output topic")
        self.settings = settings
        self.dataplane = dataplane
        self.index = index
        facts = dataplane.facts
        self.model_headers: h.Headers = [
            (h.MODEL_NAME, facts.name.encode()),
            (h.MODEL_VERSION, facts.version.encode()),
        ]
        self.consumer: Any = None
        self.producer: Any = None
        self.checkpoint: Checkpoint | None = None
        self._errors = _RateLimitedLog()
        self.processed = 0  # records answered or dead-lettered and committed
        self._backoff = 0.0

    # -- lifecycle ---------------------------------------------------------------------
    def connect(self) -> None:
        """Create the clients and subscribe (no broker round trip; it may be down)."""
        hooks: dict[str, Any] = {"error_cb": self._on_client_error}
        if self.settings.metrics_port is not None:
            hooks.update({"stats_cb": metrics.on_stats, "statistics.interval.ms": 5000})
        self.consumer = Consumer({**consumer_config(self.settings), **hooks})
        self.producer = self.producer or self._new_producer()
        self.checkpoint = Checkpoint(
            self.consumer,
            self.producer,
            exactly_once=self.settings.exactly_once,
            delivery_timeout=self.settings.delivery_timeout_s,
        )
        self.dead_letter = DeadLetter(self.producer, self.settings.dead_letter)
        self.consumer.subscribe(
            [self.settings.input_topic], on_assign=self._on_assign, on_revoke=self._on_revoke
        )

    def _new_producer(self) -> Any:
        config = producer_config(self.settings, self.index)
        return Producer({**config, "error_cb": self._on_client_error})

    def _replace_producer(self, stop: threading.Event | None) -> None:
        """Drop the producer of a failed batch and start a fresh one.

        Its queued records belong to the rewound batch (they will be produced again), and
        an idempotent producer can stay wedged after the broker lost its producer state.
        """
        assert self.checkpoint is not None
        old = self.producer
        old.purge()
        old.flush(0)
        self.producer = self._new_producer()
        self.checkpoint.producer = self.producer
        self.dead_letter.producer = self.producer
        if self.settings.exactly_once:
            self._init_transactions(stop or threading.Event())

    def run(self, stop: threading.Event) -> None:
        """Process batches until ``stop`` is set; then finish the batch, commit and leave."""
        if self.consumer is None:
            self.connect()
        if self.settings.exactly_once:
            self._init_transactions(stop)
        self.dataplane.score(["warm-up"])  # the first call pays lazy initialisation
        self._warm_producer()
        log.info(
            "worker %d: %s -> %s (dead letters: %s, group %s)",
            self.index,
            self.settings.input_topic,
            self.settings.output_topic,
            self.settings.dead_letter,
            self.settings.group,
        )
        try:
            while not stop.is_set():
                self.step(stop)
        finally:
            self.close()

    def _warm_producer(self) -> None:
        """Fetch the output topic's metadata now, so the first answer does not wait for it."""
        try:
            self.producer.list_topics(self.settings.output_topic, timeout=5.0)
        except KafkaException as exc:  # the broker may be down: the loop copes with that
            log.info("output topic metadata not fetched yet: %s", exc)

    def close(self) -> None:
        """Leave the group and flush whatever is still queued."""
        if self.consumer is not None:
            self.consumer.close()
            self.consumer = None
        if self.producer is not None:
            self.producer.flush(5.0)
        log.info("worker %d stopped", self.index)

    def _init_transactions(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.producer.init_transactions(10.0)
                return
            except Exception as exc:
                log.warning("cannot initialise transactions yet (%s); retrying", exc)
                self._sleep(stop)

    # -- one batch ---------------------------------------------------------------------
    def step(self, stop: threading.Event | None = None) -> int:
        """Consume, process and commit one micro-batch; returns the records processed."""
        messages = self._next_batch()
        records = [m for m in messages if not self._is_error(m)]
        if not records:
            if len(messages) > 0:  # only errors: the broker is probably unreachable
                self._sleep(stop)
            return 0
        started = time.perf_counter()
        assert self.checkpoint is not None
        try:
            self.checkpoint.begin()
            self._process(records)
            committed = self.checkpoint.commit()
        except (DeliveryFailed, BufferError) as exc:
            metrics.FAILURES.labels(type(exc).__name__).inc()
            log.warning("batch of %d not committed, it will be retried: %s", len(records), exc)
            self.checkpoint.rewind()
            self._replace_producer(stop)
            self._sleep(stop)
            return 0
        self._backoff = 0.0
        self.processed += len(records)
        metrics.observe_committed(committed)
        metrics.observe_latency(m.timestamp()[1] for m in records)
        metrics.BATCH_SIZE.observe(len(records))
        metrics.PROCESSING.observe(time.perf_counter() - started)
        return len(records)

    def _next_batch(self) -> list[Message]:
        """Up to ``max_batch`` records: what is already fetched, else the next to arrive.

        Under load the batch is whatever accumulated while the previous one was being
        processed, so nobody waits. When idle, the first record to arrive waits at most
        ``max_wait_ms`` for company before it is processed.
        """
        assert self.consumer is not None
        size = self.settings.max_batch
        messages = self.consumer.consume(num_messages=size, timeout=0)
        if messages:
            return messages  # type: ignore[no-any-return]
        messages = self.consumer.consume(num_messages=1, timeout=_IDLE_WAIT_S)
        if messages and size > 1 and self.settings.max_wait_ms > 0:
            messages += self.consumer.consume(
                num_messages=size - 1, timeout=self.settings.max_wait_ms / 1000.0
            )
        return messages  # type: ignore[no-any-return]

    def _process(self, records: list[Message]) -> None:
        outcomes: list[Outcome] = [self._decode(m) for m in records]
        all_scores = self._predict(outcomes)
        topic = self.settings.output_topic
        assert self.checkpoint is not None and topic is not None
        for message, outcome, scores in zip(records, outcomes, all_scores, strict=True):
            metrics.CONSUMED.labels(message.topic()).inc()
            if isinstance(outcome, Decoded) and scores is not None:
                try:
                    value = outcome.encode(scores, request_id=record_id(message.key()))
                except Exception as exc:  # an encoding bug must not poison the batch
                    outcome = exc
                else:
                    self._produce(topic, message.key(), value, h.source_headers(message))
            if isinstance(outcome, BaseException):
                self._dead_letter(message, outcome)
            self.checkpoint.track(message)

    def _decode(self, message: Message) -> Outcome:
        try:
            return decode_value(message.value(), self.settings.max_value_bytes)
        except Exception as exc:
            return exc

    def _predict(self, outcomes: list[Outcome]) -> list[Scores | None]:
        """Scores per record: one call for the batch, record by record on failure."""
        good = [o for o in outcomes if isinstance(o, Decoded)]
        texts = [t for o in good for t in o.texts]
        if not texts:
            return [None] * len(outcomes)
        try:
            scores = self.dataplane.score(texts)
        except Exception as exc:
            log.warning("batch predict failed (%s); isolating the failing record(s)", exc)
            return [self._predict_one(o, outcomes, i) for i, o in enumerate(outcomes)]
        bounds = np.cumsum([0] + [len(o.texts) for o in good])
        parts = iter(scores.slice(a, b) for a, b in itertools.pairwise(bounds))
        return [next(parts) if isinstance(o, Decoded) else None for o in outcomes]

    def _predict_one(self, outcome: Outcome, outcomes: list[Outcome], i: int) -> Scores | None:
        if not isinstance(outcome, Decoded):
            return None
        try:
            return self.dataplane.score(outcome.texts)  # type: ignore[no-any-return]
        except Exception as exc:
            outcomes[i] = exc
            return None

    def _produce(self, topic: str, key: Any, value: bytes, headers: h.Headers) -> None:
        assert self.checkpoint is not None
        self.producer.produce(
            topic,
            key=key,
            value=value,
            headers=headers + self.model_headers,
            on_delivery=self.checkpoint.on_delivery,
        )
        metrics.PRODUCED.labels(topic).inc()

    def _dead_letter(self, message: Message, error: BaseException) -> None:
        assert self.checkpoint is not None
        reason = error.reason if isinstance(error, ModstreamError) else type(error).__name__
        self.dead_letter.send(message, error, on_delivery=self.checkpoint.on_delivery)
        metrics.DEAD_LETTERED.labels(reason).inc()

    # -- errors, rebalances and backoff ----------------------------------------------
    def _is_error(self, message: Message) -> bool:
        error = message.error()
        if error is None:
            return False
        if error.code() != KafkaError._PARTITION_EOF:
            self._errors.warning(str(error.code()), f"consumer: {error.str()}")
        return True

    def _on_client_error(self, error: KafkaError) -> None:
        self._errors.warning(f"client-{error.code()}", f"kafka client: {error.str()}")

    def _on_assign(self, _consumer: Any, partitions: list[Any]) -> None:
        log.info("worker %d assigned %s", self.index, _describe(partitions))

    def _on_revoke(self, _consumer: Any, partitions: list[Any]) -> None:
        """Commit what was processed before the partitions move to another member."""
        log.info("worker %d revoked %s", self.index, _describe(partitions))
        if self.checkpoint is not None and not self.checkpoint.empty:
            try:
                metrics.observe_committed(self.checkpoint.commit())
            except DeliveryFailed as exc:
                log.warning("could not commit before the rebalance: %s", exc)
                self.checkpoint.rewind()

    def _sleep(self, stop: threading.Event | None) -> None:
        self._backoff = min(MAX_BACKOFF, max(0.1, self._backoff * 2))
        if stop is not None:
            stop.wait(self._backoff)
        else:
            time.sleep(self._backoff)


def _describe(partitions: list[Any]) -> str:
    return ", ".join(f"{p.topic}[{p.partition}]" for p in partitions) or "nothing"
