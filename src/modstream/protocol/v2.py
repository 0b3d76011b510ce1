"""V2 / Open Inference protocol: one BYTES input of texts in, FP64 ``[n, 2]`` out.

JSON tensors and Triton's binary tensor extension (what ``tritonclient`` sends by
default) are both decoded here; the gRPC transport reuses the same helpers for
``bytes_contents`` and ``raw_input_contents``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modstream.errors import InvalidInput, ModstreamError, NotFound
from modstream.facts import ModelFacts, Scores
from modstream.protocol.answers import probability_pairs, response_id, truncation_notes

INPUT_NAME = "text"
OUTPUT_NAME = "probabilities"
BINARY_HEADER = "inference-header-content-length"
SERVER_NAME = "modstream"
PLATFORM = "modstream-sklearn"
EXTENSIONS = ["binary_tensor_data"]


@dataclass
class V2Request:
    """The texts of one inference request and how the answer should be encoded."""

    texts: list[str]
    id: str | None = None
    input_name: str = INPUT_NAME
    binary_output: bool = False
    parameters: dict[str, Any] = field(default_factory=dict)


def texts_from_bytes(elements: list[bytes]) -> list[str]:
    """BYTES elements to texts; invalid UTF-8 is the client's error."""
    try:
        return [element.decode("utf-8") for element in elements]
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"a BYTES element is not valid UTF-8: {exc.reason}") from exc


def split_bytes_tensor(raw: bytes) -> list[bytes]:
    """Triton's serialised BYTES tensor: each element is a 4-byte little-endian length + bytes."""
    elements: list[bytes] = []
    offset = 0
    while offset < len(raw):
        if offset + 4 > len(raw):
            raise InvalidInput("truncated BYTES tensor: incomplete length prefix")
        (size,) = struct.unpack_from("<I", raw, offset)
        offset += 4
        if offset + size > len(raw):
            raise InvalidInput("truncated BYTES tensor: element longer than the data")
        elements.append(raw[offset : offset + size])
        offset += size
    return elements


def check_count(texts: list[str], shape: object) -> list[str]:
    """Reject empty inputs and shapes that disagree with the number of elements."""
    if not texts:
        raise InvalidInput("the input holds no texts: send at least one")
    if shape is not None:
        if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) for d in shape
        ):
            raise InvalidInput("input shape must be a list of integers")
        if int(np.prod(shape)) != len(texts):
            raise InvalidInput(f"input shape {shape} does not match {len(texts)} elements")
    return texts


def _flatten(data: object) -> list[object]:
    if not isinstance(data, list):
        raise InvalidInput("input data must be a list of texts")
    flat: list[object] = []
    for item in data:
        flat.extend(_flatten(item) if isinstance(item, list) else [item])
    return flat


def _json_texts(tensor: dict[str, Any]) -> list[str]:
    values = _flatten(tensor.get("data"))
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise InvalidInput(f"input data[{i}] must be a text, got {type(value).__name__}")
    return values  # type: ignore[return-value]


def _one_input(payload: object) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise InvalidInput("an inference request must be a JSON object")
    inputs = payload.get("inputs")
    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
        raise InvalidInput("an inference request needs exactly one input (BYTES texts)")
    tensor = inputs[0]
    if tensor.get("datatype") != "BYTES":
        raise InvalidInput(f"input datatype must be BYTES, got {tensor.get('datatype')!r}")
    return tensor


def _wants_binary(payload: dict[str, Any]) -> bool:
    params = payload.get("parameters")
    if isinstance(params, dict) and params.get("binary_data_output") is True:
        return True
    outputs = payload.get("outputs")
    if not isinstance(outputs, list):
        return False
    return any(
        isinstance(o, dict)
        and isinstance(o.get("parameters"), dict)
        and o["parameters"].get("binary_data") is True
        for o in outputs
    )


