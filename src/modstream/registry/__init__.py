"""The model registry: versions on a compacted Kafka topic, followed by every instance.

``client.Registry`` reads and writes the topic; ``admin.RegistryAdmin`` and
``publish.publish`` implement ``modstream models``; ``follow.follow_registry`` makes a
worker or server follow it with a ``manager.ModelManager`` that loads versions in the
background and swaps the data plane's ``ModelSet`` between batches. See docs/models.md.

Only the light, Kafka-free modules are imported here: the data plane imports ``ModelSet``.
"""

from __future__ import annotations

from modstream.registry.events import ModelEvent
from modstream.registry.modelset import ModelSet, canary_point
from modstream.registry.state import Desired, ModelState, RegistryState, VersionEntry

__all__ = [
    "Desired",
    "ModelEvent",
    "ModelSet",
    "ModelState",
    "RegistryState",
    "VersionEntry",
    "canary_point",
]
