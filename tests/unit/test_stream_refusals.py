"""When a missing topic stops the worker: only once the cluster itself, asked, says the
topic does not exist; a topic created meanwhile, or a cluster that cannot be asked, is
waited for again."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException

from modstream.errors import TopicMissing
from modstream.stream.refusals import TopicWait


def answers(*replies: bool | KafkaException) -> tuple[list[str], TopicWait]:
    asked: list[str] = []
    queue = list(replies)

    def exists(topic: str) -> bool:
        asked.append(topic)
        reply = queue.pop(0)
        if isinstance(reply, KafkaException):
            raise reply
        return reply

    return asked, TopicWait(0.0, exists)


def test_a_topic_the_cluster_confirms_missing_stops_the_worker_naming_it() -> None:
    asked, wait = answers(False)
    wait.missing("comments")
    with pytest.raises(TopicMissing, match="topic 'comments' does not exist"):
        wait.check()
    assert asked == ["comments"]


def test_a_topic_created_while_the_consumer_had_not_noticed_is_waited_for() -> None:
    asked, wait = answers(True, KafkaException(KafkaError(KafkaError._TRANSPORT)), False)
    wait.missing("comments")
    wait.check()  # the cluster knows it: the consumer's metadata is just behind
    wait.check()  # the cluster cannot be asked: that is not the topic missing
    with pytest.raises(TopicMissing):
        wait.check()
    assert asked == ["comments"] * 3


def test_nothing_is_asked_before_the_limit_or_once_the_topic_was_assigned() -> None:
    asked: list[str] = []
    wait = TopicWait(3600.0, lambda topic: asked.append(topic) or False)
    wait.missing("comments")
    wait.check()
    wait.found("comments")
    wait.check()
    assert asked == []
