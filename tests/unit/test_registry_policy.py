"""Moderation policy: decisions from two thresholds, community overrides, live file reloads."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from modstream.errors import InvalidInput
from modstream.policy import FilePolicy, Policy, Thresholds, severest
from tests.integration.stream_fixtures import wait_for

POLICY = {"*": {"remove": 0.8, "review": 0.5}, "askscience": {"remove": 0.6}, "memes": {}}


def test_each_comment_of_a_record_gets_its_own_decision() -> None:
    policy = Policy.from_json(json.dumps(POLICY))
    each = policy.decide_each([0.4, 0.55, 0.65], 0.7, "askscience")
    assert [d.decision for d in each] == ["keep", "review", "remove"]
    assert each == tuple(policy.decide(p, 0.7, "askscience") for p in (0.4, 0.55, 0.65))


def test_no_policy_decides_exactly_as_the_model_threshold() -> None:
    policy = Policy()
    assert [policy.decide(p, 0.4, None).decision for p in (0.39, 0.4, 0.9)] == [
        "keep", "remove", "remove",
    ]  # fmt: skip


def test_two_thresholds_give_keep_review_remove() -> None:
    policy = Policy.from_json(json.dumps(POLICY))
    decide = [policy.decide(p, 0.4, "science").decision for p in (0.49, 0.5, 0.79, 0.8)]
    assert decide == ["keep", "review", "review", "remove"]


def test_a_community_overrides_only_what_it_sets() -> None:
    policy = Policy.from_json(json.dumps(POLICY))
    assert policy.thresholds("askscience") == Thresholds(remove=0.6, review=0.5)
    assert policy.decide(0.65, 0.4, "askscience").decision == "remove"
    assert policy.thresholds("memes") == Thresholds(remove=0.8, review=0.5)
    assert policy.thresholds(None) == policy.thresholds("unknown") == Thresholds(0.8, 0.5)


def test_a_review_threshold_above_removal_means_no_review_band() -> None:
    policy = Policy({"*": Thresholds(review=0.9)})
    decision = policy.decide(0.6, 0.5, None)
    assert (decision.decision, decision.review_at) == ("remove", 0.5)
    assert policy.decide(0.45, 0.5, None).decision == "keep"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("[1, 2]", "expected an object"),
        ('{"*": {"remove": 1.5}}', "probability in"),
        ('{"*": {"remove": true}}', "probability in"),
        ('{"*": {"delete": 0.5}}', "'remove' and/or 'review'"),
        ("{nope", "not JSON"),
    ],
)
def test_bad_policies_are_refused_with_the_place(document: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Policy.from_json(document, "policy.json")


def test_severest_decision_of_a_record() -> None:
    assert severest(["keep", "remove", "review"]) == "remove"
    assert severest([]) == "keep"


def test_file_policy_applies_a_change_without_restart_and_keeps_the_last_good_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(POLICY))
    source = FilePolicy(path, interval=0.05)
    try:
        assert source.current.thresholds("askscience").remove == 0.6
        path.write_text(json.dumps({"askscience": {"remove": 0.9}}))
        assert wait_for(lambda: source.current.thresholds("askscience").remove == 0.9, 30, 0.05)
        path.write_text('{"askscience": {"remove": 7}}')
        os.utime(path, ns=(1, 1))  # a change even on a coarse-mtime file system
        assert wait_for(lambda: "policy not changed" in caplog.text, 30, 0.05)
        assert source.current.thresholds("askscience").remove == 0.9
    finally:
        source.stop()


def test_a_bad_policy_file_at_start_up_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read the policy file"):
        FilePolicy(tmp_path / "missing.json")
