"""The registry on Kafka: a compacted models topic and its append-only history.

``<topic>`` (one partition, ``cleanup.policy=compact``) holds the current state: its keys
are chosen so that the latest record per key is a complete piece of it (see
``events.event_key``). ``<topic>.history`` (one partition, kept forever) receives every
event after the state topic acknowledged it, for ``modstream models history`` and audits.
The state topic is authoritative: if the history write fails, the command says so.
"""

from __future__ import annotations

import logging
from typing import Any

from modstream.errors import InvalidInput, ModstreamError, NotFound
from modstream.registry.events import ModelEvent
from modstream.registry.state import RegistryState
from modstream.registry.table import Config, TableWriter, create_topic, read_table

log = logging.getLogger(__name__)

STATE_CONFIG = {"cleanup.policy": "compact", "min.compaction.lag.ms": "60000"}
HISTORY_CONFIG = {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"}

__all__ = ["Registry", "history_topic"]


def history_topic(topic: str) -> str:
    """The append-only history beside the models topic ``topic``."""
    return f"{topic}.history"


class Registry:
    """Reads and writes one registry (a models topic and its history) on a Kafka cluster."""

    def __init__(self, config: Config, topic: str) -> None:
        self.config = config
        self.topic = topic
        self.history_topic = history_topic(topic)
        self.writer = TableWriter(config)  # one producer for every event this registry records

    def ensure_topics(self) -> list[str]:
        """Create the models and history topics if missing; returns those it created."""
        created = []
        for topic, config in ((self.topic, STATE_CONFIG), (self.history_topic, HISTORY_CONFIG)):
            if create_topic(self.config, topic, config):
                created.append(topic)
        return created

    def state(self) -> RegistryState:
        """The current state, read from the beginning of the models topic to its end."""
        state = RegistryState()

        def fold(message: Any) -> None:
            try:
                state.apply(ModelEvent.from_json(message.value()), int(message.offset()))
            except InvalidInput as exc:
                log.warning("%s offset %s skipped: %s", self.topic, message.offset(), exc)

        try:
            read_table(self.config, self.topic, fold)
        except NotFound as exc:
            raise NotFound(
                f"the registry topic {self.topic!r} does not exist: publish a version first"
            ) from exc
        return state

    def history(self, model: str | None = None) -> list[ModelEvent]:
        """Every event ever recorded (for ``model`` only, when given), oldest first."""
        events: list[ModelEvent] = []

        def keep(message: Any) -> None:
            try:
                event = ModelEvent.from_json(message.value())
            except InvalidInput:
                return
            if model is None or event.model == model:
                events.append(event)

        read_table(self.config, self.history_topic, keep)
        return events

    def record(self, event: ModelEvent) -> int:
        """Write ``event`` to the models topic, then to the history; returns its offset."""
        offset = self.writer.append(self.topic, event.key(), event.to_json())
        try:
            self.writer.append(self.history_topic, event.model, event.to_json())
        except ModstreamError as exc:
            raise ModstreamError(
                f"the {event.type} event took effect (offset {offset} of {self.topic}) but "
                f"was not added to {self.history_topic}: {exc}"
            ) from exc
        return offset
