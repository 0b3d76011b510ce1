"""Record values to texts and back: protocol detection and record-only checks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from modstream.errors import InvalidInput, PayloadTooLarge
from modstream.stream.codec import ModelInfo, decode_value

INFO = ModelInfo(
    name="m", version="1", tags={"model_name": "m"}, new_puid=lambda: "new", notes=lambda t: []
)
PROBA = np.array([[0.25, 0.75]])


def test_seldon_request_round_trip_keeps_the_puid() -> None:
    value = json.dumps({"data": {"ndarray": ["hi"]}, "meta": {"puid": "p1"}}).encode()
    decoded = decode_value(value, INFO, 1000)
    assert decoded.texts == ["hi"]
    response = decoded.encode(PROBA)
    assert response["data"] == {"names": ["t:0", "t:1"], "ndarray": [[0.25, 0.75]]}
    assert response["meta"]["puid"] == "p1"


def test_seldon_request_without_puid_gets_one() -> None:
    decoded = decode_value(b'{"strData": "hi"}', INFO, 1000)
    assert decoded.encode(PROBA)["meta"]["puid"] == "new"


def test_v2_request_gets_a_json_v2_response() -> None:
    value = json.dumps(
        {"id": "r", "inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["a"]}]}
    ).encode()
    decoded = decode_value(value, INFO, 1000)
    body = decoded.encode(PROBA)
    assert body["id"] == "r" and body["outputs"][0]["data"] == [0.25, 0.75]


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
        decode_value(value, INFO, 1000)
