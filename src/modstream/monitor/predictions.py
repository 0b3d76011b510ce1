"""Reading the worker's answers (output or shadow topic) as rows the monitor can join.

A comment's id is the record key (UTF-8); without a key, the response's own id (Seldon
``meta.puid``, V2 ``id``). A record that answers several texts gives ids ``<id>#0``,
``<id>#1``, ... (one comment per text). The model version and role come from the headers
the worker adds (``modstream.model.version``, ``modstream.model.role``; the response's
tags when a header is missing), the community from the ``modstream.community`` header
(else ``meta.tags.community`` / V2 ``parameters.community``), and the drift inputs from
``modstream.text.chars`` / ``modstream.text.oov``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import orjson

from modstream.errors import InvalidInput
from modstream.protocol.documents import response_probabilities
from modstream.stream import headers as h
from modstream.stream.codec import record_id

__all__ = ["PredictionBatch", "UnreadablePrediction", "comment_ids"]

NAN = math.nan


class UnreadablePrediction(InvalidInput):
    """An output record that is not a prediction the monitor can read."""

    reason = "UNREADABLE_PREDICTION"


def _p_removed(doc: Any) -> list[float]:
    data = doc.get("data")
    rows = data.get("ndarray") if isinstance(data, dict) else None
    if isinstance(rows, list) and all(type(r) is list and len(r) == 2 for r in rows):
        try:  # the worker's own shape, read without the general decoder's checks
            return [float(r[1]) for r in rows]
        except (TypeError, ValueError):
            pass
    try:
        return [row[1] for row in response_probabilities(doc)]
    except InvalidInput as exc:
        raise UnreadablePrediction(f"not a Seldon or V2 prediction: {exc.message}") from exc


def _tags(doc: dict[str, Any]) -> dict[str, Any]:
    meta = doc.get("meta")
    tags = meta.get("tags") if isinstance(meta, dict) else None
    if isinstance(tags, dict):
        return tags
    params = doc.get("parameters")
    return params if isinstance(params, dict) else {}


def _response_id(doc: dict[str, Any]) -> str | None:
    meta = doc.get("meta")
    puid = meta.get("puid") if isinstance(meta, dict) else doc.get("id")
    return puid if isinstance(puid, str) and puid else None


def _comment_ids(ident: str | None, n: int) -> list[str] | None:
    if not ident:
        return None
    return [ident] if n == 1 else [f"{ident}#{i}" for i in range(n)]


def comment_ids(key: bytes | None, value: bytes | None, n: int) -> list[str | None]:
    """The comment id of each of the ``n`` texts an answer record scores (see the module)."""
    ident = record_id(key)
    if not ident:
        try:
            doc = orjson.loads(value or b"")
        except orjson.JSONDecodeError:
            doc = None
        ident = _response_id(doc) if isinstance(doc, dict) else None
    found = _comment_ids(ident, n)
    return list(found) if found is not None else [None] * n


def _floats(text: str | None, n: int) -> list[float]:
    if not text:
        return [NAN] * n
    try:
        values = [float(x) for x in text.split(",")]
    except ValueError:
        return [NAN] * n
    return values if len(values) == n else [NAN] * n


@dataclass
class PredictionBatch:
    """Rows of predictions collected from records, as parallel lists (cheap to append)."""

    ids: list[str] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    communities: list[str] = field(default_factory=list)
    p: list[float] = field(default_factory=list)
    thresholds: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    chars: list[float] = field(default_factory=list)
    oov: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def add(
        self,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes | None]] | None,
        timestamp_ms: int,
    ) -> int:
        """Add the rows of one output record; returns how many (raises if unreadable)."""
        try:
            doc = orjson.loads(value or b"")
        except orjson.JSONDecodeError as exc:
            raise UnreadablePrediction(f"the output record is not JSON: {exc}") from exc
        if not isinstance(doc, dict):
            raise UnreadablePrediction("the output record is not a JSON object")
        probabilities = _p_removed(doc)
        head = {k: (v or b"").decode("utf-8", "replace") for k, v in headers or []}
        tags = _tags(doc)
        n = len(probabilities)
        ids = _comment_ids(record_id(key) or _response_id(doc), n)
        if ids is None:
            raise UnreadablePrediction("the output record has neither a key nor a response id")
        self.ids.extend(ids)
        self.p.extend(probabilities)
        self._add_facts(head, tags, n, timestamp_ms / 1000.0)
        return n

    def _add_facts(self, head: dict[str, str], tags: dict[str, Any], n: int, t: float) -> None:
        version = head.get(h.MODEL_VERSION) or tags.get("model_version") or ""
        community = head.get(h.COMMUNITY) or tags.get("community") or ""
        threshold = head.get(h.MODEL_THRESHOLD)
        self.versions.extend([str(version)] * n)
        self.roles.extend([head.get(h.MODEL_ROLE) or "champion"] * n)
        self.communities.extend([str(community)] * n)
        self.thresholds.extend([_float(threshold)] * n)
        self.times.extend([t] * n)
        self.chars.extend(_floats(head.get(h.TEXT_CHARS), n))
        self.oov.extend(_floats(head.get(h.TEXT_OOV), n))


def _float(text: str | None) -> float:
    try:
        return float(text) if text else NAN
    except ValueError:
        return NAN
