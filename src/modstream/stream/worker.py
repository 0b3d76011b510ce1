"""The Kafka worker: consume a micro-batch, score it in one call, produce, commit.

Per batch: decode every record (bad ones go to the dead-letter topic), score all texts
of the good ones in one model call (``score_batch``; if that fails, record by record to
isolate the culprit), produce one output per input in input order (``write``), then let
the batch's ``Checkpoint`` flush, verify and commit. A batch that is not committed is
rewound and processed again (at-least-once).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from modstream.errors import InvalidInput, PayloadTooLarge
from modstream.model.reference import TextProfiles
from modstream.policy.source import StaticPolicy
from modstream.registry.answers import Answer, ModelScorer
from modstream.registry.instance import shadow_topic
from modstream.registry.outputs import Answering
from modstream.settings import StreamSettings
from modstream.stream import headers as h
from modstream.stream import metrics
from modstream.stream.checkpoint import BatchNotCommitted, Checkpoint
from modstream.stream.clients import (
    ClientFactory,
    RateLimitedLog,
    describe,
    discard,
    kafka_error,
    last_flush,
    offsets_topic_shortfall,
    transaction_log_shortfall,
)
from modstream.stream.codec import Decoded, decode_value
from modstream.stream.deadletter import DeadLetter
from modstream.stream.metrics import StageClock
from modstream.stream.refusals import Followed, Guard, topic_exists
from modstream.stream.scoring import Outcome

log = logging.getLogger(__name__)
# How long an idle worker blocks for the first record (also its reaction time to stop).
_IDLE_WAIT_S = 0.25

MAX_BACKOFF = 5.0
# An exactly-once producer's initialisation: the longest single call, and how long it may
# take before the worker says why it waits.
_INIT_CALL_S = 1.0
_INIT_REPORT_S = 5.0
# How long a worker may stay out of its group before it asks the cluster why.
_JOIN_REPORT_S = 10.0


class StreamWorker:
    """One consumer-group member: ``run(stop)`` processes micro-batches until ``stop`` is set."""

    def __init__(
        self,
        settings: StreamSettings,
        plane: ModelScorer,
        *,
        index: int = 0,
        answering: Answering | None = None,
        followed: Sequence[Followed] = (),
    ) -> None:
        if not settings.input_topic or not settings.output_topic:
            raise InvalidInput("the worker needs an input topic and an output topic")
        self.settings = settings
        self.input_topic: str = settings.input_topic
        self.output_topic: str = settings.output_topic
        self.plane = plane
        self._profiles = TextProfiles(plane)  # drift inputs for the monitor, per version
        self.index = index
        # Model roles (champion, canary, shadow) and the keep/review/remove policy.
        self.answering = answering or Answering(StaticPolicy(), shadow_topic(settings), None)
        self._errors = RateLimitedLog(logger=log)
        self.clients = ClientFactory(settings, index, self._errors)
        # Stops the worker on what no retry fixes: a refused login or ACL, a missing topic,
        # and a refusal that ends its following of the policies or (``followed``) the registry.
        self.guard = Guard(
            self.clients.refusals,
            settings.topic_wait_s,
            self._topic_exists,
            followed=[self.answering.policy, *followed],
        )
        self.consumer: Consumer | None = None
        self.producer: Producer | None = None
        self.processed = 0  # records answered or dead-lettered and committed
        self.assigned: set[tuple[str, int]] = set()
        self._revoked: set[tuple[str, int]] = set()  # during the current consume call
        self._backoff = 0.0
        self._warmed = False
        self._joined = False
        self._outside_since: float | None = None  # out of the group since (see _outside)
        self._stop = threading.Event()
        self._consumed = metrics.CONSUMED.labels(self.input_topic)
        self._produced = metrics.PRODUCED.labels(self.output_topic)

    @property
    def ready(self) -> bool:
        """Warmed up, in its group (an assignment arrived, even an empty one), not stopping."""
        return self._warmed and self._joined and not self._stop.is_set()

    # -- lifecycle ---------------------------------------------------------------------
    def connect(self) -> None:
        """Create the clients and subscribe, after one metadata round trip that tells the
        broker's kind (see ``fit_to_broker``); a broker that is down holds it up 5 s."""
        self.producer = self.producer or self.clients.producer()
        self._learn_broker()
        self.consumer = self.clients.consumer()
        self.consumer.subscribe(
            [self.input_topic],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )

    def run(self, stop: threading.Event) -> None:
        """Process batches until ``stop`` is set; then finish the batch, commit and leave."""
        self._stop = stop
        if self.consumer is None:
            self.connect()
        try:
            if self.settings.exactly_once:
                self._init_transactions()
            if stop.is_set():  # stopped while waiting for the cluster
                return
            self.warm_up()
            log.info(
                "worker %d: %s -> %s (dead letters: %s, group %s)",
                self.index,
                self.input_topic,
                self.output_topic,
                self.settings.dead_letter,
                self.settings.group,
            )
            while not stop.is_set():
                self.step()
        finally:
            self.close()

    def _learn_broker(self) -> None:
        """Fetch the output topic's metadata (paying that lazy step now) and fit the
        consumer to the broker it names; a broker that is down keeps the defaults."""
        assert self.producer is not None
        try:
            metadata = self.producer.list_topics(self.output_topic, timeout=5.0)
        except Exception as exc:  # the broker may be down: the loop copes with that
            log.info("output topic metadata not fetched yet: %s", exc)
            return
        self.clients.fit_to_broker(metadata.cluster_id)

    def warm_up(self) -> None:
        """Pay lazy initialisation now: the model's first call; stop on a refused login."""
        self.plane.score(["warm-up"])
        assert self.producer is not None
        self.producer.poll(0)  # its error callbacks: a refused login stops the worker now
        self.guard.check()
        self._warmed = True

    def close(self) -> None:
        """Leave the group and flush whatever is still queued."""
        self._warmed = False  # not ready from now on
        if self.consumer is not None:
            self.consumer.close()
            self.consumer = None
        if self.producer is not None:
            last_flush(self.producer, 5.0)
        log.info("worker %d stopped", self.index)

    def _init_transactions(self) -> None:
        """Initialise the producer's transactions (which fences its predecessor), for as long
        as the cluster takes: in one-second calls, so that SIGTERM is served meanwhile, and
        saying why every ``_INIT_REPORT_S`` once it takes longer than that."""
        assert self.producer is not None
        reported = time.monotonic()
        while not self._stop.is_set():
            try:
                self.producer.init_transactions(_INIT_CALL_S)
                return
            except KafkaException as exc:
                self._stop_if_refused(exc)
                error = kafka_error(exc)
                waiting = error is not None and error.code() == KafkaError._TIMED_OUT
                if waiting and time.monotonic() - reported < _INIT_REPORT_S:
                    continue  # the call resumes where the last one stopped
                reported = time.monotonic()
                why = transaction_log_shortfall(self.settings.client_config()) or describe(exc)
                log.warning("cannot initialise transactions yet: %s; retrying", why)
                if not waiting:
                    self._sleep()

    def _stop_if_refused(self, exc: KafkaException) -> None:
        """Raise what no retry fixes: a refusal in ``exc`` or in a client's callbacks."""
        assert self.producer is not None
        error = kafka_error(exc)
        if error is not None:
            self.clients.refusals.note(error)
        self.producer.poll(0)
        self.guard.check()

    def _replace_producer(self) -> None:
        """Drop the producer of a failed batch and start a fresh one.

        An idempotent or transactional producer can stay wedged after the broker lost
        its producer state, and its queued records belong to the rewound batch.
        """
        assert self.producer is not None
        discard(self.producer)
        self.producer = self.clients.producer()
        if self.settings.exactly_once:
            self._init_transactions()

    # -- one batch ---------------------------------------------------------------------
    def step(self) -> int:
        """Consume, process and commit one micro-batch; returns the records committed."""
        self.guard.check()
        messages, fill_seconds = self._next_batch()
        records = [m for m in messages if not self._is_error(m)]
        if not records:
            if messages:  # only errors: the broker is probably unreachable
                self._sleep()
            self._outside()
            return 0
        started = time.perf_counter()
        StageClock.record("fill", fill_seconds)
        assert self.consumer is not None and self.producer is not None
        checkpoint = Checkpoint(
            self.consumer,
            self.producer,
            exactly_once=self.settings.exactly_once,
            delivery_timeout=self.settings.delivery_timeout_s,
        )
        try:
            committed = self._process(checkpoint, records)
        except BatchNotCommitted as exc:
            self._recover(checkpoint, exc, len(records))
            return 0
        self._backoff = 0.0
        self.processed += len(records)
        metrics.observe_committed(committed, self.consumer)
        metrics.observe_latency(m.timestamp()[1] for m in records)
        metrics.BATCH_RECORDS.observe(len(records))
        metrics.PROCESSING.observe(time.perf_counter() - started)
        return len(records)

    def _process(
        self, checkpoint: Checkpoint, records: list[Message]
    ) -> dict[tuple[str, int], int]:
        """Decode, score, produce, then flush, verify and commit through ``checkpoint``."""
        checkpoint.begin()
        clock = StageClock()
        self._consumed.inc(len(records))
        outcomes = [self._decode(m) for m in records]
        clock.lap("decode")
        answers = self.score_batch(records, outcomes)
        clock.lap("score")
        for message, outcome, answer in zip(records, outcomes, answers, strict=True):
            self.write(checkpoint, message, outcome, answer)
            checkpoint.track(message)
        clock.lap("produce")
        checkpoint.flush()
        clock.lap("deliver")
        committed = checkpoint.commit()
        clock.lap("commit")
        return committed

    def _next_batch(self) -> tuple[list[Message], float]:
        """Up to ``max_batch_records`` records, and how long filling the batch took.

        Under load the batch is whatever accumulated while the previous one was being
        processed, so nobody waits. When idle, the first record to arrive waits at most
        ``max_wait_ms`` for company before it is processed. A batch is gathered over up to
        three ``consume`` calls, and a rebalance can be served inside any of them: records
        already gathered from a partition revoked meanwhile are dropped, since its next
        owner reads them again from the last committed offset.
        """
        assert self.consumer is not None
        size = self.settings.max_batch_records
        started = time.perf_counter()
        messages = self._consume(size, 0, [])
        if messages:
            return messages, time.perf_counter() - started
        messages = self._consume(1, _IDLE_WAIT_S, [])
        started = time.perf_counter()
        if messages and size > 1 and self.settings.max_wait_ms > 0:
            messages = self._consume(size - 1, self.settings.max_wait_ms / 1000.0, messages)
        return messages, time.perf_counter() - started

    def _consume(self, count: int, timeout: float, held: list[Message]) -> list[Message]:
        """``held`` plus up to ``count`` more records, less the held records of a partition
        revoked during this call (they are no longer this worker's to answer)."""
        assert self.consumer is not None
        self._revoked.clear()
        fresh = self.consumer.consume(num_messages=count, timeout=timeout)
        if self._revoked and held:
            kept = [m for m in held if (m.topic(), m.partition()) not in self._revoked]
            if len(kept) < len(held):
                log.info(
                    "worker %d dropped %d gathered records of revoked partitions",
                    self.index, len(held) - len(kept),
                )  # fmt: skip
            held = kept
        return held + fresh

    def _decode(self, message: Message) -> Outcome:
        try:
            return decode_value(message.value(), self.settings.max_value_bytes)
        except Exception as exc:
            return exc

    def score_batch(
        self, records: list[Message], outcomes: list[Outcome]
    ) -> list[Answer | BaseException]:
        """Each record's answer, or why it has none: the one place a batch is scored (with
        the model set of the batch's start: champion or canary per comment, the shadow)."""
        return self.answering.answer(self.plane, records, outcomes)

    def write(
        self,
        checkpoint: Checkpoint,
        message: Message,
        outcome: Outcome,
        answer: Answer | BaseException,
    ) -> None:
        """Produce the output of one record: its answer, or the record to the dead-letter topic."""
        error: BaseException | None
        if isinstance(answer, BaseException):
            error = answer
        else:
            assert isinstance(outcome, Decoded)  # only decoded records have scores
            error = self._write_answer(checkpoint, message, outcome, answer)
        if error is not None:
            failure = DeadLetter(checkpoint, self.settings.dead_letter).send(message, error)
            metrics.DEAD_LETTERED.labels(failure.reason).inc()

    def _write_answer(
        self, checkpoint: Checkpoint, message: Message, decoded: Decoded, answer: Answer
    ) -> BaseException | None:
        """Produce the answer (and its shadow and review records); returns why it could not
        be (the record then is dead-lettered). See ``Answering.records``."""
        key = h.raw(message.key())
        try:
            main, extras = self.answering.records(
                self.plane, message, decoded, answer, self._text_headers
            )
        except Exception as exc:  # an encoding bug must not poison the batch
            return exc
        try:
            checkpoint.produce(self.output_topic, key=key, value=main.value, headers=main.headers)
        except PayloadTooLarge as exc:
            return exc
        self._produced.inc()
        for extra in extras:
            try:
                checkpoint.produce(extra.topic, key=key, value=extra.value, headers=extra.headers)
            except PayloadTooLarge as exc:  # the answer went out; only this copy is lost
                log.warning("%s not written for %s: %s", extra.topic, key, exc)
        return None

    def _text_headers(self, decoded: Decoded, answer: Answer) -> h.Headers:
        """Each text's length and out-of-vocabulary share for the answering version."""
        return h.text_headers(decoded.texts, self._profiles.get(answer.scores.model.version))

    def _recover(self, checkpoint: Checkpoint, exc: BatchNotCommitted, size: int) -> None:
        """Rewind a batch that was not committed; replace the producer only if it is broken."""
        metrics.FAILURES.labels(exc.reason).inc()
        producer_usable = checkpoint.rewind()
        # What no retry fixes stops the worker: an ACL, a missing topic, a fenced producer.
        self.guard.failed_writes(checkpoint.failed_writes)
        for error in checkpoint.client_errors:
            self.clients.refusals.note(error)
        self.guard.check()
        log.warning("batch of %d not committed, it will be retried: %s", size, exc)
        # Refused for size: the retry's producer is capped, its oversized answers dead-lettered.
        self.clients.size_cap.learn(checkpoint.undelivered)
        if exc.producer_unusable or not producer_usable:
            self._replace_producer()
        self._sleep()

    # -- errors, rebalances and backoff ----------------------------------------------
    def _outside(self) -> None:
        """Say why the worker is not in its group, every ``_JOIN_REPORT_S`` it stays out,
        when the cluster shows why: one that cannot create its consumer offsets topic
        forms no group and tells its consumers nothing."""
        if self._joined:
            self._outside_since = None
            return
        now = time.monotonic()
        if self._outside_since is None:
            self._outside_since = now
        elif now - self._outside_since >= _JOIN_REPORT_S:
            self._outside_since = now
            why = offsets_topic_shortfall(self.settings.client_config())
            if why is not None:
                log.warning("worker %d is not in group %s: %s", self.index,
                            self.settings.group, why)  # fmt: skip

    def _is_error(self, message: Message) -> bool:
        error = message.error()
        if error is None:
            return False
        if error.code() != KafkaError._PARTITION_EOF:
            self.guard.record_error(error, str(message.topic() or self.input_topic))
            self._errors.warning(str(error.code()), f"consumer: {error.str()}")
        return True

    def _on_assign(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.assigned.update((p.topic, p.partition) for p in partitions)
        metrics.ASSIGNED.set(len(self.assigned))
        self._joined = True
        for topic in {p.topic for p in partitions}:
            self.guard.topics.found(topic)
        log.info("worker %d assigned %s", self.index, _describe(partitions))

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Rebalances are served inside consume(): every batch processed before has been
        # committed or rewound, so there is nothing to commit here; records gathered for
        # the batch being filled are dropped by ``_consume``.
        revoked = {(p.topic, p.partition) for p in partitions}
        self._revoked |= revoked
        self.assigned -= revoked
        metrics.ASSIGNED.set(len(self.assigned))
        log.info("worker %d revoked %s", self.index, _describe(partitions))

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._revoked |= {(p.topic, p.partition) for p in partitions}
        self.assigned.clear()
        metrics.ASSIGNED.set(0)
        self._joined = False
        log.warning("worker %d lost %s (out of its group)", self.index, _describe(partitions))

    def _topic_exists(self, topic: str) -> bool:
        assert self.consumer is not None
        return topic_exists(self.consumer, topic)

    def _sleep(self) -> None:
        self._backoff = min(MAX_BACKOFF, max(0.1, self._backoff * 2))
        self._stop.wait(self._backoff)


def _describe(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{p.topic}[{p.partition}]" for p in partitions) or "nothing"
