"""``modstream export``: comments joined with their latest decision, as a CSV training reads.

The input topic gives each comment's text (its id is the record key; a request's own id
when there is no key; ``<id>#<i>`` for the i-th text of a request with several), the
decisions topic the latest decision per comment (the latest ``at`` wins, as in the
monitor). Both are read from the beginning to the end they had when the export started.
The CSV (``id, community, body, removed, decided_at, source``) is what ``modstream train
--data`` reads as is; beside it, ``<csv>.labels.json`` says where the labels came from,
and training copies that into the new artifact's manifest (``training.reading.labels``).
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from modstream.checksum import sha256_file
from modstream.errors import InvalidInput, ModstreamError
from modstream.monitor.contract import BadDecision, Decision, parse_decision
from modstream.monitor.provenance import LABELS_SUFFIX
from modstream.protocol.documents import decode_any_request
from modstream.stream import headers as h
from modstream.stream.codec import record_id

__all__ = ["export_labels"]

COLUMNS = ("id", "community", "body", "removed", "decided_at", "source")


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


def read_to_end(config: dict[str, str], topic: str, timeout: float = 30.0) -> Iterator[Any]:
    """Every record of ``topic`` up to the end each partition had when reading started."""
    consumer = Consumer({**config, "group.id": "modstream-export", "enable.auto.commit": False})
    try:
        metadata = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
        if metadata is None or metadata.error is not None:
            raise ModstreamError(f"topic {topic!r} does not exist on {config['bootstrap.servers']}")
        ends = {}
        for partition in metadata.partitions:
            _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout)
            if high > 0:
                ends[partition] = high
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        # Short polls: ``consume`` waits its whole timeout when fewer records than asked
        # for remain. ``timeout`` bounds a stall instead (a partition whose end never comes).
        last_record = time.monotonic()
        while ends:
            batch = consumer.consume(1000, 0.2)
            if not batch and time.monotonic() - last_record > timeout:
                raise ModstreamError(
                    f"reading {topic!r} stopped short of its end: nothing arrived for "
                    f"{timeout:g}s from partition(s) {sorted(ends)}"
                )
            for message in batch:
                last_record = time.monotonic()
                if message.error() is not None:
                    continue
                if (message.offset() or 0) + 1 >= ends.get(message.partition(), 0):
                    ends.pop(message.partition(), None)
                yield message
    finally:
        consumer.close()


@dataclass
class _Labels:
    """The latest decision per comment, and what reading the decisions found."""

    latest: dict[str, Decision] = field(default_factory=dict)
    read: int = 0
    bad: int = 0
    sources: Counter[str] = field(default_factory=Counter)

    def add(self, message: Any) -> None:
        self.read += 1
        try:
            decision = parse_decision(message.value(), message.key(), message.timestamp()[1] / 1000)
        except BadDecision:
            self.bad += 1
            return
        self.sources[decision.source] += 1
        known = self.latest.get(decision.id)
        if known is None or decision.at >= known.at:
            self.latest[decision.id] = decision


def _comments(message: Any) -> list[tuple[str, str, str]]:
    """``(id, community, text)`` of each text of an input record (none if unreadable)."""
    try:
        request = decode_any_request(orjson.loads(message.value() or b""))
    except (InvalidInput, orjson.JSONDecodeError):
        return []
    own = getattr(request, "puid", None) or getattr(request, "id", None)
    ident = record_id(message.key()) or own
    if not ident:
        return []
    head = {k: (v or b"").decode("utf-8", "replace") for k, v in message.headers() or []}
    community = head.get(h.COMMUNITY, "")
    texts = list(request.texts)
    ids = [ident] if len(texts) == 1 else [f"{ident}#{i}" for i in range(len(texts))]
    return [(i, community, t) for i, t in zip(ids, texts, strict=True)]


def export_labels(
    config: dict[str, str], input_topic: str, decisions_topic: str, out: Path
) -> dict[str, Any]:
    """Write the labelled CSV and its provenance; returns the provenance."""
    labels = _Labels()
    for message in read_to_end(config, decisions_topic):
        labels.add(message)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    written, texts, seen = 0, 0, set()
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for message in read_to_end(config, input_topic):
            for ident, community, text in _comments(message):
                texts += 1
                decision = labels.latest.get(ident)
                if decision is None or ident in seen:  # undecided, or a redelivered input
                    continue
                seen.add(ident)
                community = community or decision.community
                writer.writerow(
                    [
                        ident,
                        community,
                        text,
                        int(decision.removed),
                        _iso(decision.at),
                        decision.source,
                    ]
                )
                written += 1
    os.replace(tmp, out)
    decided = [d.at for d in labels.latest.values()]
    provenance = {
        "source": "modstream export",
        "bootstrap_servers": config.get("bootstrap.servers"),
        "input_topic": input_topic,
        "decisions_topic": decisions_topic,
        "exported_at": datetime.now(UTC).isoformat(),
        "rows": written,
        "texts_read": texts,
        "decisions_read": labels.read,
        "bad_decisions": labels.bad,
        "decisions_without_text": len(labels.latest) - len(seen),
        "decisions_by_source": dict(labels.sources),
        "decided_between": [_iso(min(decided)), _iso(max(decided))] if decided else None,
        "csv_sha256": sha256_file(out),
    }
    Path(f"{out}{LABELS_SUFFIX}").write_text(json.dumps(provenance, indent=2), encoding="utf-8")
    return provenance
