"""Choosing the decision threshold on out-of-fold probabilities."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_recall_curve

from modstream.errors import DataError


def choose_threshold(
    y_true: np.ndarray,
    p_removed: np.ndarray,
    target_precision: float | None = None,
    target_recall: float | None = None,
) -> float:
    """Threshold on P(removed): best F1 of "removed", or meet a precision/recall target.

    With a precision target, the lowest threshold that reaches it (highest recall);
    with a recall target, the highest threshold that keeps it (highest precision).
    """
    if target_precision is not None and target_recall is not None:
        raise DataError("give --target-precision or --target-recall, not both")
    precision, recall, thresholds = precision_recall_curve(y_true, p_removed)
    precision, recall = precision[:-1], recall[:-1]
    if target_precision is not None:
        ok = np.flatnonzero(precision >= target_precision)
        if ok.size == 0:
            raise DataError(f"no threshold reaches precision {target_precision}")
        return float(thresholds[ok[0]])
    if target_recall is not None:
        ok = np.flatnonzero(recall >= target_recall)
        if ok.size == 0:
            raise DataError(f"no threshold reaches recall {target_recall}")
        return float(thresholds[ok[-1]])
    f1 = np.divide(
        2 * precision * recall,
        precision + recall,
        out=np.zeros_like(precision),
        where=(precision + recall) > 0,
    )
    return float(thresholds[int(np.argmax(f1))])
