"""The Seldon codec: what clients send, what they get back, and what they are told when wrong."""

from __future__ import annotations

import numpy as np
import pytest

from modstream.errors import InvalidInput, NotFound
from modstream.facts import ModelFacts, Scores
from modstream.protocol import decode_json_bytes, response_probabilities
from modstream.protocol.seldon import (
    decode_feedback,
    decode_request,
    decode_response,
    encode_error,
    encode_response,
)

MODEL = ModelFacts(name="m", version="7", preset="default", threshold=0.5)


def test_reference_request_and_response_shape() -> None:
    request = decode_request({"data": {"ndarray": ["This is an input"]}})
    body = encode_response(request, Scores(np.array([[0.75, 0.25]]), MODEL, 100), request_id="abc")
    assert body == {
        "data": {"names": ["t:0", "t:1"], "ndarray": [[0.75, 0.25]]},
        "meta": {
            "puid": "abc",
            "tags": {"model_name": "m", "model_version": "7", "preset": "default"},
        },
    }
    assert decode_response(body) == [[0.75, 0.25]]
    assert response_probabilities(body) == [[0.75, 0.25]]


def test_the_requests_own_puid_wins_and_a_missing_one_is_made_up() -> None:
    scores = Scores(np.array([[0.5, 0.5]]), MODEL, 100)
    own = decode_request({"meta": {"puid": "mine"}, "strData": "x"})
    assert encode_response(own, scores, request_id="key")["meta"]["puid"] == "mine"
    anonymous = decode_request({"strData": "x"})
    made_up = {encode_response(anonymous, scores)["meta"]["puid"] for _ in range(2)}
    assert len(made_up) == 2


@pytest.mark.parametrize(
    ("payload", "texts"),
    [
        ({"data": {"names": ["text"], "ndarray": ["a", "b"]}}, ["a", "b"]),
        ({"data": {"ndarray": [["a"], ["b"]]}}, ["a", "b"]),
        ({"strData": "whole string"}, ["whole string"]),
        ({"jsonData": {"text": "one"}}, ["one"]),
        ({"jsonData": {"text": ["x", "y"]}}, ["x", "y"]),
        ({"jsonData": ["x", "y"]}, ["x", "y"]),
    ],
)
def test_every_request_kind_yields_its_texts_in_order(
    payload: dict[str, object], texts: list[str]
) -> None:
    assert decode_request(payload).texts == texts


@pytest.mark.parametrize(
    "payload",
    [
        {"data": {"ndarray": [[0.1, 0.2, 0.7]]}},
        {"data": {"ndarray": [["a", "b"]]}},
        {"data": {"tensor": {"values": [0.5]}}},
        {"data": {}},
        "text",
    ],
)
def test_malformed_responses_are_invalid_input(payload: object) -> None:
    with pytest.raises(InvalidInput):
        decode_response(payload)


def test_a_tensor_response_is_read_as_pairs() -> None:
    body = {"data": {"tensor": {"shape": [2, 2], "values": [0.9, 0.1, 0.3, 0.7]}}}
    assert decode_response(body) == [[0.9, 0.1], [0.3, 0.7]]


def test_puid_is_taken_from_meta() -> None:
    assert decode_request({"meta": {"puid": "p1"}, "strData": "x"}).puid == "p1"


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"data": {"ndarray": []}},
        {"data": {"ndarray": [1, 2]}},
        {"data": {"ndarray": [None]}},
        {"data": {"ndarray": None}},
        {"data": {"ndarray": [["a", "b"]]}},
        {"data": {"tensor": {"shape": [1], "values": [1.0]}}},
        {"strData": 5},
        {"jsonData": {"other": 1}},
        {"binData": "AAAA"},
        {"meta": {"puid": 3}, "strData": "x"},
    ],
)
def test_malformed_requests_are_invalid_input(payload: object) -> None:
    with pytest.raises(InvalidInput):
        decode_request(payload)


def test_invalid_utf8_and_malformed_json_are_invalid_input() -> None:
    for raw in (b"\xff\xfe{", b'{"data": ', b""):
        with pytest.raises(InvalidInput):
            decode_json_bytes(raw)


def test_feedback_carries_reward_truth_and_puid() -> None:
    feedback = decode_feedback(
        {
            "request": {"data": {"ndarray": ["a"]}},
            "response": {"meta": {"puid": "p9"}, "data": {"ndarray": [[0.1, 0.9]]}},
            "truth": {"data": {"ndarray": [[0, 1]]}},
            "reward": 1,
        }
    )
    assert (feedback.reward, feedback.truth, feedback.puid) == (1.0, [[0, 1]], "p9")
    with pytest.raises(InvalidInput):
        decode_feedback({"reward": "high"})


def test_errors_use_seldons_status_object() -> None:
    assert encode_error(NotFound("no such route")) == {
        "status": {"code": 404, "info": "no such route", "reason": "NOT_FOUND", "status": "FAILURE"}
    }
