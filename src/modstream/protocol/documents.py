"""Documents of either protocol, told apart by their shape (as Kafka records arrive)."""

from __future__ import annotations

from modstream.protocol import seldon, v2


def decode_any_request(payload: object) -> seldon.SeldonRequest | v2.V2Request:
    """A V2 inference request has ``inputs``; anything else is read as a SeldonMessage."""
    if isinstance(payload, dict) and "inputs" in payload:
        return v2.decode_infer_request(payload)
    return seldon.decode_request(payload)


def response_probabilities(payload: object) -> list[list[float]]:
    """The ``[p_keep, p_removed]`` rows of a Seldon or V2 response; ``InvalidInput`` if neither."""
    if isinstance(payload, dict) and "outputs" in payload:
        return v2.decode_infer_response(payload)
    return seldon.decode_response(payload)
