"""Record values to texts and back: protocol detection, record-only checks, the id rule."""

from __future__ import annotations

import json

import numpy as np
import pytest

from modstream.errors import InvalidInput, PayloadTooLarge
from modstream.facts import ModelFacts, Scores
from modstream.stream.codec import decode_value, record_id

MODEL = ModelFacts(name="m", version="1", preset="default", threshold=0.5)
SCORES = Scores(np.array([[0.25, 0.75]]), MODEL, text_limit=1000)


def test_seldon_request_round_trip_keeps_its_own_puid_over_the_key() -> None:
    value = json.dumps({"data": {"ndarray": ["hi"]}, "meta": {"puid": "p1"}}).encode()
    decoded = decode_value(value, 1000)
    assert decoded.texts == ["hi"]
    response = json.loads(decoded.encode(SCORES, request_id="key-1"))
    assert response["data"] == {"names": ["t:0", "t:1"], "ndarray": [[0.25, 0.75]]}
    assert response["meta"]["puid"] == "p1"
    assert response["meta"]["tags"] == {
        "model_name": "m",
        "model_version": "1",
        "preset": "default",
    }


def test_seldon_request_without_puid_takes_the_record_key_else_a_new_id() -> None:
    decoded = decode_value(b'{"strData": "hi"}', 1000)
    keyed = json.loads(decoded.encode(SCORES, request_id=record_id(b"comment-42")))
    assert keyed["meta"]["puid"] == "comment-42"
    first = json.loads(decoded.encode(SCORES))["meta"]["puid"]
    second = json.loads(decoded.encode(SCORES))["meta"]["puid"]
    assert len(first) == 32 and first != second


def test_extra_tags_and_truncation_notes_go_into_meta_tags() -> None:
    decoded = decode_value(b'{"data": {"ndarray": ["a", "b"]}}', 1000)
    scores = Scores(np.array([[0.9, 0.1], [0.2, 0.8]]), MODEL, text_limit=5, truncated=((1, 9),))
    tags = json.loads(decoded.encode(scores, extra_tags={"decision": "remove"}))["meta"]["tags"]
    assert tags["decision"] == "remove"
    assert tags["notes"] == ["text 1 truncated from 9 to 5 characters"]


def test_v2_request_gets_a_json_v2_response_with_the_key_as_id() -> None:
    inputs = [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["a"]}]
    decoded = decode_value(json.dumps({"inputs": inputs}).encode(), 1000)
    body = json.loads(decoded.encode(SCORES, request_id="k", extra_tags={"role": "canary"}))
    assert body["id"] == "k" and body["outputs"][0]["data"] == [0.25, 0.75]
    assert (body["model_name"], body["model_version"]) == ("m", "1")
    assert body["parameters"] == {"role": "canary"}
    own = decode_value(json.dumps({"id": "r", "inputs": inputs}).encode(), 1000)
    assert json.loads(own.encode(SCORES, request_id="k"))["id"] == "r"


def test_a_key_that_is_not_utf8_is_still_an_id() -> None:
    assert record_id(b"\xffid") == "\ufffdid"
    assert record_id(None) is None and record_id(b"") is None


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (None, InvalidInput),
        (b"x" * 2000, PayloadTooLarge),
        (b"\xff", InvalidInput),
        (b'{"data": {"ndarray": []}}', InvalidInput),
        (b'{"data": {"ndarray": [null]}}', InvalidInput),
    ],
)
def test_bad_values_raise_errors_with_a_status(value: bytes | None, error: type) -> None:
    with pytest.raises(error):
        decode_value(value, 1000)
