"""The model registry: versions on a compacted Kafka topic, followed by every instance.

``client.Registry`` reads and writes the topic; ``admin.RegistryAdmin`` and
``publish.publish`` implement ``modstream models``; ``follow.follow_registry`` makes a
worker or server follow it with a ``manager.ModelManager`` that loads versions in the
background and swaps its ``modelset.ModelSet`` between batches. See docs/models.md.

Only the light modules are imported here, so reading the registry does not import the
model stack.
"""

from __future__ import annotations

from modstream.registry.client import Registry
from modstream.registry.events import ModelEvent
from modstream.registry.state import Desired, ModelState, RegistryState, VersionEntry

__all__ = ["Desired", "ModelEvent", "ModelState", "Registry", "RegistryState", "VersionEntry"]
