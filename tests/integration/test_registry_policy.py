"""The policies topic on a real broker: ``modstream policy`` and instances following it."""

from __future__ import annotations

import json

import pytest

from modstream import cli
from modstream.broker import EmbeddedBroker
from modstream.policy import Thresholds, TopicPolicy
from tests.integration.stream_fixtures import unique, wait_for

pytestmark = pytest.mark.integration


def test_policy_changes_reach_a_following_instance(
    broker: EmbeddedBroker, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = unique("policies")

    def policy(*args: str) -> str:
        capsys.readouterr()
        connection = ["--bootstrap-servers", broker.bootstrap_servers, "--policies-topic", topic]
        assert cli.main(["policy", *args, *connection]) == 0
        return capsys.readouterr().out

    policy("set", "--remove", "0.8", "--review", "0.5")
    follower = TopicPolicy({"bootstrap.servers": broker.bootstrap_servers}, topic)
    try:
        assert follower.wait_caught_up(30)
        assert follower.current.thresholds("askscience") == Thresholds(0.8, 0.5)
        policy("set", "--community", "askscience", "--remove", "0.6")
        assert wait_for(lambda: follower.current.thresholds("askscience") == Thresholds(0.6, 0.5))
        policy("set", "--community", "askscience", "--review", "0.3")
        shown = json.loads(policy("show", "--json"))
        assert shown == {"*": {"remove": 0.8, "review": 0.5},
                         "askscience": {"remove": 0.6, "review": 0.3}}  # fmt: skip
        policy("clear", "--community", "askscience")
        assert wait_for(lambda: "askscience" not in follower.current.rules)
        assert "*: remove at 0.8, review at 0.5" in policy("show")
    finally:
        follower.stop()


def test_a_bad_threshold_is_a_one_line_error(
    broker: EmbeddedBroker, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        ["policy", "set", "--remove", "1.5", "--bootstrap-servers", broker.bootstrap_servers,
         "--policies-topic", unique("policies")]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "remove must be a probability in [0, 1], not 1.5" in err
