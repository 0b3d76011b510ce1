"""Integration fixtures shared across modules: one embedded broker for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modstream.broker import EmbeddedBroker


@pytest.fixture(scope="session")
def broker() -> Iterator[EmbeddedBroker]:
    """A running embedded broker; tests use their own random topic and group names."""
    with EmbeddedBroker() as running:
        yield running
