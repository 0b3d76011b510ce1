"""Estimator parameters ⇄ JSON, exactly, with no pickling.

``get_params(deep=False)`` values are plain JSON where they can be. The few that are
not are tagged so they come back as the same Python value: tuples (n-gram ranges),
dicts with non-string keys (class weights), NumPy scalar types (``dtype``) and the one
function modstream passes as a tokenizer. Anything else is refused, so a parameter that
cannot be restored exactly is never written.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from modstream.errors import ArtifactError
from modstream.model.features import identity

_FUNCTIONS = {"identity": identity}
_DTYPES = {"float64": np.float64, "float32": np.float32, "int64": np.int64}


def encode_value(value: Any, where: str) -> Any:
    """A JSON value that ``decode_value`` turns back into ``value``."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"tuple": [encode_value(v, where) for v in value]}
    if isinstance(value, list):
        return [encode_value(v, where) for v in value]
    if isinstance(value, dict):
        return {
            "dict": [[encode_value(k, where), encode_value(v, where)] for k, v in value.items()]
        }
    for name, function in _FUNCTIONS.items():
        if value is function:
            return {"function": name}
    for name, dtype in _DTYPES.items():
        if value is dtype:
            return {"dtype": name}
    raise ArtifactError(f"cannot save parameter {where} of type {type(value).__name__}")


def decode_value(value: Any, where: str) -> Any:
    """The Python value that ``encode_value`` wrote."""
    if isinstance(value, list):
        return [decode_value(v, where) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        raise ArtifactError(f"parameter {where} has an unknown encoding {sorted(value)}")
    [(tag, body)] = value.items()
    if tag == "tuple":
        return tuple(decode_value(v, where) for v in body)
    if tag == "dict":
        return {decode_value(k, where): decode_value(v, where) for k, v in body}
    if tag == "function" and body in _FUNCTIONS:
        return _FUNCTIONS[body]
    if tag == "dtype" and body in _DTYPES:
        return _DTYPES[body]
    raise ArtifactError(f"parameter {where} has an unknown encoding {tag}={body!r}")


def encode_params(estimator: Any, where: str) -> dict[str, Any]:
    """Every constructor parameter of ``estimator`` (``get_params(deep=False)``) as JSON."""
    params = estimator.get_params(deep=False)
    return {key: encode_value(value, f"{where}.{key}") for key, value in sorted(params.items())}


def build(cls: type, params: dict[str, Any], where: str) -> Any:
    """``cls(**params)`` from ``encode_params`` output; refuses unknown or missing names."""
    expected = set(cls().get_params(deep=False))
    if set(params) != expected:
        raise ArtifactError(
            f"{where} ({cls.__name__}) was saved with parameters {sorted(params)}; this "
            f"version has {sorted(expected)}: incompatible artifact, retrain the model"
        )
    return cls(**{key: decode_value(value, f"{where}.{key}") for key, value in params.items()})
