"""Seldon protocol (``SeldonMessage``) as the seldon-core Python wrapper serves it.

Requests carry texts as ``data.ndarray`` (a list of texts, or of one-text rows as
``SeldonClient`` sends 2-D arrays), ``strData`` (one text) or ``jsonData``
(``{"text": ...}`` or a list of texts). Responses are
``{"data": {"names": ["t:0", "t:1"], "ndarray": [[p_keep, p_removed], ...]}, "meta": {...}}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modstream.errors import InvalidInput, ModstreamError
from modstream.facts import CLASS_NAMES, ModelFacts, Scores
from modstream.protocol.answers import probability_pairs, response_id, truncation_notes

NAMES = list(CLASS_NAMES)


@dataclass(frozen=True)
class SeldonRequest:
    """The texts of one SeldonMessage, in input order, and its own request id."""

    texts: list[str]
    puid: str | None = None


@dataclass
class SeldonFeedback:
    """A Seldon ``Feedback`` message: what was asked, what was answered, the truth, a reward."""

    request: SeldonRequest | None
    truth: list[Any] | None
    reward: float | None
    puid: str | None


def _text(value: object, where: str, index: int) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        return value[0]  # a one-element row of a 2-D array: [["text"], ...]
    raise InvalidInput(
        f"{where}[{index}] must be a text, got {type(value).__name__}: {value!r:.60}"
    )


def _texts(values: object, where: str) -> list[str]:
    if isinstance(values, str):
        return [values]
    if not isinstance(values, list):
        raise InvalidInput(f"{where} must be a list of texts, got {type(values).__name__}")
    if not values:
        raise InvalidInput(f"{where} is empty: send at least one text")
    return [_text(value, where, i) for i, value in enumerate(values)]


def _puid(meta: object) -> str | None:
    if meta is None:
        return None
    if not isinstance(meta, dict):
        raise InvalidInput("meta must be an object")
    puid = meta.get("puid")
    if puid in (None, ""):
        return None
    if not isinstance(puid, str):
        raise InvalidInput("meta.puid must be a string")
    return puid


def _from_data(data: object) -> list[str]:
    if not isinstance(data, dict):
        raise InvalidInput("data must be an object with an ndarray of texts")
    if "ndarray" not in data:
        kinds = ", ".join(sorted(str(key) for key in data)) or "nothing"
        raise InvalidInput(f"data must carry an ndarray of texts (got {kinds})")
    return _texts(data["ndarray"], "data.ndarray")


def _from_json_data(value: object) -> list[str]:
    if isinstance(value, dict):
        for key in ("text", "texts"):
            if key in value:
                return _texts(value[key], f"jsonData.{key}")
        raise InvalidInput('jsonData must be {"text": ...} or a list of texts')
    return _texts(value, "jsonData")


def decode_request(payload: object) -> SeldonRequest:
    """A parsed JSON SeldonMessage to its texts; ``InvalidInput`` for anything else."""
    if not isinstance(payload, dict):
        raise InvalidInput("a SeldonMessage must be a JSON object")
    puid = _puid(payload.get("meta"))
    if "data" in payload:
        return SeldonRequest(_from_data(payload["data"]), puid)
    if "strData" in payload:
        value = payload["strData"]
        if not isinstance(value, str):
            raise InvalidInput("strData must be a text")
        return SeldonRequest([value], puid)
    if "jsonData" in payload:
        return SeldonRequest(_from_json_data(payload["jsonData"]), puid)
    raise InvalidInput("a SeldonMessage needs data.ndarray, strData or jsonData with texts")


def decode_feedback(payload: object) -> SeldonFeedback:
    """A parsed JSON Seldon ``Feedback``; its parts are optional but must be well formed."""
    if not isinstance(payload, dict):
        raise InvalidInput("feedback must be a JSON object")
    request = payload.get("request")
    decoded = decode_request(request) if request is not None else None
    reward = payload.get("reward")
    if reward is not None and (isinstance(reward, bool) or not isinstance(reward, int | float)):
        raise InvalidInput("feedback reward must be a number")
    truth = _truth(payload.get("truth"))
    response = payload.get("response")
    puid = _puid(response.get("meta")) if isinstance(response, dict) else None
    puid = puid or (decoded.puid if decoded else None)
    return SeldonFeedback(decoded, truth, None if reward is None else float(reward), puid)


def _truth(truth: object) -> list[Any] | None:
    if truth is None:
        return None
    data = truth.get("data") if isinstance(truth, dict) else None
    values = data.get("ndarray") if isinstance(data, dict) else None
    if not isinstance(values, list):
        raise InvalidInput("feedback truth must be a SeldonMessage with data.ndarray")
    return values


def encode_response(
    request: SeldonRequest,
    scores: Scores,
    *,
    request_id: str | None = None,
    extra_tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One ``[p_keep, p_removed]`` row per input text, in input order.

    ``meta.puid`` follows ``response_id``; ``meta.tags`` holds the tags of the model that
    produced ``scores``, then ``extra_tags``, then ``notes`` when texts were truncated.
    """
    tags: dict[str, Any] = {**scores.model.tags(), **(extra_tags or {})}
    notes = truncation_notes(scores)
    if notes:
        tags["notes"] = notes
    return {
        "data": {"names": list(NAMES), "ndarray": scores.probabilities.tolist()},
        "meta": {"puid": response_id(request.puid, request_id), "tags": tags},
    }


def decode_response(payload: object) -> list[list[float]]:
    """The ``[p_keep, p_removed]`` rows of a response (``data.ndarray`` or ``data.tensor``)."""
    data = payload.get("data") if isinstance(payload, dict) else None
    rows = data.get("ndarray") if isinstance(data, dict) else None
    if isinstance(rows, list) and all(isinstance(row, list) and len(row) == 2 for row in rows):
        return probability_pairs([p for row in rows for p in row])
    tensor = data.get("tensor") if isinstance(data, dict) else None
    if isinstance(tensor, dict) and isinstance(tensor.get("values"), list):
        return probability_pairs(tensor["values"])
    raise InvalidInput("a Seldon response needs data.ndarray rows of two probabilities")


def encode_feedback_response(*, puid: str | None, model: ModelFacts) -> dict[str, Any]:
    """What the seldon-core wrapper answers to feedback: an empty message with meta."""
    meta: dict[str, Any] = {"tags": model.tags()}
    if puid:
        meta["puid"] = puid
    return {"data": {"names": [], "ndarray": []}, "meta": meta}


def encode_error(error: ModstreamError) -> dict[str, Any]:
    """Seldon's status object: ``{"status": {"code", "info", "reason", "status": "FAILURE"}}``."""
    return {
        "status": {
            "code": int(error.status),
            "info": error.message,
            "reason": error.reason,
            "status": "FAILURE",
        }
    }


def encode_metadata(facts: dict[str, Any]) -> dict[str, Any]:
    """Seldon's model metadata (``SeldonModelMetadata``) from the data plane's facts."""
    return {
        "name": facts["name"],
        "versions": [facts["version"]],
        "platform": "modstream",
        "inputs": [{"messagetype": "ndarray", "schema": {"names": ["text"], "shape": [1]}}],
        "outputs": [{"messagetype": "ndarray", "schema": {"names": NAMES, "shape": [2]}}],
        "custom": {key: str(value) for key, value in facts.items() if key not in ("name",)},
    }
