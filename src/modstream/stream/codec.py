"""Kafka record values <-> the data plane: decoding and response encoding.

The wire formats are decided in ``modstream.protocol``; this module only picks the
protocol of a record (a V2 inference request has ``inputs``; anything else is read as
a Seldon request) and adds the checks that only apply to records (size, tombstones).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from modstream.errors import InvalidInput, PayloadTooLarge
from modstream.protocol import decode_json_bytes, seldon, v2
from modstream.protocol import dumps as dumps

Encoder = Callable[[np.ndarray], dict]

__all__ = ["Decoded", "ModelInfo", "decode_value", "dumps"]


@dataclass(frozen=True)
class ModelInfo:
    """What a response says about the model that produced it."""

    name: str
    version: str
    tags: dict
    new_puid: Callable[[], str]
    notes: Callable[[list[str]], list[str]]


@dataclass
class Decoded:
    """The texts of one record and how to encode their probabilities as a response."""

    texts: list[str]
    encode: Encoder


def decode_value(value: bytes | None, info: ModelInfo, max_bytes: int) -> Decoded:
    """Decode one record value; raises ``InvalidInput`` or ``PayloadTooLarge``."""
    if value is None:
        raise InvalidInput("the record has no value (null / tombstone)")
    if len(value) > max_bytes:
        raise PayloadTooLarge(
            f"the record value is {len(value):,} bytes; the limit is {max_bytes:,}"
        )
    payload = decode_json_bytes(value)
    if isinstance(payload, dict) and "inputs" in payload:
        return _decode_v2(payload, info)
    return _decode_seldon(payload, info)


def _decode_seldon(payload: object, info: ModelInfo) -> Decoded:
    request = seldon.decode_request(payload)

    def encode(probabilities: np.ndarray) -> dict:
        puid = request.puid or info.new_puid()
        notes = info.notes(request.texts)
        return seldon.encode_response(
            request, probabilities, puid=puid, tags=info.tags, notes=notes or None
        )

    return Decoded(list(request.texts), encode)


def _decode_v2(payload: dict, info: ModelInfo) -> Decoded:
    request = v2.decode_infer_request(payload)
    request.binary_output = False  # a record value is one JSON document

    def encode(probabilities: np.ndarray) -> dict:
        body, _ = v2.encode_infer_response(
            request, probabilities, model_name=info.name, model_version=info.version
        )
        return body

    return Decoded(list(request.texts), encode)
