"""The V2 codec: JSON and Triton binary tensors in, FP64 probabilities out."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from modstream.errors import InvalidInput
from modstream.protocol.v2 import decode_infer_request, encode_infer_response, split_bytes_tensor


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
        request, np.array([[0.9, 0.1], [0.2, 0.8]]), model_name="m", model_version="1"
    )
    assert binary is None
    assert body["id"] == "r1"
    assert body["outputs"] == [
        {"name": "probabilities", "datatype": "FP64", "shape": [2, 2], "data": [0.9, 0.1, 0.2, 0.8]}
    ]


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
    body, binary = encode_infer_response(
        request, np.array([[0.5, 0.5], [0.25, 0.75]]), model_name="m", model_version="1"
    )
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
