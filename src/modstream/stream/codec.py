"""Kafka record values <-> the data plane: decoding and response encoding.

The wire formats, and how a record's protocol is told from its shape, are decided in
``modstream.protocol``, exactly as REST uses them; this module only adds the checks that
apply to records (size, tombstones).
"""

from __future__ import annotations

from dataclasses import dataclass

from modstream.errors import InvalidInput, PayloadTooLarge
from modstream.facts import Scores
from modstream.protocol import decode_any_request, decode_json_bytes, dumps, seldon, v2

__all__ = ["Decoded", "decode_value", "record_id"]


@dataclass(frozen=True)
class Decoded:
    """One decoded record: its texts, and how to answer it in the protocol it came in."""

    request: seldon.SeldonRequest | v2.V2Request

    @property
    def texts(self) -> list[str]:
        return self.request.texts

    def encode(
        self,
        scores: Scores,
        *,
        request_id: str | None = None,
        extra_tags: dict[str, str] | None = None,
    ) -> bytes:
        """The response value (JSON bytes) for ``scores`` of ``texts``, built as REST builds it.

        Its id is the request's own (Seldon ``meta.puid``, V2 ``id``), else ``request_id``
        (the worker passes the record key), else a new one; ``extra_tags`` go into Seldon
        ``meta.tags`` or V2 ``parameters``.
        """
        if isinstance(self.request, v2.V2Request):
            body, _ = v2.encode_infer_response(
                self.request, scores, request_id=request_id, extra_tags=extra_tags
            )
        else:
            body = seldon.encode_response(
                self.request, scores, request_id=request_id, extra_tags=extra_tags
            )
        return dumps(body)


def decode_value(value: bytes | None, max_bytes: int) -> Decoded:
    """Decode one record value; raises ``InvalidInput`` or ``PayloadTooLarge``."""
    if value is None:
        raise InvalidInput("the record has no value (null / tombstone)")
    if len(value) > max_bytes:
        raise PayloadTooLarge(
            f"the record value is {len(value):,} bytes; the limit is {max_bytes:,}"
        )
    request = decode_any_request(decode_json_bytes(value))
    if isinstance(request, v2.V2Request):
        request.binary_output = False  # a record value is one JSON document
    return Decoded(request)


def record_id(key: bytes | None) -> str | None:
    """A record key as a response id (UTF-8, undecodable bytes replaced), if it has one."""
    return key.decode("utf-8", "replace") if key else None
