"""The dashboard's side of the moderation loop: each comment card knows the id a decision
must name, and the page's decision is checked against the decisions contract."""

from __future__ import annotations

import json

import pytest

from modstream.dashboard.feeds import FeedState, Record
from modstream.dashboard.quality import _decision_value
from modstream.monitor import BadDecision, parse_decision
from modstream.monitor.predictions import comment_ids
from modstream.stream import headers as h

SOURCE = {h.SOURCE_TOPIC: "comments", h.SOURCE_PARTITION: "0", h.SOURCE_OFFSET: "0"}


def _answer(rows: list[list[float]], puid: str = "the-puid", key: bytes | None = None) -> Record:
    value = json.dumps({"data": {"ndarray": rows}, "meta": {"puid": puid}}).encode()
    return Record("predictions", 0, 5, 1_000, value, dict(SOURCE), key=key)


def test_a_card_names_its_comment_by_key_else_by_the_answers_id() -> None:
    for record, expected in (
        (_answer([[0.4, 0.6]], key=b"t1_abc"), ["t1_abc"]),
        (_answer([[0.4, 0.6]]), ["the-puid"]),
        (_answer([[0.4, 0.6], [0.9, 0.1]], key=b"k"), ["k#0", "k#1"]),
    ):
        state = FeedState("comments", "predictions", "comments.dlq", threshold=0.5)
        state.ingest(Record("comments", 0, 0, 900, b'{"data": {"ndarray": ["a", "b"]}}', {}))
        assert [c.comment_id for c in state.ingest(record)] == expected
    assert comment_ids(None, b"not json", 2) == [None, None]


def test_the_pages_decision_follows_the_contract() -> None:
    value = _decision_value(b'{"id": "t1_abc", "removed": true, "community": "science"}')
    decision = parse_decision(value)
    assert (decision.id, decision.removed, decision.source) == ("t1_abc", True, "moderator")
    assert decision.community == "science"
    with pytest.raises(BadDecision, match="'removed' must be true or false"):
        _decision_value(b'{"id": "t1_abc", "removed": "yes"}')
    with pytest.raises(BadDecision, match="'id'"):
        _decision_value(b'{"removed": false}')
