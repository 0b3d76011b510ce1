"""The Kafka worker: poll -> decode -> batch predict -> produce -> commit; dead-letter topic."""

from __future__ import annotations
