"""Wire formats: the Seldon ``SeldonMessage`` and the V2 (Open Inference) protocol.

Only this package decides what goes over the wire; transports (REST, gRPC, Kafka) call
these codecs and the data plane, nothing else.
"""

from __future__ import annotations

from modstream.protocol.jsonio import decode_json_bytes, dumps

__all__ = ["decode_json_bytes", "dumps"]
