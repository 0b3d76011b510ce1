"""Prediction and decision records as the worker and a moderation tool write them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np

from modstream.monitor import DecisionBatch, PredictionBatch
from modstream.monitor.contract import Decision

T0 = 1_790_000_000.0  # event times of the tests start here (late 2026)


def seldon_answer(p_removed: float, *, version: str = "v1", puid: str = "x") -> bytes:
    """The worker's Seldon response for one text."""
    body = {
        "data": {"names": ["t:0", "t:1"], "ndarray": [[1.0 - p_removed, p_removed]]},
        "meta": {"puid": puid, "tags": {"model_name": "moderation", "model_version": version}},
    }
    return json.dumps(body).encode()


def answer_headers(
    version: str = "v1",
    *,
    threshold: float | None = 0.5,
    community: str | None = None,
    role: str | None = None,
) -> list[tuple[str, bytes | None]]:
    headers: list[tuple[str, bytes | None]] = [("modstream.model.version", version.encode())]
    if threshold is not None:
        headers.append(("modstream.model.threshold", repr(threshold).encode()))
    if community is not None:
        headers.append(("modstream.community", community.encode()))
    if role is not None:
        headers.append(("modstream.model.role", role.encode()))
    return headers


def predictions(
    ids: list[str],
    p: np.ndarray,
    times: np.ndarray,
    *,
    version: str = "v1",
    threshold: float | None = 0.5,
    communities: list[str] | None = None,
) -> PredictionBatch:
    batch = PredictionBatch()
    for i, ident in enumerate(ids):
        community = communities[i] if communities else None
        headers = answer_headers(version, threshold=threshold, community=community)
        batch.add(
            ident.encode(),
            seldon_answer(float(p[i]), version=version),
            headers,
            int(times[i] * 1000),
        )
    return batch


def decisions(rows: list[tuple[str, bool, float]], source: str = "moderator") -> DecisionBatch:
    batch = DecisionBatch.empty()
    for ident, removed, at in rows:
        batch.add(Decision(ident, removed, source, "", at))
    return batch


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


def same_numbers(a: object, b: object, tolerance: float = 1e-9) -> bool:
    """Equal structure and values, floats to ``tolerance`` (sums depend on arrival order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_numbers(a[k], b[k], tolerance) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(
            same_numbers(x, y, tolerance) for x, y in zip(a, b, strict=False)
        )
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= tolerance
    return a == b
