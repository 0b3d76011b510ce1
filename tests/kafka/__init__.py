"""Apache Kafka for the tests and benchmarks: resolved with Maven, started on loopback.

    from tests.kafka import KafkaCluster, SaslSsl

    with KafkaCluster(nodes=3) as kafka:          # or nodes=1; security=SaslSsl(...)
        kafka.create_topics({"comments": 4})
        kafka.bootstrap_servers, kafka.leader_of("comments", 0), kafka.kill(2), kafka.restart(2)

The pytest fixtures ``kafka`` (one node per session) and ``kafka_cluster`` (three nodes)
live in ``tests.kafka.fixtures``; ``python -m tests.kafka`` (``scripts/kafka``) starts a
cluster by hand.
"""

from __future__ import annotations

from tests.kafka.cluster import ClusterError, KafkaCluster
from tests.kafka.node import KafkaNode
from tests.kafka.resolve import KAFKA_VERSION, KafkaUnavailable, classpath
from tests.kafka.security import SaslSsl, allow

__all__ = [
    "KAFKA_VERSION",
    "ClusterError",
    "KafkaCluster",
    "KafkaNode",
    "KafkaUnavailable",
    "SaslSsl",
    "allow",
    "classpath",
]