def decode_infer_request(payload: object, binary: bytes | None = None) -> V2Request:
    """A parsed inference request (and the binary part of the body, if any) to texts."""
    tensor = _one_input(payload)
    assert isinstance(payload, dict)
    params = tensor.get("parameters") if isinstance(tensor.get("parameters"), dict) else {}
    size = params.get("binary_data_size") if params else None
    if size is not None:
        if binary is None or not isinstance(size, int) or size > len(binary):
            raise InvalidInput("binary_data_size does not match the binary part of the body")
        texts = texts_from_bytes(split_bytes_tensor(binary[:size]))
    else:
        texts = _json_texts(tensor)
    request_id = payload.get("id")
    return V2Request(
        texts=check_count(texts, tensor.get("shape")),
        id=request_id if isinstance(request_id, str) else None,
        input_name=str(tensor.get("name") or INPUT_NAME),
        binary_output=_wants_binary(payload),
    )


def encode_infer_response(
    request: V2Request,
    scores: Scores,
    *,
    request_id: str | None = None,
    extra_tags: dict[str, str] | None = None,
) -> tuple[dict[str, Any], bytes | None]:
    """The response document, and the binary FP64 tensor when the client asked for one.

    ``id`` follows ``response_id``; ``parameters`` carries ``extra_tags`` and, when texts
    were truncated, ``notes`` (one string: V2 parameters are scalars).
    """
    proba = np.ascontiguousarray(scores.probabilities, dtype="<f8")
    output: dict[str, Any] = {"name": OUTPUT_NAME, "datatype": "FP64", "shape": list(proba.shape)}
    binary: bytes | None = None
    if request.binary_output:
        binary = proba.tobytes()
        output["parameters"] = {"binary_data_size": len(binary)}
    else:
        output["data"] = proba.ravel().tolist()
    body: dict[str, Any] = {
        "model_name": scores.model.name,
        "model_version": scores.model.version,
        "id": response_id(request.id, request_id),
        "outputs": [output],
    }
    parameters: dict[str, str] = dict(extra_tags or {})
    notes = truncation_notes(scores)
    if notes:
        parameters["notes"] = "; ".join(notes)
    if parameters:
        body["parameters"] = parameters
    return body, binary


def decode_infer_response(payload: object) -> list[list[float]]:
    """The ``[p_keep, p_removed]`` rows of a JSON inference response."""
    outputs = payload.get("outputs") if isinstance(payload, dict) else None
    for output in outputs if isinstance(outputs, list) else []:
        if isinstance(output, dict) and output.get("name") == OUTPUT_NAME:
            if not isinstance(output.get("data"), list):
                raise InvalidInput(f"output {OUTPUT_NAME!r} has no JSON data")
            return probability_pairs(output["data"])
    raise InvalidInput(f"an inference response needs an output named {OUTPUT_NAME!r}")


def check_model(model: ModelFacts, name: str, version: str | None) -> None:
    """``NotFound`` unless ``name`` (and ``version``, when given) is the served model."""
    if name != model.name:
        raise NotFound(f"model {name!r} is not served here (serving {model.name!r})")
    if version not in (None, "", model.version):
        raise NotFound(f"version {version!r} of model {name!r} is not served here")


def server_metadata(version: str) -> dict[str, Any]:
    """``GET /v2``: the server's name, version and protocol extensions."""
    return {"name": SERVER_NAME, "version": version, "extensions": list(EXTENSIONS)}


def model_metadata(model: ModelFacts) -> dict[str, Any]:
    """``GET /v2/models/{name}``: one BYTES input, one FP64 ``[-1, 2]`` output."""
    return {
        "name": model.name,
        "versions": [model.version],
        "platform": PLATFORM,
        "inputs": [{"name": INPUT_NAME, "datatype": "BYTES", "shape": [-1]}],
        "outputs": [{"name": OUTPUT_NAME, "datatype": "FP64", "shape": [-1, 2]}],
    }


def encode_error(error: ModstreamError) -> dict[str, Any]:
    """The V2 error body: ``{"error": "..."}``."""
    return {"error": error.message}
