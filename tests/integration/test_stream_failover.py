"""Broker failover on a three-node Apache Kafka under a steady paced load: the node
coordinating the worker's group and leading the input, output and dead-letter topics is
SIGKILLed while the worker runs, and
restarted once inputs sent after the kill have been answered. The worker carries on once
leadership moves: no input is lost, at-least-once repeats at most one batch, exactly-once
repeats nothing, and the cluster heals. How long the answers stop is measured in
bench/bench_failover.py, not here."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.failover_scenario import run_failover
from tests.integration.test_stream_processes import MAX_BATCH
from tests.kafka import KafkaCluster

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.kafka]


@pytest.mark.parametrize("exactly_once", [False, True], ids=["at-least-once", "exactly-once"])
def test_worker_rides_out_the_leader_broker_dying(
    kafka_cluster: KafkaCluster, model_dir: Path, tmp_path: Path, exactly_once: bool
) -> None:
    # The group's coordinator dies too: then librdkafka's send_offsets_to_transaction can
    # wait for good, and an exactly-once worker must give its producer up instead.
    failover = run_failover(
        kafka_cluster, model_dir, tmp_path, exactly_once=exactly_once, after_restart_s=1.0,
        group_on_victim=True,
    )  # fmt: skip
    assert failover.resumed_while_down, failover.log  # carried on under the new leaders
    assert set(failover.answers) == failover.inputs, failover.log  # 0 inputs lost
    duplicates = sum(n - 1 for n in failover.answers.values())
    assert duplicates <= (0 if exactly_once else MAX_BATCH), failover.log
    assert failover.healed  # the restarted node is back in sync for every topic
