"""The dashboard's feed state: joining outputs and dead letters to their inputs from the
worker's headers, counting each input once, and the numbers on the page."""

from __future__ import annotations

import json

import numpy as np
import pytest

from modstream.dashboard import feeds
from modstream.dashboard.feeds import FeedState, Record
from modstream.facts import ModelFacts, Scores
from modstream.protocol import seldon, v2
from modstream.stream import headers as h

MODEL = ModelFacts(name="m", version="1", preset="default", threshold=0.5)


def _state() -> FeedState:
    return FeedState("comments", "predictions", "comments.dlq", threshold=0.5)


def _input(offset: int, *texts: str, at: int = 1_000) -> Record:
    value = json.dumps({"data": {"ndarray": list(texts)}}).encode()
    return Record("comments", 0, offset, at, value, {})


def _source(offset: int) -> dict[str, str]:
    return {h.SOURCE_TOPIC: "comments", h.SOURCE_PARTITION: "0", h.SOURCE_OFFSET: str(offset)}


def _output(offset: int, rows: list[list[float]], at: int = 1_040, out: int = 0) -> Record:
    request = seldon.decode_request({"data": {"ndarray": ["?"] * len(rows)}})
    body = seldon.encode_response(request, Scores(np.array(rows), MODEL, 100))
    return Record("predictions", 0, out, at, json.dumps(body).encode(), _source(offset))


def test_an_output_is_joined_to_its_input_text_with_its_time_to_verdict() -> None:
    state = _state()
    assert state.ingest(_input(7, "fine comment", "rude comment")) == []
    assert state.stats()["waiting"] == 1
    comments = state.ingest(_output(7, [[0.9, 0.1], [0.2, 0.8]]))
    assert [(c.text, c.p_removed, c.removed) for c in comments] == [
        ("fine comment", 0.1, False),
        ("rude comment", 0.8, True),
    ]
    assert comments[0].latency_ms == 40 and comments[0].source == "comments[0]@7"
    stats = state.stats()
    assert (stats["scored"], stats["removed"], stats["waiting"]) == (2, 1, 0)
    assert stats["latency_ms_p50"] == 40


def test_an_output_read_before_its_input_waits_for_it() -> None:
    state = _state()
    assert state.ingest(_output(3, [[0.3, 0.7]])) == []
    [comment] = state.ingest(_input(3, "late input"))
    assert (comment.text, comment.p_removed) == ("late input", 0.7)


def test_a_redelivered_output_is_counted_once() -> None:
    state = _state()
    state.ingest(_input(1, "once"))
    assert len(state.ingest(_output(1, [[0.5, 0.5]]))) == 1
    assert state.ingest(_output(1, [[0.5, 0.5]], out=1)) == []
    assert state.stats()["scored"] == 1


def test_a_dead_letter_finishes_its_input_and_shows_the_reason() -> None:
    state = _state()
    state.ingest(Record("comments", 0, 4, 1_000, b"not json", {}))
    headers = {**_source(4), h.ERROR_MESSAGE: "request body is not valid JSON"}
    comment = state.ingest(Record("comments.dlq", 0, 0, 1_010, b"not json", headers))[0]
    assert (comment.error, comment.text) == ("request body is not valid JSON", "not json")
    stats = state.stats()
    assert (stats["dead_letters"], stats["waiting"], stats["scored"]) == (1, 0, 0)


def test_a_dead_letter_read_before_its_input_leaves_nothing_waiting() -> None:
    state = _state()
    state.ingest(Record("comments.dlq", 0, 0, 1_010, b"", _source(9)))
    state.ingest(_input(9, "x"))
    assert state.stats()["waiting"] == 0


def test_v2_outputs_are_read_and_unreadable_ones_show_nothing() -> None:
    state = _state()
    request = v2.decode_infer_request(
        {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["v2 text"]}]}
    )
    body, _ = v2.encode_infer_response(request, Scores(np.array([[0.4, 0.6]]), MODEL, 100))
    state.ingest(_input(2, "v2 text"))
    output = Record("predictions", 0, 0, 1_050, json.dumps(body).encode(), _source(2))
    assert [c.p_removed for c in state.ingest(output)] == [0.6]
    garbage = Record("predictions", 0, 1, 1_050, b'{"data": {"ndarray": [[1]]}}', {})
    assert state.ingest(garbage) == []
    assert state.stats()["scored"] == 1


def test_an_output_whose_input_never_arrives_is_shown_without_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = _state()
    state.ingest(_output(5, [[0.1, 0.9]]))
    assert state.expire() == []  # still within the join wait
    monkeypatch.setattr(feeds, "JOIN_WAIT_S", -1.0)
    [comment] = state.expire()
    assert (comment.text, comment.p_removed, comment.latency_ms) == (None, 0.9, None)
    assert state.expire() == []


def test_records_of_other_topics_are_ignored() -> None:
    state = _state()
    assert state.ingest(Record("elsewhere", 0, 0, 0, b"{}", {})) == []
    assert state.stats()["inputs"] == 0
