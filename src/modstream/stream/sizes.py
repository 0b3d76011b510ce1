"""The largest record the worker's producer sends, learnt from the broker's size refusals.

The producer may send records up to its ``message.max.bytes`` (16 MiB by default here),
but a topic takes only up to its ``max.message.bytes`` (1 MiB by default), and the broker
refuses a whole batch of records when the batch is over it: the delivery reports then say
``MSG_SIZE_TOO_LARGE`` for every record of that batch, small ones included, so a refused
record is not necessarily a large one. A retry with the same producer would be refused
the same way, forever.

So the first refusal teaches the worker that topic's limit (read from the topic's
configuration; without the right to read it, the largest refused record is taken as too
large), and every producer made from then on is capped below it: its batches stay under
the limit, and an answer over it is refused locally, before it is sent, which the worker
turns into a dead letter. The batch that met the refusal is rewound (its transaction
aborted) and processed again with the capped producer, so its oversized answers go to the
dead-letter topic and the others to the output, at-least-once or exactly-once as ever.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from confluent_kafka import KafkaError, Message
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

from modstream.stream import headers as h

log = logging.getLogger(__name__)

# Room for the record batch's header and each record's framing under the topic's limit,
# which counts whole batches while the producer's cap counts a record's key, value and
# headers.
FRAMING_BYTES = 512
# librdkafka's smallest message.max.bytes.
SMALLEST_CAP = 1000
_TOPIC_LIMIT = "max.message.bytes"
_DESCRIBE_TIMEOUT_S = 10.0


def record_size(message: Message) -> int:
    """A record's key, value and headers, in bytes."""
    size = len(message.key() or b"") + len(message.value() or b"")
    for name, value in h.own_headers(message):
        size += len(name) + len(value or b"")
    return size


class SizeCap:
    """The producer's ``message.max.bytes`` after the broker refused records for their size."""

    def __init__(self, client_config: Mapping[str, str | int]) -> None:
        self.client_config = dict(client_config)
        self.cap: int | None = None

    def overrides(self) -> dict[str, int]:
        """Producer properties that keep records and batches under the cap (none before)."""
        if self.cap is None:
            return {}
        return {"message.max.bytes": self.cap, "batch.size": self.cap}

    def learn(self, failures: Iterable[tuple[KafkaError, Message]]) -> bool:
        """Lower the cap below every topic that refused records for their size; returns
        whether one did (the producer must then be replaced)."""
        refused: dict[str, int] = {}
        for error, message in failures:
            if error.code() == KafkaError.MSG_SIZE_TOO_LARGE:
                topic = str(message.topic())
                refused[topic] = max(refused.get(topic, 0), record_size(message))
        for topic, largest in refused.items():
            limit = self._limit_of(topic)
            below = limit - FRAMING_BYTES if limit is not None else largest - 1
            self.cap = max(SMALLEST_CAP, min(self.cap or below, below))
            log.warning(
                "%s refused records for their size (%s): from now on the worker sends records "
                "of at most %d bytes; larger answers go to the dead-letter topic",
                topic,
                f"its {_TOPIC_LIMIT} is {limit}" if limit is not None else "its limit unknown",
                self.cap,
            )
        return bool(refused)

    def _limit_of(self, topic: str) -> int | None:
        """The topic's ``max.message.bytes``, or ``None`` when it cannot be read (an ACL
        without DESCRIBE_CONFIGS, a broker that does not answer)."""
        admin = AdminClient({**self.client_config, "log_level": 0})
        resource = ConfigResource(ResourceType.TOPIC, topic)
        try:
            [future] = admin.describe_configs([resource]).values()
            entry = future.result(_DESCRIBE_TIMEOUT_S).get(_TOPIC_LIMIT)
            return int(entry.value) if entry is not None else None
        except Exception as exc:  # whatever the reason, the refused size is the fallback
            log.warning("cannot read %s of %s: %s", _TOPIC_LIMIT, topic, exc)
            return None
