"""Topics, leaders, replicas and ACLs of a running cluster, through the AdminClient on
its PLAINTEXT listener (a super user when ACLs are on)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from confluent_kafka import TopicCollection
from confluent_kafka.admin import AclBinding, AclBindingFilter, AdminClient, NewTopic

from tests.kafka.node import KafkaNode


class ClusterError(RuntimeError):
    """The cluster did not start, did not answer, or a request to it failed."""


class ClusterAdmin:
    """The admin half of ``KafkaCluster``."""

    nodes: list[KafkaNode]
    replication_factor: int

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.address for node in self.nodes)

    def admin(self, **config: Any) -> AdminClient:
        """An AdminClient on the PLAINTEXT listener (a super user when ACLs are on)."""
        return AdminClient({"bootstrap.servers": self.bootstrap_servers, **config})

    def create_topics(
        self,
        topics: Mapping[str, int],
        *,
        replication: int | None = None,
        config: Mapping[str, str] | None = None,
        leader: int | None = None,
        timeout: float = 30.0,
    ) -> None:
        """Create ``{name: partitions}`` (existing ones are left) and wait for their leaders.

        ``leader``: the node id to lead every partition (its preferred replica), e.g. to
        put an input and an output topic on the node a failover test kills.
        """
        new = [self._new_topic(t, n, replication, leader, config) for t, n in topics.items()]
        if not new:
            return
        admin = self.admin()
        futures = admin.create_topics(new, operation_timeout=timeout, request_timeout=timeout)
        for name, future in futures.items():
            try:
                future.result(timeout=timeout)
            except Exception as exc:
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise ClusterError(f"cannot create topic {name!r}: {exc}") from exc
        self._wait_for_leaders(admin, dict(topics), timeout)

    def _new_topic(
        self,
        name: str,
        partitions: int,
        replication: int | None,
        leader: int | None,
        config: Mapping[str, str] | None,
    ) -> NewTopic:
        factor = replication or self.replication_factor
        settings = dict(config or {})
        if leader is None:
            return NewTopic(name, partitions, replication_factor=factor, config=settings)
        others = [n.node_id for n in self.nodes if n.node_id != leader][: factor - 1]
        replicas = [[leader, *others]] * partitions
        return NewTopic(name, partitions, replica_assignment=replicas, config=settings)

    def _wait_for_leaders(self, admin: AdminClient, topics: dict[str, int], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            metadata = admin.list_topics(timeout=timeout).topics
            if all(
                name in metadata
                and len(metadata[name].partitions) >= count
                and all(p.leader >= 0 for p in metadata[name].partitions.values())
                for name, count in topics.items()
            ):
                return
            time.sleep(0.1)
        raise ClusterError(f"topics {sorted(topics)} have no leaders after {timeout:.0f}s")

    def create_acls(self, bindings: list[AclBinding], timeout: float = 30.0) -> None:
        """Create ACLs (see ``tests.kafka.security.allow``); they apply on every node."""
        admin = self.admin()  # keep a reference: the futures die with their client
        for binding, future in admin.create_acls(bindings, request_timeout=timeout).items():
            try:
                future.result(timeout=timeout)
            except Exception as exc:
                raise ClusterError(f"cannot create ACL {binding}: {exc}") from exc

    def delete_acls(self, bindings: list[AclBinding], timeout: float = 30.0) -> None:
        """Take away ACLs made with ``create_acls``."""
        admin = self.admin()
        filters = [
            AclBindingFilter(b.restype, b.name, b.resource_pattern_type, b.principal, b.host,
                             b.operation, b.permission_type)
            for b in bindings
        ]  # fmt: skip
        for binding, future in admin.delete_acls(filters, request_timeout=timeout).items():
            try:
                future.result(timeout=timeout)
            except Exception as exc:
                raise ClusterError(f"cannot delete ACL {binding}: {exc}") from exc

    def leader_of(self, topic: str, partition: int) -> int:
        """The node id leading ``topic[partition]`` now (-1 while there is none)."""
        metadata = self.admin().list_topics(topic, timeout=10).topics[topic]
        return int(metadata.partitions[partition].leader)

    def in_sync_replicas(self, topic: str) -> list[int]:
        """How many replicas of each partition of ``topic`` are in sync, by partition."""
        admin = self.admin()
        [future] = admin.describe_topics(TopicCollection([topic])).values()
        return [len(p.isr) for p in future.result(timeout=30).partitions]
