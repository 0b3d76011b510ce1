"""Fast JSON in and out (``orjson`` when installed, the standard library otherwise)."""

from __future__ import annotations

import json
from typing import Any

from modstream.errors import InvalidInput

_orjson: Any
try:  # orjson is optional: several times faster on the request path
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None


def decode_json_bytes(raw: bytes) -> object:
    """Parse a JSON document; invalid UTF-8 or malformed JSON raise ``InvalidInput``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"request body is not valid UTF-8: {exc.reason}") from exc
    try:
        if _orjson is not None:
            return _orjson.loads(text)
        return json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"request body is not valid JSON: {exc}") from exc


def dumps(obj: Any) -> bytes:
    """Serialise to compact UTF-8 JSON bytes (numpy floats are plain floats by then)."""
    if _orjson is not None:
        return _orjson.dumps(obj)
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
