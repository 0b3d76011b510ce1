"""When a missing topic stops the worker: only once the cluster itself, asked, says the
topic does not exist; a topic created meanwhile, or a cluster that cannot be asked, is
waited for again. Which login errors are the cluster's refusal, and which a connection's
trouble that the client gets over."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException

from modstream.errors import AuthenticationFailed, TopicMissing
from modstream.stream.refusals import TopicWait, refusal


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


# Met by a registry follower without its group's ACL on a cluster that makes clients log in
# again every 4 s (connections.max.reauth.ms): about once a minute, the broker closed its
# connection and the next handshake failed at once; the client logged in again each time.
CUT_SHORT = (
    "sasl_ssl://127.0.0.1:48633/1: SASL SCRAM-SHA-512 mechanism handshake failed: Local: "
    "Broker transport failure: broker's supported mechanisms: (n/a) (after 0ms in state DOWN)"
)
WRONG_PASSWORD = (
    "sasl_ssl://127.0.0.1:48633/1: SASL authentication error: Authentication failed during "
    "authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512 "
    "(after 305ms in state AUTH_REQ)"
)


def test_a_handshake_the_connection_cut_short_is_no_refused_login() -> None:
    assert refusal(KafkaError(KafkaError._AUTHENTICATION, CUT_SHORT)) is None
    wrong = refusal(KafkaError(KafkaError._AUTHENTICATION, WRONG_PASSWORD))
    assert isinstance(wrong, AuthenticationFailed)
    assert "refused the login" in str(wrong) and "invalid credentials" in str(wrong)
