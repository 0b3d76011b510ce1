"""The V2 codec: JSON and Triton binary tensors in, FP64 probabilities out."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from modstream.errors import InvalidInput, NotFound
from modstream.facts import ModelFacts, Scores
from modstream.protocol import response_probabilities
from modstream.protocol.v2 import (
    check_model,
    decode_infer_request,
    decode_infer_response,
    encode_infer_response,
    split_bytes_tensor,
)

MODEL = ModelFacts(name="m", version="1", preset="default", threshold=0.5)


def _scores(rows: list[list[float]], **kwargs: object) -> Scores:
    return Scores(np.array(rows), MODEL, 100, **kwargs)  # type: ignore[arg-type]


def _bytes_tensor(texts: list[str]) -> bytes:
    return b"".join(struct.pack("<I", len(t.encode())) + t.encode() for t in texts)


def test_json_request_round_trip() -> None:
    request = decode_infer_request(
        {
            "id": "r1",
            "inputs": [{"name": "text", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]}],
        }
    )
    body, binary = encode_infer_response(
        request, _scores([[0.9, 0.1], [0.2, 0.8]]), request_id="ignored: the request has one"
    )
    assert binary is None
    assert (body["id"], body["model_name"], body["model_version"]) == ("r1", "m", "1")
    assert body["outputs"] == [
        {"name": "probabilities", "datatype": "FP64", "shape": [2, 2], "data": [0.9, 0.1, 0.2, 0.8]}
    ]
    assert "parameters" not in body
    assert decode_infer_response(body) == response_probabilities(body) == [[0.9, 0.1], [0.2, 0.8]]


def test_response_id_falls_back_to_the_transports_then_a_new_one() -> None:
    request = decode_infer_request(
        {"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["a"]}]}
    )
    assert encode_infer_response(request, _scores([[0.5, 0.5]]), request_id="k")[0]["id"] == "k"
    assert len(encode_infer_response(request, _scores([[0.5, 0.5]]))[0]["id"]) == 32


def test_extra_tags_and_notes_are_string_parameters() -> None:
    request = decode_infer_request(
        {"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["abc"]}]}
    )
    scores = _scores([[0.5, 0.5]], truncated=((0, 500),))
    body, _ = encode_infer_response(request, scores, extra_tags={"decision": "review"})
    assert body["parameters"] == {
        "decision": "review",
        "notes": "text 0 truncated from 500 to 100 characters",
    }


def test_only_the_served_model_and_version_are_found() -> None:
    check_model(MODEL, "m", None)
    check_model(MODEL, "m", "1")
    for name, version in (("other", None), ("m", "2")):
        with pytest.raises(NotFound):
            check_model(MODEL, name, version)


def test_binary_request_and_binary_output() -> None:
    raw = _bytes_tensor(["héllo", "world"])
    payload = {
        "inputs": [
            {
                "name": "text",
                "shape": [2, 1],
                "datatype": "BYTES",
                "parameters": {"binary_data_size": len(raw)},
            }
        ],
        "outputs": [{"name": "probabilities", "parameters": {"binary_data": True}}],
    }
    request = decode_infer_request(payload, raw)
    assert request.texts == ["héllo", "world"]
    body, binary = encode_infer_response(request, _scores([[0.5, 0.5], [0.25, 0.75]]))
    assert binary is not None
    assert body["outputs"][0]["parameters"] == {"binary_data_size": 32}
    assert np.frombuffer(binary, "<f8").tolist() == [0.5, 0.5, 0.25, 0.75]


@pytest.mark.parametrize(
    "payload",
    [
        {"inputs": []},
        {"inputs": [{"name": "text", "datatype": "FP32", "shape": [1], "data": [1.0]}]},
        {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": [3]}]},
        {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [0], "data": []}]},
        {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [3], "data": ["a"]}]},
        {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": [None]}]},
        "not an object",
    ],
)
def test_malformed_requests_are_invalid_input(payload: object) -> None:
    with pytest.raises(InvalidInput):
        decode_infer_request(payload)


def test_truncated_or_non_utf8_binary_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        split_bytes_tensor(struct.pack("<I", 10) + b"abc")
    raw = struct.pack("<I", 2) + b"\xff\xfe"
    with pytest.raises(InvalidInput):
        decode_infer_request(
            {
                "inputs": [
                    {
                        "name": "t",
                        "datatype": "BYTES",
                        "shape": [1],
                        "parameters": {"binary_data_size": len(raw)},
                    }
                ]
            },
            raw,
        )
