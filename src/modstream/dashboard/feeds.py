"""What the dashboard knows, built from the records of the input, output and dead-letter topics.

The worker copies each input record's headers to its output and adds where the input
came from (topic, partition, offset), so an output is joined to the text it answers
without asking the worker anything. Throughput, time to verdict and the backlog are
computed from these records and their timestamps, so the numbers hold for any worker.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from modstream.errors import ModstreamError
from modstream.monitor.predictions import comment_ids
from modstream.protocol import decode_any_request, decode_json_bytes, response_probabilities
from modstream.stream import headers as h

log = logging.getLogger(__name__)

SENT_ID = "modstream.dashboard.id"  # header on comments sent from the dashboard's box
MEMORY = 20_000  # input records remembered for joining
JOIN_WAIT_S = 3.0  # how long an output waits for its input before it is shown without text
HISTORY_S = 60


@dataclass
class Record:
    """A consumed Kafka record, reduced to what the dashboard uses."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    value: bytes | None
    headers: dict[str, str]
    key: bytes | None = None

    def source(self) -> tuple[str, int, int] | None:
        """The input record this output or dead letter answers, from the worker's headers."""
        try:
            return (
                self.headers[h.SOURCE_TOPIC],
                int(self.headers[h.SOURCE_PARTITION]),
                int(self.headers[h.SOURCE_OFFSET]),
            )
        except (KeyError, ValueError):
            return None


@dataclass
class Comment:
    """One text and its verdict (or why it could not be scored), as the page shows it."""

    id: str
    text: str | None
    p_removed: float | None
    removed: bool | None
    error: str | None
    source: str
    latency_ms: float | None
    at_ms: int
    sent_id: str | None
    why: list[dict[str, Any]] | None = None
    comment_id: str | None = None  # what a moderator's decision names (the monitor's id rule)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Input:
    texts: list[str]
    timestamp_ms: int
    done: bool = False


