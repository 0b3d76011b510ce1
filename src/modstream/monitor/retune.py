"""Threshold re-tuning from moderators' decisions: a new artifact version, same weights.

The model scores the labelled comments (through the data plane, as it does live), the
threshold is chosen on those scores exactly as training chooses it (best F1 of
"removed", or the lowest threshold reaching a precision target, or the highest keeping
a recall target), and the artifact is written again with a new version, the new
threshold, metrics on the decisions at the old and new thresholds, and where the labels
came from. Vocabulary and weights are written from the same arrays, byte for byte.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime
from pathlib import Path

from modstream.dataplane import DataPlane
from modstream.datasets import Dataset
from modstream.model import TextModel, load_model, save_model
from modstream.model.metrics import evaluate_scores
from modstream.model.threshold import choose_threshold

__all__ = ["retune"]


def retune(
    source: str | Path,
    out: str | Path,
    data: Dataset,
    *,
    target_precision: float | None = None,
    target_recall: float | None = None,
) -> TextModel:
    """Write ``source`` again at ``out`` with a threshold chosen on ``data``; returns it."""
    model = load_model(source)
    scores = DataPlane(model).score(list(data.texts)).p_removed
    threshold = choose_threshold(data.labels, scores, target_precision, target_recall)
    created = datetime.now(UTC)
    digest = hashlib.sha256(f"{model.version}{threshold!r}{created.isoformat()}".encode())
    tuned = dataclasses.replace(
        model,
        threshold=threshold,
        version=f"{created:%Y%m%dT%H%M%SZ}-{digest.hexdigest()[:8]}",
        created_at=created.isoformat(),
        metrics={
            **model.metrics,
            "decisions_at_previous_threshold": evaluate_scores(
                data.labels, scores, model.threshold
            ),
            "decisions": evaluate_scores(data.labels, scores, threshold),
        },
        training={
            **model.training,
            "retuned": {
                "from_version": model.version,
                "previous_threshold": model.threshold,
                "data_sha256": data.sha256,
                "rows": len(data.texts),
                "reading": data.report,
                "target_precision": target_precision,
                "target_recall": target_recall,
            },
        },
    )
    save_model(tuned, out)
    return tuned
