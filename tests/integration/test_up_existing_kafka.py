"""``modstream up --bootstrap-servers`` on an existing Apache Kafka: the topics it needs are
created once, with the partitions asked for, and found the next time. The whole stack on a
secured Kafka (ACLs, no auto-creation, dashboard, no secret shown): test_kafka_security.py."""

from __future__ import annotations

import pytest

from modstream.settings import UpSettings
from modstream.up.existing import prepare_topics
from tests.integration.stream_fixtures import unique
from tests.kafka import KafkaCluster

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


def test_missing_topics_are_created_once_then_found(kafka: KafkaCluster) -> None:
    prefix = unique("up")
    names = ("input", "output", "decisions", "monitor_metrics", "alerts")
    topics = {f"{name}_topic": f"{prefix}-{name}" for name in names}
    settings = UpSettings(bootstrap_servers=kafka.bootstrap_servers, partitions=2, **topics)
    where = kafka.bootstrap_servers

    said: list[str] = []
    prepare_topics(settings, said.append)
    assert said == [f"created {', '.join(settings.topics)} on {where} (2 partition(s) each)"]
    listed = kafka.admin().list_topics(timeout=10).topics
    assert {t: len(listed[t].partitions) for t in settings.topics} == dict.fromkeys(
        settings.topics, 2
    )
    assert f"{prefix}-output.review" in settings.topics  # the worker's review and shadow
    assert f"{prefix}-output.shadow" in settings.topics

    said.clear()
    prepare_topics(settings, said.append)  # a second up finds them
    assert said == [f"using the existing Kafka at {where}: {', '.join(settings.topics)} exist"]