@dataclass
class FeedState:
    """Joins inputs to outputs and keeps the counters; used from one thread (the event loop)."""

    input_topic: str
    output_topic: str
    dead_letter_topic: str
    threshold: float
    keep: int = 40
    started: float = field(default_factory=time.time)
    scored: int = 0
    removed: int = 0
    dead_letters: int = 0
    inputs_seen: int = 0
    waiting: int = 0

    def __post_init__(self) -> None:
        self._inputs: OrderedDict[tuple[str, int, int], _Input] = OrderedDict()
        self._pending: dict[tuple[str, int, int], tuple[float, Record]] = {}
        self._dead_early: set[tuple[str, int, int]] = set()  # dead letters read before input
        self._latencies: deque[float] = deque(maxlen=500)
        self._per_second: dict[int, int] = {}
        self.latest: deque[Comment] = deque(maxlen=self.keep)

    # -- records in ------------------------------------------------------------------
    def ingest(self, record: Record) -> list[Comment]:
        """Take one record; returns the comments it completes (possibly none)."""
        if record.topic == self.input_topic:
            return self._on_input(record)
        if record.topic == self.output_topic:
            return self._on_output(record)
        if record.topic == self.dead_letter_topic:
            return [self._on_dead_letter(record)]
        return []

    def _on_input(self, record: Record) -> list[Comment]:
        key = (record.topic, record.partition, record.offset)
        if key in self._inputs:
            return []
        done = key in self._dead_early
        self._dead_early.discard(key)
        self._inputs[key] = _Input(input_texts(record.value), record.timestamp_ms, done)
        self.inputs_seen += 1
        self.waiting += 0 if done else 1
        while len(self._inputs) > MEMORY:
            _, old = self._inputs.popitem(last=False)
            self.waiting -= 0 if old.done else 1
        pending = self._pending.pop(key, None)
        return self._on_output(pending[1]) if pending else []

    def _on_output(self, record: Record) -> list[Comment]:
        key = record.source()
        source = self._inputs.get(key) if key else None
        if key is not None and source is None and key not in self._pending:
            self._pending[key] = (time.monotonic(), record)  # its input is not read yet
            return []
        if source is not None:
            if source.done:  # a redelivery (at-least-once): counted already
                return []
            self._finish(source)
        probabilities = output_probabilities(record.value)
        texts: list[str | None] = list(source.texts) if source else []
        texts += [None] * (len(probabilities) - len(texts))
        latency = max(0.0, record.timestamp_ms - source.timestamp_ms) if source else None
        ids = comment_ids(record.key, record.value, len(probabilities))
        comments = [
            self._scored(record, i, text, p, latency, ids[i])
            for i, (text, p) in enumerate(zip(texts, probabilities, strict=False))
        ]
        if latency is not None:
            self._latencies.append(latency)
        return comments

    def _scored(
        self,
        record: Record,
        i: int,
        text: str | None,
        p: float,
        latency: float | None,
        comment_id: str | None = None,
    ) -> Comment:
        removed = p >= self.threshold
        self.scored += 1
        self.removed += int(removed)
        second = int(time.time())
        self._per_second[second] = self._per_second.get(second, 0) + 1
        comment = Comment(
            id=f"{record.partition}-{record.offset}-{i}",
            text=text,
            p_removed=p,
            removed=removed,
            error=None,
            source=_where(record),
            latency_ms=latency,
            at_ms=record.timestamp_ms,
            sent_id=record.headers.get(SENT_ID),
            comment_id=comment_id,
        )
        self.latest.appendleft(comment)
        return comment

    def _on_dead_letter(self, record: Record) -> Comment:
        key = record.source()
        source = self._inputs.get(key) if key else None
        if source is not None and not source.done:
            self._finish(source)
        elif key is not None and source is None:
            self._dead_early.add(key)
        self.dead_letters += 1
        reason = record.headers.get(h.ERROR_MESSAGE) or record.headers.get(h.ERROR_REASON)
        raw = (record.value or b"").decode("utf-8", "replace")
        comment = Comment(
            id=f"dlq-{record.partition}-{record.offset}",
            text=raw[:500] or "(empty record)",
            p_removed=None,
            removed=None,
            error=reason or "the worker could not read this record",
            source=_where(record),
            latency_ms=None,
            at_ms=record.timestamp_ms,
            sent_id=record.headers.get(SENT_ID),
        )
        self.latest.appendleft(comment)
        return comment

    def _finish(self, source: _Input) -> None:
        source.done = True
        self.waiting -= 1

    def expire(self) -> list[Comment]:
        """Outputs whose input never showed up in time: show them without their text."""
        now = time.monotonic()
        late = [k for k, (since, _) in self._pending.items() if now - since > JOIN_WAIT_S]
        comments: list[Comment] = []
        for key in late:
            _, record = self._pending.pop(key)
            record.headers.pop(h.SOURCE_OFFSET, None)  # do not wait again
            comments += self._on_output(record)
        return comments

    # -- numbers out -----------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        now = int(time.time())
        history = [self._per_second.get(s, 0) for s in range(now - HISTORY_S, now)]
        for second in [s for s in self._per_second if s < now - HISTORY_S]:
            del self._per_second[second]
        latencies = sorted(self._latencies)
        return {
            "scored": self.scored,
            "removed": self.removed,
            "dead_letters": self.dead_letters,
            "inputs": self.inputs_seen,
            "waiting": max(0, self.waiting),
            "per_second": sum(history[-10:]) / 10.0,
            "history": history,
            "latency_ms_p50": _quantile(latencies, 0.5),
            "latency_ms_p95": _quantile(latencies, 0.95),
            "uptime_s": round(time.time() - self.started, 1),
        }


def _where(record: Record) -> str:
    source = record.source()
    if source is None:
        return f"{record.topic}[{record.partition}]@{record.offset}"
    return f"{source[0]}[{source[1]}]@{source[2]}"


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return values[min(len(values) - 1, int(q * len(values)))]


def input_texts(value: bytes | None) -> list[str]:
    """The texts of a request record (Seldon or V2), or ``[]`` if it is not a valid one."""
    try:
        return list(decode_any_request(decode_json_bytes(value or b"")).texts)
    except ModstreamError:
        return []


def output_probabilities(value: bytes | None) -> list[float]:
    """P(removed) per text of a Seldon or V2 response record (``[]`` if unreadable)."""
    try:
        rows = response_probabilities(decode_json_bytes(value or b""))
    except ModstreamError as exc:
        log.warning("an output record could not be read as a prediction: %s", exc.message)
        return []
    return [row[1] for row in rows]
