"""Integration fixtures shared across modules: the session's brokers.

``broker`` is the embedded broker, except in the stream contract modules
(``test_stream_*.py``), where every test that asks for ``broker`` (or ``new_broker``)
runs twice: on the embedded broker and on Apache Kafka (one single node per session).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from modstream.broker import EmbeddedBroker, free_port
from tests.kafka import KafkaCluster, KafkaUnavailable, classpath
from tests.kafka.resolve import java

EMBEDDED, APACHE_KAFKA = "embedded", "apache-kafka"
BOTH_BROKERS = (EMBEDDED, pytest.param(APACHE_KAFKA, marks=pytest.mark.kafka))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if module.startswith("test_stream_") and "broker_kind" in metafunc.fixturenames:
        metafunc.parametrize("broker_kind", BOTH_BROKERS, indirect=True, scope="session")


@pytest.fixture(scope="session")
def broker_kind(request: pytest.FixtureRequest) -> str:
    """Which broker the test runs on (parametrized in the stream contract modules)."""
    return str(getattr(request, "param", EMBEDDED))


@pytest.fixture(scope="session")
def embedded_broker() -> Iterator[EmbeddedBroker]:
    """A running embedded broker; tests use their own random topic and group names."""
    with EmbeddedBroker() as running:
        yield running


@pytest.fixture(scope="session")
def broker(broker_kind: str, request: pytest.FixtureRequest) -> Any:
    """A running broker of ``broker_kind``: ``bootstrap_servers``, ``create_topics``."""
    return request.getfixturevalue("kafka" if broker_kind == APACHE_KAFKA else "embedded_broker")


@pytest.fixture
def new_broker(broker_kind: str, tmp_path: Path) -> Iterator[Callable[[], Any]]:
    """A factory of brokers of ``broker_kind`` that are not started yet (the test starts,
    stops and restarts them); any still running at the end are stopped."""
    made: list[Any] = []

    def make() -> Any:
        if broker_kind == EMBEDDED:
            made.append(EmbeddedBroker(free_port()))
        else:
            made.append(KafkaCluster(1, workdir=tmp_path / f"kafka-{len(made)}"))
        return made[-1]

    if broker_kind == APACHE_KAFKA:
        try:
            java(), classpath()
        except KafkaUnavailable as exc:
            pytest.skip(f"Apache Kafka is not available here: {exc}")
    yield make
    for running in made:
        running.stop()


@pytest.fixture(scope="session")
def versions(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Two versions of the demo model for the registry tests (trained once per session)."""
    from tests.integration.registry_fixtures import train_version

    root = tmp_path_factory.mktemp("versions")
    return train_version(root / "one"), train_version(root / "two", rows=400)
