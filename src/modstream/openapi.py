"""The OpenAPI 3.0 document of the REST API, served at ``GET /openapi.json``."""

from __future__ import annotations

from typing import Any

from modstream import __version__

_TEXTS = {"type": "array", "minItems": 1, "items": {"type": "string"}}
_ROWS = {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}
_OBJ = {"type": "object"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_SCHEMAS: dict[str, Any] = {
    "SeldonMessage": {
        "type": "object",
        "description": "Texts in data.ndarray, strData (one text) or jsonData.",
        "properties": {
            "meta": {"type": "object", "properties": {"puid": {"type": "string"}}},
            "data": {
                "type": "object",
                "required": ["ndarray"],
                "properties": {
                    "names": {"type": "array", "items": {"type": "string"}},
                    "ndarray": _TEXTS,
                },
            },
            "strData": {"type": "string"},
            "jsonData": {
                "oneOf": [_TEXTS, {"type": "object", "properties": {"text": {"type": "string"}}}]
            },
        },
        "example": {"data": {"ndarray": ["This is an input"]}},
    },
    "SeldonResponse": {
        "type": "object",
        "properties": {
            "data": {
                "type": "object",
                "properties": {
                    "names": {"type": "array", "items": {"type": "string"}},
                    "ndarray": _ROWS,
                },
            },
            "meta": {"type": "object", "properties": {"puid": {"type": "string"}, "tags": _OBJ}},
        },
    },
    "SeldonStatus": {
        "type": "object",
        "properties": {
            "status": {
                "type": "object",
                "properties": {
                    "code": {"type": "integer"},
                    "info": {"type": "string"},
                    "reason": {"type": "string"},
                    "status": {"type": "string", "enum": ["FAILURE"]},
                },
            }
        },
    },
    "Feedback": {
        "type": "object",
        "properties": {
            "request": _ref("SeldonMessage"),
            "response": _ref("SeldonResponse"),
            "truth": _OBJ,
            "reward": {"type": "number"},
        },
    },
    "InferRequest": {
        "type": "object",
        "required": ["inputs"],
        "properties": {
            "id": {"type": "string"},
            "inputs": {
                "type": "array",
                "minItems": 1,
                "maxItems": 1,
                "items": {
                    "type": "object",
                    "required": ["name", "shape", "datatype", "data"],
                    "properties": {
                        "name": {"type": "string"},
                        "shape": {"type": "array", "items": {"type": "integer"}},
                        "datatype": {"type": "string", "enum": ["BYTES"]},
                        "data": _TEXTS,
                    },
                },
            },
        },
        "example": {
            "inputs": [
                {"name": "text", "shape": [1], "datatype": "BYTES", "data": ["This is an input"]}
            ]
        },
    },
    "InferResponse": _OBJ,
    "V2Error": {"type": "object", "properties": {"error": {"type": "string"}}},
}

_SELDON_ERRORS = {
    code: {"description": text, **_json(_ref("SeldonStatus"))}
    for code, text in (
        ("400", "Invalid input"),
        ("413", "Body too large"),
        ("500", "Model failure"),
        ("503", "Not ready"),
    )
}
_V2_ERRORS = {
    code: {"description": text, **_json(_ref("V2Error"))}
    for code, text in (
        ("400", "Invalid input"),
        ("404", "Unknown model or version"),
        ("413", "Body too large"),
        ("500", "Model failure"),
        ("503", "Not ready"),
    )
}


def _op(
    summary: str,
    ok: dict[str, Any],
    errors: dict[str, Any],
    body: str | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {"200": ok, **errors}}
    if body:
        op["requestBody"] = {"required": True, **_json(_ref(body))}
    return op


def _paths() -> dict[str, Any]:
    predict = _op(
        "Score texts (Seldon protocol)",
        {"description": "One [p_keep, p_removed] row per text", **_json(_ref("SeldonResponse"))},
        _SELDON_ERRORS,
        "SeldonMessage",
    )
    feedback = _op(
        "Send feedback", {"description": "Counted", **_json(_OBJ)}, _SELDON_ERRORS, "Feedback"
    )
    plain = {"description": "OK", **_json(_OBJ)}
    paths: dict[str, Any] = {
        "/api/v1.0/predictions": {"post": predict},
        "/predict": {"post": predict},
        "/api/v1.0/feedback": {"post": feedback},
        "/health/ping": {"get": _op("Liveness", {"description": "pong"}, {})},
        "/health/status": {"get": _op("Readiness with a probe prediction", plain, _SELDON_ERRORS)},
        "/metadata": {"get": _op("Seldon model metadata", plain, {})},
        "/v2/health/live": {"get": _op("V2 liveness", plain, {})},
        "/v2/health/ready": {"get": _op("V2 readiness", plain, _V2_ERRORS)},
        "/v2": {"get": _op("V2 server metadata", plain, {})},
        "/metrics": {"get": _op("Prometheus metrics", {"description": "Text exposition"}, {})},
    }
    name = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
    version = {"name": "version", "in": "path", "required": True, "schema": {"type": "string"}}
    infer = _op(
        "V2 inference: BYTES texts in, FP64 [n, 2] out",
        {"description": "Probabilities", **_json(_ref("InferResponse"))},
        _V2_ERRORS,
        "InferRequest",
    )
    for prefix, params in (
        ("/v2/models/{name}", [name]),
        ("/v2/models/{name}/versions/{version}", [name, version]),
    ):
        paths[prefix] = {
            "get": {**_op("V2 model metadata", plain, _V2_ERRORS), "parameters": params}
        }
        paths[f"{prefix}/ready"] = {
            "get": {**_op("V2 model readiness", plain, _V2_ERRORS), "parameters": params}
        }
        paths[f"{prefix}/infer"] = {"post": {**infer, "parameters": params}}
    return paths


def openapi_document(model_name: str = "moderation") -> dict[str, Any]:
    """The document, with the served model's name as the example path parameter."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "modstream",
            "version": __version__,
            "description": f"Comment moderation model {model_name!r}: Seldon and V2 protocols.",
        },
        "paths": _paths(),
        "components": {"schemas": _SCHEMAS},
    }
