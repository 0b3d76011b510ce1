"""Wire formats: the Seldon ``SeldonMessage`` and the V2 (Open Inference) protocol.

Only this package decides what goes over the wire — request decoding, the response id,
tags, truncation notes and encoding; transports (REST, gRPC, Kafka) convert their framing
to and from these codecs and call the data plane, nothing else. No transport code here.
"""

from __future__ import annotations

from modstream.protocol.answers import response_id, truncation_notes
from modstream.protocol.documents import decode_any_request, response_probabilities
from modstream.protocol.jsonio import decode_json_bytes, dumps

__all__ = [
    "decode_any_request",
    "decode_json_bytes",
    "dumps",
    "response_id",
    "response_probabilities",
    "truncation_notes",
]
