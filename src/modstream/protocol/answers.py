"""What every protocol's response says beyond the numbers: its id and its notes."""

from __future__ import annotations

import uuid

from modstream.errors import InvalidInput
from modstream.facts import CLASS_NAMES, Scores


def response_id(own: str | None, request_id: str | None = None) -> str:
    """The id a response carries: the request's own id (Seldon ``meta.puid``, V2 ``id``)
    wins, else the transport's (the Kafka record key, the ``X-Request-Id`` header), else a
    new uuid4 hex."""
    return own or request_id or uuid.uuid4().hex


def truncation_notes(scores: Scores) -> list[str]:
    """One line per text that was cut before scoring, so the caller knows."""
    return [
        f"text {index} truncated from {length} to {scores.text_limit} characters"
        for index, length in scores.truncated
    ]


def probability_pairs(values: object) -> list[list[float]]:
    """Flat ``[p_keep, p_removed, ...]`` numbers of a response as one pair per text."""
    try:
        flat = [float(p) for p in values]  # type: ignore[attr-defined]
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"response probabilities must be numbers: {exc}") from exc
    width = len(CLASS_NAMES)
    if len(flat) % width:
        raise InvalidInput(f"response probabilities must come {width} per text")
    return [flat[i : i + width] for i in range(0, len(flat), width)]
