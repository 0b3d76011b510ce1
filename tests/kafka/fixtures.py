"""pytest fixtures and hooks of the Apache Kafka harness (registered in tests/conftest.py).

``kafka``: one combined broker+controller node for the whole session.
``kafka_cluster``: three nodes (replication factor 3, ``min.insync.replicas=2``), started
the first time a test asks for it; a node a test killed or stopped is started again after
that test, so the next one finds a healthy cluster.

A machine without Java 17+ or Maven (and nothing cached) skips these tests with the
reason; a cluster that is there but fails is an error. When a test that used a cluster
fails, its report names the broker log files (they stay in pytest's temporary directory)
and shows their last warnings.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.kafka.cluster import KafkaCluster
from tests.kafka.resolve import KafkaUnavailable


@contextmanager
def running(cluster: KafkaCluster) -> Iterator[KafkaCluster]:
    """Start ``cluster`` for a test (skipping it when Kafka cannot run here), stop after."""
    try:
        cluster.start()
    except KafkaUnavailable as exc:
        pytest.skip(f"Apache Kafka is not available here: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """A single-node Apache Kafka (KRaft) shared by the session."""
    with running(KafkaCluster(1, workdir=tmp_path_factory.mktemp("kafka"))) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def _kafka_three_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    workdir = tmp_path_factory.mktemp("kafka-cluster")
    # A dead node is fenced after 6 s without heartbeats instead of Kafka's default 9 s, so
    # failover tests wait less; the failover benchmark keeps the defaults.
    faster_fencing = {"broker.session.timeout.ms": "6000", "broker.heartbeat.interval.ms": "500"}
    with running(KafkaCluster(3, workdir=workdir, config=faster_fencing)) as cluster:
        yield cluster


@pytest.fixture
def kafka_cluster(_kafka_three_nodes: KafkaCluster) -> Iterator[KafkaCluster]:
    """Three Apache Kafka nodes; every node runs again when the test ends."""
    yield _kafka_three_nodes
    if not all(node.running for node in _kafka_three_nodes.nodes):
        _kafka_three_nodes.start()  # starts only the stopped nodes


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    """Name the broker logs (and show their last warnings) in a failed test's report."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    clusters = {
        id(value): value
        for value in getattr(item, "funcargs", {}).values()
        if isinstance(value, KafkaCluster)
    }
    for cluster in clusters.values():
        report.sections.append(("Apache Kafka logs", _log_summary(cluster.log_files())))


def _log_summary(files: list[Path], lines: int = 15) -> str:
    parts = []
    for path in files:
        text = path.read_text(errors="replace") if path.exists() else ""
        warnings = [ln[:300] for ln in text.splitlines() if " WARN " in ln or " ERROR " in ln]
        parts.append(f"{path} (kept)\n" + "\n".join(warnings[-lines:]))
    return "\n\n".join(parts)
