"""Canary on the stream: 10% of 20,000 comments, the same ids on the same version again
after the workers restart; live per-community policy with the review queue, on workers
that also run a shadow whose answers go to their own topic only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from confluent_kafka import Producer

from modstream import cli
from modstream.broker import EmbeddedBroker
from modstream.registry.modelset import canary_point
from modstream.stream import headers as h
from tests.integration.registry_fixtures import Cli, Version, with_champion
from tests.integration.rollout_fixtures import comment, reading, start_workers
from tests.integration.stream_fixtures import Topics, unique, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]
COMMENTS = 20_000


@pytest.fixture
def models(
    broker: EmbeddedBroker, capsys: pytest.CaptureFixture[str], versions: tuple[Version, Version]
) -> Cli:
    return with_champion(broker, capsys, versions, "--")


def produce_comments(
    broker: EmbeddedBroker,
    topic: str,
    keys: list[str],
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    producer = Producer({"bootstrap.servers": broker.bootstrap_servers, "linger.ms": 20})
    for key in keys:
        while True:
            try:
                producer.produce(
                    topic,
                    key=key.encode(),
                    value=comment(f"{key}: source? trust me bro lol"),
                    headers=headers,
                )
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    assert producer.flush(60) == 0


def answered_versions(broker: EmbeddedBroker, topic: str, count: int) -> dict[str, str]:
    """The version that answered each key, once ``count`` distinct keys have answers."""
    with reading(broker.bootstrap_servers, topic) as reader:
        assert wait_for(lambda: len(reader.answered()) >= count, timeout=600, interval=1)
        return {a.key: a.version for a in reader.answers()}


def test_canary_takes_its_share_and_keeps_each_comment_across_a_restart(
    models: Cli, broker: EmbeddedBroker, versions: tuple[Version, Version], tmp_path: Path
) -> None:
    one, two = (v.version for v in versions)
    models.ok("canary", two, "--percent", "10")
    keys = [f"t1_{n:07d}" for n in range(COMMENTS)]
    topics = Topics(broker, partitions=4).create()
    workers = start_workers(topics, models.topic, tmp_path / "first.log")
    produce_comments(broker, topics.input, keys)
    first = answered_versions(broker, topics.output, COMMENTS)
    assert workers.stop() == 0
    share = sum(v == two for v in first.values()) / COMMENTS
    assert 0.09 <= share <= 0.11, share
    assert first == {k: two if canary_point(k) < 10 else one for k in keys}

    again = Topics(broker, partitions=4).create()  # a second run, on restarted workers
    workers = start_workers(again, models.topic, tmp_path / "second.log")
    produce_comments(broker, again.input, keys)
    second = answered_versions(broker, again.output, COMMENTS)
    assert workers.stop() == 0
    assert second == first


def set_policy(broker: EmbeddedBroker, topic: str, *args: str) -> None:
    connection = ["--bootstrap-servers", broker.bootstrap_servers, "--policies-topic", topic]
    assert cli.main(["policy", "set", *args, *connection]) == 0


def test_policy_changes_reach_every_worker_reviews_are_queued_and_the_shadow_answers_aside(
    models: Cli, broker: EmbeddedBroker, versions: tuple[Version, Version], tmp_path: Path
) -> None:
    one, two = (v.version for v in versions)
    models.ok("shadow", two)
    policies = unique("policies")
    set_policy(broker, policies, "--remove", "1.0", "--review", "1.0")  # keep everything
    topics = Topics(broker, partitions=4).create()
    workers = start_workers(
        topics, models.topic, tmp_path / "workers.log", "--policies-topic", policies
    )
    science = [(h.COMMUNITY, b"science")]
    review, shadow = f"{topics.output}.review", f"{topics.output}.shadow"
    sent = [f"a-{n}" for n in range(40)]
    with reading(broker.bootstrap_servers, topics.output, review, shadow) as reader:
        produce_comments(broker, topics.input, sent, science)
        assert wait_for(lambda: len(reader.answered()) == 40, timeout=120)
        assert {a.headers[h.DECISION] for a in reader.answers()} == {"keep"}
        set_policy(broker, policies, "--community", "science", "--review", "0.0")

        def everything_in_review() -> bool:  # both workers, every partition, new policy
            more = [f"b-{len(sent) + n}" for n in range(8)]
            produce_comments(broker, topics.input, more, science)
            sent.extend(more)
            latest = {a.partition: a.headers[h.DECISION] for a in reader.answers()}
            return len(latest) == 4 and set(latest.values()) == {"review"}

        assert wait_for(everything_in_review, timeout=120, interval=1)
        assert wait_for(
            lambda: reader.answered() == reader.answered(shadow) == set(sent), timeout=120
        )
        reviews = reader.answers(review)
    assert workers.stop() == 0
    assert reviews and all(r.key.startswith("b-") for r in reviews)
    document = reviews[-1].value
    assert document["community"] == "science" and document["decision"] == "review"
    assert document["thresholds"] == {"review": 0.0, "remove": 1.0}
    [text] = document["texts"]
    assert text["text"].startswith(document["id"]) and text["reasons"]
    output = {a.key: a for a in reader.answers()}[document["id"]]
    assert output.value["meta"]["tags"]["decision"] == "review"
    assert output.value["meta"]["tags"]["community"] == "science"
    assert json.loads(json.dumps(output.value))["data"]["names"] == ["t:0", "t:1"]

    # The shadow scored the same comments; its answers went to its own topic only.
    answers, shadows = reader.answers(), reader.answers(shadow)
    assert {(a.version, a.headers[h.MODEL_ROLE]) for a in answers} == {(one, "champion")}
    assert {(s.version, s.headers[h.MODEL_ROLE]) for s in shadows} == {(two, "shadow")}
    ids = {a.key: a.value["meta"]["puid"] for a in answers}
    assert {s.key: s.value["meta"]["puid"] for s in shadows} == ids  # same key, same id
    assert all(s.value["meta"]["tags"]["model_role"] == "shadow" for s in shadows)
